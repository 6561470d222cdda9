/**
 * neoEBV: pipelined JSON-RPC calls over one socket.
 *  - NebvClient vs a minimal raw `net` client doing the same framing and id matching (target ≥ 0.7×);
 *  - the nebv-rpc node vs Node-RED's core `tcp request` node, which opens a connection per message
 *    (target ≥ 5×), both running in a node-red-node-test-helper runtime.
 * The simulator runs in its own process so the server does not share the measured event loop. It
 * sends whole replies ending in "\n" for every contender, because the tcp request node can only end
 * a reply on a character (a fixed count or a quiet time would be slower still).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { NebvClient } from '../src/protocols/nebv/client';
import { helper } from '../test/helpers/red';
import type { BenchRow, BenchRun } from './bench-types';
import serverNode = require('../src/nodes/nebv-server');
import rpcNode = require('../src/nodes/nebv-rpc');
import { median, percentile } from './stats';

const WINDOW = 100;
/** Rounds alternate between the contenders so a burst of load on this shared machine hits both alike. */
const ROUNDS = 6;
const CALLS_PER_ROUND = 2_500;
const NODE_ROUNDS = 2;
const NODE_CALLS_PER_ROUND = 2_000;
const PER_CONNECTION_CALLS_PER_ROUND = 400;
/** Per measured run, so a loaded machine cannot stretch the whole bench far past 30 s. */
const TIME_LIMIT_MS = 2_500;

interface Measured {
  callsPerSecond: number;
  /** CPU time of this process (the client side only: the simulator runs apart) per call, in µs. */
  cpuMicros: number;
  p50: number;
  p99: number;
  calls: number;
}

/** Rounds of one contender folded into one figure: median rate and latencies. */
function fold(rounds: Measured[]): Measured {
  return {
    callsPerSecond: median(rounds.map((r) => r.callsPerSecond)),
    cpuMicros: median(rounds.map((r) => r.cpuMicros)),
    p50: median(rounds.map((r) => r.p50)),
    p99: median(rounds.map((r) => r.p99)),
    calls: rounds.reduce((sum, r) => sum + r.calls, 0),
  };
}

/** Keep `window` calls in flight until `total` are done or time runs out; latency per call from send to reply. */
async function pipeline(total: number, window: number, callOnce: () => Promise<unknown>): Promise<Measured> {
  const latencies: number[] = [];
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let issued = 0;
  const lane = async (): Promise<void> => {
    while (issued < total && performance.now() - started < TIME_LIMIT_MS) {
      issued += 1;
      const t0 = performance.now();
      await callOnce();
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: window }, lane));
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  latencies.sort((a, b) => a - b);
  return {
    callsPerSecond: latencies.length / seconds,
    cpuMicros: (cpu.user + cpu.system) / latencies.length,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    calls: latencies.length,
  };
}

