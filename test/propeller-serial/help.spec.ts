import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_LOADER_TIMING, ROM_BAUD } from '../../src/protocols/propeller/serial-loader';
import { MAX_IMAGE_FILE_BYTES } from '../../src/protocols/propeller/image-source';
import { HUB_RAM_SIZE } from '../../src/protocols/propeller/image-header';

const root = path.resolve(__dirname, '..', '..');
const LANGUAGES = ['en-US', 'de'];

/** A help file's text with tags and line breaks flattened, as a reader sees it. */
function help(lang: string, type: string): string {
  const html = fs.readFileSync(path.join(root, 'locales', lang, `${type}.html`), 'utf8');
  return html.replace(/\s+/g, ' ');
}

/** Every rule name the image checks can refuse with: imageError('<rule>', …) and the clock-mode faults. */
function imageRules(): string[] {
  const dir = path.join(root, 'src', 'protocols', 'propeller');
  const rules = new Set<string>();
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    for (const match of text.matchAll(/imageError\(\s*'([a-z0-9-]+)'/g)) rules.add(match[1]!);
    for (const match of text.matchAll(/rule: '([a-z0-9-]+)'/g)) rules.add(match[1]!);
  }
  return [...rules].sort();
}

describe('Propeller help texts say what the code does', () => {
  it('propeller-serial: the ROM load limits (EEPROM program and verify times, download baud range) the loader uses', () => {
    for (const lang of LANGUAGES) {
      const text = help(lang, 'propeller-serial');
      const s = (ms: number): string => `${ms / 1000} s`;
      for (const [what, ms] of [
        ['RAM checksum', DEFAULT_LOADER_TIMING.ramCheckMs],
        ['EEPROM programming', DEFAULT_LOADER_TIMING.programMs],
        ['EEPROM verification', DEFAULT_LOADER_TIMING.verifyMs],
      ] as const)
        assert.ok(text.includes(s(ms)), `${lang}: the ${what} limit of ${s(ms)}`);
      assert.match(text, new RegExp(`${ROM_BAUD.min} (to|bis) ${ROM_BAUD.max} baud`, 'i'), `${lang}: the download baud range`);
      assert.match(text, /terminal/i, `${lang}: the terminal's baud rate is separate`);
    }
  });

  it('propeller-image: every rule it refuses with, and the file limits', () => {
    const rules = imageRules();
    assert.ok(rules.includes('clock-mode-reset') && rules.includes('checksum') && rules.length > 20, rules.join(' '));
    for (const lang of LANGUAGES) {
      const text = help(lang, 'propeller-image');
      const missing = rules.filter((rule) => !text.includes(`<code>${rule}</code>`));
      assert.deepEqual(missing, [], `${lang}: rules the help does not name`);
      for (const fact of ['$80', 'PLLENA', 'OSCENA', '$07', 'FIFO', String(MAX_IMAGE_FILE_BYTES), String(HUB_RAM_SIZE)])
        assert.ok(text.includes(fact), `${lang}: ${fact}`);
    }
  });
});
