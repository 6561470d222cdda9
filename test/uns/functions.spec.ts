import assert from 'node:assert/strict';
import path from 'node:path';
import { listExamples, type FlowNode } from '../../src/cli/example-flows';
import { collect, helper, waitFor } from '../helpers/red';

const functionNode = require('@node-red/nodes/core/function/10-function.js') as never;
const EXAMPLES = listExamples(path.join(__dirname, '..', '..', 'examples')).filter((e) => e.system === 'UNS');

interface Published {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
}

/** Load one function node of a UNS example alone, its output into a helper node. */
async function loadFunction(title: string, name: string): Promise<{ send(msg: Record<string, unknown>): void; out: Array<Record<string, unknown>> }> {
  const example = EXAMPLES.find((e) => e.title === title);
  assert.ok(example, title);
  const fn = example.nodes.find((n) => n.type === 'function' && n.name === name);
  assert.ok(fn, `${title} has a function "${name}"`);
  const flow: FlowNode[] = [
    { id: 't', type: 'tab', label: 'test' },
    { ...fn, id: 'fn', z: 't', wires: [['out']] },
    { id: 'out', type: 'helper', z: 't' },
  ];
  await helper.load([functionNode], flow as never);
  const out = collect<Record<string, unknown>>(helper.getNode('out'));
  return { send: (msg) => helper.getNode('fn').receive(msg), out };
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 50));
const byTopic = (out: Array<Record<string, unknown>>): Map<string, Published> =>
  new Map(out.map((m) => [String(m.topic), m as unknown as Published]));
const body = (m: Published | undefined): Record<string, unknown> => JSON.parse(String(m?.payload)) as Record<string, unknown>;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const BPWIN = 'labwire/lab/floor-1/line-1/bpwin-1';

