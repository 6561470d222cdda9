import assert from 'node:assert/strict';
import { helper, nextMessage, setRuntimeLanguage, waitFor } from '../helpers/red';
import { SemiAteSimulator } from '../../src/simulators/semiate';
import { FAST } from './fixtures';
import testerNode = require('../../src/nodes/semiate-tester');
import commandNode = require('../../src/nodes/semiate-command');
import statusNode = require('../../src/nodes/semiate-status');

type Msg = Record<string, unknown> & { payload?: unknown; error?: { message: string } };
type Status = { fill?: string; shape?: string; text?: string };
const nodes = [testerNode, commandNode, statusNode] as never[];

/**
 * What semiate-command shows and refuses: after a refused or ignored command its status tells so
 * (red, a short text) instead of the tester's green state, and msg.timeout is seconds, checked
 * before anything is sent.
 */
for (const transport of ['websocket', 'mqtt'] as const) {
  describe(`semiate-command status and msg.timeout over ${transport}`, function () {
    this.timeout(20000);
    let sim: SemiAteSimulator;
    let statuses: Status[];
    let states: string[];

    before(() => helper.startServer());
    after(() => helper.stopServer());
    afterEach(async () => {
      await setRuntimeLanguage('en-US');
      await helper.unload();
      await sim.close();
    });

    async function deploy(command: Record<string, unknown>, simOptions: Record<string, number> = {}): Promise<void> {
      sim = new SemiAteSimulator({ ...FAST, sites: 2, ...simOptions });
      await sim.start();
      const tester = transport === 'websocket' ? { transport, url: sim.wsUrl } : { transport, broker: sim.mqttUrl, deviceId: sim.options.deviceId };
      await helper.load(nodes, [
        { id: 'f1', type: 'tab' },
        { id: 'tester', type: 'semiate-tester', ...tester },
        { id: 'cmd', type: 'semiate-command', z: 'f1', tester: 'tester', lotNumber: 'payload', lotNumberType: 'msg', wires: [['out']], ...command },
        { id: 'status', type: 'semiate-status', z: 'f1', tester: 'tester', wires: [['states']] },
        { id: 'states', type: 'helper', z: 'f1' },
        { id: 'out', type: 'helper', z: 'f1' },
        { id: 'catcher', type: 'catch', z: 'f1', scope: null, uncaught: false, wires: [['caught']] },
        { id: 'caught', type: 'helper', z: 'f1' },
      ]);
      statuses = [];
      states = [];
      helper.getNode('cmd').on('call:status', (call: { args: Status[] }) => statuses.push(call.args[0]));
      helper.getNode('states').on('input', (msg: Msg) => {
        if (msg.topic === 'state') states.push(String(msg.payload));
      });
      await waitFor(() => states.at(-1) === 'initialized', 5000, 'the tester initialized');
    }

    const last = (): Status | undefined => statuses.at(-1);

    /** Send to the command node; resolve with what reaches `target` (its output or the Catch node). */
    function send(msg: Msg, target: 'out' | 'caught'): Promise<Msg> {
      const reply = nextMessage<Msg>(helper.getNode(target), 10000, `a message on ${target}`);
      helper.getNode('cmd').receive(msg);
      return reply;
    }

    it('a command refused in the tester’s state shows the refusal in red until the next command', async () => {
      await deploy({ command: 'unload', waitUntilDone: true });
      await waitFor(() => last()?.text === 'initialized', 5000, 'the tester state on the command node');
      const caught = await send({}, 'caught');
      assert.match(caught.error!.message, /^unload is not possible while the tester is initialized/);
      assert.deepEqual(last(), { fill: 'red', shape: 'ring', text: 'unload refused: initialized' });
      // The tester's own reports (another state, a reconnect's replay) do not paint it green again.
      sim.press('load', 'OTHER');
      await waitFor(() => states.includes('ready'), 5000, 'the tester ready with the other lot');
      assert.equal(last()?.fill, 'red', `still the refusal: ${JSON.stringify(statuses)}`);
      // The next command clears it once it succeeds: unload is possible now. While it runs, the refusal stays.
      const before = statuses.length;
      const unloaded = await send({}, 'out');
      assert.equal(unloaded.state, 'initialized');
      assert.notEqual(last()?.fill, 'red', JSON.stringify(last()));
      assert.deepEqual(
        statuses.slice(before, -1).filter((st) => st.fill !== 'red'),
        [],
        `nothing but the refusal until the unload succeeded: ${JSON.stringify(statuses.slice(before))}`,
      );
    });

    it('lost connection replaces the refusal for good', async () => {
      await deploy({ command: 'unload', waitUntilDone: true });
      await waitFor(() => last()?.text === 'initialized', 5000, 'the tester state on the command node');
      await send({}, 'caught');
      const refusal = { fill: 'red', shape: 'ring', text: 'unload refused: initialized' };
      assert.deepEqual(last(), refusal);
      const before = statuses.length;
      sim.dropClients();
      // The reconnect shows on the node instead of the refusal, and the refusal does not come back after it.
      await waitFor(() => statuses.slice(before).some((st) => /reconnecting|connecting/.test(st.text ?? '')), 10000, 'the lost connection shown');
      await waitFor(() => last()?.text === 'initialized', 10000, 'the tester state once reconnected');
      assert.equal(last()?.fill, 'green');
      const afterDrop = statuses.slice(statuses.findIndex((st, i) => i >= before && /connecting/.test(st.text ?? '')));
      assert.ok(!afterDrop.some((st) => JSON.stringify(st) === JSON.stringify(refusal)), `no refusal after the drop: ${JSON.stringify(afterDrop)}`);
    });

    it('a command the master ignored shows red with what it did instead', async () => {
      await deploy({ command: 'unload', waitUntilDone: true }, { testMs: 400 });
      assert.equal((await send({ command: 'load', payload: 'L1' }, 'out')).state, 'ready');
      await waitFor(() => last()?.text === 'ready', 5000, 'ready on the command node');
      // The tester's own UI starts a test; in the same tick the flow, still seeing "ready", unloads.
      sim.press('next');
      const caught = await send({}, 'caught');
      assert.match(caught.error!.message, /^the tester ignored unload: it was testing/);
      assert.deepEqual(last(), { fill: 'red', shape: 'ring', text: 'unload ignored: testing' });
      assert.deepEqual(sim.ignored, ['unload@testing']);
      await waitFor(() => states.at(-1) === 'ready', 5000, 'the test to end');
      assert.equal(last()?.fill, 'red', 'the refusal stays after the tester is ready again');
    });

    it('a load refused because a lot is still loaded does not stay green', async () => {
      await deploy({ command: 'load', waitUntilDone: true });
      sim.press('load', 'LEFT-LOADED');
      await waitFor(() => states.at(-1) === 'ready' && last()?.text === 'ready', 5000, 'the other lot loaded, as the node shows');
      assert.equal(last()?.fill, 'green');
      const caught = await send({ payload: 'MINE' }, 'caught');
      assert.match(caught.error!.message, /^load is not possible while the tester is ready/);
      assert.deepEqual(last(), { fill: 'red', shape: 'ring', text: 'load refused: ready' });
      assert.equal(sim.lotNumber, 'LEFT-LOADED');
    });

    it('get-state answers with the state once earlier commands have settled, and changes nothing', async () => {
      await deploy({ command: 'get-state' }, { loadMs: 300 });
      const outs: Msg[] = [];
      helper.getNode('out').on('input', (msg: Msg) => outs.push(msg));
      helper.getNode('cmd').receive({ command: 'load', payload: 'L1' });
      helper.getNode('cmd').receive({});
      await waitFor(() => outs.length === 2, 5000, 'two outcomes');
      assert.deepEqual(
        outs.map((m) => [m.topic, m.state]),
        [
          ['load', 'loading'],
          ['get-state', 'ready'],
        ],
      );
      assert.equal((outs[1].payload as { response: { state: string } }).response.state, 'ready');
      assert.deepEqual(sim.ignored, []);
    });

    it('a dialog timeout outside 0.001–86400 s refuses every msg with the reason and an invalid-configuration status', async () => {
      await deploy({ command: 'load', timeout: '1e12' });
      await waitFor(() => last()?.text === 'invalid configuration', 5000, 'the invalid configuration status');
      const caught = await send({ payload: 'L1' }, 'caught');
      assert.match(caught.error!.message, /^timeout must be a number of seconds from 0\.001 to 86400/);
      assert.equal(sim.lotNumber, '');
    });

    const BAD_TIMEOUTS: Array<[string, unknown]> = [
      ['NaN', NaN],
      ['Infinity', Infinity],
      ['1e12', 1e12],
      ['0', 0],
      ['-5', -5],
      ['a word', 'soon'],
      ['a unit', '5s'],
      ['numeric text', '2.5'],
      ['an object', { s: 5 }],
      ['true', true],
    ];
    for (const [label, timeout] of BAD_TIMEOUTS) {
      it(`msg.timeout ${label} is refused naming the property, and nothing is sent`, async () => {
        await deploy({ command: 'load', waitUntilDone: true });
        const caught = await send({ payload: 'BAD', timeout }, 'caught');
        assert.match(caught.error!.message, /^msg\.timeout must be a number of seconds from 0\.001 to 86400/);
        assert.deepEqual(last(), { fill: 'red', shape: 'ring', text: 'invalid msg.timeout' });
        // Had the refused load gone out, the tester would be loading that lot and ignore this one.
        assert.equal((await send({ payload: 'GOOD', timeout: 5 }, 'out')).state, 'ready');
        assert.equal(sim.lotNumber, 'GOOD');
        assert.deepEqual(sim.ignored, []);
      });
    }

    it('msg.timeout is seconds (fractions allowed)', async () => {
      await deploy({ command: 'load', waitUntilDone: true }, { loadMs: 1500 });
      const caught = await send({ payload: 'SLOW', timeout: 0.3 }, 'caught');
      assert.match(caught.error!.message, /^no state ready after load within 0.3 s/);
    });

    it('in German: the refusal of msg.timeout and its status', async () => {
      await setRuntimeLanguage('de');
      await deploy({ command: 'load', waitUntilDone: true });
      const caught = await send({ payload: 'BAD', timeout: Infinity }, 'caught');
      assert.doesNotMatch(caught.error!.message, /must be a number/);
      assert.match(caught.error!.message, /msg\.timeout/);
      assert.deepEqual(last(), { fill: 'red', shape: 'ring', text: 'msg.timeout ungültig' });
    });
  });
}

