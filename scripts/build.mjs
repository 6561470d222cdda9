#!/usr/bin/env node
// Build: tsc compiles src/ into dist/. Node-RED loads nodes/<type>.js, which are one-line requires of
// dist/nodes/<type>.js kept in git, and looks for locales/ and icons/ beside them: the build copies those
// two top-level folders into nodes/. Nothing else is written; package.json is checked by the scorecard.
//   --if-needed  do nothing when dist/ is newer than every source (npm start, bench)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const stamp = path.join(dist, '.build-stamp');
const sources = ['src', 'locales', 'icons', 'tsconfig.json'].map((name) => path.join(root, name));

function newestMtime(file) {
  if (!fs.existsSync(file)) return 0;
  const stat = fs.statSync(file);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return fs.readdirSync(file).reduce((newest, name) => Math.max(newest, newestMtime(path.join(file, name))), stat.mtimeMs);
}

/** Outputs whose source is gone (a renamed module would otherwise live on, and loadSimulators() would still find it). */
function removeOrphans(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      removeOrphans(full);
      if (fs.readdirSync(full).length === 0) fs.rmdirSync(full);
      continue;
    }
    const source = /^(.*)\.(js|js\.map|d\.ts)$/.exec(path.relative(dist, full));
    if (source && !fs.existsSync(path.join(root, 'src', `${source[1]}.ts`))) fs.rmSync(full);
  }
}

function copyInto(name, to) {
  fs.rmSync(to, { recursive: true, force: true });
  if (fs.existsSync(path.join(root, name))) fs.cpSync(path.join(root, name), to, { recursive: true });
}

if (process.argv.includes('--if-needed') && fs.existsSync(stamp) && Math.max(...sources.map(newestMtime)) <= fs.statSync(stamp).mtimeMs) {
  process.exit(0);
}
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
if (!fs.existsSync(tsc)) {
  // Installed from the tarball, without dev dependencies: dist/ and nodes/ come built.
  if (fs.existsSync(dist)) process.exit(0);
  console.error('build: TypeScript is not installed; run npm install first');
  process.exit(1);
}
// Incremental: an unchanged tree compiles in a fraction of the time; the state lives in dist/ and goes with it.
const incremental = ['--incremental', '--tsBuildInfoFile', path.join(dist, '.tsbuildinfo')];
execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.json'), ...incremental], { stdio: 'inherit', cwd: root });
removeOrphans(dist);
copyInto('locales', path.join(root, 'nodes', 'locales'));
copyInto('icons', path.join(root, 'nodes', 'icons'));
fs.chmodSync(path.join(dist, 'cli', 'labwire-sim.js'), 0o755);
fs.writeFileSync(stamp, new Date().toISOString());
