import { PerformanceObserver, monitorEventLoopDelay } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import { seededRandom } from '../../src/protocols/common/seeded-random';

/**
 * What the Propeller fuzz tests share: a budget that is small under `npm test` and large when
 * LABWIRE_FUZZ is set (`npm run fuzz`), a seed that can be replayed (LABWIRE_FUZZ_SEED), and the
 * watches every run asserts on: event-loop stalls and heap growth.
 */
export const FUZZ_LARGE = /^(1|true|large)$/i.test(process.env.LABWIRE_FUZZ ?? '');

/** `small` cases under npm test, `large` under npm run fuzz. */
export function fuzzCount(small: number, large: number): number {
  return FUZZ_LARGE ? large : small;
}

/** LABWIRE_FUZZ_VERBOSE: tell what happened when the event loop stalls, and the counts at the end. */
export const FUZZ_VERBOSE = Boolean(process.env.LABWIRE_FUZZ_VERBOSE);

/** The most time a run spends sending: LABWIRE_FUZZ_BUDGET_S, else `small` or `large` seconds. */
export function fuzzBudgetMs(small: number, large: number): number {
  const given = Number(process.env.LABWIRE_FUZZ_BUDGET_S);
  return (Number.isFinite(given) && given > 0 ? given : FUZZ_LARGE ? large : small) * 1000;
}

export function fuzzSeed(fallback: number): number {
  const given = Number(process.env.LABWIRE_FUZZ_SEED);
  return Number.isInteger(given) ? given : fallback;
}

export interface Random {
  (): number;
  int(below: number): number;
  pick<T>(items: readonly T[]): T;
  seed: number;
}

export function random(seed: number): Random {
  const next = seededRandom(seed);
  const r = (() => next()) as Random;
  r.int = (below) => Math.floor(next() * below);
  r.pick = (items) => items[Math.floor(next() * items.length)]!;
  r.seed = seed;
  return r;
}

/**
 * The longest the event loop was blocked while the watch ran, in ms. With `onStall`, each block
 * over `stallMs` is also told as it ends (with the garbage collections during it), to find its cause.
 */
export function watchEventLoop(onStall?: (ms: number, gcMs: number) => void, stallMs = 300): { stop(): number } {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  let gcMs = 0;
  const gc = onStall
    ? new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) gcMs += entry.duration;
      })
    : undefined;
  gc?.observe({ entryTypes: ['gc'] });
  let last = performance.now();
  const ticker = onStall
    ? setInterval(() => {
        const now = performance.now();
        if (now - last - 50 > stallMs) onStall(now - last - 50, gcMs);
        gcMs = 0;
        last = now;
      }, 50)
    : undefined;
  return {
    stop() {
      clearInterval(ticker);
      gc?.disconnect();
      histogram.disable();
      return histogram.max / 1e6;
    },
  };
}

let collect: (() => void) | undefined;

/** Heap and buffer bytes in use after a full collection, where one can be forced. */
export function memoryInUse(): number {
  if (!collect) {
    v8.setFlagsFromString('--expose-gc');
    collect = vm.runInNewContext('gc') as () => void;
  }
  collect();
  collect();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

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
