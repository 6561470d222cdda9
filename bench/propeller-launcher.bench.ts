/**
 * Propeller via the BlocklyProp Launcher:
 *  - terminal throughput, bytes/s reaching a downstream node: the propeller-terminal node vs a raw
 *    `ws` client that does the same hello / open / base64 decoding (target ≥ 0.7×);
 *  - the added latency of a load round trip (load-prop until "Download successful!"): the
 *    propeller-load node and the LauncherClient vs a raw `ws` client.
 * The simulator runs in a worker thread so it does not share the measured event loop.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import WebSocket from 'ws';
import { LauncherClient } from '../src/protocols/propeller/launcher-client';
import { helper } from '../test/helpers/red';
import { makeBinary } from '../test/propeller-launcher/images';
import type { BenchRun } from './bench-types';
import launcherNode = require('../src/nodes/propeller-launcher');
import loadNode = require('../src/nodes/propeller-load');
import terminalNode = require('../src/nodes/propeller-terminal');
import { median } from './stats';

const FLOOD_BYTES = 8 * 1024 * 1024;
const ROUNDS = 3;
const LOADS = 40;
const TIME_LIMIT_MS = 20_000;

interface SimWorker {
  url: string;
  flood(bytes: number, port: string): Promise<void>;
  stop(): Promise<number>;
}

function startSimulatorWorker(): Promise<SimWorker> {
  const sim = path.join(__dirname, '..', 'src', 'simulators', 'launcher.ts');
  const worker = new Worker(
    `require('tsx/cjs');
     const { parentPort } = require('node:worker_threads');
     require(${JSON.stringify(sim)}).LauncherSimulator.start({ stepMs: 0, printIntervalMs: 3600000, ports: ['COM3', 'COM4', 'COM5'] }).then((s) => {
       parentPort.on('message', (m) => { if (m.flood) s.flood(m.flood, m.port).then(() => parentPort.postMessage({ flooded: true })); });
       parentPort.postMessage({ url: s.url });
     });`,
    { eval: true },
  );
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (m: { url: string }) =>
      resolve({
        url: m.url,
        flood: (bytes, port) =>
          new Promise((done) => {
            worker.once('message', () => done());
            worker.postMessage({ flood: bytes, port });
          }),
        stop: () => worker.terminate(),
      }),
    );
  });
}

/** Resolves when `count` bytes have been seen by `onBytes`' caller, measuring from the flood request. */
async function throughput(sim: SimWorker, port: string, received: () => number): Promise<number> {
  const start = received();
  const t0 = performance.now();
  const flooded = sim.flood(FLOOD_BYTES, port);
  while (received() - start < FLOOD_BYTES) {
    if (performance.now() - t0 > TIME_LIMIT_MS) break;
    await new Promise((r) => setImmediate(r));
  }
  await flooded;
  return (received() - start) / ((performance.now() - t0) / 1000);
}

/** The hand-written alternative: hello, open, decode base64; and load-prop until 005. */
async function rawLauncher(url: string, port: string): Promise<{ bytes: () => number; load(image: Buffer): Promise<void>; close(): void }> {
  const socket = new WebSocket(url);
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  let bytes = 0;
  let onProgress: ((text: string) => void) | undefined;
  socket.on('message', (data) => {
    const m = JSON.parse(data.toString()) as { type: string; msg?: string; packetID?: number };
    if (m.type === 'serial-terminal' && m.packetID !== undefined && m.msg) bytes += Buffer.from(m.msg, 'base64').length;
    else if (m.type === 'ui-command' && m.msg) onProgress?.(m.msg);
  });
  socket.send(JSON.stringify({ type: 'hello-browser' }));
  socket.send(JSON.stringify({ type: 'serial-terminal', action: 'open', outTo: 'terminal', portPath: port, baudrate: 115200, msg: 'none' }));
  return {
    bytes: () => bytes,
    load: (image) =>
      new Promise<void>((resolve, reject) => {
        onProgress = (text) => {
          if (text.startsWith('\r005')) resolve();
          else if (/^\r(1\d\d|Error)/.test(text)) reject(new Error(text));
        };
        socket.send(JSON.stringify({ type: 'load-prop', action: 'RAM', portPath: 'COM3', payload: image.toString('base64'), debug: 'none' }));
      }),
    close: () => socket.terminate(),
  };
}

async function timeLoads(load: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 5; i += 1) await load();
  const times: number[] = [];
  for (let i = 0; i < LOADS; i += 1) {
    const t0 = performance.now();
    await load();
    times.push(performance.now() - t0);
  }
  return median(times);
}

