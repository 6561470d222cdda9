import assert from 'node:assert/strict';
import { closeAndWatch, helper, nextMessage, collect, waitFor } from '../helpers/red';
import { SemiAteSimulator } from '../../src/simulators/semiate';
import { FAST } from './fixtures';
import testerNode = require('../../src/nodes/semiate-tester');
import commandNode = require('../../src/nodes/semiate-command');
import statusNode = require('../../src/nodes/semiate-status');
import resultsNode = require('../../src/nodes/semiate-results');

type Msg = Record<string, unknown> & { payload?: unknown; topic?: string; error?: { message: string } };
type Flow = Array<Record<string, unknown>>;
const nodes = [testerNode, commandNode, statusNode, resultsNode] as never[];

function flow(
  tester: Record<string, unknown>,
  command: Record<string, unknown> = {},
  status: Record<string, unknown> = {},
  results: Record<string, unknown> = {},
): Flow {
  return [
    { id: 'f1', type: 'tab', label: 'semiate' },
    { id: 'tester', type: 'semiate-tester', name: 'sim', ...tester },
    {
      id: 'cmd',
      type: 'semiate-command',
      z: 'f1',
      tester: 'tester',
      command: 'load',
      lotNumber: 'payload',
      lotNumberType: 'msg',
      sites: '',
      sitesType: 'json',
      waitUntilDone: true,
      timeout: '',
      wires: [['out']],
      ...command,
    },
    { id: 'status', type: 'semiate-status', z: 'f1', tester: 'tester', wires: [['states']], ...status },
    { id: 'results', type: 'semiate-results', z: 'f1', tester: 'tester', wires: [['parts']], ...results },
    { id: 'out', type: 'helper', z: 'f1' },
    { id: 'states', type: 'helper', z: 'f1' },
    { id: 'parts', type: 'helper', z: 'f1' },
    { id: 'catcher', type: 'catch', z: 'f1', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'f1' },
  ];
}

