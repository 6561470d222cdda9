#!/usr/bin/env node
// Offline checks in the spirit of the flow library's scorecard (`node-red-dev validate`, which
// needs the network). Every failure names the file and the rule; exit 1 if any fails.
import fs from 'node:fs';
import path from 'node:path';
import { builtinModules, createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const failures = [];
const warnings = [];
let checks = 0;
const fail = (file, rule) => failures.push(`${file}: ${rule}`);
const check = (ok, file, rule) => {
  checks += 1;
  if (!ok) fail(file, rule);
};

const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
check(typeof pkg.license === 'string' && pkg.license.length > 0, 'package.json', 'has a license');
check(fs.existsSync(path.join(root, 'LICENSE')), 'LICENSE', 'license text is present');
check(Boolean(pkg.repository?.url || pkg.bugs?.url), 'package.json', 'has a repository or bugs URL');
check(/^@[a-z0-9-]+\/[a-z0-9-]+$/.test(pkg.name), 'package.json', 'name is scoped (@scope/name)');
check(Array.isArray(pkg.keywords) && pkg.keywords.includes('node-red'), 'package.json', 'keywords include "node-red"');
check(Boolean(pkg.engines?.node), 'package.json', 'engines.node is set');
const runtimeDeps = Object.keys(pkg.dependencies ?? {});
check(runtimeDeps.length <= 6, 'package.json', `at most 6 runtime dependencies (has ${runtimeDeps.length}: ${runtimeDeps.join(', ')})`);

const semver = require('semver');
const wanted = pkg['node-red']?.version;
check(typeof wanted === 'string', 'package.json', 'node-red.version is set');
for (const release of ['4.1.0', '5.0.0']) {
  check(typeof wanted === 'string' && semver.satisfies(release, wanted), 'package.json', `node-red.version "${wanted}" accepts Node-RED ${release}`);
}

const nodesDir = path.join(root, 'nodes');
const editorFiles = fs.existsSync(nodesDir)
  ? fs
      .readdirSync(nodesDir)
      .filter((f) => f.endsWith('.html'))
      .sort()
  : [];
const declared = pkg['node-red']?.nodes ?? {};
check(editorFiles.length > 0, 'nodes/', 'has at least one editor file');
const types = new Map(); // type -> { config: boolean }
for (const file of editorFiles) {
  const type = file.slice(0, -5);
  const rel = `nodes/${file}`;
  const html = fs.readFileSync(path.join(nodesDir, file), 'utf8');
  check(declared[type] === `nodes/${type}.js`, 'package.json', `node-red.nodes lists ${type} as nodes/${type}.js`);
  check(fs.existsSync(path.join(root, 'src', 'nodes', `${type}.ts`)), rel, `has its runtime source src/nodes/${type}.ts`);
  const entry = path.join(nodesDir, `${type}.js`);
  check(
    fs.existsSync(entry) && fs.readFileSync(entry, 'utf8') === `module.exports = require('../dist/nodes/${type}');\n`,
    `nodes/${type}.js`,
    `is the one line "module.exports = require('../dist/nodes/${type}');"`,
  );
  const match = new RegExp(`RED\\.nodes\\.registerType\\(\\s*['"]${type.replace(/[-]/g, '\\-')}['"]\\s*,\\s*\\{`).exec(html);
  check(Boolean(match), rel, `has a literal RED.nodes.registerType('${type}', {…})`);
  const body = match ? html.slice(match.index) : '';
  const category = /category\s*:\s*['"]([^'"]+)['"]/.exec(body)?.[1];
  check(Boolean(category), rel, 'registerType has a literal category');
  const isConfig = category === 'config';
  types.set(type, { config: isConfig });
  const required = isConfig ? ['defaults'] : ['color', 'defaults', 'inputs', 'outputs', 'icon'];
  for (const key of required) check(new RegExp(`\\b${key}\\s*:`).test(body), rel, `registerType has ${key}`);
  check(/\bdefaults\s*:\s*\{/.test(body), rel, 'registerType has its defaults inline (the flow library reads their names)');
  if (!isConfig) {
    const icon = /\bicon\s*:\s*['"]([^'"]+)['"]/.exec(body)?.[1] ?? '';
    check(
      /^[\w-]+\.svg$/.test(icon) && fs.existsSync(path.join(root, 'icons', icon)),
      rel,
      `icon "${icon}" is one of the package's own (icons/*.svg)`,
    );
  }
  check(html.includes(`data-template-name="${type}"`), rel, `has an edit dialog template (data-template-name="${type}")`);
  const help = path.join(root, 'locales', 'en-US', `${type}.html`);
  check(
    fs.existsSync(help) && fs.readFileSync(help, 'utf8').includes(`data-help-name="${type}"`),
    `locales/en-US/${type}.html`,
    'en-US help exists for the node',
  );
  const catalog = path.join(root, 'locales', 'en-US', `${type}.json`);
  let catalogOk;
  try {
    catalogOk = typeof JSON.parse(fs.readFileSync(catalog, 'utf8')) === 'object';
  } catch {
    catalogOk = false;
  }
  check(catalogOk, `locales/en-US/${type}.json`, 'en-US message catalog exists and is valid JSON');
  for (const extra of [`locales/de/${type}.html`, `locales/de/${type}.json`]) {
    if (!fs.existsSync(path.join(root, extra))) warnings.push(`${extra}: German translation missing`);
  }
}
for (const type of Object.keys(declared))
  check(types.has(type), 'package.json', `node-red.nodes entry ${type} has an editor file nodes/${type}.html`);
for (const file of fs.existsSync(nodesDir) ? fs.readdirSync(nodesDir).filter((f) => f.endsWith('.js')) : [])
  check(types.has(file.slice(0, -3)), `nodes/${file}`, `belongs to an editor file nodes/${file.slice(0, -3)}.html`);

// Every package the code imports is declared: what src/ loads (it ships) in dependencies or
// optionalDependencies, the rest anywhere; require.resolve() only looks (the demo finds Node-RED so).
// Node-RED's own parts (@node-red/*) come with node-red.
const runtimePackages = new Set([...runtimeDeps, ...Object.keys(pkg.optionalDependencies ?? {})]);
const allPackages = new Set([...runtimePackages, ...Object.keys(pkg.devDependencies ?? {})]);
const builtins = new Set(builtinModules);
function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}
function sourceFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return /\.(ts|mjs|cjs|js)$/.test(entry.name) ? [full] : [];
  });
}
const importPattern = /(?:\bfrom\s*|\brequire(\.resolve)?\(\s*|\bimport\(\s*)['"]([^'"./\s][^'"\s]*)['"]/g;
const codeDirs = ['src', 'scripts', 'test', 'bench', 'resources'];
for (const file of [...codeDirs.flatMap((d) => sourceFiles(path.join(root, d))), path.join(root, 'eslint.config.mjs')]) {
  const rel = path.relative(root, file);
  for (const [, lookup, specifier] of fs.readFileSync(file, 'utf8').matchAll(importPattern)) {
    const name = packageName(specifier);
    if (specifier.startsWith('node:') || builtins.has(name) || name === pkg.name) continue;
    if (name.startsWith('@node-red/') && allPackages.has('node-red')) continue;
    const shipped = rel.startsWith(`src${path.sep}`) && !lookup;
    check(
      (shipped ? runtimePackages : allPackages).has(name),
      rel,
      `imports ${name}, which package.json declares${shipped ? ' in dependencies' : ''}`,
    );
  }
}

const examplesDir = path.join(root, 'examples');
const usedTypes = new Set();
if (fs.existsSync(examplesDir)) {
  for (const system of fs.readdirSync(examplesDir)) {
    const dir = path.join(examplesDir, system);
    if (!fs.statSync(dir).isDirectory()) continue;
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      const rel = `examples/${system}/${file}`;
      check(/^\d\d - .+\.json$/.test(file), rel, 'example file name is "NN - Title.json"');
      let flow;
      try {
        flow = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
      } catch (err) {
        fail(rel, `is valid JSON (${err.message})`);
        continue;
      }
      check(Array.isArray(flow), rel, 'is a JSON array of nodes');
      if (!Array.isArray(flow)) continue;
      const ids = new Set();
      for (const node of flow) {
        usedTypes.add(node.type);
        check(!ids.has(node.id), rel, `node ids are unique (${node.id})`);
        ids.add(node.id);
        if (types.get(node.type)?.config)
          check(!node.credentials || Object.keys(node.credentials).length === 0, rel, `config node ${node.id} ships no credentials`);
      }
    }
  }
}
for (const [type, info] of types) {
  if (!info.config) check(usedTypes.has(type), 'examples/', `node type ${type} is used in some example flow`);
}

for (const w of warnings) console.log(`scorecard warning: ${w}`);
if (failures.length) {
  for (const f of failures) console.error(`scorecard FAIL ${f}`);
  console.error(`scorecard: ${failures.length} of ${checks} checks failed`);
  process.exit(1);
}
console.log(`scorecard: ${checks} checks passed for ${types.size} node types${warnings.length ? ` (${warnings.length} warnings)` : ''}`);