describe('the UNS examples: what each "to the namespace" function publishes', () => {
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(() => helper.unload());

  it('BPWin: state, info and metrics retained at QoS 1 with time and unit, and only when they change', async () => {
    const { send, out } = await loadFunction('01 - BPWin into the namespace', 'to the namespace');
    const stats = { Session: true, Machine_Status: 'Active', Job_Yield: 97.5, Actual_DPH: 1200, Passed_Device: 39, Failed_Device: 1 };
    send({ topic: 'job-stats', payload: stats });
    send({ topic: 'version', payload: { API_Version: '1.0', BPWin_Version: 'V8.0.1' } });
    send({ topic: 'machine-name', payload: { Type: 'APS', Description: '4000 APS', Serial_Number: 'H39' } });
    await waitFor(() => out.length === 6, 2000, 'state, four metrics and info');
    const seen = byTopic(out);
    assert.deepEqual(
      [...seen.values()].map((m) => [m.qos, m.retain]),
      Array(6).fill([1, true]),
    );
    assert.deepEqual({ ...body(seen.get(`${BPWIN}/state`)), ts: 'ts' }, { ts: 'ts', state: 'active', edge: 'edge-1', detail: 'job session' });
    assert.deepEqual({ ...body(seen.get(`${BPWIN}/metric/yield`)), ts: 'ts' }, { ts: 'ts', value: 97.5, unit: '%' });
    assert.equal(body(seen.get(`${BPWIN}/metric/throughput`)).unit, 'devices/h');
    assert.match(String(body(seen.get(`${BPWIN}/metric/passed`)).ts), ISO);
    assert.deepEqual(
      { ...body(seen.get(`${BPWIN}/info`)), ts: 'ts' },
      { ts: 'ts', edge: 'edge-1', system: 'BPWin', software: 'BPWin V8.0.1', api: '1.0', model: '4000 APS', serial: 'H39' },
    );

    send({ topic: 'job-stats', payload: stats });
    send({ topic: 'job-stats', payload: { ...stats, Job_Yield: 97.6, Passed_Device: 40 } });
    await waitFor(() => out.length === 8, 2000, 'the two changed metrics');
    await settle();
    assert.deepEqual(
      out.slice(6).map((m) => m.topic),
      [`${BPWIN}/metric/yield`, `${BPWIN}/metric/passed`],
    );
  });

  it('BPWin: a reading with missing or non-numeric figures publishes no metric for them, and nothing breaks', async () => {
    const { send, out } = await loadFunction('01 - BPWin into the namespace', 'to the namespace');
    send({ topic: 'job-stats', payload: { Session: true, Machine_Status: 'Paused', Job_Yield: Number.NaN, Actual_DPH: '12', Passed_Device: null } });
    send({ topic: 'job-stats', payload: null });
    send({ topic: 'SocketStatus', payload: { note: 'SocketStatus', status: 'Active', siteSocket: '1A' } });
    send({ topic: 'Job' });
    send({ payload: 42 });
    await settle();
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(
      out.map((m) => `${String(m.topic).slice(BPWIN.length)} ${JSON.parse(String(m.payload)).state ?? ''}`),
      ['/state paused'],
      'the figures that are numbers would be published; the rest is ignored',
    );
  });

  it('BPWin: an error from the Catch node makes the state unreachable, with the reason', async () => {
    const { send, out } = await loadFunction('01 - BPWin into the namespace', 'to the namespace');
    send({ topic: 'job-stats', error: { message: 'BPWin did not answer on 10.0.0.5:8080 (ECONNREFUSED)' } });
    await waitFor(() => out.length === 1, 2000, 'the state');
    assert.deepEqual(
      { ...body(out[0] as unknown as Published), ts: 'ts' },
      { ts: 'ts', state: 'unreachable', edge: 'edge-1', detail: 'BPWin did not answer on 10.0.0.5:8080 (ECONNREFUSED)' },
    );
  });

  it('BPWin: a device result and a job event are published once, not retained, at the time BPWin gave', async () => {
    const { send, out } = await loadFunction('01 - BPWin into the namespace', 'to the namespace');
    const time = Date.UTC(2026, 0, 2, 3, 4, 5);
    send({
      topic: 'SocketStatus',
      payload: { passed: false, siteSocket: '2B', resultCode: 26, description: 'Verify failed', socketSerialNumber: 'A1', time },
    });
    send({ topic: 'Job', payload: { outcome: 'soft-abort', code: 1000, time } });
    await waitFor(() => out.length === 2, 2000, 'result and event');
    const [result, job] = out as unknown as Published[];
    assert.deepEqual([result!.topic, result!.retain, job!.topic, job!.retain], [`${BPWIN}/result`, false, `${BPWIN}/event/job`, false]);
    assert.deepEqual(body(result), {
      ts: '2026-01-02T03:04:05.000Z',
      siteSocket: '2B',
      pass: false,
      resultCode: 26,
      description: 'Verify failed',
      socketSerial: 'A1',
    });
    assert.deepEqual(body(job), { ts: '2026-01-02T03:04:05.000Z', outcome: 'soft-abort', code: 1000 });
  });

  it('BPWin: when the broker link turns green it publishes the newest retained message of each topic again, and nothing else', async () => {
    const { send, out } = await loadFunction('01 - BPWin into the namespace', 'to the namespace');
    send({ topic: 'job-stats', payload: { Session: false } });
    send({ topic: 'job-stats', payload: { Session: true, Machine_Status: 'Active', Job_Yield: 50 } });
    send({ topic: 'SocketStatus', payload: { passed: true, siteSocket: '1A', resultCode: 0 } });
    await waitFor(() => out.length === 4, 2000, 'idle, active, yield, result');
    send({ status: { fill: 'red', shape: 'ring', text: 'disconnected', source: { type: 'mqtt out' } } });
    send({ status: { fill: 'green', shape: 'dot', text: 'connected', source: { type: 'mqtt out' } } });
    await waitFor(() => out.length === 6, 2000, 'the republished state and yield');
    await settle();
    assert.equal(out.length, 6);
    const sent = (m: Record<string, unknown>): unknown[] => [m.topic, m.payload, m.qos, m.retain];
    assert.deepEqual(out.slice(4).map(sent), out.slice(1, 3).map(sent), 'the last state and yield, as first sent (same time stamps)');
  });

  it('BPWin: UNS_PREFIX, UNS_LINE and UNS_EDGE place it in the tree', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { UNS_PREFIX: 'acme/plant-2', UNS_LINE: 'hall-b/line-4', UNS_EDGE: 'press-pc' });
    try {
      const { send, out } = await loadFunction('01 - BPWin into the namespace', 'to the namespace');
      send({ topic: 'job-stats', payload: { Session: false } });
      await waitFor(() => out.length === 1, 2000, 'the state');
      assert.equal(out[0]!.topic, 'acme/plant-2/hall-b/line-4/bpwin-1/state');
      assert.equal(body(out[0] as unknown as Published).edge, 'press-pc');
    } finally {
      for (const key of ['UNS_PREFIX', 'UNS_LINE', 'UNS_EDGE']) if (saved[key] === undefined) delete process.env[key];
      Object.assign(process.env, saved);
    }
  });

  it('Semi-ATE: a tested part becomes a result with units and the lot yield a metric; a lot event when it is unloaded', async () => {
    const { send, out } = await loadFunction('02 - Semi-ATE into the namespace', 'to the namespace');
    const base = 'labwire/lab/floor-1/line-1/semiate-1';
    send({
      topic: 'state',
      payload: 'ready',
      previous: 'loading',
      tester: { sites: ['0', '1'], transport: 'websocket', masterConfiguration: { device_id: 'SCT-1' } },
    });
    send({
      topic: 'site1',
      payload: { site: '1', partId: '7', pass: true, hardBin: 1, softBin: 1, testTime: 12.5 },
      yield: { total: { tested: 3, yield: 66.666 } },
      lot: 'LOT-1',
    });
    send({ topic: 'state', payload: 'unloading', previous: 'ready', tester: {} });
    send({ topic: 'state', payload: 'initialized', previous: 'unloading', tester: {} });
    await waitFor(() => out.length === 8, 2000, 'state, info, result, two metrics, two states, lot event');
    const seen = byTopic(out);
    assert.deepEqual(
      { ...body(seen.get(`${base}/result`)), ts: 'ts' },
      {
        ts: 'ts',
        lot: 'LOT-1',
        site: '1',
        partId: '7',
        pass: true,
        hardBin: 1,
        softBin: 1,
        testTime: 12.5,
        units: { testTime: 'ms' },
      },
    );
    assert.equal(body(seen.get(`${base}/metric/yield`)).value, 66.7);
    assert.deepEqual(
      { ...body(seen.get(`${base}/event/lot`)), ts: 'ts' },
      { ts: 'ts', lot: 'LOT-1', tested: { value: 3, unit: 'parts' }, yield: { value: 66.7, unit: '%' } },
    );
    assert.equal(seen.get(`${base}/event/lot`)!.retain, false);
  });

  it('Propeller: each board state follows its node status colour; the Launcher port list is a metric and an event', async () => {
    const { send, out } = await loadFunction('03 - Propeller into the namespace', 'to the namespace');
    const line = 'labwire/lab/floor-1/line-1';
    send({ status: { fill: 'green', shape: 'dot', text: 'connected', source: { type: 'propeller-ports', name: 'launcher ports' } } });
    send({ status: { fill: 'red', shape: 'ring', text: 'port not found', source: { type: 'propeller-ports', name: 'serial board' } } });
    send({ status: { fill: 'green', text: 'x', source: { type: 'inject', name: 'someone else' } } });
    send({ topic: 'ports', payload: ['COM3'] });
    send({ topic: 'ports', payload: ['COM3', 'wx-1'] });
    await waitFor(() => out.length === 7, 2000, 'two states, two infos, two metrics, one event');
    const seen = byTopic(out);
    assert.equal(body(seen.get(`${line}/propeller-launcher-1/state`)).state, 'ready');
    assert.deepEqual(
      { ...body(seen.get(`${line}/propeller-serial-1/state`)), ts: 'ts' },
      { ts: 'ts', state: 'error', edge: 'edge-1', detail: 'port not found' },
    );
    assert.deepEqual({ ...body(seen.get(`${line}/propeller-launcher-1/event/ports`)), ts: 'ts' }, { ts: 'ts', added: ['wx-1'], removed: [] });
    assert.equal(body(seen.get(`${line}/propeller-launcher-1/metric/ports`)).value, 2);
  });

  it('Propeller: a load result that does not say its board (msg.board) is not published, and the flow is told why', async () => {
    const { send, out } = await loadFunction('03 - Propeller into the namespace', 'to the namespace');
    const warnings = collect<{ args: unknown[] }>({ on: (_e: 'input', fn) => helper.getNode('fn').on('call:warn', fn) });
    const result = { success: true, port: 'COM3', action: 'RAM', log: [], durationMs: 812.4 };
    send({ topic: 'load', payload: result });
    send({ topic: 'load', payload: result, board: 'someone-else' });
    send({ topic: 'load', payload: result, board: 'propeller-launcher-1' });
    await waitFor(() => out.length === 1, 2000, 'the one load event');
    await settle();
    assert.deepEqual(
      { ...body(out[0] as unknown as Published), ts: 'ts' },
      {
        ts: 'ts',
        outcome: 'ok',
        action: 'RAM',
        port: 'COM3',
        duration: { value: 0.812, unit: 's' },
      },
    );
    assert.equal(warnings.length, 2);
    assert.match(String(warnings[0]!.args[0]), /msg\.board must be propeller-launcher-1 or propeller-serial-1/);
  });

  it('sf-daq and neoEBV: state from what is running or open, a run or marks event when the count moves on', async () => {
    const daq = await loadFunction('04 - SwissFEL DAQ into the namespace', 'to the namespace');
    daq.send({ topic: 'get_running_detectors', payload: { detectors: ['JF02T09V03'] } });
    daq.send({ topic: 'get_current_run_number', payload: { run_number: 22 } });
    daq.send({ topic: 'get_current_run_number', payload: { run_number: 23 } });
    await waitFor(() => daq.out.length === 6, 2000, 'state, metric, info, two run numbers, run event');
    const seen = byTopic(daq.out);
    assert.equal(body(seen.get('labwire/lab/floor-1/line-1/sfdaq-1/state')).detail, 'JF02T09V03');
    assert.deepEqual({ ...body(seen.get('labwire/lab/floor-1/line-1/sfdaq-1/event/run')), ts: 'ts' }, { ts: 'ts', run: 23, pgroup: 'p17502' });
    await helper.unload();

    const viewer = await loadFunction('05 - neoEBV into the namespace', 'to the namespace');
    viewer.send({ rpc: { method: 'pynebv.FileList.items' }, payload: [{ key: 'sample.oas@1' }] });
    viewer.send({ rpc: { method: 'pynebv.MarkList.items' }, payload: [] });
    viewer.send({ rpc: { method: 'pynebv.MarkList.items' }, payload: [{}, {}] });
    viewer.send({ rpc: { method: 'pynebv.MarkList.items' }, payload: 'not a list' });
    await waitFor(() => viewer.out.length === 6, 2000, 'state, files, info, marks ×2, marks event');
    await settle();
    const marks = byTopic(viewer.out);
    assert.equal(body(marks.get('labwire/lab/floor-1/line-1/nebv-1/state')).state, 'viewing');
    assert.deepEqual({ ...body(marks.get('labwire/lab/floor-1/line-1/nebv-1/event/marks')), ts: 'ts' }, { ts: 'ts', added: 2, total: 2 });
    assert.equal(viewer.out.length, 6);
  });
});

