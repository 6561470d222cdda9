/**
 * sf-daq broker: per-call time of one get_current_run_number (GET with a JSON body, as the
 * broker wants it) through
 *  - a raw `http.request` doing exactly that exchange (the baseline),
 *  - SfdaqClient (validation, queue, reply normalisation),
 *  - the sfdaq-call node in a node-red-node-test-helper runtime (target ≤ 1.2× raw),
 *  - Node-RED's core `http request` node configured by hand for the same call (GET, payload as body,
 *    JSON parsed), the alternative a user would otherwise wire.
 * Calls are sequential: the broker serves one request at a time, so per-call time is what a flow
 * sees. The simulator runs in a worker thread so the server does not share the measured event loop.
 * Contenders take turns call by call so drift on this shared machine hits all of them alike.
 */
import http from 'node:http';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { SfdaqClient } from '../src/protocols/sfdaq/client';
import { helper } from '../test/helpers/red';
import type { BenchRow, BenchRun } from './bench-types';
import brokerNode = require('../src/nodes/sfdaq-broker');
import callNode = require('../src/nodes/sfdaq-call');
import { load } from './real-load';

const CALLS = 800;
const TIME_LIMIT_MS = 15_000;
type NodeModule = (RED: never) => void;

function startSimulatorWorker(): Promise<{ fastUrl: string; worker: Worker }> {
  const sim = path.join(__dirname, '..', 'src', 'simulators', 'sfdaq.ts');
  const worker = new Worker(
    `require('tsx/cjs');
     const { parentPort } = require('node:worker_threads');
     require(${JSON.stringify(sim)}).SfdaqSimulator.start({ mode: 'current' }).then((s) => {
       s.pgroup('alvra', 'p17502').lastRun = 7;
       parentPort.postMessage(s.fastUrl);
     });`,
    { eval: true },
  );
  return new Promise((resolve, reject) => {
    worker.once('message', (fastUrl: string) => resolve({ fastUrl, worker }));
    worker.once('error', reject);
  });
}

