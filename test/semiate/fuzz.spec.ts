import assert from 'node:assert/strict';
import fc from 'fast-check';
import mqtt, { type MqttClient } from 'mqtt';
import type { SemiAteTester } from '../../src/protocols/semiate';
import { SemiAteSimulator } from '../../src/simulators/semiate';
import {
  CallTracker,
  FUZZ_OUT,
  Vitals,
  assertHealthy,
  describeVitals,
  fuzzFlow,
  fuzzRunOptions,
  fuzzScale,
  isClearError,
  type FlowNode,
} from '../helpers/fuzz';
import { helper, collect, waitFor } from '../helpers/red';
import { FakeMaster, nested } from './fake-master';
import { FAST } from './fixtures';
import testerNode = require('../../src/nodes/semiate-tester');
import commandNode = require('../../src/nodes/semiate-command');
import statusNode = require('../../src/nodes/semiate-status');
import resultsNode = require('../../src/nodes/semiate-results');

const nodes = [testerNode, commandNode, statusNode, resultsNode] as never[];
// The seed of the small run is one whose few cases include hostile answers thousands of levels deep.
const scale = fuzzScale({ runs: 8, timeLimitMs: 8_000 }, { runs: 400, timeLimitMs: 15 * 60_000 }, 5);
const MB = 1024 * 1024;

/** One thing a hostile tester sends: a text (or raw bytes) for the websocket, or for an MQTT topic of the tester. */
interface Frame {
  text: Buffer;
  /** MQTT: the topic below ate/<device id>/. */
  topic: string;
  /** Websocket: send in this many fragments, a few ms apart. */
  trickle?: number;
}

const TYPES = ['status', 'testresult', 'testresults', 'logs', 'yield', 'bintable', 'lotdata', 'usersettings', 'masterconfiguration', 'logfile'];
const TOPICS = [
  'Master/status',
  'Master/response',
  'TestApp/testresult/site0',
  'TestApp/status/site1',
  'Control/status/site0',
  'Control/log/site0',
  'TestApp/log/site1',
];
const STATES = ['initialized', 'loading', 'ready', 'testing', 'unloading', 'softerror', 'error', 'crash', 'connecting'];

const record = fc.record({
  type: fc.constantFrom('PIR', 'PTR', 'FTR', 'MPR', 'PRR', 'XYZ'),
  SITE_NUM: fc.oneof(fc.integer({ min: -1, max: 1e9 }), fc.string({ maxLength: 5 })),
  PART_ID: fc.oneof(fc.string({ maxLength: 12 }), fc.integer()),
  RESULT: fc.oneof(fc.double(), fc.constantFrom('inf', '-inf', 'nan'), fc.string({ maxLength: 4 })),
  LO_LIMIT: fc.oneof(fc.double(), fc.constant('-inf')),
  TEST_FLG: fc.integer({ min: 0, max: 255 }),
  RTN_RSLT: fc.array(fc.double(), { maxLength: 5 }),
});

