import type { ChipLine } from '../../src/simulators/pty-pair';
import { CHIP_FAULTS, RomChip } from '../../src/simulators/rom-chip';
import type { Random } from '../helpers/fuzz';

/** How the board behaves for a while: an honest ROM, a broken one, or a device that is no Propeller at all. */
export const MOODS = ['honest', 'fault', 'garbage', 'flood', 'silent', 'trickle', 'echo'] as const;
export type Mood = (typeof MOODS)[number];

/**
 * A board on the chip end of a pseudo-terminal that changes its mood at random: answers the boot
 * loader honestly (then prints hostile program output: invalid UTF-8, endless lines, floods), with
 * a ROM fault, with random bytes, floods of them, silence, its answers trickled byte by byte, or an
 * echo. Seeded; how the moods meet the host's loads depends on timing.
 */
export class HostileChip {
  readonly rom = new RomChip({ timing: { checksumMs: 5, programMs: 20, verifyMs: 20 } });
  mood: Mood = 'honest';
  /** Bytes sent to the host, for the report. */
  sent = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private trickling: number[] = [];
  private flooding = 0;
  private closed = false;

  constructor(
    private readonly line: ChipLine,
    private readonly r: Random,
    private readonly huge: number,
  ) {
    this.rom.on('reply', (bytes: Buffer) => (this.mood === 'trickle' ? this.trickle(bytes) : this.write(bytes)));
    this.rom.on('run', () => this.printHostile());
    line.on('data', (data: Buffer) => this.hear(data));
    line.on('error', () => undefined);
    this.later(() => this.changeMood(), 200 + r.int(1300));
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.rom.dispose();
  }

  private later(work: () => void, ms: number): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.closed) work();
    }, ms);
    this.timers.add(timer);
  }

  private changeMood(): void {
    this.mood = this.r.pick(MOODS);
    this.rom.reset();
    this.rom.fault = this.mood === 'fault' ? this.r.pick(CHIP_FAULTS) : 'none';
    this.flooding = 0;
    this.later(() => this.changeMood(), 200 + this.r.int(1300));
  }

  private hear(data: Buffer): void {
    switch (this.mood) {
      case 'honest':
      case 'fault':
      case 'trickle':
        this.rom.receive(data);
        return;
      case 'garbage':
        this.write(this.noise(1 + this.r.int(4096)));
        return;
      case 'flood':
        this.flood();
        return;
      case 'echo':
        this.write(data);
        return;
      default:
        return;
    }
  }

  private noise(length: number): Buffer {
    const bytes = Buffer.alloc(length);
    for (let i = 0; i < length; i++) bytes[i] = this.r.int(256);
    return bytes;
  }

  /** Up to `huge` bytes per flood, 16 KB at a time, as fast as the loop turns. */
  private flood(): void {
    if (this.flooding > 0) return;
    const chunk = this.noise(16 * 1024);
    const step = (): void => {
      if (this.closed || this.mood !== 'flood' || this.flooding >= this.huge) return;
      this.flooding += chunk.length;
      this.write(chunk);
      setImmediate(step);
    };
    step();
  }

  private trickle(bytes: Buffer): void {
    const idle = this.trickling.length === 0;
    this.trickling.push(...bytes);
    if (!idle) return;
    const next = (): void => {
      const byte = this.trickling.shift();
      if (byte === undefined) return;
      this.write(Buffer.from([byte]));
      this.later(next, 1 + this.r.int(30));
    };
    next();
  }

  /** A "program" that prints what a broken one might: invalid UTF-8, lines with no end, bursts. */
  private printHostile(): void {
    if (this.rom.state !== 'running') return;
    const kinds = [
      () => Buffer.from('tick\r\n'),
      () => Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x0a]),
      () => Buffer.alloc(1 + this.r.int(70_000), 0x41),
      () => this.noise(1 + this.r.int(2048)),
      () => Buffer.from(`${'\r'.repeat(this.r.int(1000))}\n`),
    ];
    this.write(this.r.pick(kinds)());
    this.later(() => this.printHostile(), 5 + this.r.int(50));
  }

  private write(bytes: Buffer): void {
    this.sent += bytes.length;
    this.line.write(bytes);
  }
}
