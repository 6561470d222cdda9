#!/usr/bin/env node
// npm test: build (its tsc type-checks src/), typecheck of the tests, lint, scorecard, then the mocha suites
// (unit, Node-RED runtime, integration) with coverage, then the browser suite in Chromium (the system's, or the npm package's).
// Ends with one "N passed, N failed" line for the whole run.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const totals = { passed: 0, failed: 0, skipped: 0 };
const stepFailures = [];

function run(label, command, args, { parse = false, env = {} } = {}) {
  return new Promise((resolve) => {
    console.log(`\n=== ${label} ===`);
    // node_modules/.bin on PATH as under npm, so c8 finds mocha when this script is run directly.
    const PATH = `${path.join(root, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH ?? ''}`;
    const child = spawn(command, args, { cwd: root, env: { ...process.env, PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.on('error', (err) => {
      console.error(`${label}: could not start ${command}: ${err.message}`);
    });
    let tail = '';
    const forward = (stream) => (chunk) => {
      stream.write(chunk);
      tail = (tail + chunk.toString()).slice(-20000);
    };
    child.stdout.on('data', forward(process.stdout));
    child.stderr.on('data', forward(process.stderr));
    child.on('close', (code) => {
      if (parse) {
        const number = (re) => Number(re.exec(tail)?.[1] ?? 0);
        totals.passed += number(/(\d+) passing/);
        totals.failed += number(/(\d+) failing/);
        totals.skipped += number(/(\d+) pending/);
      }
      if (code !== 0) {
        stepFailures.push(label);
        if (!parse) totals.failed += 1;
      } else if (!parse) {
        totals.passed += 1;
      }
      resolve(code);
    });
  });
}

const { findChromium } = createRequire(import.meta.url)('./find-chromium.cjs');

await run('build', process.execPath, ['scripts/build.mjs']);
await run('typecheck tests', bin('tsc'), ['-p', 'test/tsconfig.json', '--noEmit']);
await run('typecheck browser tests', bin('tsc'), ['-p', 'test/browser/tsconfig.json', '--noEmit']);
await run('lint', bin('eslint'), ['.']);
await run('format', bin('prettier'), ['--check', '.']);
await run('scorecard', process.execPath, ['scripts/scorecard.mjs']);
await run('mocha: protocols, nodes, simulators, examples, runtime', bin('c8'), ['mocha', 'test/**/*.spec.ts', '--ignore', 'test/browser/**'], {
  parse: true,
});

// Node-RED 5 on Node 22: always in CI, on request elsewhere (it downloads both once).
if (process.env.CI || process.env.LABWIRE_NR5) {
  await run('mocha on Node-RED 5 / Node 22', process.execPath, ['scripts/node-red-5-lane.mjs'], { parse: true });
} else {
  console.log('\n(Node-RED 5 lane skipped: set LABWIRE_NR5=1 to run it here; CI always runs it)');
}

const browser = await findChromium();
if (fs.existsSync(path.join(root, 'test', 'browser'))) {
  if (browser.path) {
    await run(`browser: the editor in Chromium (${browser.source})`, bin('mocha'), ['test/browser/**/*.spec.ts'], {
      parse: true,
      env: { CHROMIUM_PATH: browser.path },
    });
  } else {
    // The devDependency brings a Chromium, so this only happens where it cannot run: say so, and fail CI.
    console.log(`\n(browser tests skipped: ${browser.reason}; set CHROMIUM_PATH to a Chromium)`);
    if (process.env.CI) {
      stepFailures.push('browser (no Chromium in CI)');
      totals.failed += 1;
    }
  }
}

console.log(`\nsteps failed: ${stepFailures.length ? stepFailures.join(', ') : 'none'}`);
console.log(`total: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(stepFailures.length ? 1 : 0);
