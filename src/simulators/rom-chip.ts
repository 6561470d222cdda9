import { EventEmitter } from 'node:events';
import { FRAME_BITS, type Bit } from '../protocols/propeller/bit-packing';
import { HUB_RAM_SIZE, byteSum, clockModeFault, hubRam } from '../protocols/propeller/image-header';
import {
  CHIP_HANDSHAKE_BITS,
  EXPECTED_VERSION,
  HOST_HANDSHAKE_BITS,
  VERSION_BITS,
  doubleReplyByte,
  singleReplyByte,
  type RomCommand,
} from '../protocols/propeller/rom-protocol';

/**
 * The chip side of the ROM boot loader, played from the pulse model: host bytes become pulses,
 * pulses become bits, and the bits drive the handshake, command, image, checksum and
 * acknowledgements. Used by the fake chip (simulator and tests); no serial port in here.
 */
export type ChipFault = 'none' | 'silence' | 'wrong-version' | 'bad-handshake' | 'bad-checksum' | 'eeprom-program' | 'eeprom-verify' | 'no-ack';
export const CHIP_FAULTS: readonly ChipFault[] = [
  'none',
  'silence',
  'wrong-version',
  'bad-handshake',
  'bad-checksum',
  'eeprom-program',
  'eeprom-verify',
  'no-ack',
];

export interface RomChipTiming {
  /**
   * A pause this long between command, length or image bits makes the chip give up and listen
   * again, as the real boot loader does after about 100 ms per long (kept lenient for busy test machines).
   */
  streamTimeoutMs: number;
  /** Zero-fill and sum of hub RAM before the first acknowledgement. */
  checksumMs: number;
  programMs: number;
  verifyMs: number;
}

/** The boot loader runs on the internal RCFAST oscillator, which may run anywhere in this range. */
export const RCFAST_HZ = { min: 8_000_000, nominal: 12_000_000, max: 20_000_000 } as const;
/** Reading the whole 32 KB EEPROM back at 8 MHz. */
const VERIFY_MS_AT_8_MHZ = 1970;
/** The EEPROM is written in 512 pages of 64 bytes; each page write takes the EEPROM itself about 5 ms. */
const PAGE_WRITES_MS = 512 * 5;

/**
 * How long the boot loader's EEPROM steps take on a chip whose RCFAST runs at `hz`: reading back
 * scales with the clock (about 1.97 s at 8 MHz); writing is modelled as the same bit traffic plus
 * the page writes, which do not scale. Real time, so a test with it waits that long.
 */
export function rcfastTiming(hz: number): Pick<RomChipTiming, 'programMs' | 'verifyMs'> {
  const verifyMs = Math.round((VERIFY_MS_AT_8_MHZ * RCFAST_HZ.min) / hz);
  return { programMs: verifyMs + PAGE_WRITES_MS, verifyMs };
}

export interface RomChipOptions {
  fault?: ChipFault;
  /** The version the chip reports when the fault is wrong-version. */
  wrongVersion?: number;
  timing?: Partial<RomChipTiming>;
}

/** 'halted': the program's clock mode stopped the clock; only a reset wakes the chip. */
export type ChipState = 'listening' | 'templates' | 'command' | 'length' | 'image' | 'acknowledging' | 'running' | 'shutdown' | 'halted';

export interface LoadedProgram {
  command: RomCommand;
  image: Buffer;
  checksumOk: boolean;
}

/** The handshake as the chip expects it: the calibration template, then the host's LFSR bits. */
const EXPECTED_HANDSHAKE: readonly Bit[] = [1, 0, ...HOST_HANDSHAKE_BITS];
const TEMPLATE_ANSWERS = CHIP_HANDSHAKE_BITS.length + VERSION_BITS;
const MAX_LONGS = HUB_RAM_SIZE / 4;
/**
 * Handshake bits heard before the chip says a host is talking to its boot loader. With no reset
 * line (a pseudo-terminal), this is where a real chip would have been reset: the program stops.
 */
export const HANDSHAKE_NOTICE_BITS = 16;

/**
 * Events: 'reply' (Buffer to send to the host), 'handshake' (the first HANDSHAKE_NOTICE_BITS of a
 * handshake arrived: a host is starting a load, so a running program stops), 'loaded' (LoadedProgram, after the image arrived),
 * 'run' (LoadedProgram), 'shutdown', 'eeprom' (Buffer, after programming), 'reboot' (the clock
 * mode had the RESET bit), 'halted' (the clock mode stopped the clock).
 */
