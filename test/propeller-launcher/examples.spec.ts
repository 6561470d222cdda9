import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { RunningSimulator } from '../../src/simulators/simulator';
import { simulator } from '../../src/simulators/launcher';
import type { FlowNode } from '../../src/cli/example-flows';
import { coreNode as core, exampleFlow, examplesOf, ownDemoFile } from '../helpers/examples';
import { collect, helper, nextMessage, waitFor } from '../helpers/red';
import launcherNode = require('../../src/nodes/propeller-launcher');
import loadNode = require('../../src/nodes/propeller-load');
import terminalNode = require('../../src/nodes/propeller-terminal');
import portsNode = require('../../src/nodes/propeller-ports');

const modules = [
  launcherNode,
  loadNode,
  terminalNode,
  portsNode,
  core('common/20-inject.js'),
  core('common/90-comment.js'),
  core('function/10-function.js'),
  core('storage/10-file.js'),
] as never[];

type Msg = Record<string, unknown> & { payload?: unknown; topic?: unknown };

describe('propeller Launcher example flows', function () {
  // The Launcher examples are numbered 0x; 1x belong to the direct-serial connection.
  const examples = examplesOf('Propeller', (e) => e.title.startsWith('0'));
  let running: RunningSimulator;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    running = await simulator.start({});
  });
  afterEach(async () => {
    await helper.unload();
    await running.close();
  });

  /**
   * As `npm start` deploys them: config nodes pointed at the simulator (each once, as examples share them); debug and
   * dashboard widgets replaced by helpers.
   */
  async function load(...titles: string[]): Promise<void> {
    const flow = new Map<string, FlowNode>();
    for (const title of titles) {
      for (const node of exampleFlow(examples, title, running, { observe: ['debug', 'ui-chart'], drop: (type) => type.startsWith('ui-') }))
        flow.set(node.id, node);
    }
    await helper.load(modules, [...flow.values()] as never);
  }

  it('uses every Propeller Launcher node type somewhere', function () {
    const types = new Set(examples.flatMap((e) => e.nodes.map((n) => n.type)));
    for (const type of ['propeller-launcher', 'propeller-load', 'propeller-terminal', 'propeller-ports']) assert.ok(types.has(type), type);
    assert.equal(examples.length, 3);
  });

  it('01: writes a program file, loads it into RAM, shows the terminal and sends to it', async function () {
    await load('01 - Load a program from a file and watch the terminal');
    const lines = collect<Msg>(helper.getNode('ex1-lines'));
    const loaded = await nextMessage<Msg>(helper.getNode('ex1-result'), 8000, 'the load result');
    const payload = loaded.payload as { success: boolean; port: string; action: string };
    assert.deepEqual([payload.success, payload.port, payload.action], [true, 'COM3', 'RAM']);
    assert.deepEqual(loaded.image, {
      format: 'binary',
      size: 32,
      clockFrequency: 80_000_000,
      clockMode: (loaded.image as { clockMode: string }).clockMode,
    });
    await waitFor(() => lines.some((m) => /^count = \d+$/.test(String(m.payload))), 5000, 'printed lines');
    helper.getNode('ex1-hello').receive({});
    await waitFor(() => lines.some((m) => m.payload === 'hello'), 5000, 'the echo of hello');
    fs.rmSync(ownDemoFile('/tmp/labwire-propeller-demo.binary'), { force: true });
  });

  it('02: lists the ports and says which were added', async function () {
    await load('02 - Port watcher');
    const list = await nextMessage<Msg>(helper.getNode('ex2-list'), 5000, 'the port list');
    assert.deepEqual(list.payload, ['COM3', 'wx-1a2b3c']);
    const changes = await nextMessage<Msg>(helper.getNode('ex2-changes'), 5000, 'the changes');
    assert.deepEqual(JSON.parse(JSON.stringify(changes.payload)), { added: ['COM3', 'wx-1a2b3c'], removed: [], ports: ['COM3', 'wx-1a2b3c'] });
  });

  it('03: turns graph rows into one numeric series per column for the chart', async function () {
    await load('03 - Graph into a dashboard chart');
    const points = collect<Msg>(helper.getNode('ex3-chart'));
    await waitFor(() => points.length >= 4, 5000, 'chart points');
    assert.deepEqual(
      points.slice(0, 2).map((p) => p.topic),
      ['value 1', 'value 2'],
    );
    for (const p of points) assert.ok(typeof p.payload === 'number' && Math.abs(p.payload) <= 100, String(p.payload));
  });

  it("01 and 03 deployed together, as npm start does: the terminal shows its program's lines, the chart only numbers", async function () {
    // Each opens its board through its own Launcher connection: the Launcher's terminal data does not say its port.
    await load('01 - Load a program from a file and watch the terminal', '03 - Graph into a dashboard chart');
    const lines = collect<Msg>(helper.getNode('ex1-lines'));
    const points = collect<Msg>(helper.getNode('ex3-chart'));
    await waitFor(
      () => lines.filter((m) => /^count = \d+$/.test(String(m.payload))).length >= 2 && points.length >= 4,
      8000,
      'lines and chart points',
    );
    assert.deepEqual(
      lines.map((m) => String(m.payload)).filter((line) => /^-?\d+(,-?\d+)+$/.test(line)),
      [],
      'graph rows in the terminal example',
    );
    fs.rmSync(ownDemoFile('/tmp/labwire-propeller-demo.binary'), { force: true });
  });
});