/** The simulator in its own process, so the CPU time measured here is the clients' alone. */
function startSimulatorProcess(): Promise<{ port: number; child: ChildProcess }> {
  const sim = path.join(__dirname, '..', 'src', 'simulators', 'nebv.ts');
  const code = `require(${JSON.stringify(sim)}).NebvSimulator.start({ chunking: false, replyNewline: true }).then((s) => console.log(s.port));`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const port = /^(\d+)\n/.exec(out)?.[1];
      if (port) resolve({ port: Number(port), child });
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the simulator process exited (${code}) before listening`)));
  });
}

/** What a careful hand-written client does: one socket, brace-depth framing, a Map of ids. */
async function rawClient(port: number): Promise<{ call(method: string, params: object): Promise<unknown>; close(): void }> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.setNoDelay(true);
  const waiting = new Map<string, (reply: unknown) => void>();
  let buffer = '';
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = 0;
  socket.setEncoding('utf8');
  socket.on('data', (text: string) => {
    const scanFrom = buffer.length;
    buffer += text;
    for (let i = scanFrom; i < buffer.length; i += 1) {
      const c = buffer.charCodeAt(i);
      if (inString) {
        if (escaped) escaped = false;
        else if (c === 92) escaped = true;
        else if (c === 34) inString = false;
      } else if (c === 34) inString = true;
      else if (c === 123) {
        if (depth === 0) start = i;
        depth += 1;
      } else if (c === 125 && --depth === 0) {
        const reply = JSON.parse(buffer.slice(start, i + 1)) as { id: unknown; result: unknown };
        waiting.get(String(reply.id))?.(reply.result);
        waiting.delete(String(reply.id));
      }
    }
    buffer = depth === 0 ? '' : buffer.slice(start);
    start = 0;
  });
  let nextId = 1;
  return {
    call(method, params) {
      const id = nextId++;
      return new Promise((resolve) => {
        waiting.set(String(id), resolve);
        socket.write(JSON.stringify({ jsonrpc: '2.0', method, id, params }));
      });
    },
    close: () => socket.destroy(),
  };
}

async function throughNodes(flow: Array<Record<string, unknown>>, modules: unknown[], total: number, window: number): Promise<Measured> {
  await helper.load(modules as never[], flow as never);
  // The helper wraps every Node method in a recording sinon spy whose cost grows with the calls
  // recorded; a deployed Node-RED has none of that, so take it off for both contenders alike.
  const harness = helper as unknown as { _sandbox: { restore(): void }; _logSpy?: { restore(): void } };
  harness._sandbox.restore();
  harness._logSpy?.restore();
  const input = helper.getNode('in');
  const output = helper.getNode('out');
  const waiting = new Map<number, () => void>();
  output.on('input', (msg: { seq: number }) => {
    waiting.get(msg.seq)?.();
    waiting.delete(msg.seq);
  });
  let seq = 0;
  const once = (): Promise<void> => {
    const mine = (seq += 1);
    return new Promise<void>((resolve) => {
      waiting.set(mine, resolve);
      input.receive({ seq: mine, payload: PAYLOAD_TEXT });
    });
  };
  try {
    await pipeline(Math.ceil(total / 5), window, once); // warm up: connect, JIT
    return await pipeline(total, window, once);
  } finally {
    await helper.unload();
  }
}

let PAYLOAD_TEXT = '';

export const run: BenchRun = async () => {
  const { port, child } = await startSimulatorProcess();
  try {
    // One mark, read back through its props: a realistic request (the whole EbvItem) and a short reply.
    const setup = new NebvClient({ target: `127.0.0.1:${port}` });
    const mark = (await setup.call('MarkList.add', { point: [10, 0] })) as Record<string, unknown>;
    await setup.close();
    const params = { item: mark };
    PAYLOAD_TEXT = JSON.stringify({ jsonrpc: '2.0', method: 'pynebv.Mark.props', id: 1, params });

    const client = new NebvClient({ target: `127.0.0.1:${port}`, timeoutMs: 30_000 });
    const raw = await rawClient(port);
    const ourCall = (): Promise<unknown> => client.call('Mark.props', params);
    const rawCall = (): Promise<unknown> => raw.call('pynebv.Mark.props', params);
    await pipeline(2000, WINDOW, ourCall); // connect and warm up both
    await pipeline(2000, WINDOW, rawCall);
    const oursRounds: Measured[] = [];
    const bareRounds: Measured[] = [];
    const clientRatios: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      // Alternate who goes first, so neither always runs right after the other's garbage.
      const pair =
        round % 2 === 0
          ? [await pipeline(CALLS_PER_ROUND, WINDOW, ourCall), await pipeline(CALLS_PER_ROUND, WINDOW, rawCall)]
          : [await pipeline(CALLS_PER_ROUND, WINDOW, rawCall), await pipeline(CALLS_PER_ROUND, WINDOW, ourCall)].reverse();
      oursRounds.push(pair[0]!);
      bareRounds.push(pair[1]!);
      clientRatios.push(pair[0]!.callsPerSecond / pair[1]!.callsPerSecond);
    }
    const oursSerial = await pipeline(1000, 1, ourCall);
    await client.close();
    raw.close();
    const ours = fold(oursRounds);
    const bare = fold(bareRounds);

    await helper.startServer();
    const nebvFlow = [
      { id: 'srv', type: 'nebv-server', transport: 'tcp', host: '127.0.0.1', port: String(port), timeout: 30 },
      {
        id: 'in',
        type: 'nebv-rpc',
        server: 'srv',
        method: 'pynebv.Mark.props',
        params: JSON.stringify(params),
        paramsFrom: 'field',
        wires: [['out']],
      },
      { id: 'out', type: 'helper' },
    ];
    const coreDir = path.dirname(require.resolve('@node-red/nodes/package.json'));
    const tcpModules = [require(path.join(coreDir, 'core/network/31-tcpin.js')), require(path.join(coreDir, 'core/parsers/70-JSON.js'))];
    const tcpFlow = [
      // The per-message pattern: connect, write msg.payload, read up to "\n", close; then parse the JSON.
      {
        id: 'in',
        type: 'tcp request',
        server: '127.0.0.1',
        port: String(port),
        out: 'char',
        ret: 'string',
        splitc: '\\n',
        newline: '',
        trim: false,
        tls: '',
        wires: [['parse']],
      },
      { id: 'parse', type: 'json', property: 'payload', action: 'obj', pretty: false, wires: [['out']] },
      { id: 'out', type: 'helper' },
    ];
    const nodeOursRounds: Measured[] = [];
    const nodeCoreRounds: Measured[] = [];
    const nodeRatios: number[] = [];
    for (let round = 0; round < NODE_ROUNDS; round += 1) {
      const mine = await throughNodes(nebvFlow, [serverNode, rpcNode], NODE_CALLS_PER_ROUND, WINDOW);
      // One at a time: with several messages queued on one host:port the node closes the socket at the first reply.
      const core = await throughNodes(tcpFlow, tcpModules, PER_CONNECTION_CALLS_PER_ROUND, 1);
      nodeOursRounds.push(mine);
      nodeCoreRounds.push(core);
      nodeRatios.push(mine.callsPerSecond / core.callsPerSecond);
    }
    await helper.stopServer();
    const nodeOurs = fold(nodeOursRounds);
    const nodeCore = fold(nodeCoreRounds);

    const latency = (label: string, m: Measured): BenchRow[] => [
      { name: `${label} p50 latency`, value: m.p50, unit: 'ms' },
      { name: `${label} p99 latency`, value: m.p99, unit: 'ms' },
    ];
    return {
      title: `neoEBV JSON-RPC: pynebv.Mark.props, ${WINDOW} calls in flight`,
      rows: [
        {
          name: 'NebvClient pipelined',
          value: ours.callsPerSecond,
          unit: 'calls/s',
          ratio: { against: 'raw net client', value: median(clientRatios), target: '≥ 0.7×' },
        },
        { name: 'raw net client pipelined', value: bare.callsPerSecond, unit: 'calls/s' },
        {
          name: 'nebv-rpc node pipelined',
          value: nodeOurs.callsPerSecond,
          unit: 'calls/s',
          ratio: { against: 'core tcp request node', value: median(nodeRatios), target: '≥ 5×' },
        },
        { name: 'core tcp request + json, connection per msg', value: nodeCore.callsPerSecond, unit: 'calls/s' },
        ...latency('NebvClient', ours),
        ...latency('raw net client', bare),
        ...latency('nebv-rpc node', nodeOurs),
        ...latency('tcp request node', nodeCore),
        {
          name: 'NebvClient CPU per call',
          value: ours.cpuMicros,
          unit: 'µs',
          ratio: { against: 'raw net client', value: bare.cpuMicros / ours.cpuMicros },
        },
        { name: 'raw net client CPU per call', value: bare.cpuMicros, unit: 'µs' },
        { name: 'NebvClient one call at a time p50', value: oursSerial.p50, unit: 'ms' },
      ],
      notes: [
        `${ours.calls} client calls, ${nodeOurs.calls} node calls, ${nodeCore.calls} tcp request calls; ` +
          `simulator in a child process, replies in one write each, ending "\\n".`,
        `Figures are medians over alternating rounds; ` +
          `ratios are medians of per-round ratios (client: ${clientRatios.map((r) => r.toFixed(2)).join(', ')}; ` +
          `nodes: ${nodeRatios.map((r) => r.toFixed(1)).join(', ')}).`,
        'Nodes run in a node-red-node-test-helper runtime with its recording spies (Node methods and the log) removed after deploy: ' +
          'they slow every call and a deployed Node-RED has none.',
        'Latencies under load include queueing behind the other calls in flight; the one-at-a-time p50 is the bare round trip.',
        'tcp request node: out "char" on "\\n" (the only split it has that fits a JSON reply), ' +
          'fed one message at a time because queued messages to one host:port lose their replies when it closes the socket.',
      ],
    };
  } finally {
    child.kill();
  }
};
