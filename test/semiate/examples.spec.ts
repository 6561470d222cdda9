import assert from 'node:assert/strict';
import path from 'node:path';
import { listExamples, type FlowNode } from '../../src/cli/example-flows';
import type { RunningSimulator } from '../../src/simulators/simulator';
import { simulator } from '../../src/simulators/semiate';
import { helper, nextMessage, collect, waitFor } from '../helpers/red';
import testerNode = require('../../src/nodes/semiate-tester');
import commandNode = require('../../src/nodes/semiate-command');
import statusNode = require('../../src/nodes/semiate-status');
import resultsNode = require('../../src/nodes/semiate-results');

const core = (file: string): unknown => require(path.join(path.dirname(require.resolve('@node-red/nodes/package.json')), 'core', file));
const modules = [
  testerNode,
  commandNode,
  statusNode,
  resultsNode,
  core('common/20-inject.js'),
  core('common/90-comment.js'),
  core('function/10-function.js'),
  core('parsers/70-CSV.js'),
] as never[];

type Msg = Record<string, unknown> & { payload: unknown; error?: { message: string } };

describe('semiate example flows', function () {
  this.timeout(20000);
  const examples = listExamples(path.join(__dirname, '..', '..', 'examples')).filter((e) => e.system === 'Semi-ATE');
  let running: RunningSimulator | undefined;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    await helper.unload();
    await running?.close();
  });

  /** Deployed as `npm start` does: config nodes pointed at the simulator; debug nodes become helpers to observe. */
  async function load(title: string, options: Record<string, string> = {}): Promise<void> {
    const sim = await simulator.start({ options: { 'test-ms': '5', ...options } });
    running = sim;
    const example = examples.find((e) => e.title === title);
    assert.ok(example, `example "${title}" exists`);
    const flow = example.nodes.map((original): FlowNode => {
      const node: FlowNode = JSON.parse(JSON.stringify(original)) as FlowNode;
      if (sim.configure(node as never)) return node;
      if (node.type === 'debug') return { id: node.id, type: 'helper', z: node.z };
      return node;
    });
    await helper.load(modules, flow as never);
  }

  /** Follow the status a node shows (the tester's state once connected). */
  function watchStatus(nodeId: string): { is(state: string): Promise<void> } {
    let last = '';
    helper.getNode(nodeId).on('call:status', (call: { args: Array<{ text?: string }> }) => (last = String(call.args[0]?.text)));
    return { is: (state) => waitFor(() => last === state, 8000, `${nodeId} showing ${state}`) };
  }

  it('uses every Semi-ATE node type somewhere', () => {
    const types = new Set(examples.flatMap((e) => e.nodes.map((n) => n.type)));
    for (const type of ['semiate-tester', 'semiate-command', 'semiate-status', 'semiate-results']) assert.ok(types.has(type), type);
    assert.equal(examples.length, 4);
  });

  it('01: loads a lot, tests 5 touchdowns, reports the yield and unloads', async () => {
    await load('01 - Lot automation');
    const states = collect<Msg>(helper.getNode('sa1-states'));
    const errors = collect<Msg>(helper.getNode('sa1-errors'));
    await watchStatus('sa1-status').is('initialized');
    const summary = nextMessage<Msg>(helper.getNode('sa1-debug'), 15000, 'the lot summary');
    helper.getNode('sa1-start').receive({});
    const result = (await summary).payload as { tested: number; passed: number; yield: number; state: string };
    assert.equal(result.tested, 10, '5 touchdowns × 2 sites');
    assert.equal(result.state, 'initialized');
    assert.equal(result.yield, Math.round((1000 * result.passed) / 10) / 10);
    assert.ok(states.some((m) => m.payload === 'loading'));
    assert.deepEqual(errors, []);
  });

  it('02: a handler identifies, loads, places parts and reads their bins over MQTT', async () => {
    await load('02 - Handler emulation over MQTT');
    const identity = nextMessage<Msg>(helper.getNode('sa2-debug-ident'), 8000, 'identity');
    helper.getNode('sa2-identify').receive({});
    assert.deepEqual(((await identity).payload as { response: unknown }).response, { name: 'SCT-SIM-1' });
    const loaded = nextMessage<Msg>(helper.getNode('sa2-debug-load'), 8000, 'loaded');
    helper.getNode('sa2-load').receive({});
    assert.equal((await loaded).state, 'ready');
    const bins = nextMessage<Msg>(helper.getNode('sa2-debug-bins'), 8000, 'bins');
    helper.getNode('sa2-touchdown').receive({});
    const rows = (await bins).payload as Array<{ site: string; part: string; bin: number }>;
    assert.deepEqual(
      rows.map((r) => `${r.site}:${r.part}`),
      ['0:H-1', '1:H-2'],
    );
    assert.ok(rows.every((r) => [1, 2, 3].includes(r.bin)));
    const unloaded = nextMessage<Msg>(helper.getNode('sa2-debug-unload'), 8000, 'unloaded');
    helper.getNode('sa2-unload').receive({});
    assert.equal((await unloaded).state, 'initialized');
  });

  it('03: every part becomes a CSV line with one column per test', async () => {
    await load('03 - Per-part rows for CSV');
    const lines = collect<Msg>(helper.getNode('sa3-debug'));
    const rows = collect<Msg>(helper.getNode('sa3-rows'));
    const status = watchStatus('sa3-results');
    await status.is('initialized');
    helper.getNode('sa3-load').receive({});
    await status.is('ready');
    helper.getNode('sa3-test').receive({});
    await waitFor(() => rows.length === 2 && lines.length === 2, 8000, 'two CSV lines');
    const text = lines.map((l) => String(l.payload)).join('');
    assert.match(text, /^time,lot,site,part,pass,hardBin,softBin,testTime,t100,t200,t300,t400\n/);
    const firstRow = rows[0].payload as Record<string, unknown>;
    assert.equal(firstRow.site, '0');
    assert.equal(firstRow.lot, 'LOT-CSV');
    assert.ok(['P', 'F'].includes(String(firstRow.t100)), 'the FTR column is P or F');
    assert.equal(typeof firstRow.t200, 'number');
    assert.equal(text.trim().split('\n').length, 3, 'header and two rows');
  });

  it('04: raises one yield alarm per lot when the yield drops below the limit', async () => {
    await load('04 - Yield alarm', { 'pass-rate': '0.3' });
    const alarms = collect<Msg>(helper.getNode('sa4-alarm'));
    const errors = collect<Msg>(helper.getNode('sa4-errors'));
    // Everything but the state reaches the check as a part (the alarming one is turned into the alarm in place).
    const judged = collect<Msg>(helper.getNode('sa4-check'));
    const parts = (): number => judged.filter((msg) => msg.topic !== 'state').length;
    await watchStatus('sa4-status').is('initialized');
    helper.getNode('sa4-run').receive({});
    await waitFor(() => alarms.length === 1, 10000, 'the alarm');
    // The whole lot (6 touchdowns on 2 sites) must have been judged, else "only one" proves nothing.
    await waitFor(() => parts() === 12, 10000, 'all 12 parts judged');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(parts(), 12);
    assert.equal(alarms.length, 1, 'only one alarm per lot');
    const alarm = alarms[0].payload as { yield: number; tested: number; perSite: unknown[] };
    assert.ok(alarm.yield < 80 && alarm.tested >= 4, JSON.stringify(alarm));
    assert.equal(alarm.perSite.length, 2);
    assert.deepEqual(errors, []);
  });
});
