import type { Bit } from './bit-packing';

/** Seed of the handshake's 8-bit LFSR: 'P'. */
export const LFSR_SEED = 0x50;

/**
 * The first `count` output bits of the boot loader's handshake LFSR. Each step outputs the low
 * bit, then shifts left and feeds back the XOR of bits 7, 5, 4 and 1.
 */
export function lfsrBits(count: number, seed = LFSR_SEED): Bit[] {
  const bits: Bit[] = [];
  let l = seed & 0xff;
  for (let i = 0; i < count; i++) {
    bits.push((l & 1) as Bit);
    l = ((l << 1) & 0xfe) | (((l >> 7) ^ (l >> 5) ^ (l >> 4) ^ (l >> 1)) & 1);
  }
  return bits;
}