for (const transport of ['websocket', 'mqtt'] as const) {
  describe(`semiate nodes over ${transport}`, function () {
    this.timeout(15000);
    let sim: SemiAteSimulator;
    const tester = (): Record<string, unknown> =>
      transport === 'websocket' ? { transport, url: sim.wsUrl } : { transport, broker: sim.mqttUrl, deviceId: sim.options.deviceId };

    before(() => helper.startServer());
    after(() => helper.stopServer());
    beforeEach(async () => {
      sim = new SemiAteSimulator({ ...FAST, sites: 2, passRate: 0.5 });
      await sim.start();
    });
    afterEach(async () => {
      await helper.unload();
      await sim.close();
    });

    async function run(msg: Msg, target = 'out'): Promise<Msg> {
      const reply = nextMessage<Msg>(helper.getNode(target), 8000, `a message on ${target}`);
      helper.getNode('cmd').receive(msg);
      return reply;
    }

    let stateMsgs: Msg[] = [];
    async function initialized(): Promise<void> {
      stateMsgs = collect<Msg>(helper.getNode('states'));
      await waitFor(() => sim.state === 'initialized' && sim.openConnections === 1, 5000, 'the simulator initialized with our client');
      await testerIs('initialized');
    }
    /** The nodes' view of the state (it trails the simulator's by a message). */
    async function testerIs(state: string): Promise<void> {
      await waitFor(() => stateMsgs.filter((m) => m.topic === 'state').pop()?.payload === state, 5000, `the tester to report ${state}`);
    }

    it('loads a lot, tests parts and unloads, with status and results flowing', async () => {
      await helper.load(nodes, flow(tester(), { command: '' }, {}, { includeRecords: true }));
      const states = collect<Msg>(helper.getNode('states'));
      const parts = collect<Msg>(helper.getNode('parts'));
      const statuses: Array<{ text?: string; fill?: string }> = [];
      helper.getNode('status').on('call:status', (call: { args: Array<{ text?: string; fill?: string }> }) => statuses.push(call.args[0]));
      await initialized();
      const loaded = await run({ command: 'load', payload: 'LOT-1.001' });
      assert.equal(loaded.topic, 'load');
      assert.equal(loaded.state, 'ready');
      assert.equal((loaded.payload as { waited: boolean }).waited, true);
      assert.equal(sim.lotNumber, 'LOT-1.001');
      const tested = await run({ command: 'start' });
      assert.equal(tested.topic, 'next');
      const outcome = tested.payload as { parts: Array<{ site: string; pass: boolean }> };
      assert.equal(outcome.parts.length, 2);
      await waitFor(() => parts.length === 2, 3000, 'two parts');
      const first = parts[0];
      const payload = first.payload as {
        site: string;
        partId: string;
        pass: boolean;
        hardBin: number;
        tests: Array<{ number: number; low: number }>;
      };
      assert.equal(first.topic, `site${payload.site}`);
      assert.equal(first.lot, 'LOT-1.001');
      assert.deepEqual(
        payload.tests.map((t) => t.number),
        [100, 200, 300, 400],
      );
      assert.equal(payload.tests[2].low, -Infinity);
      const simPart = sim.parts.get(payload.partId)!;
      assert.equal(payload.pass, simPart.pass);
      assert.equal(payload.hardBin, simPart.bin.hBin);
      assert.deepEqual(first.records, simPart.records);
      const yieldNow = parts[1].yield as { total: { tested: number; passed: number } };
      assert.equal(yieldNow.total.tested, 2);
      assert.equal(yieldNow.total.passed, [...sim.parts.values()].filter((p) => p.pass).length);
      const unloaded = await run({ command: 'unload' });
      assert.equal(unloaded.state, 'initialized');
      await waitFor(() => states.some((m) => m.payload === 'initialized' && m.previous !== undefined), 3000, 'the initialized state msg');
      const seen = states.filter((m) => m.topic === 'state').map((m) => m.payload);
      // The websocket's status comes once per period, so a short phase may not show there.
      const phases = transport === 'mqtt' ? ['loading', 'ready', 'unloading'] : ['ready'];
      assert.ok(
        phases.every((p) => seen.includes(p)),
        `states seen: ${seen.join(',')}`,
      );
      const aboutTester = states[states.length - 1].tester as { transport: string; sites: string[] };
      assert.equal(aboutTester.transport, transport);
      assert.deepEqual(aboutTester.sites, ['0', '1']);
      assert.ok(
        statuses.some((s) => s.text === 'ready' && s.fill === 'green'),
        'the node status showed ready',
      );
    });

    it('refuses a command the state does not allow with an error a Catch node sees', async () => {
      await helper.load(nodes, flow(tester(), { command: 'unload' }));
      await initialized();
      const caught = await run({ payload: 1 }, 'caught');
      assert.match(caught.error!.message, /unload is not possible while the tester is initialized.*allowed in: ready/);
      assert.deepEqual(sim.ignored, [], 'nothing reached the master');
    });

    it('reports a wait-until-done timeout and a softerror to the Catch node', async () => {
      sim.options.loadMs = 800;
      await helper.load(nodes, flow(tester(), { timeout: '0.2' }));
      await initialized();
      const timedOut = await run({ payload: 'L1' }, 'caught');
      assert.match(timedOut.error!.message, /no state ready after load within 0.2 s \(the tester is loading\)/);
      await testerIs('ready');
      sim.injectFault('next', 'error');
      const failed = await run({ command: 'next', timeout: 5 }, 'caught');
      assert.match(failed.error!.message, /next failed: the tester went to softerror/);
      const reset = await run({ command: 'reset', timeout: 5 });
      assert.equal(reset.state, 'initialized');
    });

    it('without waiting, sends and reports at once; msg.lotNumber overrides the node', async () => {
      await helper.load(nodes, flow(tester(), { waitUntilDone: false, lotNumber: 'FROM-NODE', lotNumberType: 'str' }));
      await initialized();
      const sent = await run({ payload: 'ignored' });
      assert.equal((sent.payload as { waited: boolean }).waited, false);
      await waitFor(() => sim.lotNumber === 'FROM-NODE', 3000, 'the node lot number');
      await testerIs('ready');
      await run({ command: 'unload', waitUntilDone: true });
      const second = await run({ lotNumber: 'FROM-MSG', waitUntilDone: true });
      assert.equal(second.state, 'ready');
      assert.equal(sim.lotNumber, 'FROM-MSG');
    });

    it('a flow that sends unload right after next gets the lot unloaded, and a double next reports each part once', async () => {
      sim.options.testMs = 150;
      await helper.load(nodes, flow(tester(), { waitUntilDone: true }));
      await initialized();
      assert.equal((await run({ payload: 'L1' })).state, 'ready');
      const outs = collect<Msg>(helper.getNode('out'));
      helper.getNode('cmd').receive({ command: 'next' });
      helper.getNode('cmd').receive({ command: 'next' });
      helper.getNode('cmd').receive({ command: 'unload' });
      await waitFor(() => outs.length === 3, 8000, 'three outcomes');
      assert.deepEqual(
        outs.map((m) => m.topic),
        ['next', 'next', 'unload'],
      );
      const partIds = outs.slice(0, 2).flatMap((m) => (m.payload as { parts: Array<{ partId: string }> }).parts.map((p) => p.partId));
      assert.equal(new Set(partIds).size, 4, `four different parts: ${partIds.join(',')}`);
      assert.equal(outs[2].state, 'initialized');
      assert.deepEqual(sim.ignored, []);
      assert.equal(sim.lotNumber, '');
    });

    it('refuses bad input before sending: no lot number, unknown command', async () => {
      await helper.load(nodes, flow(tester()));
      await initialized();
      assert.match((await run({ payload: '' }, 'caught')).error!.message, /load needs a lot number/);
      assert.match((await run({ command: 'fly' }, 'caught')).error!.message, /"fly" is not a Semi-ATE/);
      assert.deepEqual(sim.ignored, []);
      assert.equal(sim.lotNumber, '');
    });

    it('shows the reconnect on the node status and carries on after it', async () => {
      await helper.load(nodes, flow(tester()));
      await initialized();
      const texts: string[] = [];
      helper.getNode('results').on('call:status', (call: { args: Array<{ text?: string }> }) => texts.push(String(call.args[0]?.text)));
      sim.dropClients();
      await waitFor(
        () => texts.some((t) => /reconnecting/.test(t)) && texts[texts.length - 1] === 'initialized',
        10000,
        'reconnecting, then initialized',
      );
      assert.equal((await run({ payload: 'AFTER' })).state, 'ready');
    });

    it('sets no status from a closed command, status or results node, whatever the shared connection does next', async function () {
      this.timeout(45_000);
      const extra = { id: 'cmd2', type: 'semiate-command', z: 'f1', tester: 'tester', command: 'reset', wires: [[]] };
      await helper.load(nodes, [...flow(tester()), extra]);
      await initialized();
      const open: string[] = [];
      helper.getNode('cmd2').on('call:status', (call: { args: Array<{ text?: string }> }) => open.push(String(call.args[0]?.text)));
      // A command in flight when its node closes: it finishes on the connection cmd2 keeps.
      const inFlight = run({ payload: 'LOT-CLOSED' }).catch(() => undefined);
      const closed = await Promise.all(['cmd', 'status', 'results'].map((id) => closeAndWatch(id)));
      await inFlight;
      sim.dropClients();
      await waitFor(
        () =>
          open.some((t) => /reconnecting/.test(t)) && open[open.length - 1] !== undefined && !/reconnecting|connecting/.test(open[open.length - 1]!),
        30000,
        'the open node to see the reconnect and its end',
      ).catch((err: Error) => {
        throw new Error(`${err.message}; it showed: ${JSON.stringify(open)}`);
      });
      assert.deepEqual(closed, [[], [], []], 'no status from a closed node');
    });

    it('redeploys without leaking connections or sockets', async () => {
      const sockets = (): number => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
      const before = sockets();
      for (let i = 0; i < 3; i++) {
        await helper.load(nodes, flow(tester()));
        await initialized();
        assert.equal((await run({ payload: `L${i}` })).state, 'ready');
        assert.equal((await run({ command: 'unload' })).state, 'initialized');
        await helper.unload();
        await waitFor(() => sim.openConnections === 0, 3000, `no connections after unload ${i + 1}`);
      }
      // Our side of each connection is gone too (the simulator's side closes with it).
      await waitFor(() => sockets() <= before, 3000, `TCP sockets back to ${before} (now ${sockets()})`);
    });
  });
}

