import assert from 'node:assert/strict';
import { LauncherSimulator } from '../../src/simulators/launcher';
import { startPropellerChips, type RunningPropellerChips } from '../../src/simulators/propeller-chip';
import type { FlowConfigNode } from '../../src/simulators/simulator';
import { coreNode as core, exampleFlow, examplesOf } from '../helpers/examples';
import { collect, helper, waitFor } from '../helpers/red';
import launcherNode = require('../../src/nodes/propeller-launcher');
import serialNode = require('../../src/nodes/propeller-serial');
import loadNode = require('../../src/nodes/propeller-load');
import portsNode = require('../../src/nodes/propeller-ports');

const modules = [
  launcherNode,
  serialNode,
  loadNode,
  portsNode,
  // Catch and Status come with the test helper (see test/helpers/red.ts).
  core('common/20-inject.js'),
  core('common/90-comment.js'),
  core('function/10-function.js'),
] as never[];

const TITLE = '03 - Propeller into the namespace';
const LINE = 'labwire/lab/floor-1/line-1';

interface Published {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
}
interface LoadEvent {
  ts: string;
  outcome: string;
  action?: string;
  port?: string;
  duration?: { value: number; unit: string };
  error?: string;
  code?: number;
}

/**
 * UNS example 03 as the demo deploys it, against a simulated Launcher and a fake board on a
 * pseudo-terminal, with the mqtt out node watched: what its loads put into the tree.
 */
describe('UNS example 03: every Propeller load becomes an event/load of its board', function () {
  this.timeout(30_000);
  let launcher: LauncherSimulator;
  let chips: RunningPropellerChips;
  let published: Published[];

  const loads = (board: string): LoadEvent[] =>
    published.filter((m) => m.topic === `${LINE}/${board}/event/load`).map((m) => JSON.parse(m.payload) as LoadEvent);

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    launcher = await LauncherSimulator.start({ stepMs: 1 });
    chips = await startPropellerChips({ options: { chips: '1' } });
    const simulators = {
      configure(node: FlowConfigNode) {
        if (node.type !== 'propeller-launcher') return chips.configure(node);
        node.url = launcher.url;
        return {};
      },
    };
    const flow = exampleFlow(examplesOf('UNS'), TITLE, simulators, { observe: ['mqtt out'], drop: (type) => type === 'mqtt-broker' });
    await helper.load(modules, flow as never);
    published = collect<Published>(helper.getNode('uns-pr-mqtt'));
  });
  afterEach(async () => {
    await helper.unload();
    await launcher.close();
    await chips.close();
  });

  it('load both boards: one event per board, not retained, with outcome, action, port and duration in seconds', async () => {
    helper.getNode('uns-pr-load').receive({});
    await waitFor(() => loads('propeller-launcher-1').length === 1 && loads('propeller-serial-1').length === 1, 20_000, 'a load event of each board');
    const [viaLauncher] = loads('propeller-launcher-1');
    const [overSerial] = loads('propeller-serial-1');
    assert.deepEqual(
      { ...viaLauncher, ts: 'ts', duration: { ...viaLauncher!.duration, value: 0 } },
      {
        ts: 'ts',
        outcome: 'ok',
        action: 'RAM',
        port: 'COM3',
        duration: { value: 0, unit: 's' },
      },
    );
    assert.equal(overSerial!.outcome, 'ok');
    assert.equal(overSerial!.port, chips.boards[0]!.hostPath);
    assert.ok(overSerial!.duration!.value >= 0 && overSerial!.duration!.value < 20, `a load takes seconds: ${overSerial!.duration!.value}`);
    assert.match(overSerial!.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    for (const m of published.filter((p) => p.topic.endsWith('/event/load'))) assert.deepEqual([m.qos, m.retain], [1, false]);
  });

  it('a failed load is one event with the reason and the Launcher error id, although its error also reaches the Catch node', async () => {
    launcher.nextLoadFault = 104;
    helper.getNode('uns-pr-load').receive({});
    await waitFor(() => loads('propeller-launcher-1').length === 1 && loads('propeller-serial-1').length === 1, 20_000, 'a load event of each board');
    await new Promise((r) => setTimeout(r, 300));
    const events = loads('propeller-launcher-1');
    assert.equal(events.length, 1, 'the Catch node did not publish the failure a second time');
    assert.deepEqual([events[0]!.outcome, events[0]!.code], ['failed', 104]);
    assert.match(String(events[0]!.error), /Propeller not found/);
    assert.equal(events[0]!.duration?.unit, 's');
  });

  it('a load refused before it started (a bad image) is a failed event too, through the Catch node', async () => {
    helper.getNode('uns-pr-load-serial').receive({ payload: Buffer.from('not a program'), board: 'propeller-serial-1' });
    await waitFor(() => loads('propeller-serial-1').length === 1, 10_000, 'the load event');
    const [refused] = loads('propeller-serial-1');
    assert.equal(refused!.outcome, 'failed');
    assert.match(String(refused!.error), /image/i);
    assert.equal(refused!.duration, undefined, 'no load ran, so it has no duration');
  });
});
