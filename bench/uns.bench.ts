/**
 * Unified Namespace: events per second from bpwin-events and parts per second from semiate-results
 * through the UNS example's "to the namespace" function and Node-RED's core mqtt out (QoS 1) to a
 * subscriber, against the same flow without MQTT (the function into a downstream node). The ratio
 * is what publishing into the namespace costs the flow.
 *
 * The simulators run in one worker thread; the broker (the embedded Aedes) and the subscriber in
 * another, so neither shares the measured event loop. Rounds alternate the two contenders.
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { listExamples, type FlowNode } from '../src/cli/example-flows';
import { helper } from '../test/helpers/red';
import type { BenchRow, BenchRun } from './bench-types';
import { load } from './real-load';
import { median } from './stats';
import { startWorker, type BenchWorker } from './worker';
import bpwinServer = require('../src/nodes/bpwin-server');
import bpwinEvents = require('../src/nodes/bpwin-events');
import semiateTester = require('../src/nodes/semiate-tester');
import semiateResults = require('../src/nodes/semiate-results');

const BPWIN_EVENTS = 20_000;
const SEMIATE_PARTS = 5_000;
const ROUNDS = 3;
const LIMIT_MS = 120_000;

const functionNode = require('@node-red/nodes/core/function/10-function.js') as unknown;
const mqttNodes = require('@node-red/nodes/core/network/10-mqtt.js') as unknown;

const src = (file: string): string => JSON.stringify(path.join(__dirname, '..', 'src', 'simulators', file));

/** BPWin (open API) and a 4-site Semi-ATE tester, with the tester's parts prepared before the clock starts. */
const SOURCES = `require('tsx/cjs');
const { parentPort } = require('node:worker_threads');
const { BpwinSimulator } = require(${src('bpwin.ts')});
const { SemiAteSimulator } = require(${src('semiate.ts')});
const bpwin = new BpwinSimulator({});
const tester = new SemiAteSimulator({ sites: 4, passRate: 0.9, testMs: 1 });
Promise.all([bpwin.start(), tester.start()]).then(() => {
  tester.prepareBurst(${SEMIATE_PARTS});
  parentPort.postMessage({ bpwinPort: bpwin.port, wsUrl: tester.wsUrl });
});
parentPort.on('message', async (m) => {
  if (m.cmd === 'blast') await bpwin.blast(m.count);
  if (m.cmd === 'parts') tester.sendPrepared(m.count, 'websocket');
  if (m.cmd === 'clients') return parentPort.postMessage({ id: m.id, clients: bpwin.wsClients });
  parentPort.postMessage({ id: m.id });
});`;

/** The embedded broker and a subscriber that counts what arrives on one topic filter. */
const MQTT_SIDE = `require('tsx/cjs');
const { parentPort } = require('node:worker_threads');
const mqtt = require('mqtt');
const { EmbeddedMqttBroker } = require(${src('mqtt.ts')});
const broker = new EmbeddedMqttBroker();
let count = 0;
let waiting;
broker.start().then(async () => {
  const client = await mqtt.connectAsync(broker.url);
  client.on('message', () => {
    count += 1;
    if (waiting && count >= waiting.target) { parentPort.postMessage({ id: waiting.id, count }); waiting = undefined; }
  });
  await client.subscribeAsync('labwire/lab/+/+/+/result', { qos: 1 });
  parentPort.postMessage({ host: broker.host, port: broker.port });
});
parentPort.on('message', (m) => {
  if (m.cmd === 'reset') { count = 0; parentPort.postMessage({ id: m.id }); }
  if (m.cmd === 'wait') {
    if (count >= m.target) parentPort.postMessage({ id: m.id, count });
    else waiting = { id: m.id, target: m.target };
  }
});`;

type Sources = BenchWorker<{ bpwinPort: number; wsUrl: string }>;
type MqttSide = BenchWorker<{ host: string; port: number }>;

/** The UNS example's function for a system, as the demo deploys it. */
function toNamespace(title: string): FlowNode {
  const example = listExamples(path.join(__dirname, '..', 'examples')).find((e) => e.system === 'UNS' && e.title === title);
  const node = example?.nodes.find((n) => n.type === 'function' && n.name === 'to the namespace');
  if (!node) throw new Error(`examples/UNS/${title} has no "to the namespace" function`);
  return node;
}

const AT = { z: 't1', x: 100, y: 100 };

/** source node(s) → the example's function → mqtt out to the broker, or → a helper node. */
function flow(source: FlowNode[], func: FlowNode, mqtt: { host: string; port: number } | undefined, qos = ''): FlowNode[] {
  const end: FlowNode[] = mqtt
    ? [
        {
          id: 'broker',
          type: 'mqtt-broker',
          broker: mqtt.host,
          port: mqtt.port,
          clientid: '',
          keepalive: 60,
          cleansession: true,
          protocolVersion: 4,
        },
        // qos '' keeps the message's (QoS 1, as the examples publish); '0' forces QoS 0 for comparison.
        { id: 'out', type: 'mqtt out', broker: 'broker', topic: '', qos, retain: '', ...AT },
      ]
    : [{ id: 'out', type: 'helper', ...AT }];
  return [{ id: 't1', type: 'tab', label: 'bench' }, ...source, { ...func, id: 'uns', wires: [['out']], ...AT }, ...end];
}

interface Contender {
  name: string;
  mqtt: boolean;
  qos?: string;
}