/** A tester nobody answers for: the error says seconds and names the address once, the status stays short. */
describe('semiate-command with a tester it cannot reach', function () {
  this.timeout(20000);
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(() => helper.unload());

  const TESTERS = {
    websocket: { transport: 'websocket', url: 'ws://127.0.0.1:1/ws' },
    mqtt: { transport: 'mqtt', broker: 'mqtt://127.0.0.1:1', deviceId: 'nobody' },
  } as const;

  for (const [transport, tester] of Object.entries(TESTERS)) {
    it(`over ${transport}: "not connected within 0.5 s", the address once, status "not connected"`, async () => {
      await helper.load(nodes, [
        { id: 'f1', type: 'tab' },
        { id: 'tester', type: 'semiate-tester', ...tester },
        { id: 'cmd', type: 'semiate-command', z: 'f1', tester: 'tester', command: 'load', lotNumber: 'payload', lotNumberType: 'msg', wires: [[]] },
        { id: 'catcher', type: 'catch', z: 'f1', scope: null, uncaught: false, wires: [['caught']] },
        { id: 'caught', type: 'helper', z: 'f1' },
      ]);
      const statuses: Status[] = [];
      helper.getNode('cmd').on('call:status', (call: { args: Status[] }) => statuses.push(call.args[0]));
      const caught = nextMessage<Msg>(helper.getNode('caught'), 10000, 'the error');
      helper.getNode('cmd').receive({ payload: 'L1', timeout: 0.5 });
      const message = (await caught).error!.message;
      const within = transport === 'websocket' ? 'not connected within 0.5 s' : 'not connected to mqtt://127.0.0.1:1 (nobody) within 0.5 s';
      assert.ok(message.startsWith(`${within} (last error: `), message);
      assert.match(message, /connection refused/);
      assert.equal(message.split('127.0.0.1:1').length - 1, 1, `the address once: ${message}`);
      assert.doesNotMatch(message, /\bms\b/);
      const refusal = statuses.find((s) => s.fill === 'red');
      assert.deepEqual(refusal, { fill: 'red', shape: 'ring', text: 'not connected' });
    });
  }
});

