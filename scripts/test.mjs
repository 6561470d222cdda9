#!/usr/bin/env node
// npm test: build (its tsc type-checks src/), typecheck of the tests, lint, scorecard, then the mocha suites
// (unit, Node-RED runtime, integration) with coverage, the browser suite in Chromium (the system's, or the
// npm package's) and in CI the Node-RED 5 lane. Ends with one "N passed, N failed" line for the whole run.
//
// Steps that do not depend on each other run side by side (the checks after the build; then the suites).
// Their output is kept in step order: the first unfinished step streams live, the others are held and
// printed whole when their turn comes, so no two steps' lines mix and the totals are read per step.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const totals = { passed: 0, failed: 0, skipped: 0 };
const stepFailures = [];
// What each failed step reported last (mocha's failure list), repeated at the very end: a CI log is often read
// only from its tail, and the steps' own output may be long gone from it.
const failureDigests = [];
const timings = [];
// The checks compute, so two at a time on two cores. The suites mostly wait on timers and sockets (three at
// once used less than half of one core, measured), so all four run at once. LABWIRE_TEST_JOBS=N caps both;
// 1 runs every step alone.
const cap = Number(process.env.LABWIRE_TEST_JOBS) || Infinity;
const cores = os.availableParallelism?.() ?? os.cpus().length;
const checkJobs = Math.max(1, Math.min(cap, 2, cores));
const suiteJobs = Math.max(1, Math.min(cap, cores > 1 ? 4 : 1));

/** One step: its process, its output (held until it may be shown), and the totals it adds once it ends. */
function start(label, command, args, { parse = false, env = {} } = {}) {
  const step = { label, held: [`\n=== ${label} ===\n`], live: false, done: null };
  const show = (text) => (step.live ? process.stdout.write(text) : step.held.push(text));
  step.done = new Promise((resolve) => {
    const began = Date.now();
    // node_modules/.bin on PATH as under npm, so c8 finds mocha when this script is run directly.
    const PATH = `${path.join(root, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH ?? ''}`;
    const child = spawn(command, args, { cwd: root, env: { ...process.env, PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    // stdout and stderr go to one stream so a held step prints in the order it wrote.
    // Decoded by the streams, so a character split across two chunks (✔ is three bytes) stays whole.
    const collect = (text) => {
      show(text);
      tail = (tail + text).slice(-20000);
    };
    child.stdout.setEncoding('utf8').on('data', collect);
    child.stderr.setEncoding('utf8').on('data', collect);
    child.on('error', (err) => show(`${label}: could not start ${command}: ${err.message}\n`));
    child.on('close', (code) => {
      const seconds = (Date.now() - began) / 1000;
      timings.push({ label, seconds });
      show(`--- ${label}: ${code === 0 ? 'ok' : `exit ${code}`} after ${seconds.toFixed(1)} s\n`);
      if (parse) {
        const number = (re) => Number(re.exec(tail)?.[1] ?? 0);
        totals.passed += number(/(\d+) passing/);
        // A suite that ended badly without reporting a failing test (a crash, a hook) still counts as one.
        totals.failed += number(/(\d+) failing/) || (code === 0 ? 0 : 1);
        totals.skipped += number(/(\d+) pending/);
      }
      if (code !== 0) {
        stepFailures.push(label);
        const failing = tail.search(/\n\s+\d+ failing\n[^]*$/);
        const digest = (failing >= 0 ? tail.slice(failing) : tail.slice(-1500)).trim();
        failureDigests.push(`--- ${label}\n${digest.length > 2500 ? `${digest.slice(0, 2500)}\n…` : digest}`);
        if (!parse) totals.failed += 1;
      } else if (!parse) {
        totals.passed += 1;
      }
      resolve(code);
    });
  });
  return step;
}

/** Runs the steps `jobs` at a time, printing each one's output whole and in the given order. */
async function runAll(specs, jobs = 1) {
  const started = specs.map(() => {
    let resolve;
    const promise = new Promise((r) => (resolve = r));
    return { promise, resolve };
  });
  let next = 0;
  const worker = async () => {
    while (next < specs.length) {
      const index = next;
      next += 1;
      const step = start(...specs[index]);
      started[index].resolve(step);
      await step.done;
    }
  };
  const workers = Array.from({ length: Math.min(jobs, specs.length) }, worker);
  for (const { promise } of started) {
    const step = await promise;
    process.stdout.write(step.held.join(''));
    step.held = [];
    step.live = true;
    await step.done;
  }
  await Promise.all(workers);
}

const run = (...spec) => runAll([spec]);
const began = Date.now();
const { findChromium } = createRequire(import.meta.url)('./find-chromium.cjs');

await run('build', process.execPath, ['scripts/build.mjs']);
// Longest first, so the last one to start does not run alone for long.
await runAll(
  [
    ['lint', bin('eslint'), ['.']],
    ['typecheck tests', bin('tsc'), ['-p', 'test/tsconfig.json', '--noEmit']],
    ['format', bin('prettier'), ['--check', '.']],
    ['typecheck browser tests', bin('tsc'), ['-p', 'test/browser/tsconfig.json', '--noEmit']],
    ['scorecard', process.execPath, ['scripts/scorecard.mjs']],
  ],
  checkJobs,
);
// The suites side by side; each starts its own Node-RED on a free port with its own temporary userDir.
const suites = [
  [
    'mocha: protocols, nodes, simulators, examples, runtime',
    bin('c8'),
    ['mocha', 'test/**/*.spec.ts', '--ignore', 'test/browser/**'],
    { parse: true },
  ],
];
const browser = await findChromium();
if (fs.existsSync(path.join(root, 'test', 'browser'))) {
  if (browser.path) {
    // In two processes, each with its own Chromium: the dialog suite alone takes as long as the rest.
    const chromium = { parse: true, env: { CHROMIUM_PATH: browser.path } };
    const dialogs = 'test/browser/dialogs.spec.ts';
    suites.push([`browser: the editor in Chromium (${browser.source})`, bin('mocha'), ['test/browser/**/*.spec.ts', '--ignore', dialogs], chromium]);
    suites.push([`browser: every dialog closed with Done (${browser.source})`, bin('mocha'), [dialogs], chromium]);
  } else {
    // The devDependency brings a Chromium, so this only happens where it cannot run: say so, and fail CI.
    console.log(`\n(browser tests skipped: ${browser.reason}; set CHROMIUM_PATH to a Chromium)`);
    if (process.env.CI) {
      stepFailures.push('browser (no Chromium in CI)');
      totals.failed += 1;
    }
  }
}
// Node-RED 5 on Node 22: always in CI, on request elsewhere (it downloads both once).
if (process.env.CI || process.env.LABWIRE_NR5) {
  suites.push(['mocha on Node-RED 5 / Node 22', process.execPath, ['scripts/node-red-5-lane.mjs'], { parse: true }]);
} else {
  console.log('\n(Node-RED 5 lane skipped: set LABWIRE_NR5=1 to run it here; CI always runs it)');
}
await runAll(suites, suiteJobs);

if (failureDigests.length) console.log(`\nwhat failed, as each step reported it:\n${failureDigests.join('\n\n')}`);
console.log(`\nstep times: ${timings.map((t) => `${t.label} ${t.seconds.toFixed(0)} s`).join('; ')}`);
console.log(`whole run: ${((Date.now() - began) / 1000).toFixed(0)} s with up to ${checkJobs} checks and ${suiteJobs} suites at a time`);
console.log(`steps failed: ${stepFailures.length ? stepFailures.join(', ') : 'none'}`);
console.log(`total: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(stepFailures.length ? 1 : 0);
