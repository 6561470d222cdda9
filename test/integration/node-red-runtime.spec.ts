import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDemo, type RunningDemo } from '../../src/cli/demo';
import { freePort, getJson } from '../../src/cli/node-red-process';

const root = path.resolve(__dirname, '..', '..');

interface NodeSet {
  id: string;
  module: string;
  types: string[];
  enabled: boolean;
  err?: string;
}

describe('the package in a real Node-RED, started the way npm start does', function () {
  this.timeout(120_000);
  let demo: RunningDemo;
  let userDir: string;

  before(async () => {
    execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs'), '--if-needed'], { stdio: 'inherit' });
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'labwire-runtime-'));
    demo = await startDemo({ packageRoot: root, userDir, port: await freePort(), quiet: true });
  });

  after(async () => {
    await demo?.stop();
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('registers every node type of the package with no load error (GET /nodes)', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      name: string;
      'node-red': { nodes: Record<string, string> };
    };
    const expected = Object.keys(pkg['node-red'].nodes).sort();
    assert.ok(expected.length > 0, 'package.json lists node types');
    const res = await getJson(`${demo.url}/nodes`, 10_000);
    assert.equal(res.status, 200);
    const sets = (JSON.parse(res.body) as NodeSet[]).filter((s) => s.module === pkg.name);
    const problems = sets.filter((s) => s.err || !s.enabled).map((s) => `${s.id}: ${s.err ?? 'disabled'}`);
    assert.deepEqual(problems, [], 'node sets that failed to load');
    const registered = sets.flatMap((s) => s.types).sort();
    assert.deepEqual(registered, expected);
  });

  it('deploys every example flow, one tab each, with no node errors', async () => {
    const res = await getJson(`${demo.url}/flows`, 10_000);
    const flows = JSON.parse(res.body) as Array<{ type: string; label?: string }>;
    const examplesDir = path.join(root, 'examples');
    const examples = (fs.existsSync(examplesDir) ? fs.readdirSync(examplesDir) : []).flatMap((dir) =>
      fs.readdirSync(path.join(examplesDir, dir)).filter((f) => f.endsWith('.json')),
    );
    const tabs = flows.filter((n) => n.type === 'tab');
    assert.equal(tabs.length, examples.length, 'one tab per example file');
    await new Promise((r) => setTimeout(r, 1500));
    const errors = demo.nodeRed
      .output()
      .split('\n')
      .filter((line) => /\[error\]/.test(line));
    assert.deepEqual(errors, [], 'Node-RED logged errors after deploying the examples');
  });

  it('serves the editor', async () => {
    const res = await getJson(`${demo.url}/`, 10_000);
    assert.equal(res.status, 200);
    assert.match(res.body, /Node-RED/);
  });
});
