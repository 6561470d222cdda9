#!/usr/bin/env node
// npm run fuzz: every fuzz suite (test/<system>/fuzz.spec.ts) and the redeploy test at the large scale
// (LABWIRE_FUZZ=large); npm test runs the same suites small. Extra arguments go to mocha (e.g. --grep MQTT);
// LABWIRE_FUZZ_SEED and LABWIRE_FUZZ_RUNS repeat or widen a run (test/helpers/fuzz.ts reads them).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const mocha = createRequire(import.meta.url).resolve('mocha/bin/mocha.js');
// The redeploy test first: it is the shortest of them.
const suites = ['test/integration/redeploys.spec.ts', 'test/*/fuzz.spec.ts'];
const child = spawn(process.execPath, [mocha, ...suites, '--timeout', '0', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, LABWIRE_FUZZ: 'large' },
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
