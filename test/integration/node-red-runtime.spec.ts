import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDemo, type RunningDemo } from '../../src/cli/demo';
import { freePort, getJson, requestJson } from '../../src/cli/node-red-process';
import { waitFor } from '../helpers/wait-for';

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
    // A first start says nothing alarming either (no unencrypted or missing credentials, no projects notice).
    const warnings = demo.nodeRed
      .output()
      .split('\n')
      .filter((line) => /\[warn\]/.test(line));
    assert.deepEqual(warnings, [], 'Node-RED warned on a first start');
  });

  it('serves the editor', async () => {
    const res = await getJson(`${demo.url}/`, 10_000);
    assert.equal(res.status, 200);
    assert.match(res.body, /Node-RED/);
  });
});

describe('npm start again, after the user built flows in the demo', function () {
  this.timeout(180_000);
  let userDir: string;
  let demo: RunningDemo | undefined;

  before(() => {
    execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs'), '--if-needed'], { stdio: 'inherit' });
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'labwire-restart-'));
  });

  after(async () => {
    await demo?.stop();
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  async function flows(url: string): Promise<Array<{ id: string; type: string; z?: string; label?: string; name?: string }>> {
    return JSON.parse((await getJson(`${url}/flows`, 10_000)).body) as Array<{ id: string; type: string; z?: string; label?: string }>;
  }

  it("keeps the user's own tabs and config nodes, renews the examples, and deploys each shared config node once", async () => {
    demo = await startDemo({ packageRoot: root, userDir, port: await freePort(), quiet: true });
    const first = await flows(demo.url);
    const exampleTabs = first.filter((n) => n.type === 'tab').length;
    const configIds = first.filter((n) => n.type === 'bpwin-server').map((n) => n.id);
    assert.deepEqual(configIds, ['labwire-bpwin-server'], 'the four BPWin examples share one server config node');
    const bpwin = first.find((n) => n.type === 'bpwin-server');
    assert.match(String(bpwin?.name), /^BPWin simulator on 127\.0\.0\.1:\d+$/, 'the demo names the config node after where it points');
    // Two config nodes that point at one simulator (the Launcher's second connection) still have names a person can tell apart.
    const names = first
      .filter((n) => n.z === undefined && n.type !== 'tab' && /^(bpwin|propeller|semiate|sfdaq|nebv)-/.test(n.type))
      .map((n) => n.name);
    assert.deepEqual(
      names.filter((name, i) => names.indexOf(name) !== i),
      [],
      'config node names used twice in the demo',
    );

    // The user adds a tab with a node that uses an example's config node, and a config node of their own.
    const own = [
      { id: 'user-tab', type: 'tab', label: 'My line', disabled: false, info: '' },
      {
        id: 'user-inject',
        type: 'inject',
        z: 'user-tab',
        name: 'mine',
        props: [],
        repeat: '',
        once: false,
        x: 120,
        y: 80,
        wires: [['user-request']],
      },
      {
        id: 'user-request',
        type: 'bpwin-request',
        z: 'user-tab',
        name: '',
        server: 'labwire-bpwin-server',
        endpoint: 'health',
        x: 320,
        y: 80,
        wires: [[]],
      },
      { id: 'user-broker', type: 'sfdaq-broker', name: 'my broker', fastUrl: 'http://127.0.0.1:9', slowUrl: '', timeout: 10, prefer: 'current' },
      {
        id: 'user-tester',
        type: 'semiate-tester',
        name: 'my tester',
        transport: 'mqtt',
        broker: 'mqtt://127.0.0.1:9',
        credentials: { username: 'me', password: 'own-secret-7f3a' },
      },
    ];
    const deployed = await requestJson('POST', `${demo.url}/flows`, [...first, ...own], { 'Node-RED-Deployment-Type': 'full' });
    assert.equal(deployed.status, 204);
    await demo.stop();
    demo = undefined;

    demo = await startDemo({ packageRoot: root, userDir, port: await freePort(), quiet: true });
    // The stored examples point at the last run's simulators: they must not run before the renewed ones replace them.
    const output = (): string => demo!.nodeRed.output();
    await waitFor(() => output().slice(output().lastIndexOf('Updated flows')).includes('Started flows'), 20_000, "the demo's deploy started");
    assert.equal(output().match(/\[info\] Started flows/g)?.length, 1, `flows started once, by the demo's deploy:\n${output()}`);
    const second = await flows(demo.url);
    for (const id of ['user-tab', 'user-inject', 'user-request', 'user-broker'])
      assert.ok(
        second.some((n) => n.id === id),
        `${id} survived the restart`,
      );
    assert.equal(second.filter((n) => n.type === 'tab').length, exampleTabs + 1);
    assert.equal(new Set(second.map((n) => n.id)).size, second.length, 'no node twice');

    // Credentials are encrypted at rest with the directory's own key, and still read after the restart.
    const stored = fs.readFileSync(path.join(userDir, 'flows_cred.json'), 'utf8');
    assert.doesNotMatch(stored, /own-secret-7f3a/, 'the credentials file holds a password in plain text');
    assert.deepEqual(Object.keys(JSON.parse(stored) as object), ['$'], 'the credentials file is encrypted');
    const credentials = JSON.parse((await getJson(`${demo.url}/credentials/semiate-tester/user-tester`, 10_000)).body) as Record<string, unknown>;
    assert.deepEqual(credentials, { username: 'me', has_password: true });
    assert.doesNotMatch(demo.nodeRed.output(), /unencrypted credentials/i);
  });
});