/** Every kind of frame the issue lists: deep, huge, truncated, invalid UTF-8, wrong types, many ids, Python tokens, trickled. */
function frames(topicSite: () => string): fc.Arbitrary<Frame> {
  const big = scale.large ? 12 * MB : 2 * MB;
  const topic = fc.constantFrom(...TOPICS);
  const plausible = fc
    .record({ type: fc.oneof(fc.constantFrom(...TYPES), fc.string({ maxLength: 20 })), payload: fc.jsonValue({ maxDepth: 4 }) })
    .map((m) => JSON.stringify(m));
  const status = fc
    .record({
      state: fc.oneof(fc.constantFrom(...STATES), fc.string({ maxLength: 30 })),
      sites: fc.oneof(fc.array(fc.string({ maxLength: 4 }), { maxLength: 8 }), fc.constant(null)),
      lot_number: fc.string({ maxLength: 10 }),
    })
    .map((payload) => JSON.stringify({ type: 'status', interface_version: 1, state: payload.state, payload }));
  const parts = fc.array(record, { maxLength: 8 }).map((payload) => JSON.stringify({ type: 'testresult', payload }));
  const python = parts.map((text) => text.replace(/"(-?)inf"/g, (_m, sign: string) => `${sign}Infinity`).replace(/"nan"/g, 'NaN'));
  // Node-RED's copy of a msg for a second wire overflows the stack from about 2,500 levels.
  const deep = fc
    .tuple(
      fc.oneof(fc.integer({ min: 65, max: 300 }), fc.integer({ min: 2500, max: scale.large ? 20_000 : 6000 })),
      fc.constantFrom('lotdata', 'usersettings', 'testresult'),
    )
    .map(([depth, type]) => `{"type":"${type}","payload":${nested(depth)}}`);
  const huge = fc
    .integer({ min: 64 * 1024, max: big })
    .map((size) => JSON.stringify({ type: 'logfile', payload: { filename: 'x', content: 'y'.repeat(size) } }));
  const truncated = fc.tuple(plausible, fc.nat()).map(([text, cut]) => text.slice(0, cut % Math.max(1, text.length)));
  const invalidUtf8 = fc
    .uint8Array({ minLength: 1, maxLength: 64 })
    .map((bytes) => Buffer.concat([Buffer.from('{"type":"status","payload":"'), Buffer.from([0xff, 0xfe]), Buffer.from(bytes), Buffer.from('"}')]));
  const wrongTypes = fc.constantFrom(
    '[]',
    'null',
    '"status"',
    '42',
    '{"type":5}',
    '{"type":"status","payload":"ready"}',
    '{"type":"testresult","payload":{"0":{}}}',
    '{"type":"testresults","payload":[1,[2]]}',
    '{"type":"logs","payload":[null,{"date":{}}]}',
  );
  const manySites = fc.integer({ min: 1000, max: scale.large ? 200_000 : 20_000 }).map((n) =>
    JSON.stringify({
      type: 'status',
      payload: { state: 'ready', sites: Array.from({ length: n }, (_, i) => `${topicSite()}${i}`), lot_number: 'L' },
    }),
  );
  const text = fc.oneof(
    { arbitrary: plausible, weight: 4 },
    { arbitrary: status, weight: 4 },
    { arbitrary: parts, weight: 3 },
    { arbitrary: python, weight: 2 },
    { arbitrary: deep, weight: 1 },
    { arbitrary: huge, weight: 1 },
    { arbitrary: truncated, weight: 2 },
    { arbitrary: invalidUtf8, weight: 1 },
    { arbitrary: wrongTypes, weight: 2 },
    { arbitrary: manySites, weight: 1 },
  );
  return fc.record({
    // Bytes made while the case is generated, so sending costs the peer no more than a copy.
    text: text.map((t) => (typeof t === 'string' ? Buffer.from(t) : t)),
    topic: fc.oneof(
      topic,
      fc.integer({ min: 0, max: 1e6 }).map((n) => `TestApp/testresult/site${n}`),
    ),
    trickle: fc.option(fc.integer({ min: 2, max: 8 }), { nil: undefined }),
  });
}

/** Payloads (as JSON text) a hostile master answers commands with: deep enough to overflow a msg copy, huge, or odd. */
const replies = fc.array(
  fc.oneof(
    fc.integer({ min: 2500, max: scale.large ? 20_000 : 6000 }).map((depth) => nested(depth)),
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
    fc.integer({ min: 1024, max: scale.large ? 8 * MB : MB }).map((size) => JSON.stringify('z'.repeat(size))),
    fc.constantFrom('{"state":"ready"}', '{"state":"testing"}', '{"name":5}', 'NaN', '[Infinity]'),
  ),
  { minLength: 1, maxLength: 4 },
);

/** The websocket type a master answers a command with (MQTT answers with the command's own type). */
function answerType(command: unknown): string {
  const answers: Record<string, string> = { getresults: 'testresults', getlogs: 'logs', getlogfile: 'logfile', usersettings: 'usersettings' };
  return (typeof command === 'string' && answers[command]) || 'status';
}

/** What a careless flow sends to semiate-command. */
const calls = fc.record(
  {
    command: fc.oneof(
      // Queries most often: their answers go straight into the output msg.
      { arbitrary: fc.constantFrom('getresults', 'getlogs', 'getlogfile', 'identify', 'get-state'), weight: 4 },
      { arbitrary: fc.constantFrom('load', 'next', 'start', 'unload', 'reset', 'usersettings', 'binMap', 'setloglevel'), weight: 3 },
      { arbitrary: fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.constant(null), fc.object({ maxDepth: 2 })), weight: 1 },
    ),
    lotNumber: fc.oneof(fc.string({ maxLength: 12 }), fc.double(), fc.constant(undefined)),
    sites: fc.oneof(
      fc.constant(undefined),
      fc.array(fc.oneof(fc.string({ maxLength: 3 }), fc.double()), { maxLength: 4 }),
      fc.jsonValue({ maxDepth: 3 }),
    ),
    options: fc.oneof(
      fc.constant(undefined),
      fc.array(fc.record({ name: fc.string({ maxLength: 8 }), active: fc.anything(), value: fc.double() }), { maxLength: 3 }),
    ),
    level: fc.oneof(fc.constantFrom(10, 20, 'debug'), fc.double()),
    sBin: fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 3 })),
    hBin: fc.oneof(fc.integer(), fc.double()),
    waitUntilDone: fc.boolean(),
    // The node's time limit is in seconds.
    timeout: fc.constantFrom(0.2, 0.5, 1),
  },
  { requiredKeys: ['command', 'waitUntilDone', 'timeout'] },
);