async function until(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Deploy, send `count` items from the sources, and time until all arrived at the end of the flow. */
async function measure(
  nodes: FlowNode[],
  credentials: Record<string, Record<string, string>>,
  count: number,
  withMqtt: boolean,
  side: MqttSide,
  ready: () => Promise<void>,
  send: () => void,
): Promise<number> {
  await load([bpwinServer, bpwinEvents, semiateTester, semiateResults, functionNode, mqttNodes], nodes as never, credentials);
  try {
    let received = 0;
    // Both ends count the results: a part's metrics are published too, but only once they change.
    if (!withMqtt) helper.getNode('out').on('input', (msg: { topic?: unknown }) => String(msg.topic).endsWith('/result') && (received += 1));
    else await until(() => (helper.getNode('broker') as unknown as { connected: boolean }).connected, 10_000, 'the MQTT connection');
    await ready();
    await side.ask('reset');
    const started = performance.now();
    send();
    if (withMqtt) await side.ask('wait', { target: count });
    else await until(() => received >= count, LIMIT_MS, `${count} messages`);
    return count / ((performance.now() - started) / 1000);
  } finally {
    await helper.unload();
  }
}

async function alternate(contenders: Contender[], once: (c: Contender) => Promise<number>): Promise<Map<string, number[]>> {
  const rates = new Map(contenders.map((c) => [c.name, [] as number[]]));
  for (const c of contenders) await once(c); // warm-up
  for (let round = 0; round < ROUNDS; round += 1) {
    const order = round % 2 === 0 ? contenders : [...contenders].reverse();
    for (const c of order) rates.get(c.name)!.push(await once(c));
  }
  return rates;
}

export const run: BenchRun = async () => {
  const sources: Sources = await startWorker(SOURCES);
  const side: MqttSide = await startWorker(MQTT_SIDE);
  await helper.startServer();
  try {
    const { bpwinPort, wsUrl } = sources.ready;
    const contenders: Contender[] = [
      { name: 'mqtt', mqtt: true },
      { name: 'plain', mqtt: false },
      { name: 'qos0', mqtt: true, qos: '0' },
    ];

    const bpwinFunc = toNamespace('01 - BPWin into the namespace');
    const bpwin = await alternate(contenders, (c) =>
      measure(
        flow(
          [
            { id: 'srv', type: 'bpwin-server', host: '127.0.0.1', port: String(bpwinPort), timeout: 3000 },
            { id: 'ev', type: 'bpwin-events', server: 'srv', noteSocketStatus: true, wires: [['uns']], ...AT },
          ],
          bpwinFunc,
          c.mqtt ? side.ready : undefined,
          c.qos,
        ),
        { srv: { passphrase: '' } },
        BPWIN_EVENTS,
        c.mqtt,
        side,
        () => until(async () => (await sources.ask('clients')).clients === 1, 10_000, 'the BPWin event socket'),
        () => void sources.ask('blast', { count: BPWIN_EVENTS }),
      ),
    );

    const semiateFunc = toNamespace('02 - Semi-ATE into the namespace');
    const semiate = await alternate(contenders, (c) =>
      measure(
        flow(
          [
            { id: 'tester', type: 'semiate-tester', transport: 'websocket', url: wsUrl, deviceId: 'SCT-SIM-1' },
            { id: 'res', type: 'semiate-results', tester: 'tester', includeRecords: false, wires: [['uns']], ...AT },
          ],
          semiateFunc,
          c.mqtt ? side.ready : undefined,
          c.qos,
        ),
        {},
        SEMIATE_PARTS,
        c.mqtt,
        side,
        async () => {
          const config = helper.getNode('tester') as unknown as { registry: { current?: { state?: string } } };
          await until(() => config.registry.current?.state !== undefined, 30_000, 'the tester state');
          await new Promise((r) => setTimeout(r, 100)); // let the greeting's history pass
        },
        () => void sources.ask('parts', { count: SEMIATE_PARTS }),
      ),
    );

    const rows: BenchRow[] = [];
    const notes: string[] = [];
    for (const [label, unit, rates] of [
      ['bpwin-events → to the namespace', 'events/s', bpwin],
      ['semiate-results → to the namespace', 'parts/s', semiate],
    ] as const) {
      const viaMqtt = rates.get('mqtt')!;
      const plain = rates.get('plain')!;
      const qos0 = rates.get('qos0')!;
      const ratios = viaMqtt.map((r, i) => r / plain[i]!);
      rows.push(
        {
          name: `${label} → mqtt out (QoS 1) → subscriber`,
          value: median(viaMqtt),
          unit,
          ratio: { against: 'the same without MQTT', value: median(ratios) },
        },
        { name: `${label} → node (no MQTT)`, value: median(plain), unit },
        {
          name: `${label} → mqtt out forced to QoS 0 → subscriber`,
          value: median(qos0),
          unit,
          ratio: { against: 'the same without MQTT', value: median(qos0.map((r, i) => r / plain[i]!)) },
        },
      );
      notes.push(`${label}: per-round ratios ${ratios.map((r) => r.toFixed(2)).join(', ')}`);
    }
    return {
      title: 'Unified Namespace: instrument data through mqtt out to a subscriber, against the same flow without MQTT',
      rows,
      notes: [
        `${ROUNDS} alternating rounds (after one warm-up each) of ${BPWIN_EVENTS.toLocaleString('en-US')} BPWin SocketStatus events or ${SEMIATE_PARTS.toLocaleString('en-US')} Semi-ATE parts (4 sites); medians.`,
        'Each item is one `result` at the end of the flow; a Semi-ATE part also publishes its lot yield and tested count (retained, when they change), which pass through the broker too.',
        'Broker (embedded Aedes) and subscriber in one worker thread, simulators in another; Node-RED in a node-red-node-test-helper runtime with its recording spies removed.',
        ...notes,
      ],
    };
  } finally {
    await helper.stopServer();
    await sources.stop();
    await side.stop();
  }
};