/** The exchange by hand: JSON body on GET, parse the reply, read the run number. */
function rawCall(url: string, agent: http.Agent): Promise<number> {
  const body = Buffer.from(JSON.stringify({ pgroup: 'p17502' }));
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'GET', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': body.length, Accept: 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const reply = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { status: string; run_number: number };
          if (reply.status !== 'ok') reject(new Error(reply.status));
          else resolve(reply.run_number);
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Send a msg into a node and resolve with the msg its output (a helper node) receives. */
function nodeCaller(inputId: string, outputId: string): () => Promise<unknown> {
  const input = helper.getNode(inputId);
  const output = helper.getNode(outputId);
  let waiting: ((msg: unknown) => void) | undefined;
  output.on('input', (msg: unknown) => waiting?.(msg));
  return () =>
    new Promise((resolve) => {
      waiting = resolve;
      input.receive({ payload: { pgroup: 'p17502' } });
    });
}

export const run: BenchRun = async () => {
  const { fastUrl, worker } = await startSimulatorWorker();
  const url = `${fastUrl}/get_current_run_number`;
  const agent = new http.Agent({ keepAlive: false });
  const client = new SfdaqClient({ fastUrl });
  const core = (file: string): NodeModule => require(require.resolve(`@node-red/nodes/core/${file}`)) as NodeModule;
  await load(
    [brokerNode, callNode, core('network/21-httprequest.js'), core('function/15-change.js')],
    [
      { id: 'tab', type: 'tab' },
      { id: 'broker', type: 'sfdaq-broker', fastUrl, timeout: 10 },
      { id: 'call', z: 'tab', type: 'sfdaq-call', broker: 'broker', operation: 'get_current_run_number', params: {}, wires: [['callOut']] },
      { id: 'callOut', z: 'tab', type: 'helper' },
      {
        id: 'httpreq',
        z: 'tab',
        type: 'http request',
        method: 'GET',
        ret: 'obj',
        paytoqs: 'body',
        url,
        persist: false,
        headers: [{ keyType: 'Content-Type', keyValue: '', valueType: 'application/json', valueValue: '' }],
        wires: [['httpOut']],
      },
      { id: 'httpOut', z: 'tab', type: 'helper' },
      // A change node without rules: what Node-RED's message delivery alone costs in this runtime.
      { id: 'hop', z: 'tab', type: 'change', rules: [], wires: [['hopOut']] },
      { id: 'hopOut', z: 'tab', type: 'helper' },
    ],
  );
  const contenders: Record<string, () => Promise<unknown>> = {
    raw: () => rawCall(url, agent),
    client: () => client.call('get_current_run_number', { pgroup: 'p17502' }),
    node: nodeCaller('call', 'callOut'),
    core: nodeCaller('httpreq', 'httpOut'),
    hop: nodeCaller('hop', 'hopOut'),
  };
  const names = Object.keys(contenders);
  const times: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
  // CPU time (this process, simulator worker included) is far less disturbed by other processes than wall time.
  const cpu: Record<string, number> = Object.fromEntries(names.map((name) => [name, 0]));
  const started = performance.now();
  try {
    for (const callOnce of Object.values(contenders)) for (let i = 0; i < 20; i += 1) await callOnce(); // warm-up
    // One call of each contender per iteration, in rotating order: load changes on this shared
    // machine then hit every contender alike instead of whichever batch ran at the time.
    for (let i = 0; i < CALLS && performance.now() - started < TIME_LIMIT_MS; i += 1) {
      for (let k = 0; k < names.length; k += 1) {
        const name = names[(i + k) % names.length]!;
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        await contenders[name]!();
        times[name]!.push(performance.now() - t0);
        const used = process.cpuUsage(c0);
        cpu[name]! += (used.user + used.system) / 1000;
      }
    }
  } finally {
    await helper.unload();
    client.close();
    agent.destroy();
    await worker.terminate();
  }
  // Trimmed mean: drop the slowest 5 % (scheduler stalls of a loaded machine), keep the rest.
  const trimmed = (values: number[]): number => {
    const sorted = [...values].sort((a, b) => a - b).slice(0, Math.max(1, Math.floor(values.length * 0.95)));
    return sorted.reduce((sum, v) => sum + v, 0) / sorted.length;
  };
  const raw = trimmed(times.raw!);
  const row = (name: string, label: string, target?: string): BenchRow => ({
    name: label,
    value: trimmed(times[name]!),
    unit: 'ms/call',
    ratio: name === 'raw' ? undefined : { against: 'raw http.request', value: trimmed(times[name]!) / raw, target },
  });
  return {
    title: 'sf-daq broker: sequential get_current_run_number (GET + JSON body), per-call time',
    rows: [
      row('raw', 'raw http.request'),
      row('client', 'SfdaqClient.call'),
      row('node', 'sfdaq-call node', '≤ 1.2×'),
      row('core', 'core http request node (GET, payload as body)'),
      row('hop', 'Node-RED message delivery alone (change node, no rules)'),
      {
        name: 'sfdaq-call minus message delivery',
        value: trimmed(times.node!) - trimmed(times.hop!),
        unit: 'ms/call',
        ratio: { against: 'raw http.request', value: (trimmed(times.node!) - trimmed(times.hop!)) / raw, target: '≤ 1.2×' },
      },
      ...names
        .filter((name) => name !== 'hop')
        .map((name) => ({
          name: `CPU per call: ${name}`,
          value: cpu[name]! / times[name]!.length,
          unit: 'ms',
          ratio: name === 'raw' ? undefined : { against: 'raw CPU', value: cpu[name]! / times[name]!.length / (cpu.raw! / times.raw!.length) },
        })),
    ],
    notes: [
      `${times.raw!.length} calls per contender, interleaved one by one, mean of the fastest 95 %; ` +
        `the simulator runs in a worker thread and closes every connection (HTTP/1.0) as the real broker does`,
    ],
  };
};