describe('the example files, as Import › Examples reads them', () => {
  interface ExampleNode {
    id: string;
    type: string;
    x?: number;
    wires?: unknown;
  }
  const files = fs
    .readdirSync(path.join(root, 'examples'))
    .flatMap((system) => fs.readdirSync(path.join(root, 'examples', system)).map((file) => path.join(root, 'examples', system, file)))
    .filter((file) => file.endsWith('.json'));
  const isConfig = (n: ExampleNode): boolean => n.type !== 'tab' && n.type !== 'group' && n.x === undefined && n.wires === undefined;

  it('share one config node per instrument: same id, same content in every file', () => {
    const configs = new Map<string, { file: string; text: string }>();
    const mismatched: string[] = [];
    for (const file of files) {
      for (const node of JSON.parse(fs.readFileSync(file, 'utf8')) as ExampleNode[]) {
        if (!isConfig(node) || (node.type.startsWith('ui-') && !['ui-base', 'ui-theme'].includes(node.type))) continue;
        const seen = configs.get(node.id);
        if (seen && seen.text !== JSON.stringify(node))
          mismatched.push(`${node.id} differs between ${path.basename(seen.file)} and ${path.basename(file)}`);
        if (!seen) configs.set(node.id, { file, text: JSON.stringify(node) });
      }
    }
    assert.deepEqual(mismatched, []);
    const perType = new Map<string, string[]>();
    for (const [id, { text }] of configs) {
      const type = (JSON.parse(text) as ExampleNode).type;
      perType.set(type, [...(perType.get(type) ?? []), id]);
    }
    assert.deepEqual(perType.get('bpwin-server'), ['labwire-bpwin-server']);
    assert.deepEqual(perType.get('ui-base'), ['labwire-dashboard'], 'Dashboard 2 allows one ui-base per Node-RED');
  });

  it('give every other node an id no other example uses, so the first import of a system creates its shared config node with that id', () => {
    const owner = new Map<string, string>();
    const clashes: string[] = [];
    for (const file of files) {
      for (const node of JSON.parse(fs.readFileSync(file, 'utf8')) as ExampleNode[]) {
        if (isConfig(node) && (node.type === 'ui-base' || node.type === 'ui-theme' || !node.type.startsWith('ui-'))) continue;
        const other = owner.get(node.id);
        if (other && other !== file) clashes.push(`${node.id} in ${path.basename(other)} and ${path.basename(file)}`);
        owner.set(node.id, file);
      }
    }
    assert.deepEqual(clashes, []);
  });
});