export const run: BenchRun = async () => {
  const sim = await startSimulatorWorker();
  const image = makeBinary(2048);
  try {
    // Three terminal receivers on three ports, all connected at once; each flood goes to one port,
    // and the contenders take turns so machine noise hits them alike (best of ROUNDS each).
    const raw = await rawLauncher(sim.url, 'COM5');
    const client = new LauncherClient({ url: sim.url });
    client.start();
    const session = await client.openTerminal({ port: 'COM4', baudrate: 115200, mode: 'term' });
    let clientBytes = 0;
    session.on('data', (data: Buffer) => (clientBytes += data.length));

    await helper.startServer();
    await helper.load(
      [launcherNode, loadNode, terminalNode] as never[],
      [
        { id: 'tab', type: 'tab', label: 'bench' },
        { id: 'launcher', type: 'propeller-launcher', url: sim.url },
        {
          id: 'terminal',
          z: 'tab',
          type: 'propeller-terminal',
          connectionType: 'launcher',
          launcher: 'launcher',
          port: 'COM3',
          baudrate: 115200,
          mode: 'term',
          output: 'buffer',
          split: 'none',
          wires: [['sink']],
        },
        { id: 'sink', z: 'tab', type: 'helper' },
        {
          id: 'load',
          z: 'tab',
          type: 'propeller-load',
          connectionType: 'launcher',
          launcher: 'launcher',
          source: 'payload',
          action: 'RAM',
          port: 'COM3',
          debug: 'none',
          timeout: 30,
          wires: [['result'], []],
        },
        { id: 'result', z: 'tab', type: 'helper' },
      ] as never,
    );
    // The test helper wraps every Node method in a sinon spy that records each call forever; a
    // deployed Node-RED has no such cost, so take them off for the measurement.
    (helper as unknown as { _sandbox: { restore(): void } })._sandbox.restore();
    let nodeBytes = 0;
    helper.getNode('sink').on('input', (msg: { payload: Buffer }) => (nodeBytes += msg.payload.length));
    const t0 = performance.now();
    while ((nodeBytes === 0 || clientBytes === 0 || raw.bytes() === 0) && performance.now() - t0 < 5000) {
      for (const port of ['COM3', 'COM4', 'COM5']) await sim.flood(1492, port);
      await new Promise((r) => setTimeout(r, 50));
    }

    const rates = { raw: [] as number[], client: [] as number[], node: [] as number[] };
    for (let round = 0; round <= ROUNDS; round += 1) {
      // Round 0 warms up.
      const r = await throughput(sim, 'COM5', raw.bytes);
      const c = await throughput(sim, 'COM4', () => clientBytes);
      const n = await throughput(sim, 'COM3', () => nodeBytes);
      if (round > 0) {
        rates.raw.push(r);
        rates.client.push(c);
        rates.node.push(n);
      }
    }
    const rawRate = Math.max(...rates.raw);
    const clientRate = Math.max(...rates.client);
    const nodeRate = Math.max(...rates.node);

    const rawLoad = await timeLoads(() => raw.load(image));
    const clientLoad = await timeLoads(async () => {
      const result = await client.load({ image, action: 'RAM', port: 'COM3', debug: 'none' });
      if (!result.success) throw new Error(result.error);
    });
    const nodeLoad = await timeLoads(
      () =>
        new Promise<void>((resolve, reject) => {
          helper
            .getNode('result')
            .once('input', (msg: { payload: { success: boolean; error?: string } }) =>
              msg.payload.success ? resolve() : reject(new Error(msg.payload.error)),
            );
          helper.getNode('load').receive({ payload: image });
        }),
    );
    raw.close();
    await session.close();
    await client.stop();
    await helper.unload();
    await helper.stopServer();

    const mb = (v: number): number => v / 1e6;
    return {
      title: 'Propeller via the BlocklyProp Launcher: terminal throughput and load round trip',
      rows: [
        {
          name: 'propeller-terminal node → downstream node',
          value: mb(nodeRate),
          unit: 'MB/s',
          ratio: { against: 'raw ws client', value: nodeRate / rawRate, target: '≥ 0.7×' },
        },
        {
          name: 'LauncherClient terminal session (no Node-RED)',
          value: mb(clientRate),
          unit: 'MB/s',
          ratio: { against: 'raw ws client', value: clientRate / rawRate },
        },
        { name: 'raw ws client (JSON.parse + base64 decode)', value: mb(rawRate), unit: 'MB/s' },
        { name: 'load round trip, raw ws client (median)', value: rawLoad, unit: 'ms' },
        {
          name: 'load round trip, LauncherClient (median)',
          value: clientLoad,
          unit: 'ms',
          ratio: { against: 'raw ws client', value: rawLoad / clientLoad },
        },
        {
          name: 'load round trip, propeller-load node (median)',
          value: nodeLoad,
          unit: 'ms',
          ratio: { against: 'raw ws client', value: rawLoad / nodeLoad },
        },
        { name: 'added latency of the load node over raw ws', value: nodeLoad - rawLoad, unit: 'ms' },
      ],
      notes: [
        `${FLOOD_BYTES / 1024 / 1024} MiB of terminal data per run in 1492-byte packets (the Launcher's batch size), base64 in JSON; ` +
          `best of ${ROUNDS} interleaved runs each (${rates.node.map((v) => mb(v).toFixed(1)).join('/')} node, ` +
          `${rates.raw.map((v) => mb(v).toFixed(1)).join('/')} raw MB/s); ` +
          `simulator in a worker thread; the test helper's sinon spies on Node methods are removed before measuring.`,
        `load: a ${image.length}-byte .binary, ${LOADS} loads each after 5 warm-up loads; ` +
          `the simulator plays the full RAM sequence with no delay between messages (a real 32 KB load takes seconds). ` +
          `The node includes the local image check, the port-list check and the load queue.`,
      ],
    };
  } finally {
    await sim.stop();
  }
};