describe('semiate nodes: transport-specific outputs', function () {
  this.timeout(15000);
  let sim: SemiAteSimulator;
  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    sim = new SemiAteSimulator({ ...FAST, sites: 2 });
    await sim.start();
  });
  afterEach(async () => {
    await helper.unload();
    await sim.close();
  });

  it('websocket status node: trimmed logs, yield, bin table, lot data, user settings', async () => {
    const all = { logs: true, yield: true, bintable: true, lotdata: true, usersettings: true };
    await helper.load(nodes, flow({ transport: 'websocket', url: sim.wsUrl }, {}, all));
    const msgs = collect<Msg>(helper.getNode('states'));
    await waitFor(() => msgs.some((m) => m.topic === 'state' && m.payload === 'initialized'), 5000, 'the tester initialized');
    helper.getNode('cmd').receive({ payload: 'L1' });
    await waitFor(() => msgs.some((m) => m.topic === 'lotdata'), 5000, 'lot data');
    helper.getNode('cmd').receive({ command: 'next' });
    const tested = (m: Msg): boolean => m.topic === 'yield' && (m.payload as { total: { tested: number } }).total.tested === 2;
    await waitFor(() => msgs.some(tested) && msgs.filter((m) => m.topic === 'bintable').length >= 3, 5000, 'yield and bin table after both parts');
    const log = msgs.find((m) => m.topic === 'logs')!.payload as Array<{ source: string; type: string }>;
    assert.equal(log[0].source, 'master');
    assert.ok(['INFO', 'WARNING', 'ERROR'].includes(log[0].type));
    assert.equal((msgs.find((m) => m.topic === 'lotdata')!.payload as { LOT_ID: string }).LOT_ID, 'L1');
    assert.ok(Array.isArray((msgs.find((m) => m.topic === 'usersettings')!.payload as { testoptions: unknown[] }).testoptions));
    const y = msgs.find(tested)!;
    assert.ok(Array.isArray(y.raw), "the master's own rows in msg.raw");
    assert.equal((y.payload as { total: { tested: number } }).total.tested, 2);
    const state = msgs.find((m) => m.topic === 'state')!;
    assert.match(String((state.tester as { connectionId: string }).connectionId), /^[0-9a-f-]{36}$/);
  });

  it('MQTT status node: site status and a computed yield; command identify', async () => {
    await helper.load(
      nodes,
      flow(
        { transport: 'mqtt', broker: sim.mqttUrl, deviceId: sim.options.deviceId },
        { command: 'identify' },
        { yield: true, sitestatus: true, logs: true },
      ),
    );
    const msgs = collect<Msg>(helper.getNode('states'));
    await waitFor(() => msgs.some((m) => m.topic === 'state' && m.payload === 'initialized'), 5000, 'the tester initialized');
    const identified = nextMessage<Msg>(helper.getNode('out'));
    helper.getNode('cmd').receive({});
    assert.deepEqual(((await identified).payload as { response: unknown }).response, { name: sim.options.deviceId });
    const ready = nextMessage<Msg>(helper.getNode('out'));
    helper.getNode('cmd').receive({ command: 'load', payload: 'L2', waitUntilDone: true });
    assert.equal((await ready).state, 'ready');
    helper.getNode('cmd').receive({ command: 'next', sites: ['1'] });
    await waitFor(() => msgs.some((m) => m.topic === 'yield'), 5000, 'a yield msg');
    assert.deepEqual(Object.keys((msgs.find((m) => m.topic === 'yield')!.payload as { sites: object }).sites), ['1']);
    const site = msgs.find((m) => m.topic === 'sitestatus')!.payload as { app: string; site: string };
    assert.ok(['control', 'testapp'].includes(site.app));
    assert.ok(msgs.some((m) => m.topic === 'logs' && /site 0/.test((m.payload as Array<{ source: string }>)[0].source)));
  });

  it('MQTT credentials come from the credentials, and a refused login shows on the status', async () => {
    await sim.close();
    sim = new SemiAteSimulator({ ...FAST, mqttUsername: 'op', mqttPassword: 'pw' });
    await sim.start();
    const statuses: string[] = [];
    await helper.load(nodes, flow({ transport: 'mqtt', broker: sim.mqttUrl, deviceId: sim.options.deviceId }), {
      tester: { username: 'op', password: 'Wr0ng-secret' },
    });
    helper.getNode('status').on('call:status', (call: { args: Array<{ text?: string }> }) => statuses.push(String(call.args[0].text)));
    // The status names the whole reason in a few words (not a sentence cut off); the log has the sentence.
    await waitFor(() => statuses.includes('bad user/password'), 5000, 'the refused login on the status');
    assert.ok(statuses.every((s) => !s.includes('…')));
    const logged = (helper.getNode('tester').error as unknown as { getCalls(): Array<{ args: unknown[] }> }).getCalls().map((c) => String(c.args[0]));
    assert.ok(
      logged.some((line) => /refused the login \(bad username or password, MQTT return code [45]\); check username and password/.test(line)),
      logged.join('\n'),
    );
    assert.ok(
      [...statuses, ...logged].every((s) => !s.includes('Wr0ng-secret')),
      'no password in the status or the log',
    );
    await helper.unload();
    await helper.load(nodes, flow({ transport: 'mqtt', broker: sim.mqttUrl, deviceId: sim.options.deviceId }), {
      tester: { username: 'op', password: 'pw' },
    });
    const msgs = collect<Msg>(helper.getNode('states'));
    const loaded = nextMessage<Msg>(helper.getNode('out'));
    await waitFor(() => msgs.some((m) => m.topic === 'state' && m.payload === 'initialized'), 5000, 'the tester initialized');
    helper.getNode('cmd').receive({ payload: 'L3' });
    assert.equal((await loaded).state, 'ready');
  });

  it('settings.js semiateTesterReconnectTime sets the first reconnect delay', async () => {
    helper.settings({ semiateTesterReconnectTime: 6000 });
    try {
      await helper.load(nodes, flow({ transport: 'websocket', url: sim.wsUrl }));
      const texts: string[] = [];
      helper.getNode('results').on('call:status', (call: { args: Array<{ text?: string }> }) => texts.push(String(call.args[0]?.text)));
      await waitFor(() => sim.openConnections === 1, 5000, 'connected');
      sim.dropClients();
      await waitFor(() => texts.some((t) => /reconnecting in/.test(t)), 5000, 'the reconnect status');
      // 6 s less up to 25 % jitter; the default (2 s) would show "reconnecting in 2 s" or less.
      assert.match(
        texts.find((t) => /reconnecting in/.test(t))!,
        /reconnecting in [56] s/,
      );
    } finally {
      helper.settings({ semiateTesterReconnectTime: undefined });
    }
  });

  it('nodes without a tester configuration report it', async () => {
    await helper.load(nodes, [
      { id: 'f1', type: 'tab' },
      { id: 'cmd', type: 'semiate-command', z: 'f1', tester: '', command: 'load', wires: [[]] },
      { id: 'res', type: 'semiate-results', z: 'f1', tester: '', wires: [[]] },
      { id: 'st', type: 'semiate-status', z: 'f1', tester: '', wires: [[]] },
      { id: 'catcher', type: 'catch', z: 'f1', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'f1' },
    ]);
    const caught = nextMessage<Msg>(helper.getNode('caught'));
    helper.getNode('cmd').receive({ payload: 'x' });
    assert.equal((await caught).error!.message, 'no semiate-tester configuration is chosen: open the node and choose one');
    const errors = (helper.getNode('res').error as unknown as { getCalls(): Array<{ args: unknown[] }> }).getCalls();
    assert.ok(errors.some((c) => /no semiate-tester configuration is chosen/.test(String(c.args[0]))));
    const statusErrors = (helper.getNode('st').error as unknown as { getCalls(): Array<{ args: unknown[] }> }).getCalls();
    assert.ok(
      statusErrors.some((c) => /no semiate-tester configuration is chosen/.test(String(c.args[0]))),
      'the status node reports it too',
    );
  });
});
