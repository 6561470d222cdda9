import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PACKAGE_NAME, SHARED_CATALOG_TYPE, SHARED_SECTION } from '../../src/nodered/i18n';
import { STATUS_TEXT_MAX } from '../../src/nodered/status';

const root = path.resolve(__dirname, '..', '..');
const LANGUAGES = ['en-US', 'de'];

type Catalog = Record<string, unknown>;

function readCatalog(lang: string, type: string): Catalog {
  return JSON.parse(fs.readFileSync(path.join(root, 'locales', lang, `${type}.json`), 'utf8')) as Catalog;
}

/** Every text of a catalog by its dotted key. */
function flatten(value: unknown, prefix = '', out = new Map<string, string>()): Map<string, string> {
  if (typeof value === 'string') out.set(prefix, value);
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  return out;
}

const placeholders = (text: string): string[] => [...text.matchAll(/__(\w+)__/g)].map((m) => m[1]!).sort();

const types = fs
  .readdirSync(path.join(root, 'locales', 'en-US'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -5))
  .sort();
const catalogs = new Map(LANGUAGES.map((lang) => [lang, new Map(types.map((type) => [type, flatten(readCatalog(lang, type))]))]));
const english = catalogs.get('en-US')!;
const shared = new Map(
  [...english.get(SHARED_CATALOG_TYPE)!]
    .filter(([key]) => key.startsWith(`${SHARED_SECTION}.`))
    .map(([key, text]) => [key.slice(SHARED_SECTION.length + 1), text]),
);

/** A key exists when its text does, or its plural forms do (count: …_one, …_other). */
function has(texts: Map<string, string>, key: string): boolean {
  return texts.has(key) || (texts.has(`${key}_one`) && texts.has(`${key}_other`));
}

/** Every .ts file under src, with its text. */
function sources(dir = path.join(root, 'src')): Array<{ file: string; text: string }> {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith('.ts') ? [{ file: path.relative(root, full), text: fs.readFileSync(full, 'utf8') }] : [];
  });
}

/**
 * Keys written twice in one object of a catalog file. JSON.parse keeps the last one silently, so a
 * second sentence for a reason hides the first (the two German ones once said it differently).
 * The files are formatted one key per line, so a line's indentation is its depth.
 */
function duplicateKeys(text: string): string[] {
  const seen: Array<Set<string>> = [];
  const found: string[] = [];
  for (const [index, line] of text.split('\n').entries()) {
    const match = /^(\s*)"((?:[^"\\]|\\.)*)"\s*:/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length;
    seen.length = depth + 1;
    const keys = (seen[depth] ??= new Set());
    if (keys.has(match[2]!)) found.push(`line ${index + 1}: "${match[2]}"`);
    keys.add(match[2]!);
  }
  return found;
}