describe('the UNS line overview: what it makes of the site tree', () => {
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(() => helper.unload());

  interface Row {
    path: string;
    instrument: string;
    online: boolean | null;
    level: string;
    state: string;
    yield: string;
    metrics: string;
    system: string;
    line: string;
    since: string;
    event: string;
    eventAt: string;
  }
  // Objects made in the function's sandbox have another Object prototype: compare their JSON.
  const tables = (out: Array<Record<string, unknown>>): Row[][] => out.map((m) => JSON.parse(JSON.stringify(m.payload)) as Row[]);
  const P = 'labwire/lab';

  it('draws one table for a burst: each instrument with its edge online or offline, state, yield and other metrics', async () => {
    const { send, out } = await loadFunction('10 - Line overview', 'line model');
    send({ topic: `${P}/_edge/edge-1/status`, payload: 'online' });
    send({ topic: `${P}/f/l1/bpwin-1/state`, payload: { ts: new Date().toISOString(), state: 'active', edge: 'edge-1', detail: '' } });
    send({ topic: `${P}/f/l1/bpwin-1/info`, payload: { system: 'BPWin' } });
    send({ topic: `${P}/f/l1/bpwin-1/metric/yield`, payload: { value: 97.5, unit: '%' } });
    send({ topic: `${P}/f/l1/bpwin-1/metric/throughput`, payload: { value: 1200, unit: 'devices/h' } });
    send({ topic: `${P}/f/l1/bpwin-1/metric/failed`, payload: { value: 1, unit: 'devices' } });
    send({ topic: `${P}/f/l1/bpwin-1/metric/marks`, payload: { value: 3, unit: 'marks' } });
    send({ topic: `${P}/f/l2/sfdaq-1/state`, payload: { state: 'unreachable', edge: 'edge-2' } });
    await waitFor(() => out.length === 1, 2000, 'the table');
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(out.length, 1, 'one table for the burst');
    const [rows] = tables(out);
    assert.deepEqual(
      rows!.map((r) => [r.path, r.online, r.level, r.state, r.yield, r.metrics, r.system]),
      [
        // As a person reads them: one device, and a count named like its unit said once.
        ['f/l1/bpwin-1', true, 'ok', 'active', '97.5 %', 'throughput 1200 devices/h, failed 1 device, marks 3', 'BPWin'],
        ['f/l2/sfdaq-1', null, 'alarm', 'unreachable', '', '', ''],
      ],
    );
    send({ topic: `${P}/_edge/edge-1/status`, payload: 'offline' });
    await waitFor(() => out.length === 2, 2000, 'the table after the last will');
    assert.deepEqual(
      tables(out)[1]!.map((r) => [r.instrument, r.online, r.level]),
      [
        ['bpwin-1', false, 'offline'],
        ['sfdaq-1', null, 'alarm'],
      ],
    );
  });

  it('reads lines of any depth (UNS_LINE of one or three levels) from the end of the topic', async () => {
    const { send, out } = await loadFunction('10 - Line overview', 'line model');
    send({ topic: `${P}/line-1/bpwin-1/state`, payload: { state: 'active', edge: 'e' } });
    send({ topic: `${P}/line-1/bpwin-1/metric/yield`, payload: { value: 99, unit: '%' } });
    send({ topic: `${P}/hall-b/cell-4/line-9/semiate-1/state`, payload: { state: 'testing', edge: 'e' } });
    send({ topic: `${P}/hall-b/cell-4/line-9/semiate-1/info`, payload: { system: 'Semi-ATE' } });
    send({ topic: `${P}/hall-b/cell-4/line-9/semiate-1/event/lot`, payload: { lot: 'L1' } });
    await waitFor(() => out.length === 1, 2000, 'the table');
    assert.deepEqual(
      tables(out)[0]!.map((r) => [r.path, r.line, r.instrument, r.state, r.yield, r.system, r.event]),
      [
        ['hall-b/cell-4/line-9/semiate-1', 'hall-b/cell-4/line-9', 'semiate-1', 'testing', '', 'Semi-ATE', 'lot'],
        ['line-1/bpwin-1', 'line-1', 'bpwin-1', 'active', '99 %', '', ''],
      ],
    );
  });

  it('gives times as ISO 8601 for the browser to show in its own zone, and an event with its outcome', async () => {
    const { send, out } = await loadFunction('10 - Line overview', 'line model');
    send({ topic: `${P}/f/l/propeller-serial-1/state`, payload: { ts: '2026-03-02T09:14:05.120Z', state: 'running', edge: 'e' } });
    send({ topic: `${P}/f/l/propeller-serial-1/event/load`, payload: { ts: '2026-03-02T09:15:00.000Z', outcome: 'failed' } });
    send({ topic: `${P}/f/l/bpwin-1/state`, payload: { ts: 'yesterday', state: 'idle', edge: 'e' } });
    await waitFor(() => out.length === 1, 2000, 'the table');
    assert.deepEqual(
      tables(out)[0]!.map((r) => [r.instrument, r.since, r.event, r.eventAt]),
      [
        ['bpwin-1', '', '', ''],
        ['propeller-serial-1', '2026-03-02T09:14:05.120Z', 'load failed', '2026-03-02T09:15:00.000Z'],
      ],
    );
  });

  it('ignores what is not the tree: other prefixes, wrong depths, payloads that are not JSON objects', async () => {
    const { send, out } = await loadFunction('10 - Line overview', 'line model');
    for (const [topic, payload] of [
      ['other/site/f/l/x/state', { state: 'a' }],
      [`${P}/f/l/x`, { state: 'a' }],
      [`${P}/f/l/x/state/extra`, { state: 'a' }],
      [`${P}/f/l/x/state`, 'not json'],
      [`${P}/f/l/x/state`, [1, 2]],
      [`${P}/f/l/x/state`, Buffer.from('{"state":"a"}')],
      [`${P}/f/l/x/metric/yield`, { value: 'high' }],
      [`${P}/_edge/e/other`, 'online'],
      [undefined, { state: 'a' }],
    ] as Array<[unknown, unknown]>)
      send({ topic, payload });
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(tables(out).flat(), [], 'no instrument made up from these');
  });

  it('keeps at most 500 instruments, says so, and drops an instrument whose retained state is cleared', async () => {
    const { send, out } = await loadFunction('10 - Line overview', 'line model');
    const statuses = collect<{ args: Array<{ text?: string }> }>({ on: (_e: 'input', fn) => helper.getNode('fn').on('call:status', fn) });
    for (let i = 0; i < 600; i += 1) send({ topic: `${P}/f/l/i${String(i).padStart(3, '0')}/state`, payload: { state: 'idle', edge: 'e' } });
    await waitFor(() => (out.at(-1)?.payload as Row[] | undefined)?.length === 500, 5000, '500 rows');
    assert.ok(statuses.some((s) => /more than 500 instruments/.test(String(s.args[0]?.text))));
    send({ topic: `${P}/f/l/i000/state`, payload: '' });
    await waitFor(() => (out.at(-1)?.payload as Row[]).length === 499, 2000, 'the cleared instrument gone');
    assert.ok(!(out.at(-1)?.payload as Row[]).some((r) => r.instrument === 'i000'));
  });
});
