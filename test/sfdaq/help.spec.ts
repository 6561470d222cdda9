import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROUTES } from '../../src/protocols/sfdaq/routes';
import { helpFile, withTable } from './help-table';
import type { HelpLanguage } from './help-table';

const root = path.join(__dirname, '..', '..');

describe('sf-daq help and catalogs', () => {
  for (const lang of ['en-US', 'de'] as HelpLanguage[]) {
    it(`${lang}: the operation table in the sfdaq-call help is the route table (regenerate with npx tsx test/sfdaq/help-table.ts --write)`, () => {
      const text = fs.readFileSync(helpFile(lang), 'utf8');
      assert.equal(text, withTable(text, lang));
      for (const route of ROUTES) assert.ok(text.includes(`<code>${route.operation}</code>`), route.operation);
    });

    it(`${lang}: both catalogs have the same keys as en-US`, () => {
      for (const type of ['sfdaq-call', 'sfdaq-broker']) {
        const keys = (file: string): string[] => {
          const walk = (value: unknown, prefix: string): string[] =>
            typeof value === 'object' && value !== null ? Object.entries(value).flatMap(([k, v]) => walk(v, `${prefix}.${k}`)) : [prefix];
          return walk(JSON.parse(fs.readFileSync(file, 'utf8')), '').sort();
        };
        assert.deepEqual(keys(path.join(root, 'locales', lang, `${type}.json`)), keys(path.join(root, 'locales', 'en-US', `${type}.json`)));
      }
    });
  }

  it('every data-i18n key used by the editor files exists in the catalog', () => {
    for (const type of ['sfdaq-call', 'sfdaq-broker']) {
      const html = fs.readFileSync(path.join(root, 'nodes', `${type}.html`), 'utf8');
      const catalog = JSON.parse(fs.readFileSync(path.join(root, 'locales', 'en-US', `${type}.json`), 'utf8')) as Record<string, unknown>;
      const used = [...html.matchAll(/(?:data-i18n="(?:\[[a-z]+\])?|node\._\(')([a-z-]+\.[A-Za-z.]+)/g)]
        .map((m) => m[1]!)
        .filter((key) => !key.endsWith('.')); // a trailing dot: a key built at run time
      assert.ok(used.length > 3, type);
      for (const key of used) {
        const value = key.split('.').reduce<unknown>((at, part) => (at as Record<string, unknown> | undefined)?.[part], catalog);
        assert.equal(typeof value, 'string', `${type}: ${key}`);
      }
    }
  });
});
