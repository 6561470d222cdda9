#!/usr/bin/env node
// Build: tsc (src -> dist), then give Node-RED what it loads: nodes/<type>.js compiled from
// src/nodes/<type>.ts, with locales/ and icons/ beside them, and package.json's node list in
// step with the editor files in nodes/.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ifNeeded = process.argv.includes('--if-needed');
const stamp = path.join(root, 'dist', '.build-stamp');

function newestMtime(dir) {
  let newest = 0;
  if (!fs.existsSync(dir)) return newest;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs);
  }
  return newest;
}

function upToDate() {
  if (!fs.existsSync(stamp)) return false;
  const built = fs.statSync(stamp).mtimeMs;
  return (
    ['src', 'locales', 'icons', 'nodes'].every((d) => newestMtime(path.join(root, d)) <= built) &&
    fs.statSync(path.join(root, 'package.json')).mtimeMs <= built
  );
}

function copyDir(from, to) {
  fs.rmSync(to, { recursive: true, force: true });
  if (fs.existsSync(from)) fs.cpSync(from, to, { recursive: true });
}

export function syncNodeList() {
  const pkgFile = path.join(root, 'package.json');
  const text = fs.readFileSync(pkgFile, 'utf8');
  const pkg = JSON.parse(text);
  fs.mkdirSync(path.join(root, 'nodes'), { recursive: true });
  const types = fs
    .readdirSync(path.join(root, 'nodes'))
    .filter((f) => f.endsWith('.html'))
    .map((f) => f.slice(0, -5))
    .sort();
  const nodes = Object.fromEntries(types.map((t) => [t, `nodes/${t}.js`]));
  pkg['node-red'] = { ...pkg['node-red'], nodes };
  const next = `${JSON.stringify(pkg, null, 2)}\n`;
  if (next !== text) {
    fs.writeFileSync(pkgFile, next);
    console.log(`build: package.json node-red.nodes now lists ${types.length} node types`);
  }
}

if (ifNeeded && upToDate()) process.exit(0);

syncNodeList();
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
if (!fs.existsSync(tsc)) {
  // Installed from a tarball without dev dependencies: the published package ships dist/ and nodes/*.js already.
  if (fs.existsSync(path.join(root, 'dist'))) process.exit(0);
  console.error('build: TypeScript is not installed; run npm install first');
  process.exit(1);
}
execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit', cwd: root });

const distNodes = path.join(root, 'dist', 'nodes');
const outNodes = path.join(root, 'nodes');
for (const file of fs.readdirSync(outNodes)) {
  if (file.endsWith('.js') || file.endsWith('.js.map')) fs.rmSync(path.join(outNodes, file));
}
if (fs.existsSync(distNodes)) {
  for (const file of fs.readdirSync(distNodes)) {
    if (!file.endsWith('.js')) continue;
    const source = fs
      .readFileSync(path.join(distNodes, file), 'utf8')
      // dist/nodes/x.js requires "../protocols/..."; from nodes/x.js that is "../dist/protocols/...".
      .replace(/require\("\.\.\//g, 'require("../dist/')
      .replace(/^\/\/# sourceMappingURL=.*$/m, '');
    if (/require\("\.\//.test(source)) {
      console.error(`build: src/nodes/${file.replace(/\.js$/, '.ts')} imports a sibling; put shared node code in src/nodered/`);
      process.exit(1);
    }
    fs.writeFileSync(path.join(outNodes, file), source);
  }
}
copyDir(path.join(root, 'locales'), path.join(outNodes, 'locales'));
copyDir(path.join(root, 'icons'), path.join(outNodes, 'icons'));
const bin = path.join(root, 'dist', 'cli', 'labwire-sim.js');
if (fs.existsSync(bin)) fs.chmodSync(bin, 0o755);
fs.writeFileSync(stamp, new Date().toISOString());
