import { EventEmitter } from 'node:events';
import { RomChip, CHIP_FAULTS, type ChipFault, type LoadedProgram, type RomChipTiming } from './rom-chip';
import { createPtyPair, type ChipLine, type PtyPair } from './pty-pair';
import type { RunningSimulator, SimulatorDefinition, SimulatorStartOptions } from './simulator';
import { SimulatorOptions } from './simulator-kit';

export interface FakeChipOptions {
  /** Deliver host bytes no faster than this baud rate (10 bits per byte); unpaced when absent. */
  paceBaud?: number;
  fault?: ChipFault;
  timing?: Partial<RomChipTiming>;
  /** How often the running program prints a line. */
  printIntervalMs?: number;
  log?: (line: string) => void;
}

/**
 * A Propeller 1 on the far end of a pseudo-terminal: its boot loader is the pulse-model RomChip;
 * after a load with "run" it behaves like a program that prints a banner, a counter line every
 * printIntervalMs, and answers each line typed at it with "echo: <line>". Events: 'loaded',
 * 'run' (LoadedProgram), 'shutdown', 'reboot', 'halted', 'output' (string printed).
 */
export class FakePropellerChip extends EventEmitter {
  readonly chip: RomChip;
  readonly loads: LoadedProgram[] = [];
  private readonly queue: Buffer[] = [];
  private clock = 0;
  private paceTimer: NodeJS.Timeout | undefined;
  private printTimer: NodeJS.Timeout | undefined;
  private line = '';
  private ticks = 0;
  private programRunning = false;

  private constructor(
    private readonly wire: ChipLine,
    private readonly options: FakeChipOptions,
  ) {
    super();
    this.chip = new RomChip({ fault: options.fault, timing: options.timing });
    this.chip.on('reply', (bytes: Buffer) => wire.write(bytes));
    this.chip.on('handshake', () => this.stopProgram());
    this.chip.on('loaded', (program: LoadedProgram) => {
      this.loads.push(program);
      options.log?.(
        `fake chip: received ${program.image.length} bytes for command ${program.command}, checksum ${program.checksumOk ? 'OK' : 'FAILED'}`,
      );
      this.emit('loaded', program);
    });
    this.chip.on('run', (program: LoadedProgram) => this.startProgram(program));
    // A clock mode the chip cannot run: it reboots, or its clock stops; either way nothing prints.
    for (const event of ['reboot', 'halted'] as const) {
      this.chip.on(event, () => {
        this.stopProgram();
        options.log?.(`fake chip: the program's clock mode ${event === 'reboot' ? 'rebooted the chip' : 'stopped the clock'}`);
        this.emit(event);
      });
    }
    this.chip.on('shutdown', () => {
      this.stopProgram();
      this.emit('shutdown');
    });
    wire.on('data', (data: Buffer) => this.receive(data));
    // The pseudo-terminal went away: a board without its cable just stops talking.
    wire.on('error', (err: Error) => {
      this.stopProgram();
      options.log?.(`fake chip: ${err.message}`);
    });
  }

  static attach(line: ChipLine, options: FakeChipOptions): FakePropellerChip {
    return new FakePropellerChip(line, options);
  }

  get fault(): ChipFault {
    return this.chip.fault;
  }

  set fault(fault: ChipFault) {
    this.chip.fault = fault;
  }

  get isRunning(): boolean {
    return this.programRunning;
  }

  /** What a DTR pulse does to a real board: the program stops and the boot loader listens. */
  reset(): void {
    this.stopProgram();
    this.chip.reset();
  }

  async close(): Promise<void> {
    this.stopProgram();
    clearTimeout(this.paceTimer);
    this.chip.dispose();
  }

  private receive(data: Buffer): void {
    if (!this.options.paceBaud) return this.deliver(data);
    this.queue.push(data);
    if (this.paceTimer === undefined) {
      this.clock = Math.max(this.clock, performance.now());
      this.pace();
    }
  }

