import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import {
  FRAME_BITS,
  byteForBits,
  decodeBytes,
  decodeFrame,
  encodeBits,
  frameSlots,
  longBits,
  wordBits,
  type Bit,
} from '../../src/protocols/propeller/bit-packing';
import { lfsrBits } from '../../src/protocols/propeller/lfsr';

/** An independent reading of a frame: the low runs, measured from the 10 slots, straight from the description. */
function lowRuns(byte: number): number[] {
  const level = (slot: number): number => (slot === 0 ? 0 : slot === 9 ? 1 : (byte >> (slot - 1)) & 1);
  const runs: number[] = [];
  let run = 0;
  for (let slot = 0; slot < 10; slot++) {
    if (level(slot) === 0) run++;
    else if (run > 0) {
      runs.push(run);
      run = 0;
    }
  }
  return runs;
}

/** Fewest bytes for `bits` by dynamic programming over every split (the reference for "greedy or better"). */
function optimalByteCount(bits: Bit[]): number {
  const best = new Array<number>(bits.length + 1).fill(Infinity);
  best[0] = 0;
  for (let i = 0; i < bits.length; i++) {
    for (let n = 1; n <= 5 && i + n <= bits.length; n++) {
      if (byteForBits(bits.slice(i, i + n)) !== undefined) best[i + n] = Math.min(best[i + n], best[i] + 1);
    }
  }
  return best[bits.length];
}

const bitArray = (max: number) => fc.array(fc.constantFrom<Bit>(0, 1), { minLength: 0, maxLength: max });

describe('propeller bit packing (pulse model)', () => {
  it('frames are start low, data LSB first, stop high', () => {
    assert.deepEqual(frameSlots(0x01), [false, true, false, false, false, false, false, false, false, true]);
    assert.deepEqual(frameSlots(0x80), [false, false, false, false, false, false, false, false, true, true]);
  });

  it('every one of the 256 byte values decodes to exactly the bits its low pulses say', () => {
    let readable = 0;
    for (let byte = 0; byte < 256; byte++) {
      const runs = lowRuns(byte);
      const decoded = decodeFrame(byte);
      if (runs.some((r) => r > 2)) {
        assert.equal(decoded, undefined, `0x${byte.toString(16)} has a long pulse and must not decode`);
        continue;
      }
      readable++;
      assert.deepEqual(
        decoded,
        runs.map((r) => (r === 1 ? 1 : 0)),
        `0x${byte.toString(16)}`,
      );
      assert.deepEqual(FRAME_BITS[byte], decoded);
    }
    assert.equal(readable, 125);
  });

  it('every byte the encoder uses carries exactly its claimed group, for all 62 groups of 1..5 bits', () => {
    let encodable = 0;
    for (let length = 1; length <= 5; length++) {
      for (let value = 0; value < 1 << length; value++) {
        const group = Array.from({ length }, (_, j) => ((value >> j) & 1) as Bit);
        const byte = byteForBits(group);
        // The slot cost: each 1 takes 2 slots (pulse + gap), each 0 takes 3; the frame has 10.
        const fits = group.reduce<number>((cost, b) => cost + (b ? 2 : 3), 0) <= 10;
        assert.equal(byte !== undefined, fits, `group ${group.join(',')}`);
        if (byte === undefined) continue;
        encodable++;
        assert.deepEqual(decodeFrame(byte), group);
        assert.deepEqual(encodeBits(group), Buffer.from([byte]));
      }
    }
    // 1 bit: 2, 2 bits: 4, 3 bits: 8, 4 bits with at most two zeros: 11, 5 bits: only 1,1,1,1,1.
    assert.equal(encodable, 2 + 4 + 8 + 11 + 1);
  });

  it('matches the bytes the description names, and avoids the %111 → 0xFA mistake', () => {
    assert.equal(byteForBits([1]), 0xff);
    assert.equal(byteForBits([0]), 0xfe);
    assert.equal(byteForBits([1, 0]), 0xf9);
    assert.equal(byteForBits([0, 0, 0]), 0x92);
    assert.equal(byteForBits([1, 1, 1]), 0xf5);
    assert.equal(byteForBits([1, 1, 1, 1, 1]), 0x55);
    assert.equal(byteForBits([1, 0, 1, 0]), 0x29);
    assert.deepEqual(decodeFrame(0xfa), [0, 1]);
    assert.notEqual(byteForBits([1, 1, 1]), 0xfa);
  });

  it('decode(encode(bits)) = bits for random bit strings (property)', () => {
    fc.assert(
      fc.property(bitArray(400), (bits) => {
        assert.deepEqual(decodeBytes(encodeBits(bits)), bits);
      }),
      { numRuns: 500 },
    );
  });

  it('uses no more bytes than the best possible split (property, against dynamic programming)', () => {
    fc.assert(
      fc.property(bitArray(200), (bits) => {
        assert.equal(encodeBits(bits).length, optimalByteCount(bits));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses to decode a byte with a three-slot pulse', () => {
    assert.throws(() => decodeBytes([0xff, 0x00]), /0x0 at 1/);
  });

  it('sends longs least significant bit first', () => {
    const bits = longBits(0x80000001);
    assert.equal(bits.length, 32);
    assert.equal(bits[0], 1);
    assert.equal(bits[31], 1);
    assert.equal(
      bits.slice(1, 31).every((b) => b === 0),
      true,
    );
    const image = Buffer.from([0x01, 0x00, 0x00, 0x80, 0xfe, 0xff, 0xff, 0xff]);
    assert.deepEqual([...wordBits([3], image)], [...longBits(3), ...longBits(0x80000001), ...longBits(0xfffffffe)]);
  });

  it('the LFSR starts from 0x50 and is the maximal-length sequence of its taps', () => {
    const bits = lfsrBits(510);
    // By hand: 0x50 outputs 0; feedback (0 ^ 0 ^ 1 ^ 0) = 1 gives 0xA1, which outputs 1.
    assert.deepEqual(bits.slice(0, 2), [0, 1]);
    // Taps 8, 6, 5, 2 are maximal: period 255, and one period holds 128 ones.
    assert.deepEqual(bits.slice(255, 510), bits.slice(0, 255));
    assert.equal(bits.slice(0, 255).filter((b) => b === 1).length, 128);
    for (let period = 1; period < 255; period++) {
      if (255 % period === 0) assert.notDeepEqual(bits.slice(period, period + 255), bits.slice(0, 255), `period ${period}`);
    }
  });
});
