import assert from 'node:assert/strict';
import type { FlowNode } from '../../src/cli/example-flows';
import { SemiAteSimulator, configureTester } from '../../src/simulators/semiate';
import { coreNode, exampleFlow, examplesOf } from '../helpers/examples';
import { collect, helper, nextMessage, waitFor } from '../helpers/red';
import { FAST } from './fixtures';
import testerNode = require('../../src/nodes/semiate-tester');
import commandNode = require('../../src/nodes/semiate-command');
import statusNode = require('../../src/nodes/semiate-status');
import resultsNode = require('../../src/nodes/semiate-results');

const modules = [
  testerNode,
  commandNode,
  statusNode,
  resultsNode,
  coreNode('common/20-inject.js'),
  coreNode('common/90-comment.js'),
  coreNode('function/10-function.js'),
  coreNode('parsers/70-CSV.js'),
] as never[];

type Msg = Record<string, unknown> & { payload: unknown; error?: { message: string } };
type Step = '01' | '02' | '03' | '04' | 'softerror';

/**
 * The Semi-ATE examples share one tester, as `npm start` deploys them: whatever an earlier run
 * left (a lot loaded over the websocket or over MQTT, a soft error), each example runs when its
 * button is pressed, in any order.
 */
describe('semiate example flows run in any order on one shared tester', function () {
  this.timeout(60000);
  const examples = examplesOf('Semi-ATE');
  let sim: SemiAteSimulator;
  let errors: Msg[];
  let csvRows: Msg[];
  let judged: Msg[];
  let states: Msg[];

  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    await helper.unload();
    await sim?.close();
  });

  /** Every example deployed at once (shared config nodes once), a Catch node on every tab reporting to one helper. */
  async function deployAll(): Promise<void> {
    sim = new SemiAteSimulator({ ...FAST, sites: 2 });
    await sim.start();
    const flow = new Map<string, FlowNode>();
    for (const example of examples) {
      for (const node of exampleFlow(examples, example.title, { configure: (n) => configureTester(sim, n) })) flow.set(node.id, node);
      const tab = example.nodes.find((n) => n.type === 'tab')!.id;
      flow.set(`${tab}-all-errors`, { id: `${tab}-all-errors`, type: 'catch', z: tab, scope: null, uncaught: false, wires: [['all-errors']] });
    }
    flow.set('all-errors', { id: 'all-errors', type: 'helper', z: 'sa1-tab' });
    await helper.load(modules, [...flow.values()] as never);
    errors = collect<Msg>(helper.getNode('all-errors'));
    csvRows = collect<Msg>(helper.getNode('sa3-rows'));
    judged = collect<Msg>(helper.getNode('sa4-check'));
    states = collect<Msg>(helper.getNode('sa1-states'));
    await waitFor(() => sim.state === 'initialized' && sim.openConnections === 2, 5000, 'the tester initialized, with both our connections');
  }

  const noErrors = (step: string): void =>
    assert.deepEqual(
      errors.map((e) => e.error?.message),
      [],
      `no error after ${step}`,
    );

  const steps: Record<Step, () => Promise<void>> = {
    // Loads, tests 5 touchdowns, unloads.
    '01': async () => {
      const summary = nextMessage<Msg>(helper.getNode('sa1-debug'), 20000, 'the lot summary of 01');
      helper.getNode('sa1-start').receive({});
      const result = (await summary).payload as { tested: number; state: string; lot: string };
      assert.deepEqual([result.lot, result.tested, result.state], ['LOT-2026.001', 10, 'initialized']);
    },
    // Over MQTT: loads and places parts, and leaves the lot loaded (no End lot).
    '02': async () => {
      const loaded = nextMessage<Msg>(helper.getNode('sa2-debug-load'), 20000, 'the load of 02');
      helper.getNode('sa2-load').receive({});
      assert.equal((await loaded).state, 'ready');
      assert.equal(sim.lotNumber, 'LOT-H42');
      const bins = nextMessage<Msg>(helper.getNode('sa2-debug-bins'), 20000, 'the bins of 02');
      helper.getNode('sa2-touchdown').receive({});
      assert.equal(((await bins).payload as unknown[]).length, 2);
    },
    // Loads and tests one touchdown into CSV rows, and leaves the lot loaded.
    '03': async () => {
      const before = csvRows.length;
      helper.getNode('sa3-load').receive({});
      await waitFor(() => sim.lotNumber === 'LOT-CSV' && sim.state === 'ready', 20000, 'the lot of 03 loaded');
      // The websocket reports the state about once a status period: press when the node's picture has caught up.
      await waitFor(() => /ready/.test(String(lastStatus('sa3-next'))), 5000, '03 seeing the tester ready');
      helper.getNode('sa3-test').receive({});
      await waitFor(() => csvRows.length === before + 2, 20000, 'two CSV rows of 03');
      assert.ok(csvRows.slice(before).every((row) => (row.payload as { lot: string }).lot === 'LOT-CSV'));
    },
    // Runs a lot of 6 touchdowns on 2 sites and unloads.
    '04': async () => {
      const parts = (): number => judged.filter((m) => m.topic !== 'state').length;
      const before = parts();
      helper.getNode('sa4-run').receive({});
      await waitFor(() => parts() === before + 12, 20000, 'the 12 parts of 04 judged');
      await waitFor(() => sim.state === 'initialized' && sim.lotNumber === '', 20000, '04 to unload its lot');
    },
    // Not an example: the tester's own UI loads a lot and a test fails (softerror).
    softerror: async () => {
      if (sim.state === 'initialized') sim.press('load', 'UI-LOT');
      await waitFor(() => sim.state === 'ready', 5000, 'a lot loaded by the UI');
      sim.injectFault('next', 'error');
      sim.press('next');
      // The operator sees it (the flows' status node) before pressing the next button.
      await waitFor(() => states.at(-1)?.payload === 'softerror', 5000, 'the soft error shown');
    },
  };

  const statuses = new Map<string, string>();
  function lastStatus(id: string): string | undefined {
    return statuses.get(id);
  }
  function watchStatus(id: string): void {
    helper.getNode(id).on('call:status', (call: { args: Array<{ text?: string }> }) => statuses.set(id, String(call.args[0]?.text)));
  }

  const ORDERS: Step[][] = [
    ['03', '04', '01', '02'],
    ['02', '03', '01', '04'],
    ['04', '02', '04', '03', '01', '03'],
    ['softerror', '01', '02', 'softerror', '03', '04'],
  ];
  for (const order of ORDERS) {
    it(order.join(' → '), async () => {
      await deployAll();
      watchStatus('sa3-next');
      // A person presses the first button once the flows show the tester's state, not while it still connects.
      await waitFor(() => states.at(-1)?.payload === sim.state, 10000, `the flows to see the tester ${sim.state} before the first step`);
      for (const [index, step] of order.entries()) {
        await steps[step]().catch((err: Error) => {
          throw new Error(`step ${index + 1} (${step}): ${err.message}; errors: ${JSON.stringify(errors.map((e) => e.error?.message))}`);
        });
        noErrors(`step ${index + 1} (${step})`);
        // A person presses the next button once the tester's state shows (its UI websocket reports it periodically).
        await waitFor(() => states.at(-1)?.payload === sim.state, 5000, `the flows to see the tester ${sim.state} after step ${index + 1}`);
      }
      assert.deepEqual(sim.ignored, [], 'the master ignored no command');
    });
  }
});