export class RomChip extends EventEmitter {
  fault: ChipFault;
  readonly eeprom = Buffer.alloc(HUB_RAM_SIZE);
  private readonly timing: RomChipTiming;
  private readonly wrongVersion: number;
  private stateValue: ChipState = 'listening';
  private matched = 0;
  private pending: Bit[] = [];
  private templatesAnswered = 0;
  private word = 0;
  private wordBits = 0;
  private command: RomCommand = 1;
  private longs = 0;
  private image = Buffer.alloc(0);
  private imageLongs = 0;
  /** Acknowledgements still to give, in order; each waits until `ackReady`. */
  private acks: Bit[] = [];
  private ackReady = false;
  private ackTimer: NodeJS.Timeout | undefined;
  private program: LoadedProgram | undefined;
  private stage: 'ram' | 'program' | 'verify' = 'ram';
  private afterReply: (() => void) | undefined;
  private streamTimer: NodeJS.Timeout | undefined;

  constructor(options: RomChipOptions = {}) {
    super();
    this.fault = options.fault ?? 'none';
    this.wrongVersion = options.wrongVersion ?? 2;
    this.timing = { streamTimeoutMs: 1000, checksumMs: 5, programMs: 100, verifyMs: 50, ...options.timing };
  }

  get state(): ChipState {
    return this.stateValue;
  }

  /** Bits of the handshake seen so far while listening or running (a host may be starting one). */
  get handshakeProgress(): number {
    return this.matched;
  }

  /** A reset (DTR pulse or power cycle): whatever ran stops, the boot loader listens. */
  reset(): void {
    clearTimeout(this.ackTimer);
    clearTimeout(this.streamTimer);
    this.stateValue = 'listening';
    this.matched = 0;
    this.pending = [];
  }

  dispose(): void {
    clearTimeout(this.ackTimer);
    clearTimeout(this.streamTimer);
    this.removeAllListeners();
  }

  /** Bytes from the host, in order. A chip with the silence fault hears nothing. */
  receive(bytes: Buffer): void {
    if (this.fault === 'silence') return;
    for (const byte of bytes) this.receiveByte(byte);
  }

  private receiveByte(byte: number): void {
    const bits = FRAME_BITS[byte];
    const answers: Bit[] = [];
    if (!bits) {
      // Not readable as pulses: a handshake in progress is broken; a loading chip gives up.
      this.matched = 0;
      if (this.isLoading()) this.reset();
      return;
    }
    for (const bit of bits) this.receiveBit(bit, answers);
    this.watchStream();
    if (answers.length === 1) this.emit('reply', Buffer.from([singleReplyByte(answers[0])]));
    else if (answers.length === 2) this.emit('reply', Buffer.from([doubleReplyByte(answers[0], answers[1])]));
    const next = this.afterReply;
    this.afterReply = undefined;
    next?.();
  }

  /** While command, length and image stream in, a pause means the host stopped: give up. */
  private watchStream(): void {
    clearTimeout(this.streamTimer);
    if (this.stateValue !== 'command' && this.stateValue !== 'length' && this.stateValue !== 'image') return;
    this.streamTimer = setTimeout(() => this.reset(), this.timing.streamTimeoutMs);
  }

  private isLoading(): boolean {
    return this.stateValue !== 'listening' && this.stateValue !== 'running' && this.stateValue !== 'shutdown';
  }

  private receiveBit(bit: Bit, answers: Bit[]): void {
    switch (this.stateValue) {
      case 'listening':
      case 'running':
      case 'shutdown':
        this.matchHandshake(bit);
        return;
      case 'halted':
        return;
      case 'templates':
        this.takeTemplateBit(bit, (index) => {
          if (index < CHIP_HANDSHAKE_BITS.length) {
            const lfsr = CHIP_HANDSHAKE_BITS[index];
            answers.push(this.fault === 'bad-handshake' ? ((lfsr ^ 1) as Bit) : lfsr);
          } else {
            const version = this.fault === 'wrong-version' ? this.wrongVersion : EXPECTED_VERSION;
            answers.push(((version >> (index - CHIP_HANDSHAKE_BITS.length)) & 1) as Bit);
          }
          if (index + 1 === TEMPLATE_ANSWERS) this.startWord('command');
        });
        return;
      case 'command':
      case 'length':
      case 'image':
        this.takeWordBit(bit);
        return;
      case 'acknowledging':
        this.takeTemplateBit(bit, () => {
          if (!this.ackReady || this.acks.length === 0) return;
          answers.push(this.acks.shift()!);
          this.ackReady = false;
          // The answer goes out before whatever the chip does next (e.g. the program's first output).
          this.afterReply = () => this.afterAck();
        });
        return;
    }
  }

