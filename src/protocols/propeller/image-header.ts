import { InstrumentError, type ReasonDetails } from '../common/errors';

/**
 * The 16-byte header every Propeller 1 application image starts with (little-endian), and the
 * checksum rule the boot loader applies. Shared by the .binary, .eeprom and .elf readers.
 */
export const HUB_RAM_SIZE = 32768;
export const HEADER_SIZE = 16;
export const PBASE = 0x0010;
/** The two call-frame longs FF FF F9 FF FF FF F9 FF the chip places at dbase-8; their bytes sum to 0xEC mod 256. */
export const CALL_FRAME = Buffer.from([0xff, 0xff, 0xf9, 0xff, 0xff, 0xff, 0xf9, 0xff]);
export const CALL_FRAME_SUM = 0xec;

export interface ImageHeader {
  clockFrequency: number;
  clockMode: number;
  checksum: number;
  pbase: number;
  vbase: number;
  dbase: number;
  pcurr: number;
  dcurr: number;
}

export function readHeader(data: Buffer): ImageHeader {
  if (data.length < HEADER_SIZE) {
    // No size in the text: the data may be any file a path pointed at, not an image.
    throw imageError('header-size', `the data is shorter than the ${HEADER_SIZE}-byte header every Propeller image starts with`, {
      reason: 'imageHeaderShort',
      headerBytes: HEADER_SIZE,
    });
  }
  return {
    clockFrequency: data.readUInt32LE(0),
    clockMode: data.readUInt8(4),
    checksum: data.readUInt8(5),
    pbase: data.readUInt16LE(6),
    vbase: data.readUInt16LE(8),
    dbase: data.readUInt16LE(10),
    pcurr: data.readUInt16LE(12),
    dcurr: data.readUInt16LE(14),
  };
}

/**
 * An InstrumentError naming the validation rule that failed (details.rule), so flows can branch on
 * it; `details` adds a catalog key (reason) and the variable parts of the message.
 */
export function imageError(rule: string, message: string, details: ReasonDetails): InstrumentError {
  return new InstrumentError('BAD_INPUT', `invalid Propeller image (rule "${rule}"): ${message}`, { rule, ...details });
}

export function byteSum(data: Buffer): number {
  let sum = 0;
  for (const byte of data) sum += byte;
  return sum & 0xff;
}

/** Hub RAM (and the .eeprom file) for a loaded image: the image, zeros, and the call frame at dbase-8. */
export function hubRam(image: Buffer): Buffer {
  const ram = Buffer.alloc(HUB_RAM_SIZE);
  image.copy(ram);
  // The chip takes any length of 1 or more longs; an image too short for a header has no dbase.
  const dbase = image.length >= 12 ? image.readUInt16LE(10) : 0;
  if (dbase >= 8 && dbase <= HUB_RAM_SIZE) CALL_FRAME.copy(ram, dbase - 8);
  return ram;
}

/** True when a loadable image obeys the boot loader's rule: (sum of bytes + call frame) mod 256 = 0. */
export function isChecksumValid(image: Buffer): boolean {
  return ((byteSum(image) + CALL_FRAME_SUM) & 0xff) === 0;
}

/** The value byte 5 must hold for the image to pass the checksum rule. */
export function computeChecksum(image: Buffer): number {
  readHeader(image);
  const sumWithoutChecksum = (byteSum(image) - image[5] + CALL_FRAME_SUM) & 0xff;
  return (0x100 - sumWithoutChecksum) & 0xff;
}

/**
 * A copy of the image with byte 5 set so the checksum rule holds. An image whose clock mode no chip
 * can run is refused instead: a right checksum would only let it reach the chip.
 */
export function fixChecksum(image: Buffer): Buffer {
  checkClockMode(readHeader(image).clockMode);
  const fixed = Buffer.from(image);
  fixed[5] = computeChecksum(image);
  return fixed;
}

const CLOCK_SOURCES = ['RCFAST', 'RCSLOW', 'XINPUT', 'PLL1X', 'PLL2X', 'PLL4X', 'PLL8X', 'PLL16X'];
const OSCILLATOR_MODES = ['XINPUT', 'XTAL1', 'XTAL2', 'XTAL3'];

/**
 * The CLK register value in words, e.g. "XTAL1 + PLL16X" or "RCFAST". Bits: 6 PLL enable,
 * 5 oscillator enable, 4..3 oscillator mode, 2..0 clock source.
 */
export function describeClockMode(mode: number): string {
  const source = mode & 0x07;
  const oscillator = OSCILLATOR_MODES[(mode >> 3) & 0x03];
  if (source < 2) return CLOCK_SOURCES[source];
  if (source === 2) return oscillator;
  return `${oscillator} + ${CLOCK_SOURCES[source]}`;
}

/** Bits of the CLK register (the clock mode byte). */
export const CLK = { reset: 0x80, pllEnable: 0x40, oscillatorEnable: 0x20, sourceMask: 0x07 } as const;
const SOURCE_XINPUT = 2;

/** The enable bits a clock source needs, by name. */
export type ClockEnableBit = 'PLLENA' | 'OSCENA';
export type ClockModeFault = { rule: 'clock-mode-reset' } | { rule: 'clock-mode-disabled'; missing: ClockEnableBit[] };
const BIT_OF: Record<ClockEnableBit, number> = { PLLENA: 6, OSCENA: 5 };

/**
 * Why the chip cannot run a clock mode, if it cannot. Starting a program writes this byte to the CLK
 * register: the RESET bit reboots the chip, so the program never starts; a source fed by the
 * crystal oscillator or the PLL while that circuit is off stops the clock, and the chip hangs until
 * the next reset.
 */
export function clockModeFault(mode: number): ClockModeFault | undefined {
  if ((mode & CLK.reset) !== 0) return { rule: 'clock-mode-reset' };
  const source = mode & CLK.sourceMask;
  if (source < SOURCE_XINPUT) return undefined;
  const missing: ClockEnableBit[] = [
    ...(source > SOURCE_XINPUT && (mode & CLK.pllEnable) === 0 ? (['PLLENA'] as const) : []),
    ...((mode & CLK.oscillatorEnable) === 0 ? (['OSCENA'] as const) : []),
  ];
  return missing.length > 0 ? { rule: 'clock-mode-disabled', missing } : undefined;
}

/** Refuse a clock mode the chip cannot run (see clockModeFault), naming the rule. */
export function checkClockMode(mode: number): void {
  const fault = clockModeFault(mode);
  if (!fault) return;
  const clockMode = `0x${mode.toString(16).toUpperCase().padStart(2, '0')}`;
  if (fault.rule === 'clock-mode-reset') {
    throw imageError(
      fault.rule,
      `the clock mode ${clockMode} sets the RESET bit (bit 7), so the chip would reboot instead of running the program; ` +
        'the file is damaged or not a Propeller program: rebuild it',
      { reason: 'imageClockModeReset', clockMode },
    );
  }
  const { missing } = fault;
  const clockSource = describeClockMode(mode);
  const bits = missing.map((bit) => `${bit} (bit ${BIT_OF[bit]})`).join(' and ');
  throw imageError(
    fault.rule,
    `the clock mode ${clockMode} takes the clock from ${clockSource} but leaves ${bits} off, ` +
      'so the clock would stop and the chip hang until reset; rebuild the program with a valid clock mode (e.g. XTAL1 + PLL16X, 0x6F)',
    // `missing` (a list) is for flows; the catalogs substitute only text and numbers, so the sentence takes `missingBits`.
    { reason: 'imageClockModeDisabled', clockMode, clockSource, missing, missingBits: bits },
  );
}
