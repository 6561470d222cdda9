import type { Random } from '../helpers/fuzz';

/**
 * Frames a hostile or broken peer may send, built from a seeded generator: deep nesting, huge,
 * truncated, invalid UTF-8, wrong types, many distinct ids. `valid` are texts of the real protocol
 * to mutate. Frames up to `huge` characters; invalid UTF-8 (which ends a websocket) only when
 * `fatal`.
 */
export function hostileFrame(r: Random, valid: readonly string[], huge: number, fatal = true): string | Buffer {
  const base = r.pick(valid);
  const kind = r.int(9);
  switch (kind === 3 && !fatal ? 8 : kind) {
    case 0:
      return '['.repeat(1 + r.int(huge / 2)) + ']'.repeat(r.int(3) === 0 ? 0 : 1 + r.int(huge / 2));
    case 1: {
      const type = r.pick(['port-list', 'ui-command', 'serial-terminal', 'hello-client']);
      return `{"type":"${type}","x":${'{"a":'.repeat(2000 + r.int(huge / 8))}1${'}'.repeat(2000)}}`;
    }
    case 2:
      return base.slice(0, r.int(base.length));
    case 3:
      return Buffer.concat([
        Buffer.from(base.slice(0, r.int(base.length))),
        Buffer.from([r.pick([0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1])]),
        Buffer.from(base),
      ]);
    case 4:
      return mutateTypes(r, base);
    case 5:
      return JSON.stringify({ type: r.pick(['ui-command', 'serial-terminal', 'port-list']), msg: ' '.repeat(r.int(huge)), ports: [] });
    case 6:
      return JSON.stringify({
        type: 'serial-terminal',
        packetID: r.int(2 ** 31) * r.pick([1, -1, 1e9]),
        msg: Buffer.alloc(r.int(4096), r.int(256)).toString('base64'),
      });
    case 7:
      // Past the frame limit only the size counts: cheap to make, so the run's own work does not stall it.
      return JSON.stringify({
        type: 'port-list',
        ports: Array.from({ length: r.int(Math.min(huge, 400_000) / 8) }, (_v, i) => `COM${i}${'x'.repeat(r.int(8))}`),
      });
    default:
      return base;
  }
}

/** The same message with each field swapped for a value of another type, at random. */
function mutateTypes(r: Random, text: string): string {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return text;
  }
  const others: unknown[] = [null, 0, -1, 1e308, true, [], {}, ['COM3'], { type: 'x' }, '', '\u0000', 'NaN'];
  for (const key of Object.keys(value)) if (r() < 0.5) value[key] = r.pick(others);
  return JSON.stringify(value);
}
