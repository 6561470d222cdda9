/**
 * Semi-ATE: parts per second from the simulator through `semiate-results` into a downstream node,
 * against a raw client that only JSON.parses every message (target ≥ 0.8×), over the UI websocket
 * and over MQTT. The simulator runs in a worker thread and publishes a burst of parts back to back
 * (each with the master's yield and bin table after it on the websocket, as the real master does),
 * prepared as text in the worker before the clock starts so the consumers set the pace.
 * Rounds alternate between the contenders; only one is connected at a time.
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import mqtt from 'mqtt';
import WebSocket from 'ws';
import { helper, waitFor } from '../test/helpers/red';
import { pythonTokensAsStrings } from '../src/protocols/semiate/decode';
import type { BenchRow, BenchRun } from './bench-types';
import testerNode = require('../src/nodes/semiate-tester');
import resultsNode = require('../src/nodes/semiate-results');
import { median } from './stats';

const WS_PARTS_PER_ROUND = 10_000;
/** QoS 2 (as the master publishes) costs four packets per part: fewer parts keep the rounds short. */
const MQTT_PARTS_PER_ROUND = 3_000;
const ROUNDS = 3;
const ROUND_LIMIT_MS = 25_000;
const SITES = 4;

interface SimHandle {
  wsUrl: string;
  mqttUrl: string;
  deviceId: string;
  /** Build the parts' messages in the worker; resolves when ready. */
  prepare(count: number): Promise<void>;
  /** Write the first `count` prepared parts on one transport. */
  send(count: number, via: 'websocket' | 'mqtt'): void;
  close(): Promise<void>;
}

function startSimulatorWorker(): Promise<SimHandle> {
  const sim = path.join(__dirname, '..', 'src', 'simulators', 'semiate.ts');
  const worker = new Worker(
    `require('tsx/cjs');
     const { parentPort } = require('node:worker_threads');
     const { SemiAteSimulator } = require(${JSON.stringify(sim)});
     const sim = new SemiAteSimulator({ sites: ${SITES}, passRate: 0.9, testMs: 1 });
     sim.start().then(() => parentPort.postMessage({ wsUrl: sim.wsUrl, mqttUrl: sim.mqttUrl, deviceId: sim.options.deviceId }));
     parentPort.on('message', (m) => {
       if (m.prepare) { sim.prepareBurst(m.prepare); parentPort.postMessage('prepared'); }
       else if (m.send) sim.sendPrepared(m.send, m.via);
     });`,
    { eval: true },
  );
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (info: { wsUrl: string; mqttUrl: string; deviceId: string }) =>
      resolve({
        ...info,
        prepare: (count) =>
          new Promise<void>((done) => {
            worker.once('message', () => done());
            worker.postMessage({ prepare: count });
          }),
        send: (count, via) => worker.postMessage({ send: count, via }),
        close: async () => void (await worker.terminate()),
      }),
    );
  });
}

interface Measured {
  partsPerSecond: number;
  /** Time this thread's event loop was busy, per part: robust against a loaded machine. */
  busyMicros: number;
}

/** Time from sending the prepared burst until `count()` reaches its number of parts. */
async function measure(sim: SimHandle, via: 'websocket' | 'mqtt', parts: number, count: () => number): Promise<Measured> {
  const start = performance.now();
  const loop = performance.eventLoopUtilization();
  sim.send(parts, via);
  await waitFor(() => count() >= parts, ROUND_LIMIT_MS, `${parts} parts`);
  const busy = performance.eventLoopUtilization(loop).active;
  return { partsPerSecond: parts / ((performance.now() - start) / 1000), busyMicros: (busy * 1000) / parts };
}

