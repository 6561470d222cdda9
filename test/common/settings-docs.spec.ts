import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

/** Every .ts file under `dir`. */
function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

describe('README settings table', () => {
  it('lists every settings.js entry the nodes read', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const keys = new Set<string>();
    for (const file of sources(path.join(ROOT, 'src'))) {
      for (const [, key] of fs.readFileSync(file, 'utf8').matchAll(/settingsNumber\(RED, '(\w+)'/g)) keys.add(key!);
    }
    assert.ok(keys.has('bpwinRecheckTime'), [...keys].join(', '));
    for (const key of keys) assert.ok(readme.includes(`| \`${key}\` |`), `${key} is missing from the README's settings table`);
  });
});
