/**
 * BPWin:
 *  - 100k SocketStatus events through the bpwin-events node into a downstream node, against a raw
 *    `ws` client doing JSON.parse (target ≥ 0.8×) and Node-RED's core websocket-in → json chain
 *    (target ≥ 1×), all in one node-red-node-test-helper runtime;
 *  - RSS growth while 1M events pass through bpwin-events (target < 20 MB);
 *  - bpwin-request round trips against raw `http` GETs with keep-alive and the same auth headers.
 * The simulator runs in a worker thread so sending does not share the measured event loop. The
 * event benchmarks use the simulator's open API: the core websocket node cannot do BPWin's
 * challenge handshake, so it could not connect to a protected BPWin at all.
 */
import http from 'node:http';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import WebSocket from 'ws';
import { helper } from '../test/helpers/red';
import type { BenchRow, BenchRun } from './bench-types';
import serverNode = require('../src/nodes/bpwin-server');
import eventsNode = require('../src/nodes/bpwin-events');
import requestNode = require('../src/nodes/bpwin-request');
import { load } from './real-load';
import { median, percentile } from './stats';
import { startWorker } from './worker';

const EVENTS = 100_000;
const ROUNDS = 2;
const RSS_EVENTS = 1_000_000;
const REQUESTS = 2_000;
const PASS = 'bench-pass';

const websocketNodes = require('@node-red/nodes/core/network/22-websocket.js') as never;
const jsonNode = require('@node-red/nodes/core/parsers/70-JSON.js') as never;

interface SimWorker {
  port: number;
  blast(count: number): Promise<void>;
  clients(): Promise<number>;
  close(): Promise<void>;
}

/** A simulator in a worker thread, driven by messages. */
async function startSimulatorWorker(passphrase: string): Promise<SimWorker> {
  const sim = path.join(__dirname, '..', 'src', 'simulators', 'bpwin.ts');
  const worker = await startWorker<{ port: number }>(
    `require('tsx/cjs');
     const { parentPort } = require('node:worker_threads');
     const { BpwinSimulator } = require(${JSON.stringify(sim)});
     const sim = new BpwinSimulator({ passphrase: ${JSON.stringify(passphrase)} });
     sim.start().then(() => parentPort.postMessage({ port: sim.port }));
     parentPort.on('message', async (m) => {
       if (m.cmd === 'blast') { await sim.blast(m.count); parentPort.postMessage({ id: m.id }); }
       if (m.cmd === 'clients') parentPort.postMessage({ id: m.id, clients: sim.wsClients });
       if (m.cmd === 'close') { await sim.close(); parentPort.postMessage({ id: m.id }); }
     });`,
  );
  return {
    port: worker.ready.port,
    blast: async (count) => void (await worker.ask('blast', { count })),
    clients: async () => Number((await worker.ask('clients')).clients ?? 0),
    close: async () => {
      await worker.ask('close');
      await worker.stop();
    },
  };
}

