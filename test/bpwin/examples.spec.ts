import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { listExamples, type FlowNode } from '../../src/cli/example-flows';
import type { RunningSimulator } from '../../src/simulators/simulator';
import { BpwinSimulator, runningSimulator, simulator } from '../../src/simulators/bpwin';
import { collect, helper, nextMessage, waitFor } from '../helpers/red';
import { BPWIN_NODES, runtimeWithSimulator } from './flow';

const CORE = [
  require('@node-red/nodes/core/common/20-inject.js'),
  require('@node-red/nodes/core/common/90-comment.js'),
  require('@node-red/nodes/core/function/10-function.js'),
  require('@node-red/nodes/core/function/10-switch.js'),
  require('@node-red/nodes/core/function/80-template.js'),
  require('@node-red/nodes/core/parsers/70-CSV.js'),
  require('@node-red/nodes/core/storage/10-file.js'),
];

const EXAMPLES = listExamples(path.join(__dirname, '..', '..', 'examples')).filter((e) => e.system === 'BPWin');
const DASHBOARD_CONFIG = new Set(['ui-base', 'ui-theme', 'ui-page', 'ui-group']);

interface Msg {
  topic?: string;
  payload: unknown;
}

/**
 * An example as the test runtime can run it: config nodes pointed at the simulator through its
 * configure(), debug and dashboard widgets replaced by helper nodes with the same id (so their
 * input can be checked), the dashboard's own config nodes dropped.
 */
function runnable(
  nodes: FlowNode[],
  running: RunningSimulator,
  csvFile: string,
): { flow: FlowNode[]; credentials: Record<string, Record<string, string>> } {
  const credentials: Record<string, Record<string, string>> = {};
  const flow: FlowNode[] = [];
  for (const original of nodes) {
    const node = { ...original };
    if (DASHBOARD_CONFIG.has(node.type)) continue;
    const configured = running.configure(node);
    if (configured?.credentials) credentials[node.id] = configured.credentials;
    if (node.type === 'debug' || node.type.startsWith('ui-')) {
      flow.push({ id: node.id, type: 'helper', z: node.z, x: node.x, y: node.y, wires: [] });
      continue;
    }
    if (node.type === 'file') node.filename = csvFile;
    flow.push(node);
  }
  return { flow, credentials };
}

/** Objects made in a function node's sandbox have another Object prototype; compare their JSON. */
function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

function example(prefix: string): FlowNode[] {
  const found = EXAMPLES.find((e) => e.title.startsWith(prefix));
  assert.ok(found, `example ${prefix} exists`);
  return found.nodes;
}