describe('message catalogs', () => {
  it('write no key twice in one object', () => {
    const found = LANGUAGES.flatMap((lang) =>
      types.flatMap((type) =>
        duplicateKeys(fs.readFileSync(path.join(root, 'locales', lang, `${type}.json`), 'utf8')).map((d) => `${lang}/${type}.json ${d}`),
      ),
    );
    assert.deepEqual(found, []);
  });

  it('exist in en-US and de for every node type, with the same keys and the same placeholders', () => {
    const german = types.filter((type) => fs.existsSync(path.join(root, 'locales', 'de', `${type}.json`)));
    assert.deepEqual(german, types, 'a de catalog for every en-US one');
    assert.ok(types.length >= 18, 'every node type has a catalog');
    for (const type of types) {
      const en = english.get(type)!;
      const de = catalogs.get('de')!.get(type)!;
      assert.deepEqual([...de.keys()].sort(), [...en.keys()].sort(), `${type}: de and en-US keys`);
      for (const [key, text] of en) {
        assert.deepEqual(placeholders(de.get(key)!), placeholders(text), `${type}: placeholders of ${key}`);
        assert.notEqual(text.trim(), '', `${type}: ${key} is empty`);
      }
    }
  });

  it('hold the shared texts where the code looks for them (catalog of a node type, by full namespace)', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      name: string;
      'node-red': { nodes: Record<string, string> };
    };
    assert.equal(PACKAGE_NAME, pkg.name);
    assert.ok(SHARED_CATALOG_TYPE in pkg['node-red'].nodes, 'the shared texts live in the catalog of a node type Node-RED loads');
    for (const section of ['status', 'errors', 'short'])
      assert.ok(
        [...shared.keys()].some((k) => k.startsWith(`${section}.`)),
        section,
      );
  });

  it(`keep status texts short enough for the editor (at most ${STATUS_TEXT_MAX} characters, a value counted as 4)`, () => {
    const tooLong: string[] = [];
    for (const [lang, byType] of catalogs) {
      for (const [type, texts] of byType) {
        for (const [key, text] of texts) {
          const isStatus = /(^|\.)(status|short)\./.test(key);
          if (isStatus && text.replace(/__\w+__/g, '0000').length > STATUS_TEXT_MAX) tooLong.push(`${lang} ${type}: ${key} "${text}"`);
        }
      }
    }
    assert.deepEqual(tooLong, []);
  });

  it('have every key the code uses: own texts in the node type’s catalog, shared texts, reasons, Node-RED’s own', () => {
    const missing: string[] = [];
    const nodeRed = new Map(
      LANGUAGES.map((lang) => [
        lang,
        flatten(JSON.parse(fs.readFileSync(require.resolve(`@node-red/nodes/locales/${lang}/messages.json`), 'utf8')) as Catalog),
      ]),
    );
    let seen = 0;
    for (const { file, text } of sources()) {
      const type = /^src[\\/]nodes[\\/]([a-z0-9-]+)\.ts$/.exec(file)?.[1];
      // Own texts: RED._('<type>.x'), user.text('<type>.x'), lookup(RED, '<type>.x'); a template key is checked up to its first ${.
      for (const m of text.matchAll(/(?:RED\._|\.text|lookup\(RED,)\(?\s*(['`])([a-z0-9-]+\.[^'`$]*)(\$\{)?/g)) {
        seen += 1;
        const key = m[2]!;
        const owner = key.split('.')[0]!;
        if (type && owner !== type) missing.push(`${file}: ${key} is not in this node type's namespace (${type})`);
        const texts = english.get(owner);
        if (!texts) missing.push(`${file}: no catalog for ${key}`);
        else if (m[3] ? ![...texts.keys()].some((k) => k.startsWith(key)) : !has(texts, key)) missing.push(`${file}: ${key}`);
      }
      // Shared texts: sharedText(RED, 'status.x'), refuse(err, 'status.x'), say('warn.x', …).
      for (const m of text.matchAll(/(?:sharedText\(\s*(?:this\.)?RED,|refuse\([^,()]+,|say\()\s*'([a-zA-Z.]+)'/g)) {
        seen += 1;
        if (!shared.has(m[1]!)) missing.push(`${file}: shared ${m[1]}`);
      }
      // Reasons of errors: every literal in `reason: …` (a kebab-case one is no catalog key, so it is reported too).
      if (/^src[\\/]simulators|^src[\\/]cli/.test(file)) continue;
      for (const m of text.matchAll(/\breason:\s*([^,}\n]+)/g)) {
        for (const r of m[1]!.matchAll(/'([a-zA-Z-]+)'/g)) {
          seen += 1;
          if (!shared.has(`errors.${r[1]}`)) missing.push(`${file}: reason ${r[1]}`);
        }
      }
      // Node-RED's own status words.
      for (const m of text.matchAll(/coreStatusText\(\s*RED,\s*'([a-z-]+)'/g)) {
        seen += 1;
        for (const lang of LANGUAGES)
          if (!nodeRed.get(lang)!.has(`common.status.${m[1]}`)) missing.push(`${file}: node-red:common.status.${m[1]} (${lang})`);
      }
    }
    assert.ok(seen > 100, `the scan found the code's catalog keys (${seen})`);
    assert.deepEqual(missing, []);
  });

  it('give every short status form a full sentence of the same reason', () => {
    const orphans = [...shared.keys()].filter((k) => k.startsWith('short.') && !shared.has(`errors.${k.slice(6)}`));
    assert.deepEqual(orphans, []);
  });
});