function underTest(): FlowNode[] {
  return [
    { id: 'cmd', type: 'semiate-command', tester: 'tester', command: 'getresults', lotNumber: 'payload', lotNumberType: 'msg', sitesType: 'json' },
    {
      id: 'status',
      type: 'semiate-status',
      tester: 'tester',
      logs: true,
      yield: true,
      bintable: true,
      lotdata: true,
      usersettings: true,
      sitestatus: true,
    },
    { id: 'results', type: 'semiate-results', tester: 'tester', includeRecords: true },
  ];
}

/** How the commands of a run ended: counted for its report line. */
interface CallCounts {
  results: number;
  errors: number;
}

/** Send one case: the frames in order (trickled ones in fragments) and the calls alongside; every call must end. */
async function runCase(
  vitals: Vitals,
  send: (frame: Frame) => Promise<void>,
  tracker: CallTracker,
  caseFrames: Frame[],
  caseCalls: Array<Record<string, unknown>>,
  caseReplies: string[],
  answers: string[],
  ended: CallCounts,
): Promise<void> {
  await vitals.caseStarted();
  answers.splice(0, answers.length, ...caseReplies);
  const ends = caseCalls.map((msg) => tracker.call(msg, 20_000));
  for (const frame of caseFrames) await send(frame);
  for (const end of await Promise.all(ends)) {
    if (end.kind === 'error') assert.ok(isClearError(end.message), `not a clear error: ${end.message}`);
    if (end.kind === 'result') ended.results += 1;
    else ended.errors += 1;
  }
  vitals.caseEnded();
}