async function rawWebSocket(sim: SimHandle): Promise<Measured> {
  const socket = new WebSocket(sim.wsUrl);
  let parts = 0;
  let greeted = false;
  socket.on('message', (data) => {
    const message = JSON.parse(data.toString()) as { type: string };
    if (message.type === 'connectionid') greeted = true;
    if (message.type === 'testresult') parts += 1;
  });
  await waitFor(() => greeted, 5000, 'the connection id');
  await new Promise((r) => setTimeout(r, 100)); // let the greeting's history pass
  parts = 0;
  try {
    return await measure(sim, 'websocket', WS_PARTS_PER_ROUND, () => parts);
  } finally {
    socket.terminate();
  }
}

async function rawMqtt(sim: SimHandle): Promise<Measured> {
  const client = await mqtt.connectAsync(sim.mqttUrl, { reconnectPeriod: 0 });
  let parts = 0;
  client.on('message', (_topic, buffer) => {
    // The test apps write Python's JSON (bare -Infinity, NaN): a raw subscriber has to read it too.
    JSON.parse(pythonTokensAsStrings(buffer.toString('utf8')));
    parts += 1;
  });
  await client.subscribeAsync(`ate/${sim.deviceId}/TestApp/testresult/+`, { qos: 2 });
  try {
    return await measure(sim, 'mqtt', MQTT_PARTS_PER_ROUND, () => parts);
  } finally {
    await client.endAsync(true);
  }
}

async function throughNode(sim: SimHandle, transport: 'websocket' | 'mqtt'): Promise<Measured> {
  await helper.load(
    [testerNode, resultsNode] as never[],
    [
      { id: 'tester', type: 'semiate-tester', transport, url: sim.wsUrl, broker: sim.mqttUrl, deviceId: sim.deviceId },
      { id: 'results', type: 'semiate-results', tester: 'tester', includeRecords: false, wires: [['out']] },
      { id: 'out', type: 'helper' },
    ] as never,
  );
  removeSpies(['tester', 'results', 'out']);
  const config = helper.getNode('tester') as unknown as { registry: { current?: { state?: string } } };
  const t0 = Date.now();
  await waitFor(() => config.registry.current?.state !== undefined, 60_000, 'the tester state');
  if (process.env.SEMIATE_BENCH_DEBUG) console.log(`[semiate bench] ${transport} state known after ${Date.now() - t0} ms`);
  const count = transport === 'websocket' ? WS_PARTS_PER_ROUND : MQTT_PARTS_PER_ROUND;
  await new Promise((r) => setTimeout(r, 100)); // let the greeting's history pass
  let parts = 0;
  helper.getNode('out').on('input', () => (parts += 1));
  try {
    return await measure(sim, transport, count, () => parts);
  } finally {
    await helper.unload();
  }
}

/**
 * The helper wraps every Node method in a recording sinon spy, which a deployed Node-RED does not
 * have. Restoring its sandbox fixes Node.prototype, but each node created meanwhile copied the
 * spied `send` onto itself (Node.updateWires: `this.send = Node.prototype.send`), so put the real
 * one back on those too.
 */
function removeSpies(ids: string[]): void {
  (helper as unknown as { _sandbox: { restore(): void } })._sandbox.restore();
  const runtime = path.dirname(require.resolve('@node-red/runtime/package.json'));
  const proto = (require(path.join(runtime, 'lib', 'nodes', 'Node')) as { prototype: { send: unknown } }).prototype;
  for (const id of ids) {
    const node = helper.getNode(id) as unknown as { send: unknown; _wireCount?: number };
    if ((node._wireCount ?? 0) > 0) node.send = proto.send;
  }
}

type Transport = 'websocket' | 'mqtt';

