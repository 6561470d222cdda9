// Which Chromium the browser tests drive: CHROMIUM_PATH when set, else the system's (Debian's
// chromium), else the one the devDependency @sparticuz/chromium carries inside its npm package,
// so a machine with only Node.js and npm runs the same browser suite as one with Chromium.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const SYSTEM_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** @returns {Promise<{ path: string, source: string } | { path: undefined, reason: string }>} */
async function findChromium() {
  if (process.env.CHROMIUM_PATH) return { path: process.env.CHROMIUM_PATH, source: 'CHROMIUM_PATH' };
  const system = SYSTEM_PATHS.find((candidate) => fs.existsSync(candidate));
  if (system) return { path: system, source: 'system' };
  try {
    return { path: await unpackRegistryChromium(), source: 'npm package @sparticuz/chromium' };
  } catch (err) {
    return { path: undefined, reason: `no system Chromium, and @sparticuz/chromium could not be unpacked (${err.message})` };
  }
}

/**
 * The package ships Chromium brotli-compressed and unpacks it into os.tmpdir(). Unpack it instead
 * into a private folder per version, staged and renamed into place, so that test runs in parallel
 * never start a half-written binary and a second run starts at once.
 */
async function unpackRegistryChromium() {
  // The package's exports hide package.json; its main file lives at build/cjs/ inside it.
  const packageDir = path.resolve(path.dirname(require.resolve('@sparticuz/chromium')), '..', '..');
  const version = JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8')).version;
  const cache = path.resolve(__dirname, '..', 'node_modules', '.cache', 'labwire-chromium');
  const final = path.join(cache, version);
  const binary = path.join(final, 'chromium');
  if (fs.existsSync(binary)) return binary;
  fs.mkdirSync(cache, { recursive: true });
  const staging = fs.mkdtempSync(path.join(cache, `.${version}-`));
  const loaded = require('@sparticuz/chromium');
  const chromium = loaded.default ?? loaded;
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = staging;
  let unpacking;
  try {
    // executablePath() reads os.tmpdir() synchronously before its first await.
    unpacking = chromium.executablePath();
  } finally {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
  }
  await unpacking;
  try {
    fs.renameSync(staging, final);
  } catch (err) {
    // Another run finished first: use its copy.
    fs.rmSync(staging, { recursive: true, force: true });
    if (!fs.existsSync(binary)) throw err;
  }
  return binary;
}

module.exports = { findChromium };
