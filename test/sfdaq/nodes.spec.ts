import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { helper, nextMessage, collect, waitFor } from '../helpers/red';
import { SfdaqSimulator } from '../../src/simulators/sfdaq';
import { ROUTES } from '../../src/protocols/sfdaq/routes';
import { fixedServer } from './fixtures';
import sfdaqBroker = require('../../src/nodes/sfdaq-broker');
import sfdaqCall = require('../../src/nodes/sfdaq-call');

function catalog(lang: string): { errors: Record<string, string> } {
  return (
    JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'locales', lang, 'sfdaq-call.json'), 'utf8')) as Record<
      string,
      { errors: Record<string, string> }
    >
  )['sfdaq-call']!;
}

type Msg = Record<string, unknown> & { payload?: unknown; error?: { message: string; source?: { id: string } } };
type Flow = Array<Record<string, unknown>>;

const NODES = [sfdaqBroker, sfdaqCall];

/** A tab with a broker config, the given call nodes wired to "out", and a Catch node wired to "caught". */
function flow(sim: SfdaqSimulator, calls: Flow, broker: Record<string, unknown> = {}): Flow {
  return [
    { id: 'tab', type: 'tab', label: 'sfdaq' },
    { id: 'broker', type: 'sfdaq-broker', fastUrl: sim.fastUrl, slowUrl: sim.slowUrl, timeout: 10, prefer: 'current', ...broker },
    ...calls.map((call) => ({ z: 'tab', type: 'sfdaq-call', broker: 'broker', params: {}, wires: [['out']], ...call })),
    { id: 'out', z: 'tab', type: 'helper' },
    { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
  ];
}

describe('sfdaq-broker and sfdaq-call nodes', () => {
  let sim: SfdaqSimulator;

  beforeEach(async () => {
    sim = await SfdaqSimulator.start({ mode: 'current' });
  });

  /** advance_run_number ('call') and get_current_run_number ('call2') of one pgroup, both wired to 'out'. */
  function loadRunNumberCalls(): Promise<void> {
    const pgroup = { pgroup: { value: 'p17502', type: 'str' } };
    return helper.load(
      NODES,
      flow(sim, [
        { id: 'call', operation: 'advance_run_number', params: pgroup },
        { id: 'call2', operation: 'get_current_run_number', params: pgroup },
      ]),
    );
  }

  afterEach(async () => {
    await helper.unload();
    await sim.close();
  });

  it('calls the operation with parameters from typed inputs and outputs the normalised reply', async () => {
    await helper.load(NODES, flow(sim, [{ id: 'call', operation: 'advance_run_number', params: { pgroup: { value: 'p17502', type: 'str' } } }]));
    const out = nextMessage<Msg>(helper.getNode('out'));
    helper.getNode('call').receive({ payload: 1732190000000 });
    const msg = await out;
    assert.deepEqual(JSON.parse(JSON.stringify(msg.payload)), { run_number: 1 });
    assert.equal(msg.topic, 'advance_run_number');
    assert.deepEqual(msg.sfdaq, { operation: 'advance_run_number', broker: 'fast', method: 'POST', url: `${sim.fastUrl}/advance_run_number` });
    assert.equal((msg.raw as Record<string, unknown>).run_number, 1);
    const [request] = sim.requests;
    assert.equal(request!.headers['x-forwarded-for'], undefined, 'X-Forwarded-For is never sent');
    assert.equal(request!.headers['content-type'], 'application/json');
    assert.equal(request!.beamline, 'alvra');
  });

  it('evaluates msg, num, json and env typed inputs, and msg.payload keys override them', async () => {
    process.env.SFDAQ_TEST_PGROUP = 'p17502';
    const params = {
      pgroup: { value: 'SFDAQ_TEST_PGROUP', type: 'env' },
      start_pulseid: { value: '1000', type: 'num' },
      stop_pulseid: { value: 'stop', type: 'msg' },
      pv_list: { value: '["ELCOMAT:X"]', type: 'json' },
      user_tag: { value: 'dialog', type: 'str' },
      append_user_tag_to_data_dir: { value: 'true', type: 'bool' },
    };
    try {
      await helper.load(NODES, flow(sim, [{ id: 'call', operation: 'retrieve_from_buffers', params }]));
      const out = nextMessage<Msg>(helper.getNode('out'));
      helper.getNode('call').receive({ stop: 1100, payload: { user_tag: 'from_msg' } });
      const msg = await out;
      assert.deepEqual((msg.payload as Record<string, unknown>).files, ['/sf/alvra/data/p17502/raw/run0001-from_msg/data/acq0001.PVDATA.h5']);
      assert.deepEqual(sim.requests.at(-1)!.body, {
        pgroup: 'p17502',
        start_pulseid: 1000,
        stop_pulseid: 1100,
        pv_list: ['ELCOMAT:X'],
        user_tag: 'from_msg',
        append_user_tag_to_data_dir: true,
      });
    } finally {
      // A failed assertion must not leave the variable for later tests.
      delete process.env.SFDAQ_TEST_PGROUP;
    }
  });

  it('takes the operation from msg.operation when the node leaves it open', async () => {
    await helper.load(NODES, flow(sim, [{ id: 'call', operation: '' }]));
    const out = nextMessage<Msg>(helper.getNode('out'));
    helper.getNode('call').receive({ operation: 'get_detector_settings', payload: { detector_name: 'JF02T09V03' } });
    const msg = await out;
    assert.equal((msg.payload as { settings: Record<string, unknown> }).settings.gain_mode, 'dynamic');
    assert.equal((msg.sfdaq as Record<string, unknown>).broker, 'slow');
  });

  describe('errors reach a Catch node', () => {
    async function caughtFor(calls: Flow, input: Msg, broker: Record<string, unknown> = {}): Promise<Msg> {
      await helper.load(NODES, flow(sim, calls, broker));
      const caught = nextMessage<Msg>(helper.getNode('caught'));
      helper.getNode('call').receive(input);
      return caught;
    }

    it('a failure reply, with the broker message and exception', async () => {
      const msg = await caughtFor([{ id: 'call', operation: 'power_on_detector' }], { payload: { detector_name: 'JF01T03V01' } });
      assert.equal(msg.error!.message, 'power_on_detector failed: JF01T03V01 not belongs to the alvra (RuntimeError)');
      assert.equal(msg.error!.source!.id, 'call');
      assert.deepEqual(msg.payload, { detector_name: 'JF01T03V01' }, 'the payload stays as it came in');
    });

    it('a validation error, with nothing sent', async () => {
      const msg = await caughtFor([{ id: 'call', operation: 'retrieve_from_buffers' }], {
        payload: { pgroup: 'p17502', start_pulseid: 10, stop_pulseid: 70_012 },
      });
      assert.match(msg.error!.message, /at most 60001 pulses; stop_pulseid - start_pulseid is 70002/);
      assert.equal(sim.requests.length, 0);
    });

    it('no operation chosen and none in msg.operation', async () => {
      const msg = await caughtFor([{ id: 'call', operation: '' }], { payload: {} });
      assert.equal(msg.error!.message, 'no operation: choose one in the node or set msg.operation');
      assert.match(catalog('de').errors.noOperation, /^keine Operation/);
    });

    it('no broker configuration', async () => {
      const msg = await caughtFor([{ id: 'call', operation: 'get_pvlist', broker: 'missing' }], {});
      assert.equal(msg.error!.message, 'the chosen sfdaq-broker configuration (missing) is missing or disabled: open the node and choose another');
    });

    it('a broker URL that is not a URL', async () => {
      const msg = await caughtFor([{ id: 'call', operation: 'get_pvlist' }], {}, { fastUrl: 'sf-daq:10002' });
      assert.match(msg.error!.message, /the fast broker URL must start with http:\/\/ or https:\/\//);
    });

    it('a timeout set by msg.timeout, in seconds like every timeout (fractions allowed)', async () => {
      sim.delays.set('get_pvlist', 400);
      const msg = await caughtFor([{ id: 'call', operation: 'get_pvlist' }], { timeout: 0.05 });
      assert.match(msg.error!.message, /no reply from the fast broker at .* within 0\.05 s$/);
    });

    it('copy_user_files keeps the partial result on the msg the Catch node gets', async () => {
      sim.pgroup('alvra', 'p17502')!.runs.set(1, { tag: undefined, acquisitions: 1, scanSteps: [], files: [], aux: [] });
      sim.pgroup('alvra', 'p17502')!.lastRun = 1;
      const msg = await caughtFor([{ id: 'call', operation: 'copy_user_files' }], {
        payload: { pgroup: 'p17502', run_number: 1, files: ['/sf/alvra/data/p17502/res/test/test2.json', '/missing.json'] },
      });
      assert.match(msg.error!.message, /^copy_user_files failed for 1 of 2 file\(s\): \/missing\.json/);
      const payload = msg.payload as { copied: unknown[]; failed: unknown[] };
      assert.deepEqual(payload.copied, [
        { source: '/sf/alvra/data/p17502/res/test/test2.json', destination: '/sf/alvra/data/p17502/raw/run0001/aux/test2.json' },
      ]);
      assert.deepEqual(payload.failed, [{ file: '/missing.json', reason: 'file "/missing.json" does not exist' }]);
    });
  });

  it('close_pgroup_writing runs only with msg.confirm equal to the pgroup', async () => {
    await helper.load(NODES, flow(sim, [{ id: 'call', operation: 'close_pgroup_writing', params: { pgroup: { value: 'p12345', type: 'str' } } }]));
    const caught = nextMessage<Msg>(helper.getNode('caught'));
    helper.getNode('call').receive({ confirm: 'p17502' });
    assert.match((await caught).error!.message, /irreversible: set the confirmation \(msg.confirm\) to the pgroup "p12345"/);
    assert.equal(sim.pgroup('alvra', 'p12345')!.closed, false);
    assert.equal(sim.requests.length, 0);
    const out = nextMessage<Msg>(helper.getNode('out'));
    helper.getNode('call').receive({ confirm: 'p12345' });
    assert.equal(((await out).payload as Record<string, unknown>).message, 'p12345 closed for writing');
    assert.equal(sim.pgroup('alvra', 'p12345')!.closed, true);
  });

  it('close_pgroup_writing is never chosen by msg.operation alone', async () => {
    await helper.load(NODES, flow(sim, [{ id: 'call', operation: '', params: {} }]));
    const caught = nextMessage<Msg>(helper.getNode('caught'));
    helper.getNode('call').receive({ operation: 'close_pgroup_writing', payload: { pgroup: 'p12345' }, confirm: 'p12345' });
    assert.match((await caught).error!.message, /close_pgroup_writing cannot be undone: choose it in the node, not by msg.operation/);
    assert.equal(sim.pgroup('alvra', 'p12345')!.closed, false);
    assert.equal(sim.requests.length, 0);
  });

  it('close_pgroup_writing takes msg.confirm only as a string', async () => {
    await helper.load(NODES, flow(sim, [{ id: 'call', operation: 'close_pgroup_writing', params: { pgroup: { value: 'p12345', type: 'str' } } }]));
    const caughtArray = nextMessage<Msg>(helper.getNode('caught'));
    helper.getNode('call').receive({ confirm: ['p12345'] });
    assert.match((await caughtArray).error!.message, /irreversible: set the confirmation \(msg.confirm\)/);
    assert.equal(sim.pgroup('alvra', 'p12345')!.closed, false);
    assert.equal(sim.requests.length, 0);
  });

  it('queues concurrent input from several nodes: one request at a time, in order', async () => {
    sim.delays.set('advance_run_number', 10);
    await loadRunNumberCalls();
    const seen = collect<Msg>(helper.getNode('out'));
    for (let i = 0; i < 6; i += 1) helper.getNode('call').receive({ step: i });
    helper.getNode('call2').receive({ step: 6 });
    await waitFor(() => seen.length === 7, 5000, 'seven replies');
    assert.deepEqual(
      seen.map((m) => (m.payload as { run_number: number }).run_number),
      [1, 2, 3, 4, 5, 6, 6],
    );
    assert.deepEqual(
      seen.map((m) => m.step),
      [0, 1, 2, 3, 4, 5, 6],
    );
    assert.equal(sim.overlaps, 0);
  });

  it('shows the run number in its status, "busy" only for a slow call, and no repeated updates', async () => {
    await helper.load(NODES, flow(sim, [{ id: 'call', operation: 'get_current_run_number', params: { pgroup: { value: 'p17502', type: 'str' } } }]));
    const call = helper.getNode('call');
    const statuses: Array<Record<string, unknown>> = [];
    call.on('call:status', (c: { args: [Record<string, unknown>] }) => statuses.push(c.args[0]));
    const seen = collect<Msg>(helper.getNode('out'));
    call.receive({});
    await waitFor(() => seen.length === 1, 2000, 'the first reply');
    call.receive({});
    await waitFor(() => seen.length === 2, 2000, 'the second reply');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(statuses, [{ fill: 'green', shape: 'dot', text: 'run 0' }], 'one status for two identical quick calls');
    sim.delays.set('get_current_run_number', 400);
    sim.pgroup('alvra', 'p17502')!.lastRun = 3;
    call.receive({});
    await waitFor(() => seen.length === 3, 3000, 'the slow reply');
    await waitFor(() => statuses.length === 3, 1000, 'busy and done');
    assert.deepEqual(statuses.slice(1), [
      { fill: 'blue', shape: 'dot', text: 'get_current_run_number' },
      { fill: 'green', shape: 'dot', text: 'run 3' },
    ]);
  });

  it('shows a failure as a red status and clears it with the next success', async () => {
    await helper.load(NODES, flow(sim, [{ id: 'call', operation: 'get_current_run_number', params: { pgroup: { value: 'p17502', type: 'str' } } }]));
    const call = helper.getNode('call');
    const statuses: Array<Record<string, unknown>> = [];
    call.on('call:status', (c: { args: [Record<string, unknown>] }) => statuses.push(c.args[0]));
    sim.failNext('get_current_run_number', 'disk full', 'OSError');
    const caught = nextMessage<Msg>(helper.getNode('caught'));
    call.receive({});
    assert.match((await caught).error!.message, /disk full \(OSError\)/);
    assert.deepEqual(statuses, [{ fill: 'red', shape: 'ring', text: 'disk full (OSError)' }], 'the reason, not the operation name');
    const out = nextMessage<Msg>(helper.getNode('out'));
    call.receive({});
    await out;
    assert.deepEqual(statuses.at(-1), { fill: 'green', shape: 'dot', text: 'run 0' }, 'the error does not outlive a good call');
  });

  it('sets no status once closed, even when a call it sent finishes later on the shared client', async () => {
    sim.delays.set('get_pvlist', 300);
    await helper.load(
      NODES,
      flow(sim, [
        { id: 'call', operation: 'get_pvlist' },
        { id: 'call2', operation: 'get_pvlist' },
      ]),
    );
    const call = helper.getNode('call');
    call.receive({});
    await waitFor(() => sim.requests.length === 1, 2000, 'the request to reach the broker');
    await (call as unknown as { close(removed: boolean): Promise<void> }).close(true);
    const after: unknown[] = [];
    call.on('call:status', (c: { args: unknown[] }) => after.push(c.args[0]));
    const client = (helper.getNode('broker') as unknown as { clients: { current?: { pending(broker: string): number } } }).clients.current!;
    await waitFor(() => client.pending('fast') === 0, 3000, "the closed node's call to finish");
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(after, [], 'no status from a closed node');
  });

  it('redeploys without leaking connections or handles', async () => {
    const handles = (): number => process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap').length;
    const once = async (): Promise<void> => {
      await helper.load(NODES, flow(sim, [{ id: 'call', operation: 'get_pvlist' }]));
      const out = nextMessage<Msg>(helper.getNode('out'));
      helper.getNode('call').receive({});
      await out;
      await helper.unload();
    };
    await once();
    await waitFor(() => sim.openConnections === 0, 2000, 'no open connection');
    const before = handles();
    for (let i = 0; i < 5; i += 1) await once();
    await waitFor(() => sim.openConnections === 0, 2000, 'no open connection');
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(handles() <= before + 1, `active resources grew from ${before} to ${handles()}`);
    assert.equal(sim.requests.length, 6);
  });

  it('serves the route table to the editor (GET /sfdaq/routes)', async () => {
    await helper.startServer();
    try {
      await helper.load(NODES, flow(sim, [{ id: 'call', operation: 'get_pvlist' }]));
      const request = helper.request() as { get(path: string): { expect(code: number): Promise<{ body: Array<{ operation: string }> }> } };
      const res = await request.get('/sfdaq/routes').expect(200);
      assert.deepEqual(
        res.body.map((r) => r.operation),
        ROUTES.map((r) => r.operation),
      );
    } finally {
      await helper.unload();
      await helper.stopServer();
    }
  });

  it("wired straight into another sfdaq-call, a reply is not taken as the next call's parameters (also when cloned to two wires)", async () => {
    const pgroup = { pgroup: { value: 'p17502', type: 'str' } };
    await helper.load(
      NODES,
      flow(sim, [
        { id: 'call', operation: 'advance_run_number', params: pgroup, wires: [['call2', 'call3']] },
        { id: 'call2', operation: 'get_current_run_number', params: pgroup },
        { id: 'call3', operation: 'get_current_run_number', params: pgroup },
      ]),
    );
    let caught: Msg | undefined;
    helper.getNode('caught').on('input', (msg: Msg) => (caught = msg));
    const seen = collect<Msg>(helper.getNode('out'));
    helper.getNode('call').receive({ payload: 1 });
    await waitFor(() => seen.length === 2 || caught !== undefined, 3000, 'both replies');
    assert.equal(caught?.error?.message, undefined);
    assert.deepEqual(
      seen.map((m) => [m.topic, (m.payload as { run_number: number }).run_number]),
      [
        ['get_current_run_number', 1],
        ['get_current_run_number', 1],
      ],
    );
  });

  it('says at debug level (no warning) when it left out a payload that is an earlier reply, and not for a payload of its own', async () => {
    await loadRunNumberCalls();
    const debugs: string[] = [];
    const warnings: string[] = [];
    helper.getNode('call2').on('call:debug', (c: { args: [string] }) => debugs.push(c.args[0]));
    helper.getNode('call2').on('call:warn', (c: { args: [string] }) => warnings.push(c.args[0]));
    const seen = collect<Msg>(helper.getNode('out'));
    helper.getNode('call').receive({});
    await waitFor(() => seen.length === 1, 3000, 'the first reply');
    const reply = seen[0]!.payload as Record<string, unknown>;
    // A function node's unchanged copy ({...msg.payload}) keeps the mark; a payload it builds has none.
    helper.getNode('call2').receive({ payload: { ...reply } });
    await waitFor(() => seen.length === 2, 3000, 'the chained call');
    helper.getNode('call2').receive({ payload: { pgroup: 'p17502' } });
    await waitFor(() => seen.length === 3, 3000, 'the call with a payload of its own');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(debugs, [
      'get_current_run_number: msg.payload is the unchanged reply of an earlier call, so its keys were not sent as parameters (change it to send them)',
    ]);
    assert.deepEqual(warnings, []);
  });

  it('refuses a msg.timeout a timer cannot hold (1e12 s, Infinity) or given as text, sending nothing', async () => {
    for (const timeout of [1e12, Number.POSITIVE_INFINITY, Number.NaN, -1, 'soon', '5']) {
      await helper.load(NODES, flow(sim, [{ id: 'call', operation: 'get_pvlist' }]));
      const caught = nextMessage<Msg>(helper.getNode('caught'));
      helper.getNode('call').receive({ timeout });
      const err = (await caught).error as { message: string; code?: string };
      assert.equal(err.code, 'BAD_INPUT');
      assert.match(err.message, /^msg\.timeout must be a number of seconds from 0\.001 to 86400/);
      await helper.unload();
    }
    assert.equal(sim.requests.length, 0);
  });

  it('shows "queued" while a call waits for the broker, not the busy dot of the call ahead', async () => {
    sim.delays.set('take_pedestal', 700);
    await helper.load(
      NODES,
      flow(sim, [
        {
          id: 'call',
          operation: 'take_pedestal',
          params: { pgroup: { value: 'p17502', type: 'str' }, detectors: { value: '["JF02T09V03"]', type: 'json' } },
        },
        { id: 'call2', operation: 'get_pvlist' },
      ]),
    );
    const statuses: Array<Record<string, unknown>> = [];
    helper.getNode('call2').on('call:status', (c: { args: [Record<string, unknown>] }) => statuses.push(c.args[0]));
    const seen = collect<Msg>(helper.getNode('out'));
    helper.getNode('call').receive({});
    await waitFor(() => sim.requests.length === 1, 2000, 'the pedestal to be sent');
    helper.getNode('call2').receive({});
    await waitFor(() => seen.length === 2, 5000, 'both replies');
    assert.deepEqual(statuses, [
      { fill: 'yellow', shape: 'ring', text: 'queued (1 ahead)' },
      { fill: 'green', shape: 'dot', text: 'get_pvlist' },
    ]);
  });

  it('a reply nested thousands deep reaches the Catch node as an error, with the output wired to two nodes', async () => {
    const deep = `{"status":"ok","pv_list":${'['.repeat(2500)}${']'.repeat(2500)}}`;
    const server = await fixedServer(200, 'application/json', deep);
    try {
      await helper.load(NODES, [
        ...flow(sim, [{ id: 'call', operation: 'get_pvlist', wires: [['out', 'out2']] }], { fastUrl: server.url, slowUrl: '' }),
        { id: 'out2', z: 'tab', type: 'helper' },
      ]);
      const caught = nextMessage<Msg>(helper.getNode('caught'));
      helper.getNode('call').receive({});
      const err = (await caught).error as { message: string; code?: string };
      assert.equal(err.code, 'TOO_LARGE');
      assert.match(err.message, /nested more than 64 levels deep/);
    } finally {
      await server.close();
    }
  });
});
