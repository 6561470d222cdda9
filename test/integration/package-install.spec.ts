import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, getJson, startNodeRed, writeSettings, type NodeRedProcess } from '../../src/cli/node-red-process';
import { httpJson } from '../../src/protocols/common/http-json';

const root = path.resolve(__dirname, '..', '..');

interface Package {
  name: string;
  'node-red': { nodes: Record<string, string> };
}
interface NodeSet {
  module: string;
  types: string[];
  enabled: boolean;
  err?: string;
}

/**
 * The machine's npm, with nothing of the npm run that started the tests leaking in: not its npm_* settings, and
 * not node_modules/.bin on PATH, where Node-RED's registry puts an npm of its own (an older one that runs
 * `prepare` on `npm pack --ignore-scripts`).
 */
function npm(args: string[], cwd: string): string {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
  env.PATH = (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((dir) => !dir.split(path.sep).includes('node_modules'))
    .join(path.delimiter);
  return execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The files a user's Node-RED needs from the tarball, and the only ones it may hold. */
function shippedFileRule(pkg: Package): (file: string) => boolean {
  const types = Object.keys(pkg['node-red'].nodes);
  const sourceOf = (file: string): string => path.join(root, 'src', file.replace(/^dist\//, '').replace(/\.(js|d\.ts)$/, '.ts'));
  return (file) =>
    ['package.json', 'README.md', 'LICENSE'].includes(file) ||
    (/^dist\/.+\.(js|d\.ts)$/.test(file) && fs.existsSync(sourceOf(file))) ||
    types.some((type) => file === `nodes/${type}.js` || file === `nodes/${type}.html`) ||
    /^nodes\/locales\/(en-US|de)\/[\w-]+\.(json|html)$/.test(file) ||
    /^nodes\/icons\/[\w-]+\.svg$/.test(file) ||
    /^resources\/[\w-]+\.js$/.test(file) ||
    /^examples\/[^/]+\/\d\d - [^/]+\.json$/.test(file);
}

describe('the packed tarball, installed into a fresh Node-RED user directory', function () {
  this.timeout(300_000);
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as Package;
  const types = Object.keys(pkg['node-red'].nodes).sort();
  let work: string;
  let userDir: string;
  let packed: string[];
  let nodeRed: NodeRedProcess | undefined;

  before(async () => {
    execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs'), '--if-needed'], { stdio: 'inherit' });
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'labwire-pack-'));
    // The build ran just above; pack what it left, as `npm publish` would after its own build.
    const [report] = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', work], root)) as Array<{
      filename: string;
      files: Array<{ path: string }>;
    }>;
    packed = report!.files.map((f) => f.path).sort();
    userDir = path.join(work, 'user');
    fs.mkdirSync(userDir);
    fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-user', private: true }));
    // As the palette manager installs: runtime dependencies only, from the npm cache when it has them.
    npm(['install', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', path.join(work, report!.filename)], userDir);
    writeSettings(userDir);
    nodeRed = await startNodeRed(userDir, await freePort(), { quiet: true });
  });

  after(async () => {
    await nodeRed?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('holds every file Node-RED loads and nothing else (no sources, tests, maps or build leftovers)', () => {
    const allowed = shippedFileRule(pkg);
    assert.deepEqual(
      packed.filter((file) => !allowed(file)),
      [],
      'files in the tarball that a user does not need',
    );
    const needed = types.flatMap((type) => [
      `nodes/${type}.js`,
      `nodes/${type}.html`,
      `dist/nodes/${type}.js`,
      `nodes/locales/en-US/${type}.json`,
      `nodes/locales/en-US/${type}.html`,
    ]);
    assert.deepEqual(
      needed.filter((file) => !packed.includes(file)),
      [],
      'files Node-RED needs that the tarball lacks',
    );
    for (const icon of fs.readdirSync(path.join(root, 'icons'))) assert.ok(packed.includes(`nodes/icons/${icon}`), `ships icons/${icon}`);
  });

  it('registers every node type with no load error', async () => {
    const res = await getJson(`${nodeRed!.url}/nodes`, 10_000);
    const sets = (JSON.parse(res.body) as NodeSet[]).filter((s) => s.module === pkg.name);
    assert.deepEqual(
      sets.filter((s) => s.err || !s.enabled).map((s) => `${s.types.join(',')}: ${s.err ?? 'disabled'}`),
      [],
    );
    assert.deepEqual(sets.flatMap((s) => s.types).sort(), types);
  });

  it("serves each node's editor file, help, catalogs in en-US and de, icons and editor scripts", async () => {
    const base = `${nodeRed!.url}`;
    // What the editor loads: the editor files of every node set, each with its help in the browser's language.
    const editor = (await httpJson({ method: 'GET', url: `${base}/nodes`, headers: { Accept: 'text/html' }, timeoutMs: 10_000 })).text;
    for (const type of types) {
      assert.match(editor, new RegExp(`registerType\\(\\s*'${type}'`), `${type}: editor file`);
      assert.match(editor, new RegExp(`data-help-name="${type}"`), `${type}: help`);
      for (const lang of ['en-US', 'de']) {
        const catalog = await getJson(`${base}/locales/${pkg.name}/${type}?lng=${lang}`, 10_000);
        assert.equal(catalog.status, 200);
        assert.ok(Object.keys((JSON.parse(catalog.body) as Record<string, unknown>)[type] ?? {}).length > 0, `${type}: ${lang} catalog`);
      }
    }
    const iconSets = JSON.parse((await getJson(`${base}/icons`, 10_000)).body) as Record<string, string[]>;
    assert.deepEqual([...(iconSets[pkg.name] ?? [])].sort(), fs.readdirSync(path.join(root, 'icons')).sort(), "the package's icons");
    for (const icon of iconSets[pkg.name] ?? []) {
      const res = await getJson(`${base}/icons/${pkg.name}/${icon}`, 10_000);
      assert.equal(res.status, 200, icon);
      assert.match(res.body, /^<svg[^>]*viewBox="0,? 0,? 40,? 60"/, `${icon} is a 40×60 palette SVG`);
    }
    for (const script of fs.readdirSync(path.join(root, 'resources'))) {
      assert.equal((await getJson(`${base}/resources/${pkg.name}/${script}`, 10_000)).status, 200, script);
    }
  });
});
