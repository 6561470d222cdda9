import { strict as assert } from 'node:assert';
import { InstrumentError } from '../../src/protocols/common/errors';
import { binaryToEeprom, computeChecksum, fixChecksum, prepareImage } from '../../src/protocols/propeller/image';
import { makeBinary, makeElf } from './image-fixtures';

/** The image with another clock mode byte and a checksum that holds, as a file on disk could be. */
function withClockMode(image: Buffer, mode: number): Buffer {
  const copy = Buffer.from(image);
  copy[4] = mode;
  copy[5] = computeChecksum(copy);
  return copy;
}

/** The CLK register rules, said independently of the code: no RESET bit; a crystal source needs OSCENA, a PLL source PLLENA too. */
function runnable(mode: number): boolean {
  const source = mode & 7;
  const pll = (mode & 0x40) !== 0;
  const oscillator = (mode & 0x20) !== 0;
  if (mode & 0x80) return false;
  if (source === 0 || source === 1) return true;
  if (source === 2) return oscillator;
  return oscillator && pll;
}

function refusal(fn: () => unknown): InstrumentError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof InstrumentError, `expected an InstrumentError, got ${String(err)}`);
    return err;
  }
  throw new Error('expected the image to be refused');
}

describe('propeller images: clock modes a chip cannot run', () => {
  const binary = makeBinary(64);

  it('accepts exactly the runnable clock modes, of all 256', () => {
    const wrong: string[] = [];
    for (let mode = 0; mode < 256; mode++) {
      let accepted = true;
      try {
        prepareImage(withClockMode(binary, mode));
      } catch (err) {
        accepted = false;
        assert.ok(err instanceof InstrumentError && /^clock-mode-/.test(String(err.details.rule)), `0x${mode.toString(16)}: ${String(err)}`);
      }
      if (accepted !== runnable(mode)) wrong.push(`0x${mode.toString(16)} ${accepted ? 'accepted' : 'refused'}`);
    }
    assert.deepEqual(wrong, []);
  });

  it('$80: the RESET bit, named, with its catalog reason', () => {
    for (const mode of [0x80, 0xef]) {
      const err = refusal(() => prepareImage(withClockMode(binary, mode)));
      assert.equal(err.details.rule, 'clock-mode-reset');
      assert.equal(err.details.reason, 'imageClockModeReset');
      assert.equal(err.details.clockMode, `0x${mode.toString(16).toUpperCase()}`);
      assert.match(err.message, /RESET bit .*reboot/);
    }
  });

  it('$07 and other PLL modes without PLLENA/OSCENA: the clock would stop, and which bits are missing', () => {
    const cases: Array<[number, string[], RegExp]> = [
      [0x07, ['PLLENA', 'OSCENA'], /from XINPUT \+ PLL16X but leaves PLLENA \(bit 6\) and OSCENA \(bit 5\) off/],
      [0x47, ['OSCENA'], /leaves OSCENA \(bit 5\) off/],
      [0x2f, ['PLLENA'], /from XTAL1 \+ PLL16X but leaves PLLENA \(bit 6\) off/],
      [0x0a, ['OSCENA'], /from XTAL1 but leaves OSCENA/],
    ];
    for (const [mode, missing, text] of cases) {
      const err = refusal(() => prepareImage(withClockMode(binary, mode)));
      assert.equal(err.details.rule, 'clock-mode-disabled');
      assert.equal(err.details.reason, 'imageClockModeDisabled');
      assert.deepEqual(err.details.missing, missing);
      assert.match(err.message, text);
      assert.match(err.message, /clock would stop/);
    }
  });

  it('the rule holds for .eeprom and .elf files too', () => {
    const bad = withClockMode(binary, 0x07);
    const eeprom = binaryToEeprom(binary);
    eeprom[4] = 0x07;
    eeprom[5] = (eeprom[5]! + binary[4]! - 0x07) & 0xff;
    assert.equal(refusal(() => prepareImage(eeprom)).details.rule, 'clock-mode-disabled');
    assert.equal(refusal(() => prepareImage(makeElf([{ physicalAddress: 0, bytes: bad }]))).details.rule, 'clock-mode-disabled');
  });

  it('fixChecksum does not repair such a file, whether asked through prepareImage or directly', () => {
    const broken = withClockMode(binary, 0x80);
    broken[5] ^= 0x01;
    assert.equal(refusal(() => prepareImage(broken, { fixChecksum: true })).details.rule, 'clock-mode-reset');
    assert.equal(refusal(() => fixChecksum(broken)).details.rule, 'clock-mode-reset');
    assert.equal(refusal(() => fixChecksum(withClockMode(binary, 0x07))).details.rule, 'clock-mode-disabled');
  });
});
