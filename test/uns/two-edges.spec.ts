import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import mqtt from 'mqtt';
import { BpwinSimulator, runningSimulator } from '../../src/simulators/bpwin';
import { simulator as launcher } from '../../src/simulators/launcher';
import { simulator as nebv } from '../../src/simulators/nebv';
import { startPropellerChips } from '../../src/simulators/propeller-chip';
import { simulator as semiate } from '../../src/simulators/semiate';
import { simulator as sfdaq } from '../../src/simulators/sfdaq';
import type { RunningSimulator } from '../../src/simulators/simulator';
import { chromiumPath, launchChromium } from '../helpers/chromium';
import { startSharedBroker, type SharedBroker } from './broker';
import { PREFIX, startEdge, type Edge, type EdgeOptions } from './edges';

const root = path.resolve(__dirname, '..', '..');
const artifacts = path.join(root, 'test-artifacts', 'uns');
/** Short, so the tests see a last will soon, yet long enough for a Node-RED to connect within it on a busy machine. */
const KEEPALIVE_S = 4;
const OVERVIEW = 'UNS: line overview';

interface Row {
  path: string;
  line: string;
  instrument: string;
  edge: string;
  online: boolean | null;
  state: string;
  yield: string;
  metrics: string;
  event: string;
}

async function until<T>(check: () => Promise<T | undefined | false>, ms: number, what: () => string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** What a subscriber that connects now gets: every retained message under the prefix. */
async function retainedNow(url: string): Promise<Map<string, string>> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  const seen = new Map<string, string>();
  client.on('message', (topic, payload, packet) => {
    if (packet.retain) seen.set(topic, payload.toString());
  });
  await client.subscribeAsync(`${PREFIX}/#`, { qos: 1 });
  // Retained messages come right after the subscription; a quiet second means all are in.
  let count = -1;
  while (count !== seen.size) {
    count = seen.size;
    await new Promise((r) => setTimeout(r, 1000));
  }
  await client.endAsync();
  return seen;
}

/**
 * A site split over Node-RED instances: edge A runs the BPWin and Semi-ATE examples against their
 * simulators on line 1, edge B the sf-daq, neoEBV and Propeller ones (a Launcher and a fake serial
 * board) on line 2, and a third instance runs only the line overview. They share one broker and
 * nothing else.
 */
