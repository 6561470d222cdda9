import { InstrumentError } from '../common/errors';
import { encodeBits, wordBits, type Bit } from './bit-packing';
import { HUB_RAM_SIZE } from './image-header';
import { lfsrBits } from './lfsr';

/**
 * The Propeller 1 ROM boot loader's conversation, as bytes on the wire. Pure functions shared by
 * the host loader and the fake chip, so both sides speak from one description.
 */
export const HOST_LFSR_BITS = 250;
export const CHIP_LFSR_BITS = 250;
export const VERSION_BITS = 8;
export const EXPECTED_VERSION = 1;
/** One timing template "1,0": the calibration template and the acknowledgement polls. */
export const TEMPLATE_BYTE = 0xf9;
/** Two templates "1,0,1,0" in one byte; the chip answers both in one reply byte (bits 0 and 5). */
export const DOUBLE_TEMPLATE_BYTE = 0x29;
/** Handshake reply bytes: (250 LFSR bits + 8 version bits) / 2 templates per byte. */
export const HANDSHAKE_REPLY_BYTES = (CHIP_LFSR_BITS + VERSION_BITS) / 2;

export const ROM_COMMAND = {
  shutdown: 0,
  loadRun: 1,
  programShutdown: 2,
  programRun: 3,
} as const;
export type RomCommand = (typeof ROM_COMMAND)[keyof typeof ROM_COMMAND];

/** The bits the host sends and the bits the chip must answer, from the one LFSR sequence. */
const SEQUENCE = lfsrBits(HOST_LFSR_BITS + CHIP_LFSR_BITS);
export const HOST_HANDSHAKE_BITS: readonly Bit[] = SEQUENCE.slice(0, HOST_LFSR_BITS);
export const CHIP_HANDSHAKE_BITS: readonly Bit[] = SEQUENCE.slice(HOST_LFSR_BITS);

/**
 * The host's handshake: the calibration template and the 250 LFSR bits packed together, then the
 * 258 answer templates as whole 0x29 bytes so every reply byte maps to a known pair of templates.
 */
export function handshakeBytes(): Buffer {
  const head = encodeBits([1, 0, ...HOST_HANDSHAKE_BITS]);
  return Buffer.concat([head, Buffer.alloc(HANDSHAKE_REPLY_BYTES, DOUBLE_TEMPLATE_BYTE)]);
}

/**
 * What the boot loader takes: 1 to 8192 whole longs. Checked before anything is sent, so a caller
 * of the loader that skipped prepareImage still gets a clear refusal instead of a half-done load.
 */
export function checkLoadable(image: unknown): asserts image is Buffer {
  if (!Buffer.isBuffer(image)) {
    throw new InstrumentError('BAD_INPUT', 'the image to load must be a Buffer of image bytes; prepare it from the file with prepareImage', {
      reason: 'imageNotBuffer',
    });
  }
  const bytes = image.length;
  if (bytes > 0 && bytes <= HUB_RAM_SIZE && bytes % 4 === 0) return;
  throw new InstrumentError(
    'BAD_INPUT',
    `the image to load is ${bytes} bytes; the boot loader takes 4 to ${HUB_RAM_SIZE} bytes in whole 4-byte longs: ` +
      'prepare it from the file with prepareImage',
    { reason: 'imageNotLoadable', bytes, max: HUB_RAM_SIZE },
  );
}

/** Command, image length in longs, then every long, all as packed protocol bits. */
export function commandBytes(command: RomCommand, image: Buffer): Buffer {
  checkLoadable(image);
  return encodeBits(wordBits([command, image.length / 4], image));
}

/** The chip's answer to one template: 0xFE for 0, 0xFF for 1. */
export function singleReplyByte(bit: Bit): number {
  return 0xfe | bit;
}

/** The chip's answer to a byte carrying two templates: first bit in bit 0, second in bit 5. */
export function doubleReplyByte(first: Bit, second: Bit): number {
  return 0xce | first | (second << 5);
}

/** The two bits of a double reply, or undefined when the byte is not one (0xCE, 0xCF, 0xEE, 0xEF). */
export function readDoubleReply(byte: number): [Bit, Bit] | undefined {
  if ((byte & 0xde) !== 0xce) return undefined;
  return [(byte & 1) as Bit, ((byte >> 5) & 1) as Bit];
}

/** The bit of a single reply, or undefined when the byte is neither 0xFE nor 0xFF. */
export function readSingleReply(byte: number): Bit | undefined {
  if ((byte & 0xfe) !== 0xfe) return undefined;
  return (byte & 1) as Bit;
}

export type HandshakeVerdict = { kind: 'ok'; version: number } | { kind: 'wrong-version'; version: number } | { kind: 'no-match' };

/**
 * Judge the last HANDSHAKE_REPLY_BYTES of what arrived: the LFSR bits must match, then the version
 * (8 bits, least significant first) must be 1. Looking at the tail lets leftover output of a
 * program that ran before the reset precede the answer without spoiling it.
 */
export function judgeHandshakeReply(received: Buffer): HandshakeVerdict {
  if (received.length < HANDSHAKE_REPLY_BYTES) return { kind: 'no-match' };
  const tail = received.subarray(received.length - HANDSHAKE_REPLY_BYTES);
  const bits: Bit[] = [];
  for (const byte of tail) {
    const pair = readDoubleReply(byte);
    if (!pair) return { kind: 'no-match' };
    bits.push(...pair);
  }
  for (let i = 0; i < CHIP_LFSR_BITS; i++) if (bits[i] !== CHIP_HANDSHAKE_BITS[i]) return { kind: 'no-match' };
  let version = 0;
  for (let i = 0; i < VERSION_BITS; i++) version |= bits[CHIP_LFSR_BITS + i] << i;
  return version === EXPECTED_VERSION ? { kind: 'ok', version } : { kind: 'wrong-version', version };
}

/** Seconds on the wire for `bytes` 8N1 bytes at `baud` (10 slots per byte). */
export function wireMs(bytes: number, baud: number): number {
  return (bytes * 10 * 1000) / baud;
}