async function until(check: () => boolean | Promise<boolean>, ms: number, what: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Events/s for one contender: connect, blast `count`, wait until all arrived. */
async function measureEvents(sim: SimWorker, count: number, connect: (onEvent: () => void) => Promise<() => Promise<void>>): Promise<number> {
  let received = 0;
  const disconnect = await connect(() => (received += 1));
  await until(
    async () => (await sim.clients()) === 1,
    10_000,
    () => 'the websocket',
  );
  const started = process.hrtime.bigint();
  if (process.env.BENCH_DEBUG) console.error(`measuring ${count} events`);
  void sim.blast(count);
  await until(
    () => received >= count,
    120_000,
    () => `${count} events (have ${received})`,
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (process.env.BENCH_DEBUG) console.error(`  ${(count / seconds).toFixed(0)} events/s`);
  await disconnect();
  await until(
    async () => (await sim.clients()) === 0,
    10_000,
    () => 'the websocket to close',
  );
  return count / seconds;
}

const TAB = { id: 't1', type: 'tab', label: 'bench' };
const AT = { z: 't1', x: 100, y: 100 };

function eventsFlow(port: number): Array<Record<string, unknown>> {
  return [
    TAB,
    { id: 'srv', type: 'bpwin-server', host: '127.0.0.1', port: String(port), timeout: 3000 },
    { id: 'ev', type: 'bpwin-events', server: 'srv', wires: [['out']], ...AT },
    { id: 'out', type: 'helper', ...AT },
  ];
}

const ours = (port: number) => async (onEvent: () => void) => {
  await load([serverNode, eventsNode], eventsFlow(port), { srv: { passphrase: '' } });
  helper.getNode('out').on('input', onEvent);
  return () => helper.unload();
};

const raw = (port: number) => async (onEvent: () => void) => {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  ws.on('message', (data) => {
    const event = JSON.parse(data.toString()) as { Note?: string };
    if (event.Note) onEvent();
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return async () => {
    ws.close();
    await new Promise((r) => ws.once('close', r));
  };
};

const core = (port: number) => async (onEvent: () => void) => {
  await load(
    [websocketNodes, jsonNode],
    [
      { id: 'wsc', type: 'websocket-client', path: `ws://127.0.0.1:${port}/ws`, tls: '', wholemsg: 'false', hb: '0', subprotocol: '', headers: [] },
      TAB,
      { id: 'wsin', type: 'websocket in', name: '', server: '', client: 'wsc', wires: [['parse']], ...AT },
      { id: 'parse', type: 'json', property: 'payload', action: 'obj', pretty: false, wires: [['out']], ...AT },
      { id: 'out', type: 'helper', ...AT },
    ],
  );
  helper.getNode('out').on('input', onEvent);
  return () => helper.unload();
};

async function rssGrowth(sim: SimWorker): Promise<{ growthMb: number; samples: number[]; heapGrowthMb: number; heapSamples: number[] }> {
  let received = 0;
  await load([serverNode, eventsNode], eventsFlow(sim.port), { srv: { passphrase: '' } });
  helper.getNode('out').on('input', () => (received += 1));
  await until(
    async () => (await sim.clients()) === 1,
    10_000,
    () => 'the websocket',
  );
  // A real collection before each sample, so the figure is what stays, not what waits for the collector.
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const samples: number[] = [];
  // RSS keeps pages the allocator has not returned; the live heap after gc is what a leak would grow.
  const heapSamples: number[] = [];
  const chunk = 100_000;
  // 200k events first so JIT, socket buffers and the heap reach their working size; then 1M are measured.
  const warmUp = 2 * chunk;
  for (let sent = 0; sent < warmUp + RSS_EVENTS; sent += chunk) {
    await sim.blast(chunk);
    await until(
      () => received >= sent + chunk,
      120_000,
      () => 'the chunk',
    );
    gc();
    if (sent + chunk >= warmUp) {
      const usage = process.memoryUsage();
      samples.push(usage.rss / 1024 / 1024);
      heapSamples.push(usage.heapUsed / 1024 / 1024);
    }
  }
  await helper.unload();
  return { growthMb: samples.at(-1)! - samples[0]!, samples, heapGrowthMb: heapSamples.at(-1)! - heapSamples[0]!, heapSamples };
}

interface RequestFigures {
  rate: number;
  p50: number;
  p90: number;
}

async function timed(count: number, once: () => Promise<unknown>): Promise<RequestFigures> {
  const latencies: number[] = [];
  const started = process.hrtime.bigint();
  for (let i = 0; i < count; i += 1) {
    const t = process.hrtime.bigint();
    await once();
    latencies.push(Number(process.hrtime.bigint() - t) / 1e3);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  return { rate: count / seconds, p50: percentile(latencies, 50), p90: percentile(latencies, 90) };
}

async function requestFigures(sim: SimWorker): Promise<{ node: RequestFigures; raw: RequestFigures }> {
  await load(
    [serverNode, requestNode],
    [
      TAB,
      { id: 'srv', type: 'bpwin-server', host: '127.0.0.1', port: String(sim.port), timeout: 3000 },
      { id: 'req', type: 'bpwin-request', server: 'srv', endpoint: 'version', wires: [['out']], ...AT },
      { id: 'out', type: 'helper', ...AT },
    ],
    { srv: { passphrase: PASS } },
  );
  const out = helper.getNode('out');
  const viaNode = (): Promise<void> =>
    new Promise((resolve) => {
      out.once('input', () => resolve());
      helper.getNode('req').receive({});
    });
  await viaNode();
  const node = await timed(REQUESTS, viaNode);
  await helper.unload();

  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const get = (p: string, headers: Record<string, string>): Promise<string> =>
    new Promise((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: sim.port, path: p, agent, headers }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve(text));
        })
        .on('error', reject);
    });
  const challenge = /"Number"\s*:\s*(\d+)/.exec(await get('/auth', {}))![1]!;
  const headers = { 'Random-Challenge': challenge, Passphrase: PASS };
  await get('/version', headers);
  const raw = await timed(REQUESTS, async () => JSON.parse(await get('/version', headers)));
  agent.destroy();
  return { node, raw };
}

export const run: BenchRun = async () => {
  await helper.startServer();
  const open = await startSimulatorWorker('');
  const protectedSim = await startSimulatorWorker(PASS);
  try {
    await measureEvents(open, 10_000, ours(open.port)); // warm-up
    const rates = { ours: [] as number[], raw: [] as number[], core: [] as number[] };
    for (let round = 0; round < ROUNDS; round += 1) {
      rates.ours.push(await measureEvents(open, EVENTS, ours(open.port)));
      rates.raw.push(await measureEvents(open, EVENTS, raw(open.port)));
      rates.core.push(await measureEvents(open, EVENTS, core(open.port)));
    }
    const [o, r, c] = [median(rates.ours), median(rates.raw), median(rates.core)];
    const rss = await rssGrowth(open);
    const req = await requestFigures(protectedSim);
    const rows: BenchRow[] = [
      {
        name: 'bpwin-events → node, SocketStatus events/s',
        value: o,
        unit: 'events/s',
        ratio: { against: 'raw ws + JSON.parse', value: o / r, target: '≥ 0.8' },
      },
      { name: 'raw ws + JSON.parse, events/s', value: r, unit: 'events/s' },
      { name: 'core websocket-in → json → node, events/s', value: c, unit: 'events/s' },
      {
        name: 'bpwin-events vs core chain',
        value: o,
        unit: 'events/s',
        ratio: { against: 'core websocket-in → json', value: o / c, target: '≥ 1' },
      },
      {
        name: `RSS growth over ${RSS_EVENTS.toLocaleString('en-US')} events`,
        value: rss.growthMb,
        unit: 'MB',
        ratio: { against: '20 MB budget', value: rss.growthMb / 20, target: '< 1' },
      },
      {
        name: `live heap growth over ${RSS_EVENTS.toLocaleString('en-US')} events`,
        value: rss.heapGrowthMb,
        unit: 'MB',
        ratio: { against: '20 MB budget', value: rss.heapGrowthMb / 20, target: '< 1' },
      },
      {
        name: 'bpwin-request (version), median round trip',
        value: req.node.p50,
        unit: 'µs',
        ratio: { against: 'raw http keep-alive GET (lower is better, inverted)', value: req.raw.p50 / req.node.p50 },
      },
      { name: 'raw http keep-alive GET /version, median', value: req.raw.p50, unit: 'µs' },
      { name: 'bpwin-request overhead per request (median)', value: req.node.p50 - req.raw.p50, unit: 'µs' },
      {
        name: 'bpwin-request sequential rate',
        value: req.node.rate,
        unit: 'req/s',
        ratio: { against: 'raw http keep-alive GET', value: req.node.rate / req.raw.rate },
      },
    ];
    return {
      title: 'BPWin',
      rows,
      notes: [
        `${EVENTS.toLocaleString('en-US')} events per contender, median of ${ROUNDS} alternating rounds; simulator in a worker thread.`,
        `RSS after a forced gc, after 200k warm-up events and then every 100k (MB): ${rss.samples.map((s) => s.toFixed(0)).join(', ')}.`,
        `live heap after the same collections (MB): ${rss.heapSamples.map((s) => s.toFixed(1)).join(', ')}.`,
        `${REQUESTS} sequential requests each, with the challenge and passphrase headers; ` +
          `p90 ${req.node.p90.toFixed(0)} µs via the node, ${req.raw.p90.toFixed(0)} µs raw (this shared machine has long tails, hence medians).`,
      ],
    };
  } finally {
    await open.close();
    await protectedSim.close();
    await helper.stopServer();
  }
};