describe('semiate-command config versions', function () {
  this.timeout(20000);
  let sim: SemiAteSimulator;
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    await helper.unload();
    await sim.close();
  });

  /** An MQTT next from a node saved as `saved`; the sites it sent. */
  async function sitesSent(saved: Record<string, unknown>, msg: Msg = {}): Promise<unknown> {
    sim = new SemiAteSimulator({ ...FAST, sites: 3 });
    await sim.start();
    await helper.load(nodes, [
      { id: 'f1', type: 'tab' },
      { id: 'tester', type: 'semiate-tester', transport: 'mqtt', broker: sim.mqttUrl, deviceId: sim.options.deviceId },
      { id: 'cmd', type: 'semiate-command', z: 'f1', tester: 'tester', command: 'next', waitUntilDone: true, wires: [['out']], ...saved },
      { id: 'status', type: 'semiate-status', z: 'f1', tester: 'tester', wires: [['states']] },
      { id: 'states', type: 'helper', z: 'f1' },
      { id: 'out', type: 'helper', z: 'f1' },
      { id: 'catcher', type: 'catch', z: 'f1', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'f1' },
    ]);
    const states: string[] = [];
    helper.getNode('states').on('input', (m: Msg) => {
      if (m.topic === 'state') states.push(String(m.payload));
    });
    await waitFor(() => states.at(-1) === 'initialized', 5000, 'initialized');
    sim.press('load', 'L1');
    await waitFor(() => states.at(-1) === 'ready', 5000, 'ready, as the nodes see it');
    const reply = nextMessage<Msg>(helper.getNode('out'), 10000, 'the outcome of next');
    const failed = nextMessage<Msg>(helper.getNode('caught'), 10000, 'an error').then((m) => {
      throw new Error(m.error?.message);
    });
    helper.getNode('cmd').receive(msg);
    return ((await Promise.race([reply, failed])).payload as { sites: unknown }).sites;
  }

  it('a node saved before versions (empty JSON Sites) still tests every known site', async () => {
    assert.deepEqual(await sitesSent({ sites: '', sitesType: 'json' }), ['0', '1', '2']);
  });

  it('version 1: Sites from msg.sites (the default) or from a JSON list', async () => {
    assert.deepEqual(await sitesSent({ sites: 'sites', sitesType: 'msg', version: 1 }, { sites: ['2'] }), ['2']);
    await helper.unload();
    await sim.close();
    assert.deepEqual(await sitesSent({ sites: '["1"]', sitesType: 'json', version: 1 }), ['1']);
  });
});