describe('two edges, one view: the Unified Namespace across Node-RED instances', function () {
  this.timeout(240_000);
  let broker: SharedBroker;
  const simulators: RunningSimulator[] = [];
  let a: Edge;
  let b: Edge;
  let overview: Edge;
  let edgeB: EdgeOptions;
  const figures: string[] = [];

  /** What the overview showed at the last look, for the message of a wait that failed. */
  let last = '';
  const rows = async (): Promise<Row[]> => {
    const now = ((await overview.flowContext(OVERVIEW, 'line')) as Row[] | undefined) ?? [];
    last = JSON.stringify(now.map((r) => [r.instrument, r.online, r.state, r.yield]));
    return now;
  };
  const row = (all: Row[], instrument: string): Row | undefined => all.find((r) => r.instrument === instrument);
  /** Wait until the overview shows each instrument named online (true) or offline (false); its rows then. */
  const shown = (expected: Record<string, boolean>, what: string, ms = 30_000): Promise<Row[]> =>
    until(
      async () => {
        const now = await rows();
        return Object.entries(expected).every(([name, online]) => row(now, name)?.online === online) ? now : undefined;
      },
      ms,
      () => `${what} (the overview shows ${last})`,
    );
  /**
   * What the brokers promise, and no more, so a will that comes late fails the test: the will 1.5
   * keep-alives after the client's last packet (Aedes keeps to that on a timer per client), but
   * mosquitto 2.0 looks for silent clients only every few seconds, so with a 4 s keep-alive it
   * sends the will 10 to 12 s after the silence began. The silence begins at or before the moment
   * the test freezes the edge, so the time is counted from there.
   */
  const BROKER_SWEEP_MS = 8000;
  /** The broker's promise, checked where the will leaves it: at a plain MQTT subscriber. */
  const WILL_MS = KEEPALIVE_S * 1500 + BROKER_SWEEP_MS;
  /**
   * From the broker through the overview's Node-RED into its flow context, and the test's look at
   * it, on a busy 2-core machine: a separate, looser bound, so a slow overview does not pass for a late will.
   */
  const OVERVIEW_MS = 15_000;

  before(async () => {
    execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs'), '--if-needed'], { stdio: 'inherit' });
    broker = await startSharedBroker();
    const bpwin = new BpwinSimulator({ autorun: true, cycleMs: 50 });
    await bpwin.start();
    simulators.push(runningSimulator(bpwin));
    const started = await Promise.all([
      semiate.start({ options: { 'test-ms': '5' } }),
      sfdaq.start({}),
      nebv.start({}),
      launcher.start({ options: { 'step-ms': '1' } }),
      startPropellerChips({ options: { chips: '1' } }),
    ]);
    simulators.push(...started);
    const common = { simulators, broker, keepalive: KEEPALIVE_S };
    edgeB = {
      ...common,
      name: 'edge-b',
      line: 'floor-1/line-2',
      examples: ['04 - SwissFEL DAQ into the namespace', '05 - neoEBV into the namespace', '03 - Propeller into the namespace'],
    };
    [a, b, overview] = await Promise.all([
      startEdge({
        ...common,
        name: 'edge-a',
        line: 'floor-1/line-1',
        examples: ['01 - BPWin into the namespace', '02 - Semi-ATE into the namespace'],
      }),
      startEdge(edgeB),
      startEdge({ ...common, name: 'overview', line: 'floor-1/office', examples: ['10 - Line overview'] }),
    ]);
  });

  after(async () => {
    await Promise.all([a, b, overview].map((edge) => edge?.stop()));
    await Promise.all(simulators.map((s) => s.close()));
    await broker?.stop();
    if (figures.length) console.log(`      ${broker?.kind} broker; ${figures.join('; ')}`);
  });

  it('shows on the third instance every instrument of both edges: line, state, online, yield', async () => {
    await a.inject('Run a lot');
    // A load through a Launcher that is not connected yet would fail: load once the overview shows it ready.
    await until(
      async () => row(await rows(), 'propeller-launcher-1')?.state === 'ready',
      60_000,
      () => `the Launcher board ready (the overview shows ${last})`,
    );
    await b.inject('load both boards');
    const all = await until(
      async () => {
        const now = await rows();
        const ready =
          row(now, 'bpwin-1')?.yield &&
          row(now, 'semiate-1')?.yield &&
          ['sfdaq-1', 'nebv-1'].every((name) => row(now, name)?.state) &&
          ['propeller-launcher-1', 'propeller-serial-1'].every((name) => row(now, name)?.event === 'load ok') &&
          now.every((r) => r.online === true);
        return ready ? now : undefined;
      },
      60_000,
      () => `all six instruments online, with the yield of BPWin and Semi-ATE and a load of each board (the overview shows ${last})`,
    );
    assert.deepEqual(
      all.map((r) => `${r.line} ${r.instrument} ${r.edge}`),
      [
        'floor-1/line-1 bpwin-1 edge-a',
        'floor-1/line-1 semiate-1 edge-a',
        'floor-1/line-2 nebv-1 edge-b',
        'floor-1/line-2 propeller-launcher-1 edge-b',
        'floor-1/line-2 propeller-serial-1 edge-b',
        'floor-1/line-2 sfdaq-1 edge-b',
      ],
    );
    assert.match(row(all, 'bpwin-1')!.yield, /^\d+(\.\d+)? %$/);
    assert.match(row(all, 'semiate-1')!.yield, /^\d+(\.\d+)? %$/);
    assert.equal(row(all, 'sfdaq-1')!.state, 'acquiring');
    assert.equal(row(all, 'propeller-launcher-1')!.metrics, 'ports 2');
  });

  it('shows the instruments of a frozen edge offline within the keep-alive, and online again when it resumes', async () => {
    // A stopped process keeps its connection open but sends nothing, like a hung host or a pulled
    // cable: only the keep-alive tells the broker, which then sends the edge's last will.
    await shown({ 'sfdaq-1': true, 'nebv-1': true }, 'edge B online before it freezes', 60_000);
    const watcher = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    let willAt = 0;
    watcher.on('message', (_topic, payload, packet) => {
      if (!packet.retain && payload.toString() === 'offline') willAt = Date.now();
    });
    await watcher.subscribeAsync(`${PREFIX}/_edge/edge-b/status`, { qos: 1 });
    const frozen = Date.now();
    b.nodeRed.child.kill('SIGSTOP');
    try {
      await until(
        async () => willAt > 0,
        WILL_MS,
        () => `the last will of edge B from the broker (keep-alive ${KEEPALIVE_S} s)`,
      );
      const after = await shown({ 'sfdaq-1': false, 'nebv-1': false }, 'edge B shown offline', OVERVIEW_MS);
      figures.push(
        `frozen edge: will after ${((willAt - frozen) / 1000).toFixed(1)} s, shown offline after ${((Date.now() - frozen) / 1000).toFixed(1)} s ` +
          `(keep-alive ${KEEPALIVE_S} s)`,
      );
      assert.equal(row(after, 'bpwin-1')!.online, true, 'edge A stays online');
      assert.equal(row(after, 'sfdaq-1')!.state, 'acquiring', 'the last state of an offline instrument is kept');
    } finally {
      b.nodeRed.child.kill('SIGCONT');
      await watcher.endAsync();
    }
    await shown({ 'sfdaq-1': true, 'nebv-1': true }, 'edge B online again after it resumed');
  });

  it('keeps an edge online that restarts while its old connection still hangs (same client id: the old will comes first)', async () => {
    // A host that hung and came back: the old process still holds its connection when the new one
    // connects, within the old one's keep-alive (Node-RED is started beforehand, its flows deployed then).
    await shown({ 'sfdaq-1': true }, 'edge B online before it hangs', 60_000);
    const births = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    let born = 0;
    let frozen = 0;
    births.on('message', (_topic, payload, packet) => {
      // Only a birth after the old process stopped is the new one's.
      if (frozen && !packet.retain && payload.toString() === 'online') born = Date.now();
    });
    await births.subscribeAsync(`${PREFIX}/_edge/edge-b/status`, { qos: 1 });
    const old = b;
    const fresh = await startEdge({ ...edgeB, deployLater: true });
    old.nodeRed.child.kill('SIGSTOP');
    frozen = Date.now();
    try {
      b = fresh;
      await fresh.deploy();
      await until(
        async () => born > 0,
        30_000,
        () => 'the birth of the restarted edge',
      );
      await shown({ 'sfdaq-1': true }, 'edge B online after its restart');
      // Without the takeover, the old connection's will would come 1.5 keep-alives (and a sweep) after it fell silent, over the new birth.
      const watchUntil = Math.max(frozen + KEEPALIVE_S * 1500 + BROKER_SWEEP_MS + 2000, born + 3000);
      while (Date.now() < watchUntil) {
        assert.equal(row(await rows(), 'sfdaq-1')?.online, true, 'edge B shown offline although it runs');
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      await births.endAsync();
      old.nodeRed.child.kill('SIGKILL');
      await old.stop();
    }
  });

  it('shows the instruments of a killed edge offline through its last will', async () => {
    const killed = Date.now();
    a.nodeRed.child.kill('SIGKILL');
    // The system closes a killed process's connections, so the broker knows at once; the keep-alive is the bound.
    const after = await shown({ 'bpwin-1': false, 'semiate-1': false }, 'edge A shown offline', WILL_MS + OVERVIEW_MS);
    figures.push(`killed edge shown offline after ${((Date.now() - killed) / 1000).toFixed(1)} s`);
    assert.equal(row(after, 'sfdaq-1')!.online, true, 'edge B stays online');
    assert.equal(row(after, 'bpwin-1')!.yield !== '', true, 'the last figures of an offline instrument are kept');
  });

  it('draws the line overview on the dashboard: every instrument, the killed edge offline', async function () {
    const executable = await chromiumPath();
    if (!executable) this.skip();
    const browser = await launchChromium(executable);
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 600 } });
      await page.goto(`${overview.url}/dashboard/uns`);
      await page.getByText('edge-a offline').first().waitFor({ timeout: 30_000 });
      await page.getByText('nebv-1').waitFor({ timeout: 30_000 });
      const text = await page.locator('body').innerText();
      for (const name of ['bpwin-1', 'semiate-1', 'sfdaq-1', 'nebv-1']) assert.match(text, new RegExp(name));
      assert.match(text, /edge-b online/);
      assert.match(text, /\d+(\.\d+)? %/, 'a yield is shown');
      fs.mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: path.join(artifacts, 'line-overview.png') });
    } finally {
      await browser.close();
    }
  });

  it('loses no retained state when the broker restarts', async () => {
    await broker.restart();
    // Edge B reconnects and says online again; everything else comes from the broker's store.
    const retained = await until(
      async () => {
        const now = await retainedNow(broker.url);
        return now.get(`${PREFIX}/_edge/edge-b/status`) === 'online' ? now : undefined;
      },
      30_000,
      () => 'edge B online again',
    );
    assert.equal(retained.get(`${PREFIX}/_edge/edge-a/status`), 'offline', "the dead edge's last will");
    for (const topic of [
      'floor-1/line-1/bpwin-1/state',
      'floor-1/line-1/bpwin-1/metric/yield',
      'floor-1/line-1/semiate-1/info',
      'floor-1/line-2/sfdaq-1/state',
    ])
      assert.ok(retained.has(`${PREFIX}/${topic}`), `${topic} is still retained`);
    const state = JSON.parse(retained.get(`${PREFIX}/floor-1/line-1/bpwin-1/state`)!) as { edge: string; ts: string };
    assert.equal(state.edge, 'edge-a');
    assert.ok(Number.isFinite(Date.parse(state.ts)), 'state has an ISO timestamp');
    // The overview subscribed again and still sees both edges as they are.
    await shown({ 'bpwin-1': false, 'sfdaq-1': true }, 'the overview after the restart');
  });

  it("gets the live edges' state back from the edges when the broker lost its store", async () => {
    await broker.restartEmpty();
    // Nothing is stored now: what comes back was published again by edge B on reconnecting.
    const retained = await until(
      async () => {
        const now = await retainedNow(broker.url);
        return now.has(`${PREFIX}/floor-1/line-2/sfdaq-1/state`) && now.has(`${PREFIX}/floor-1/line-2/nebv-1/metric/marks`) ? now : undefined;
      },
      30_000,
      () => "edge B's retained topics published again",
    );
    assert.equal(retained.get(`${PREFIX}/_edge/edge-b/status`), 'online');
    assert.ok(retained.has(`${PREFIX}/floor-1/line-2/nebv-1/info`));
    assert.ok(
      !retained.has(`${PREFIX}/floor-1/line-1/bpwin-1/state`),
      'the killed edge republished nothing (the test would prove nothing otherwise)',
    );
  });
});