  /** Hand the chip as many bytes as the wire could have carried since the clock, then come back. */
  private pace(): void {
    this.paceTimer = undefined;
    const msPerByte = 10_000 / this.options.paceBaud!;
    let due = Math.floor((performance.now() - this.clock) / msPerByte);
    while (due > 0 && this.queue.length > 0) {
      const head = this.queue[0];
      const take = Math.min(due, head.length);
      this.deliver(head.subarray(0, take));
      if (take === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(take);
      due -= take;
      this.clock += take * msPerByte;
    }
    if (this.queue.length > 0) this.paceTimer = setTimeout(() => this.pace(), 2);
  }

  private deliver(data: Buffer): void {
    if (this.programRunning) this.programInput(data);
    this.chip.receive(data);
  }

  private startProgram(program: LoadedProgram): void {
    this.stopProgram();
    this.programRunning = true;
    this.ticks = 0;
    const clock = program.image.readUInt32LE(0);
    this.print(`Propeller running: ${program.image.length / 4} longs loaded, clock ${clock} Hz\r\n`);
    this.printTimer = setInterval(() => this.print(`tick ${++this.ticks}\r\n`), this.options.printIntervalMs ?? 500);
    this.emit('run', program);
  }

  private stopProgram(): void {
    clearInterval(this.printTimer);
    this.printTimer = undefined;
    this.programRunning = false;
    this.line = '';
  }

  /** The program reads text lines; other bytes (e.g. stray acknowledgement polls) are noise to it. */
  private programInput(data: Buffer): void {
    for (const byte of data) {
      if (byte === 0x0d || byte === 0x0a) {
        if (this.line) this.print(`echo: ${this.line}\r\n`);
        this.line = '';
      } else if (byte >= 0x20 && byte < 0x7f) {
        this.line += String.fromCharCode(byte);
      }
    }
  }

  private print(text: string): void {
    this.wire.write(text);
    this.emit('output', text);
  }
}

/** A fake chip on its own pseudo-terminal; the host end is what a propeller-serial node opens. */
export class FakeChipBench {
  private constructor(
    readonly pair: PtyPair,
    readonly chip: FakePropellerChip,
  ) {}

  static async start(options: FakeChipOptions & { hostLink?: string } = {}): Promise<FakeChipBench> {
    const pair = await createPtyPair({ hostLink: options.hostLink });
    return new FakeChipBench(pair, FakePropellerChip.attach(pair.chip, options));
  }

  get hostPath(): string {
    return this.pair.hostPath;
  }

  async close(): Promise<void> {
    await this.chip.close();
    await this.pair.close();
  }
}

export const simulator: SimulatorDefinition = {
  name: 'propeller-chip',
  summary: 'fake Propeller 1 boards on pseudo-terminals (ROM boot loader, then a printing program)',
  optionHelp: [
    `--fault NAME     ${CHIP_FAULTS.join(' | ')}`,
    '--pace BAUD      read host bytes no faster than this baud rate (e.g. 115200)',
    '--chips N        how many boards (each propeller-serial config node gets its own; default 3)',
    "--link PATH      also make the first board's port available as PATH (e.g. /tmp/propeller)",
    '--print-interval MS  how often the running program prints',
  ],
  start: (options) => startPropellerChips(options),
};

/** The running simulator, with its boards exposed so tests can inject faults and inspect loads. */
export interface RunningPropellerChips extends RunningSimulator {
  readonly boards: readonly FakeChipBench[];
}

export async function startPropellerChips(options: SimulatorStartOptions): Promise<RunningPropellerChips> {
  const opts = new SimulatorOptions(options);
  const fault = opts.choice('fault', CHIP_FAULTS);
  const pace = opts.number('pace', { min: 0, what: 'a baud rate' }) ?? 0;
  const interval = opts.number('print-interval', { above: 0, what: 'a time in ms' }) ?? 500;
  const count = opts.number('chips', { integer: true, min: 1, max: 16 }) ?? 3;
  const benches: FakeChipBench[] = [];
  try {
    for (let i = 0; i < count; i++) {
      benches.push(
        await FakeChipBench.start({
          fault,
          paceBaud: pace > 0 ? pace : undefined,
          printIntervalMs: interval,
          hostLink: i === 0 ? opts.text('link') : undefined,
          log: options.log,
        }),
      );
    }
  } catch (err) {
    await Promise.all(benches.map((b) => b.close()));
    throw err;
  }
  // A port can be open by one config node at a time, so each config node gets a board of its own.
  const assigned = new Map<string, FakeChipBench>();
  const running: RunningPropellerChips = {
    boards: benches,
    endpoints: benches.map((b, i) => `${b.hostPath} (serial port of fake Propeller ${i + 1}; use reset mode "none")`),
    configure(node) {
      if (node.type !== 'propeller-serial') return undefined;
      let bench = assigned.get(node.id);
      if (!bench) {
        bench = benches[assigned.size % benches.length];
        if (assigned.size >= benches.length)
          options.log?.(
            `propeller-chip: more propeller-serial nodes than boards; ${node.id} shares ${bench.hostPath} (start with --chips ${assigned.size + 1})`,
          );
        assigned.set(node.id, bench);
      }
      node.port = bench.hostPath;
      node.resetMode = 'none';
      return {};
    },
    close: async () => {
      await Promise.all(benches.map((b) => b.close()));
    },
  };
  return running;
}