describe('BPWin example flows against the simulator', function () {
  let running: RunningSimulator;
  let sim: BpwinSimulator;
  let csvFile: string;
  let csvDir: string;

  before(() => (csvDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpwin-examples-'))));
  after(() => fs.rmSync(csvDir, { recursive: true, force: true }));

  // Configured exactly as the demo does it, but without autorun so the test drives the jobs.
  runtimeWithSimulator({ passphrase: 'example-pass' }, (started) => {
    sim = started;
    running = runningSimulator(sim);
    csvFile = path.join(csvDir, 'failures.csv');
    fs.rmSync(csvFile, { force: true });
  });

  it('has the four examples, using every BPWin node type', function () {
    assert.deepEqual(
      EXAMPLES.map((e) => e.title),
      ['01 - Health and version', '02 - Job dashboard', '03 - Socket failure log', '04 - Job finished notification'],
    );
    const types = new Set(EXAMPLES.flatMap((e) => e.nodes.map((n) => n.type)));
    for (const type of ['bpwin-server', 'bpwin-request', 'bpwin-job-stats', 'bpwin-events']) assert.ok(types.has(type), type);
    for (const e of EXAMPLES)
      assert.ok(
        e.nodes.filter((n) => n.type === 'bpwin-server').every((n) => n.z === undefined),
        `${e.title}: config nodes have no z`,
      );
  });

  it('the simulator definition configures a bpwin-server and nothing else', async function () {
    const demo = await simulator.start({ options: { passphrase: 'x', 'no-autorun': true } });
    const node = { id: 'a', type: 'bpwin-server', host: 'h', port: 1 };
    assert.deepEqual(demo.configure(node), { credentials: { passphrase: 'x' } });
    assert.equal(node.host, '127.0.0.1');
    assert.notEqual(node.port, 1);
    assert.equal(demo.configure({ id: 'b', type: 'mqtt-broker' }), undefined);
    await demo.close();
  });

  it('the simulator definition refuses a --mode or --cycle it cannot run, naming the option', async function () {
    await assert.rejects(simulator.start({ options: { mode: 'robot' } }), /--mode must be aps or manual, not "robot"/);
    for (const cycle of ['abc', '0', '-5']) {
      await assert.rejects(simulator.start({ options: { cycle } }), new RegExp(`--cycle must be a time in ms greater than 0, not "${cycle}"`));
    }
  });

  it('01 answers health, version and system-info on the buttons, and says "not ready" when BPWin is gone', async function () {
    const { flow, credentials } = runnable(example('01'), running, csvFile);
    await helper.load([...BPWIN_NODES, ...CORE], flow, credentials);
    let reply = nextMessage<Msg>(helper.getNode('bp1-ok'));
    helper.getNode('bp1-health').receive({});
    assert.deepEqual((await reply).payload, { Success: 1, Message: 'BPWin is ready.', Ready: true });
    reply = nextMessage<Msg>(helper.getNode('bp1-version-out'));
    helper.getNode('bp1-version').receive({});
    assert.equal(((await reply).payload as Record<string, string>).BPWin_Version, 'V8.0.1');
    reply = nextMessage<Msg>(helper.getNode('bp1-sites-out'));
    helper.getNode('bp1-sysinfo').receive({});
    const sites = (await reply).payload as Array<{ site: number; sockets: number }>;
    assert.equal(sites.length, 4);
    assert.deepEqual(plain(sites[0]), { site: 1, serial: '43191', insertions: 26351, sockets: 4 });
    await sim.stop();
    reply = nextMessage<Msg>(helper.getNode('bp1-notready'));
    helper.getNode('bp1-health').receive({});
    assert.equal(((await reply).payload as Record<string, unknown>).Ready, false);
  });

  it('02 feeds the dashboard widgets: light tower, names, yield, times, pie and DPH', async function () {
    sim.loadJob();
    sim.beginJob(10);
    sim.programDevice('1A', 0);
    sim.programDevice('1B', 26);
    const { flow, credentials } = runnable(example('02'), running, csvFile);
    await helper.load([...BPWIN_NODES, ...CORE], flow, credentials);
    const tower = collect<Msg>(helper.getNode('bp2-tower'));
    const pie = collect<Msg>(helper.getNode('bp2-pie'));
    const dph = collect<Msg>(helper.getNode('bp2-dph'));
    const yieldText = collect<Msg>(helper.getNode('bp2-yield'));
    const machine = nextMessage<Msg>(helper.getNode('bp2-machine-text'), 5000, 'machine');
    const device = nextMessage<Msg>(helper.getNode('bp2-device-text'), 5000, 'device');
    const job = nextMessage<Msg>(helper.getNode('bp2-job-text'), 5000, 'job');
    await waitFor(() => tower.length > 0 && pie.length > 0 && dph.length >= 2, 5000, 'the widgets');
    assert.deepEqual(plain(tower[0]!.payload), { red: false, amber: false, green: true, status: 'Active' });
    assert.deepEqual(plain(pie[0]!.payload), [
      { kind: 'Passed', devices: 1 },
      { kind: 'Failed', devices: 1 },
      { kind: 'Remaining', devices: 8 },
    ]);
    // Potential first, so the chart draws the actual line on top of it.
    assert.deepEqual(
      dph.slice(0, 2).map((m) => m.topic),
      ['Potential DPH', 'Actual DPH'],
    );
    assert.equal(yieldText[0]!.payload, '50 %');
    assert.equal((await machine).payload, '4000 APS (H3911910180556)');
    assert.equal((await device).payload, 'Winbond W25N01GVZEIG');
    assert.equal((await job).payload, 'APITestBp.bp · APITestDataPattern.bin');
    sim.completeJob(0);
    await waitFor(() => (tower.at(-1)!.payload as { status: string }).status === 'No job session', 5000, 'the idle tower');
  });

  it("02 shows a yield that agrees with the pie, even for BPWin's own example reply (Job_Yield 0 with a device passed)", async function () {
    // The autohandler reply of the REST API document, word for word.
    const documented =
      '{"Machine_Status": "Active","Red_Light_On": "false","Amber_Light_On": "false","Green_Light_On": "true","Job_Yield": 0,' +
      '"Elapsed_Time": "00:00:01","Remaining_Time": "--:--:--","Idle_Time": "00:00:00","Actual_DPH": 0,"Potential_DPH": 0,' +
      '"Passed_Device": 1,"Failed_Device": 0,"Active_Device": 0,"Remaining_Device": 19}';
    const bpwin = http.createServer((req, res) => {
      res.setHeader('Content-Type', 'application/json');
      if (req.url === '/data/job-stats') res.end(documented);
      else if (req.url === '/auth') res.end('{ "Number" : 7241978785468376164 }');
      else res.end('{"Type":"APS","Description":"4000 APS","Serial_Number":"H4911810120010"}');
    });
    await new Promise<void>((resolve) => bpwin.listen(0, '127.0.0.1', resolve));
    try {
      const port = (bpwin.address() as { port: number }).port;
      const nodes = example('02').map((node) => (node.type === 'bpwin-server' ? { ...node, host: '127.0.0.1', port } : node));
      const { flow } = runnable(nodes, { ...running, configure: () => undefined }, csvFile);
      await helper.load([...BPWIN_NODES, ...CORE], flow, {});
      const yieldText = collect<Msg>(helper.getNode('bp2-yield'));
      const pie = collect<Msg>(helper.getNode('bp2-pie'));
      await waitFor(() => yieldText.length > 0 && pie.length > 0, 5000, 'the yield and the pie');
      // No failed device: no slice, so no label pointing at nothing (null keeps the kind's place and colour).
      assert.deepEqual(plain(pie[0]!.payload), [
        { kind: 'Passed', devices: 1 },
        { kind: 'Failed', devices: null },
        { kind: 'Remaining', devices: 19 },
      ]);
      assert.equal(yieldText[0]!.payload, '100 %');
    } finally {
      await helper.unload();
      bpwin.closeAllConnections();
      await new Promise((resolve) => bpwin.close(resolve));
    }
  });

  it('02 shows no yield before the first device of a job is done', async function () {
    sim.beginJob(10);
    const { flow, credentials } = runnable(example('02'), running, csvFile);
    await helper.load([...BPWIN_NODES, ...CORE], flow, credentials);
    const yieldText = collect<Msg>(helper.getNode('bp2-yield'));
    await waitFor(() => yieldText.length > 0, 5000, 'the yield');
    assert.equal(yieldText[0]!.payload, '-');
  });

  it('03 writes failed devices to CSV and alerts on the third failure in a row of one socket', async function () {
    const { flow, credentials } = runnable(example('03'), running, csvFile);
    await helper.load([...BPWIN_NODES, ...CORE], flow, credentials);
    const alerts = collect<Msg>(helper.getNode('bp3-alert'));
    await waitFor(() => sim.wsClients === 1, 3000, 'the websocket');
    sim.beginJob(20);
    sim.programDevice('2B', 26);
    sim.programDevice('2B', 28);
    sim.programDevice('2B', 0); // a pass resets the streak
    sim.programDevice('2B', 14);
    sim.programDevice('2B', 14);
    sim.programDevice('3A', 56);
    sim.programDevice('2B', 23);
    await waitFor(() => alerts.length === 1, 3000, 'the alert');
    assert.equal(
      alerts[0]!.payload,
      'Socket 2B (site 2, socket 2) failed 3 times in a row; last: 23 Invalid electronic signature in chip (device ID).',
    );
    await waitFor(() => fs.existsSync(csvFile) && fs.readFileSync(csvFile, 'utf8').trim().split('\r\n').length === 7, 3000, 'six rows and a header');
    const lines = fs.readFileSync(csvFile, 'utf8').trim().split('\r\n');
    assert.equal(lines[0], 'time,site,socket,resultCode,description,socketSerial,partNumber,aps');
    assert.match(lines[1]!, /^\d{4}-\d\d-\d\dT[^,]+,2,B,26,Device is not blank\.,A002CAB2,FVE4ASM08MLPA,H3911910180556$/);
    assert.match(lines[5]!, /,3,A,56,Some device pins are shorted together\.,/);
  });

  it('04 tells how a job ended: completed, soft abort, hard abort', async function () {
    const { flow, credentials } = runnable(example('04'), running, csvFile);
    await helper.load([...BPWIN_NODES, ...CORE], flow, credentials);
    const notes = collect<Msg>(helper.getNode('bp4-notify'));
    await waitFor(() => sim.wsClients === 1, 3000, 'the websocket');
    sim.beginJob(5);
    sim.completeJob(0);
    sim.beginJob(5);
    sim.completeJob(1000);
    sim.beginJob(5);
    sim.completeJob(1001);
    await waitFor(() => notes.length === 3, 3000, 'three notifications');
    assert.match(String(notes[0]!.payload), /^BPWin job completed at \d{4}-/);
    assert.match(String(notes[1]!.payload), /soft abort, code 1000/);
    assert.match(String(notes[2]!.payload), /ABORTED \(hard abort, code 1001\)/);
  });
});
