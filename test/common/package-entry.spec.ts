import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..');

describe('the package entry point (package.json main)', () => {
  it('is built from src/index.ts and exports the clients and simulators', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { main: string; types: string };
    assert.equal(pkg.main, 'dist/index.js');
    assert.equal(pkg.types, 'dist/index.d.ts');
    const entry = require('../../src/index') as Record<string, unknown>;
    for (const name of [
      'BpwinClient',
      'LauncherClient',
      'SerialPropellerConnection',
      'prepareImage',
      'NebvClient',
      'SfdaqClient',
      'SemiAteTester',
      'InstrumentError',
    ]) {
      assert.equal(typeof entry[name], 'function', name);
    }
    const simulators = (entry.loadSimulators as () => Array<{ name: string }>)()
      .map((s) => s.name)
      .sort();
    assert.deepEqual(simulators, ['bpwin', 'launcher', 'mqtt', 'nebv', 'propeller-chip', 'semiate', 'sfdaq']);
  });
});
