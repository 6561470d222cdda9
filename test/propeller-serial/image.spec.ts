import { strict as assert } from 'node:assert';
import { InstrumentError } from '../../src/protocols/common/errors';
import { binaryToEeprom, computeChecksum, describeClockMode, fixChecksum, isChecksumValid, prepareImage } from '../../src/protocols/propeller/image';
import { makeBinary, makeElf } from './image-fixtures';

function rule(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof InstrumentError, `expected InstrumentError, got ${String(err)}`);
    assert.equal(err.code, 'BAD_INPUT');
    assert.match(err.message, new RegExp(`rule "${String(err.details.rule)}"`));
    return String(err.details.rule);
  }
  throw new Error('expected the image to be refused');
}

function withHeader(image: Buffer, offset: number, value: number, fix = true): Buffer {
  const copy = Buffer.from(image);
  copy.writeUInt16LE(value, offset);
  return fix ? fixChecksum(copy) : copy;
}

describe('propeller images', () => {
  const binary = makeBinary(64);

  it('reads every header fact of a .binary', () => {
    const p = prepareImage(binary);
    assert.equal(p.format, 'binary');
    assert.equal(p.clockFrequency, 80_000_000);
    assert.equal(p.clockMode, 0x6f);
    assert.equal(p.clockModeText, 'XTAL1 + PLL16X');
    assert.equal(p.pbase, 0x10);
    assert.equal(p.vbase, 80);
    assert.equal(p.dbase, 92);
    assert.equal(p.pcurr, 0x18);
    assert.equal(p.dcurr, 100);
    assert.equal(p.size, 80);
    assert.equal(p.longs, 20);
    assert.equal(p.codeBytes, 64);
    assert.equal(p.variableBytes, 4);
    assert.equal(p.freeBytes, 32768 - 100);
    assert.equal(p.checksumOk, true);
    assert.equal(p.checksumFixed, false);
    assert.deepEqual(p.image, binary);
    assert.notEqual(p.image, binary, 'the result owns its bytes');
  });

  it('checksum: all bytes plus 0xEC sum to zero, and fixChecksum repairs only byte 5', () => {
    let sum = 0xec;
    for (const b of binary) sum += b;
    assert.equal(sum & 0xff, 0);
    assert.equal(isChecksumValid(binary), true);
    const broken = Buffer.from(binary);
    broken[40] ^= 0x5a;
    assert.equal(isChecksumValid(broken), false);
    const fixed = fixChecksum(broken);
    assert.equal(isChecksumValid(fixed), true);
    assert.deepEqual(fixed.subarray(6), broken.subarray(6));
    assert.equal(computeChecksum(broken), fixed[5]);
  });

  it('names the clock modes', () => {
    assert.equal(describeClockMode(0x00), 'RCFAST');
    assert.equal(describeClockMode(0x01), 'RCSLOW');
    assert.equal(describeClockMode(0x22), 'XINPUT');
    assert.equal(describeClockMode(0x6f), 'XTAL1 + PLL16X');
    assert.equal(describeClockMode(0x76), 'XTAL2 + PLL8X');
  });

  it('turns an .eeprom into the first vbase bytes', () => {
    const eeprom = binaryToEeprom(binary);
    assert.equal(eeprom.length, 32768);
    let sum = 0;
    for (const b of eeprom) sum += b;
    assert.equal(sum & 0xff, 0);
    const p = prepareImage(eeprom);
    assert.equal(p.format, 'eeprom');
    assert.deepEqual(p.image, binary);
  });

  it('turns an .elf into a loadable image with vbase/dbase/dcurr set and the checksum recomputed', () => {
    const code = makeBinary(40);
    const data = Buffer.from([1, 2, 3, 4, 5, 6]);
    const elf = makeElf([
      { physicalAddress: 0, bytes: code },
      { physicalAddress: 0x100, bytes: data },
      { physicalAddress: 0x200, bytes: Buffer.alloc(0) },
      { physicalAddress: 0x4000, bytes: Buffer.from([9, 9, 9, 9]), type: 4 },
    ]);
    const p = prepareImage(elf);
    assert.equal(p.format, 'elf');
    assert.equal(p.size, 0x108);
    assert.equal(p.vbase, 0x108);
    assert.equal(p.dbase, 0x110);
    assert.equal(p.dcurr, 0x114);
    assert.equal(isChecksumValid(p.image), true);
    assert.deepEqual(p.image.subarray(16, code.length), code.subarray(16));
    assert.deepEqual(p.image.subarray(0x100, 0x106), data);
    assert.equal(p.image[0x106], 0);
  });

  describe('refuses bad images and names the rule', () => {
    it('header too short', () =>
      assert.equal(
        rule(() => prepareImage(Buffer.alloc(8))),
        'header-size',
      ));
    it('not a multiple of 4', () => {
      const odd = Buffer.concat([binary, Buffer.alloc(2)]);
      odd.writeUInt16LE(odd.length, 8);
      assert.equal(
        rule(() => prepareImage(fixChecksum(odd))),
        'size-multiple-of-4',
      );
    });
    it('larger than hub RAM', () => {
      const big = Buffer.alloc(32772);
      binary.copy(big);
      assert.equal(
        rule(() => prepareImage(big)),
        'size-max',
      );
    });
    it('pbase not 0x10: not an image at all, refused without describing the data', () => {
      assert.equal(
        rule(() => prepareImage(withHeader(binary, 6, 0x14))),
        'not-an-image',
      );
      assert.throws(
        () => prepareImage(withHeader(binary, 6, 0x14)),
        (err: InstrumentError) => err.details.reason === 'imageNotPropeller' && !/0x0014|\b80\b/.test(err.message),
      );
    });
    it('vbase not the file length', () =>
      assert.equal(
        rule(() => prepareImage(withHeader(binary, 8, 76))),
        'vbase-length',
      ));
    it('pcurr outside the code', () =>
      assert.equal(
        rule(() => prepareImage(withHeader(binary, 12, 0x08))),
        'pcurr-order',
      ));
    it('dbase below vbase + 8', () =>
      assert.equal(
        rule(() => prepareImage(withHeader(binary, 10, 84))),
        'dbase-order',
      ));
    it('dcurr below dbase', () =>
      assert.equal(
        rule(() => prepareImage(withHeader(binary, 14, 88))),
        'dcurr-order',
      ));
    it('bad checksum', () => {
      const bad = Buffer.from(binary);
      bad[5] ^= 1;
      assert.equal(
        rule(() => prepareImage(bad)),
        'checksum',
      );
      const repaired = prepareImage(bad, { fixChecksum: true });
      assert.equal(repaired.checksumOk, false);
      assert.equal(repaired.checksumFixed, true);
      assert.deepEqual(repaired.image, binary);
    });
    it('unknown format', () =>
      assert.equal(
        rule(() => prepareImage(binary, { format: 'hex' as 'binary' })),
        'format',
      ));
    it('eeprom of the wrong size', () =>
      assert.equal(
        rule(() => prepareImage(binary, { format: 'eeprom' })),
        'eeprom-size',
      ));
    it('eeprom without the call frame', () => {
      const eeprom = binaryToEeprom(binary);
      eeprom[binary.readUInt16LE(10) - 6] = 0;
      assert.equal(
        rule(() => prepareImage(eeprom)),
        'eeprom-call-frame',
      );
    });
    it('eeprom whose bytes do not sum to zero', () => {
      const eeprom = binaryToEeprom(binary);
      eeprom[30000] = 1;
      assert.equal(
        rule(() => prepareImage(eeprom)),
        'eeprom-checksum',
      );
    });
    it('elf: 64-bit, big-endian, not EXEC, no segments, external memory, truncated', () => {
      const seg = [{ physicalAddress: 0, bytes: makeBinary(8) }];
      assert.equal(
        rule(() => prepareImage(makeElf(seg, { elfClass: 2 }))),
        'elf-class',
      );
      assert.equal(
        rule(() => prepareImage(makeElf(seg, { endianness: 2 }))),
        'elf-endianness',
      );
      assert.equal(
        rule(() => prepareImage(makeElf(seg, { type: 1 }))),
        'elf-type',
      );
      assert.equal(
        rule(() => prepareImage(makeElf([]))),
        'elf-no-segments',
      );
      assert.equal(
        rule(() => prepareImage(makeElf([...seg, { physicalAddress: 0xc0000000, bytes: Buffer.alloc(4) }]))),
        'elf-segment-address',
      );
      assert.equal(
        rule(() => prepareImage(makeElf(seg).subarray(0, 40))),
        'elf-header',
      );
      assert.equal(
        rule(() => prepareImage(makeElf(seg).subarray(0, 100))),
        'elf-segment-bounds',
      );
      assert.equal(
        rule(() => prepareImage(makeElf([{ physicalAddress: 0, bytes: Buffer.alloc(32768) }]))),
        'size-max',
      );
      assert.equal(
        rule(() => prepareImage(Buffer.from('not an elf'), { format: 'elf' })),
        'elf-magic',
      );
    });
  });
});