describe(`semiate fuzz (seed ${scale.seed}, ${scale.runs} cases${scale.large ? ', large' : ''})`, function () {
  this.timeout(scale.timeLimitMs + 120_000);
  before(async () => {
    // Reconnect quickly after a frame that makes the websocket close (invalid UTF-8).
    helper.settings({ semiateTesterReconnectTime: 100 });
    await helper.startServer();
  });
  after(async () => {
    await helper.stopServer();
    helper.settings({ semiateTesterReconnectTime: undefined });
  });
  afterEach(() => helper.unload());

  it('websocket: a hostile master never ends or stalls Node-RED, and every command ends', async () => {
    const master = await FakeMaster.start();
    let siteSeed = 0;
    const vitals = new Vitals();
    let cases = 0;
    const ended: CallCounts = { results: 0, errors: 0 };
    try {
      await helper.load(nodes, fuzzFlow(underTest(), [{ id: 'tester', type: 'semiate-tester', transport: 'websocket', url: master.url }]) as never);
      const tracker = new CallTracker('cmd');
      const answers: string[] = [];
      master.greeting = { state: 'ready', sites: ['0', '1'], lot_number: 'L' };
      master.onCommand = (command) => {
        const payload = answers.shift();
        if (payload !== undefined) master.send(`{"type":"${answerType(command.command)}","payload":${payload}}`);
      };
      const send = async (frame: Frame): Promise<void> => {
        await waitFor(() => master.clients > 0, 10_000, 'the tester (re)connected');
        if (frame.trickle) await master.trickle(frame.text, frame.trickle, 2);
        else master.send(frame.text);
      };
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            frames(() => String(siteSeed++ % 7)),
            { minLength: 1, maxLength: 12 },
          ),
          fc.array(calls, { minLength: 1, maxLength: 3 }),
          replies,
          async (caseFrames, caseCalls, caseReplies) => {
            cases += 1;
            await runCase(vitals, send, tracker, caseFrames, caseCalls, caseReplies, answers, ended);
          },
        ),
        fuzzRunOptions(scale),
      );
      // Still alive and listening: a plain status reaches the status node.
      const states = collect<Record<string, unknown>>(helper.getNode(FUZZ_OUT[1]));
      // (Repeated: the last case may have made the tester reconnect, e.g. after invalid UTF-8.)
      const resend = setInterval(() => master.sendMessage('status', { state: 'after-fuzz', sites: ['0'], lot_number: '' }), 300);
      try {
        await waitFor(() => states.some((m) => m.topic === 'state' && m.payload === 'after-fuzz'), 15_000, 'a state after the fuzz');
      } finally {
        clearInterval(resend);
      }
    } finally {
      const report = await vitals.stopSettled();
      await helper.unload();
      await master.close();
      console.log(
        describeVitals(`Semi-ATE websocket fuzz (seed ${scale.seed}${scale.large ? ', large' : ''})`, report, {
          cases,
          'commands with a result': ended.results,
          'with a clear error': ended.errors,
        }),
      );
      assertHealthy(report);
    }
  });

  it('MQTT: hostile publishers on the tester topics never end or stall Node-RED, and every command ends', async () => {
    const sim = new SemiAteSimulator({ ...FAST, sites: 2 });
    await sim.start();
    let publisher: MqttClient | undefined;
    const vitals = new Vitals();
    let cases = 0;
    const ended: CallCounts = { results: 0, errors: 0 };
    try {
      await helper.load(
        nodes,
        fuzzFlow(underTest(), [
          { id: 'tester', type: 'semiate-tester', transport: 'mqtt', broker: sim.mqttUrl, deviceId: sim.options.deviceId },
        ]) as never,
      );
      const tracker = new CallTracker('cmd');
      publisher = await mqtt.connectAsync(sim.mqttUrl);
      const client = publisher;
      // A second "master" answering every command on the tester's topics with something hostile.
      const answers: string[] = [];
      await client.subscribeAsync(`ate/${sim.options.deviceId}/Master/cmd`);
      client.on('message', (_topic, buffer) => {
        const payload = answers.shift();
        if (payload === undefined) return;
        const type = (/"type"\s*:\s*"([^"]{0,20})"/.exec(buffer.toString()) ?? [])[1] ?? 'identify';
        void client.publishAsync(`ate/${sim.options.deviceId}/Master/response`, `{"type":"${type}","payload":${payload}}`).catch(() => undefined);
      });
      const send = async (frame: Frame): Promise<void> => {
        await client.publishAsync(`ate/${sim.options.deviceId}/${frame.topic}`, frame.text, { qos: 1 });
      };
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            frames(() => 'S'),
            { minLength: 1, maxLength: 12 },
          ),
          fc.array(calls, { minLength: 1, maxLength: 3 }),
          replies,
          async (caseFrames, caseCalls, caseReplies) => {
            cases += 1;
            await runCase(vitals, send, tracker, caseFrames, caseCalls, caseReplies, answers, ended);
          },
        ),
        fuzzRunOptions(scale),
      );
      // Still working against the real master: after a reconnect (which asks the master for its
      // state, forgetting what the hostile publisher claimed), a lot can be loaded and tested.
      await waitFor(() => ['initialized', 'ready'].includes(sim.state), 10_000, 'the simulator settled');
      await publisher.endAsync();
      const tester = (helper.getNode('tester') as unknown as { registry: { current: SemiAteTester } }).registry.current;
      sim.dropClients();
      await waitFor(() => tester.status.state !== 'connected', 10_000, 'the tester to notice the drop');
      await waitFor(() => tester.status.state === 'connected' && tester.state === sim.state, 10_000, "the tester's view").catch((err: Error) => {
        const master = (sim as unknown as { master?: { connected: boolean } }).master;
        throw new Error(
          `${err.message}: the tester is ${JSON.stringify(tester.status)} in state ${tester.state}, the simulator in ${sim.state} (its MQTT client ${master?.connected ? 'connected' : 'not connected'})`,
        );
      });
      if (sim.state === 'ready') await tracker.call({ command: 'unload', waitUntilDone: true, timeout: 5 }, 10_000);
      const loaded = await tracker.call({ command: 'load', payload: 'AFTER', waitUntilDone: true, timeout: 5 }, 10_000);
      assert.equal(loaded.kind, 'result', JSON.stringify(loaded));
      const tested = await tracker.call({ command: 'next', waitUntilDone: true, timeout: 5 }, 10_000);
      assert.equal(tested.kind, 'result', JSON.stringify(tested));
    } finally {
      const report = await vitals.stopSettled();
      await helper.unload();
      await publisher?.endAsync();
      await sim.close();
      console.log(
        describeVitals(`Semi-ATE MQTT fuzz (seed ${scale.seed}${scale.large ? ', large' : ''})`, report, {
          cases,
          'commands with a result': ended.results,
          'with a clear error': ended.errors,
        }),
      );
      assertHealthy(report);
    }
  });
});