  /** A template is the pair "1,0"; anything else while templates are due breaks the conversation. */
  private takeTemplateBit(bit: Bit, onTemplate: (index: number) => void): void {
    this.pending.push(bit);
    if (this.pending.length < 2) return;
    const [first, second] = this.pending;
    this.pending = [];
    if (first !== 1 || second !== 0) {
      if (this.stateValue === 'templates') this.reset();
      return;
    }
    onTemplate(this.templatesAnswered++);
  }

  private matchHandshake(bit: Bit): void {
    if (bit !== EXPECTED_HANDSHAKE[this.matched]) this.matched = bit === EXPECTED_HANDSHAKE[0] ? 1 : 0;
    else this.matched++;
    if (this.matched === HANDSHAKE_NOTICE_BITS) this.emit('handshake');
    if (this.matched < EXPECTED_HANDSHAKE.length) return;
    // The whole handshake arrived: as if the chip had just been reset and heard a host.
    clearTimeout(this.ackTimer);
    this.matched = 0;
    this.pending = [];
    this.templatesAnswered = 0;
    this.stateValue = 'templates';
  }

  private startWord(state: 'command' | 'length' | 'image'): void {
    this.stateValue = state;
    this.word = 0;
    this.wordBits = 0;
  }

  private takeWordBit(bit: Bit): void {
    this.word = (this.word | (bit << this.wordBits)) >>> 0;
    if (++this.wordBits < 32) return;
    const value = this.word;
    this.word = 0;
    this.wordBits = 0;
    if (this.stateValue === 'command') {
      if (value === 0) return this.shutdown();
      if (value > 3) return this.reset();
      this.command = value as RomCommand;
      this.stateValue = 'length';
    } else if (this.stateValue === 'length') {
      if (value === 0 || value > MAX_LONGS) return this.reset();
      this.longs = value;
      this.image = Buffer.alloc(value * 4);
      this.imageLongs = 0;
      this.stateValue = 'image';
    } else {
      this.image.writeUInt32LE(value, this.imageLongs * 4);
      if (++this.imageLongs === this.longs) this.imageComplete();
    }
  }

  /** The whole image arrived: hub RAM as the chip leaves it (hubRam) must sum to 0. */
  private imageComplete(): void {
    const checksumOk = byteSum(hubRam(this.image)) === 0 && this.fault !== 'bad-checksum';
    this.program = { command: this.command, image: this.image, checksumOk };
    this.emit('loaded', this.program);
    this.stateValue = 'acknowledging';
    this.pending = [];
    if (this.fault === 'no-ack') {
      this.stateValue = 'shutdown';
      return;
    }
    this.stage = 'ram';
    this.acks = [checksumOk ? 0 : 1];
    this.prepareAck(this.timing.checksumMs);
  }

  private prepareAck(ms: number): void {
    this.ackReady = false;
    clearTimeout(this.ackTimer);
    this.ackTimer = setTimeout(() => {
      this.ackReady = true;
    }, ms);
  }

  /** What follows each acknowledgement: the next step, running the program, or shutting down. */
  private afterAck(): void {
    const program = this.program!;
    if (!program.checksumOk) return this.shutdown();
    switch (this.stage) {
      case 'ram':
        if (program.command === 1) return this.run(program);
        this.stage = 'program';
        if (this.fault !== 'eeprom-program') this.programEeprom(program);
        this.acks = [this.fault === 'eeprom-program' ? 1 : 0];
        return this.prepareAck(this.timing.programMs);
      case 'program':
        if (this.fault === 'eeprom-program') return this.shutdown();
        this.stage = 'verify';
        this.acks = [this.fault === 'eeprom-verify' ? 1 : 0];
        return this.prepareAck(this.timing.verifyMs);
      case 'verify':
        if (this.fault === 'eeprom-verify' || program.command === 2) return this.shutdown();
        return this.run(program);
    }
  }

  private programEeprom(program: LoadedProgram): void {
    hubRam(program.image).copy(this.eeprom);
    this.emit('eeprom', Buffer.from(this.eeprom));
  }

  /**
   * Starting the program writes its clock mode to the CLK register: the RESET bit reboots the chip
   * (back to the boot loader), a source whose oscillator or PLL is off stops the clock.
   */
  private run(program: LoadedProgram): void {
    const fault = clockModeFault(program.image[4] ?? 0);
    if (fault?.rule === 'clock-mode-reset') {
      this.reset();
      this.emit('reboot');
      return;
    }
    if (fault) {
      this.stateValue = 'halted';
      this.emit('halted');
      return;
    }
    this.stateValue = 'running';
    this.emit('run', program);
  }

  private shutdown(): void {
    this.stateValue = 'shutdown';
    this.emit('shutdown');
  }
}
