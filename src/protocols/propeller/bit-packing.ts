/**
 * Protocol bits carried by ordinary 8N1 bytes, derived from the boot loader's pulse model rather
 * than from a table: the line idles high; a frame is 10 slots (start low, 8 data bits LSB first
 * with 1 = high, stop high); the chip sees low pulses, one slot = bit 1, two slots = bit 0, and a
 * pulse never crosses a frame. A byte therefore carries 1 to 5 bits (each 1 costs a low slot plus
 * a high one after it, each 0 two low slots plus a high one; the stop slot pays the last high).
 */
export type Bit = 0 | 1;

export const SLOTS_PER_FRAME = 10;
/** The most protocol bits one byte can carry ("1,1,1,1,1" = 0x55). */
export const MAX_BITS_PER_BYTE = 5;

/** The frame of one byte as line levels, slot 0 (start) to slot 9 (stop); true = high. */
export function frameSlots(byte: number): boolean[] {
  const slots = [false];
  for (let bit = 0; bit < 8; bit++) slots.push(((byte >> bit) & 1) === 1);
  slots.push(true);
  return slots;
}

/** The protocol bits the chip reads from one byte, or undefined when a low pulse lasts three slots or more. */
export function decodeFrame(byte: number): Bit[] | undefined {
  const slots = frameSlots(byte);
  const bits: Bit[] = [];
  let i = 0;
  while (i < SLOTS_PER_FRAME) {
    if (slots[i]) {
      i++;
      continue;
    }
    let width = 0;
    while (i < SLOTS_PER_FRAME && !slots[i]) {
      width++;
      i++;
    }
    if (width > 2) return undefined;
    bits.push(width === 1 ? 1 : 0);
  }
  return bits;
}

/** Decoding of every byte value, computed once from the model. */
export const FRAME_BITS: ReadonlyArray<ReadonlyArray<Bit> | undefined> = Array.from({ length: 256 }, (_, byte) => decodeFrame(byte));

/** A bit group of length n (1..5) as an index: a leading 1 marker above the bits, first bit lowest. */
function groupKey(bits: ArrayLike<number>, start: number, length: number): number {
  let key = 1 << length;
  for (let j = 0; j < length; j++) key |= (bits[start + j] & 1) << j;
  return key;
}

/**
 * For every bit group of 1..5 bits, the byte that carries exactly it (-1 when none can). Of
 * several candidates the highest value is kept: it packs the pulses at the start of the frame
 * with the shortest gaps, e.g. "1" → 0xFF, "0" → 0xFE, "1,0" → 0xF9.
 */
const BYTE_FOR_GROUP: Int16Array = (() => {
  const table = new Int16Array(1 << (MAX_BITS_PER_BYTE + 1)).fill(-1);
  for (let byte = 255; byte >= 0; byte--) {
    const bits = FRAME_BITS[byte];
    if (!bits || bits.length === 0 || bits.length > MAX_BITS_PER_BYTE) continue;
    const key = groupKey(bits, 0, bits.length);
    if (table[key] === -1) table[key] = byte;
  }
  return table;
})();

/** The byte carrying exactly `bits` (1..5 of them), or undefined when no byte can. */
export function byteForBits(bits: ArrayLike<number>): number | undefined {
  if (bits.length < 1 || bits.length > MAX_BITS_PER_BYTE) return undefined;
  const byte = BYTE_FOR_GROUP[groupKey(bits, 0, bits.length)];
  return byte < 0 ? undefined : byte;
}

/**
 * Pack protocol bits into bytes, each byte taking the longest run of the next bits it can carry.
 * Which runs fit only depends on the run (a shorter run of a fitting run fits too), so this greedy
 * split uses the fewest bytes possible for byte-aligned packing.
 */
export function encodeBits(bits: ArrayLike<number>): Buffer {
  const out = Buffer.allocUnsafe(bits.length);
  let n = 0;
  let i = 0;
  while (i < bits.length) {
    let length = Math.min(MAX_BITS_PER_BYTE, bits.length - i);
    // The next bits, first lowest; a shorter group is the same value masked.
    let packed = 0;
    for (let j = 0; j < length; j++) packed |= (bits[i + j] & 1) << j;
    let byte = BYTE_FOR_GROUP[(1 << length) | packed];
    while (byte < 0) {
      length--;
      byte = BYTE_FOR_GROUP[(1 << length) | (packed & ((1 << length) - 1))];
    }
    out[n++] = byte;
    i += length;
  }
  return out.subarray(0, n);
}

/** The protocol bits a byte stream carries; throws on a byte the chip could not read. */
export function decodeBytes(bytes: ArrayLike<number>): Bit[] {
  const bits: Bit[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const frame = FRAME_BITS[bytes[i] & 0xff];
    if (!frame) throw new Error(`byte 0x${(bytes[i] & 0xff).toString(16)} at ${i} holds a low pulse longer than two slots`);
    bits.push(...frame);
  }
  return bits;
}

/** A 32-bit value as 32 protocol bits, least significant first (how the boot loader reads longs). */
export function longBits(value: number, into: Bit[] = []): Bit[] {
  for (let bit = 0; bit < 32; bit++) into.push(((value >>> bit) & 1) as Bit);
  return into;
}

/** Every long of `words` (little-endian bytes) after the given leading longs, as protocol bits in one typed array. */
export function wordBits(leading: number[], words: Buffer): Uint8Array {
  const bits = new Uint8Array((leading.length + Math.floor(words.length / 4)) * 32);
  let at = 0;
  const put = (value: number): void => {
    for (let bit = 0; bit < 32; bit++) bits[at++] = (value >>> bit) & 1;
  };
  for (const value of leading) put(value);
  for (let i = 0; i + 4 <= words.length; i += 4) put(words.readUInt32LE(i));
  return bits;
}