export const run: BenchRun = async () => {
  const began = Date.now();
  const debug = process.env.SEMIATE_BENCH_DEBUG
    ? (text: string): void => console.log(`[semiate bench ${((Date.now() - began) / 1000).toFixed(1)} s] ${text}`)
    : (): void => undefined;
  const transports: Transport[] =
    process.env.SEMIATE_BENCH_ONLY === 'mqtt' ? ['mqtt'] : process.env.SEMIATE_BENCH_ONLY === 'websocket' ? ['websocket'] : ['websocket', 'mqtt'];
  const sim = await startSimulatorWorker();
  // Generated once; every round sends the same parts (a retest of the same ids, for the yield).
  await sim.prepare(WS_PARTS_PER_ROUND);
  await helper.startServer();
  try {
    const rows: BenchRow[] = [];
    const ratioNotes: string[] = [];
    for (const transport of transports) {
      const raw = (): Promise<Measured> => (transport === 'websocket' ? rawWebSocket(sim) : rawMqtt(sim));
      debug(`${transport} warm-up raw ${(await raw()).partsPerSecond.toFixed(0)} parts/s`); // warm up both paths
      debug(`${transport} warm-up node ${(await throughNode(sim, transport)).partsPerSecond.toFixed(0)} parts/s`);
      const node: Measured[] = [];
      const bare: Measured[] = [];
      for (let round = 0; round < ROUNDS; round += 1) {
        // Alternate who goes first, so neither always runs right after the other's garbage.
        if (round % 2 === 0) {
          node.push(await throughNode(sim, transport));
          bare.push(await raw());
        } else {
          bare.push(await raw());
          node.push(await throughNode(sim, transport));
        }
        debug(`${transport} round ${round}: node ${node[round]!.partsPerSecond.toFixed(0)}, raw ${bare[round]!.partsPerSecond.toFixed(0)} parts/s`);
      }
      const rates = node.map((m, i) => m.partsPerSecond / bare[i]!.partsPerSecond);
      const busy = node.map((m, i) => bare[i]!.busyMicros / m.busyMicros);
      const client = transport === 'websocket' ? 'raw ws client + JSON.parse' : 'raw mqtt client + Python JSON parse';
      const over = transport === 'websocket' ? 'websocket' : 'MQTT';
      rows.push(
        {
          name: `semiate-results over ${over}`,
          value: median(node.map((m) => m.partsPerSecond)),
          unit: 'parts/s',
          ratio: { against: client, value: median(rates), target: '≥ 0.8×' },
        },
        { name: client, value: median(bare.map((m) => m.partsPerSecond)), unit: 'parts/s' },
        {
          name: `semiate-results over ${over}, main thread busy`,
          value: median(node.map((m) => m.busyMicros)),
          unit: 'µs/part',
          ratio: { against: client, value: median(busy) },
        },
        { name: `${client}, main thread busy`, value: median(bare.map((m) => m.busyMicros)), unit: 'µs/part' },
      );
      ratioNotes.push(`${over}: rate ratios ${rates.map((r) => r.toFixed(2)).join(', ')}; busy ratios ${busy.map((r) => r.toFixed(2)).join(', ')}`);
    }
    return {
      title: `Semi-ATE: parts/s from a ${SITES}-site simulator burst into a downstream node`,
      rows,
      notes: [
        `${ROUNDS} alternating rounds per contender of ${WS_PARTS_PER_ROUND} parts (websocket) or ${MQTT_PARTS_PER_ROUND} (MQTT, QoS 2); ` +
          `figures are medians, ratios medians of per-round ratios (${ratioNotes.join('; ')}).`,
        'Each part is 6 STDF records (PIR, FTR, PTR, PTR, MPR, PRR); ' +
          "over the websocket it is followed by the master's yield and bin table messages: " +
          'the raw client parses them, semiate-tester skips them unparsed unless a semiate-status node asked for them.',
        'semiate-results does the full work per part: parse, STDF → part object with typed tests, ' +
          'running yield per site, one Node-RED msg into a downstream node. ' +
          'The raw clients only parse and count.',
        '"busy" is this thread\'s event-loop active time per part (performance.eventLoopUtilization): ' +
          'the CPU cost on the consumer side, less sensitive to a loaded machine than the rate. ' +
          'Its ratio is raw ÷ ours (1 = same cost).',
        'Simulator and its embedded Aedes broker in a worker thread; ' +
          'nodes in a node-red-node-test-helper runtime with its recording spies removed after deploy.',
      ],
    };
  } finally {
    await helper.stopServer();
    await sim.close();
  }
};
