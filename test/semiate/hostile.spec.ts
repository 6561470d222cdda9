import assert from 'node:assert/strict';
import { mock } from 'node:test';
import fc from 'fast-check';
import net, { type AddressInfo } from 'node:net';
import mqtt from 'mqtt';
import { SemiAteTester } from '../../src/protocols/semiate';
import { InstrumentError } from '../../src/protocols/common/errors';
import { decodeMessage, pythonTokensAsStrings } from '../../src/protocols/semiate/decode';
import { WarningThrottle } from '../../src/protocols/semiate/warning-throttle';
import { SemiAteSimulator } from '../../src/simulators/semiate';
import { helper, collect, nextMessage, waitFor } from '../helpers/red';
import { FakeMaster, nested } from './fake-master';
import { FAST } from './fixtures';
import testerNode = require('../../src/nodes/semiate-tester');
import commandNode = require('../../src/nodes/semiate-command');
import statusNode = require('../../src/nodes/semiate-status');
import resultsNode = require('../../src/nodes/semiate-results');

type Msg = Record<string, unknown> & { payload?: unknown; topic?: string; error?: { message: string } };
const nodes = [testerNode, commandNode, statusNode, resultsNode] as never[];
type Spy = { getCalls(): Array<{ args: unknown[] }> };
const calls = (spy: unknown): string[] => (spy as Spy).getCalls().map((c) => String(c.args[0]));

/** Uncaught exceptions and unhandled rejections while `work` runs (mocha would blame some later test). */
async function noneUncaught(work: () => Promise<void>): Promise<void> {
  const seen: unknown[] = [];
  const record = (err: unknown): number => seen.push(err);
  const mochaHandlers = process.listeners('uncaughtException');
  process.removeAllListeners('uncaughtException');
  process.on('uncaughtException', record);
  process.on('unhandledRejection', record);
  try {
    await work();
  } finally {
    process.off('uncaughtException', record);
    process.off('unhandledRejection', record);
    for (const handler of mochaHandlers) process.on('uncaughtException', handler);
  }
  assert.deepEqual(
    seen.map((e) => String(e)),
    [],
  );
}

describe('semiate decoding what a tester sends', () => {
  it("turns Python's bare NaN, Infinity and -Infinity into the websocket's strings, and leaves strings alone", () => {
    assert.equal(
      pythonTokensAsStrings('{"LO_LIMIT": -Infinity, "HI_LIMIT": Infinity, "RESULT": NaN, "TEST_TXT": "NaN Infinity -Infinity", "a": [NaN]}'),
      '{"LO_LIMIT": "-inf", "HI_LIMIT": "inf", "RESULT": "nan", "TEST_TXT": "NaN Infinity -Infinity", "a": ["nan"]}',
    );
    const decoded = decodeMessage('{"type":"testresult","payload":[{"type":"PTR","LO_LIMIT":-Infinity,"RESULT":NaN,"TEST_TXT":"say \\"NaN\\""}]}');
    assert.ok(decoded.ok);
    assert.deepEqual(decoded.message.payload, [{ type: 'PTR', LO_LIMIT: '-inf', RESULT: 'nan', TEST_TXT: 'say "NaN"' }]);
  });

  it('reads any JSON object as JSON.parse does, whatever its strings hold (escaped quotes, brackets, N and I)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 6 })), (value) => {
        const text = JSON.stringify(value);
        const decoded = decodeMessage(text);
        assert.ok(decoded.ok, text);
        assert.deepEqual(decoded.message, JSON.parse(text));
      }),
      { seed: 7, numRuns: 500 },
    );
    assert.ok(decodeMessage(`{"a":"${'[{'.repeat(500)}\\\\","b":"\\\\"}`).ok, 'brackets and backslashes inside strings do not count');
  });

  it('refuses too deep, too large, not JSON and not an object, saying why', () => {
    const deep = decodeMessage(`{"type":"lotdata","payload":${nested(5000)}}`);
    assert.ok(!deep.ok && deep.cause === 'tooDeep' && /nested more than 64 levels/.test(deep.text));
    const fine = decodeMessage(`{"type":"lotdata","payload":${nested(60)}}`);
    assert.ok(fine.ok);
    const large = decodeMessage('{}', 17 * 1024 * 1024);
    assert.ok(!large.ok && large.cause === 'tooLarge');
    const truncated = decodeMessage('{"type":"status","payload":{"sta');
    assert.ok(!truncated.ok && truncated.cause === 'notJson' && /^it is not JSON \(/.test(truncated.text));
    const list = decodeMessage('[1,2]');
    assert.ok(!list.ok && list.cause === 'notMessage');
  });
});

describe('semiate warnings about unreadable messages', () => {
  it('come at most five per ten seconds, and the next one after says how many were left out', () => {
    const seen: InstrumentError[] = [];
    const throttle = new WarningThrottle((w) => seen.push(w));
    const warning = (i: number): InstrumentError => new InstrumentError('PROTOCOL', `bad ${i}`, { reason: 'messageNotJson' });
    const realNow = Date.now;
    let now = realNow();
    Date.now = () => now;
    try {
      for (let i = 0; i < 8; i++) throttle.offer(warning(i));
      assert.deepEqual(
        seen.map((w) => w.message),
        ['bad 0', 'bad 1', 'bad 2', 'bad 3', 'bad 4'],
      );
      now += 10_000;
      throttle.offer(warning(8));
      assert.deepEqual(
        seen.slice(5).map((w) => [w.details.reason, w.details.count ?? w.message]),
        [
          ['warningsSuppressed', 3],
          ['messageNotJson', 'bad 8'],
        ],
      );
    } finally {
      Date.now = realNow;
    }
  });
  it('a count of warnings left out is said when their window ends, with no later warning needed', () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    try {
      const seen: InstrumentError[] = [];
      const throttle = new WarningThrottle((w) => seen.push(w));
      for (let i = 0; i < 8; i++) throttle.offer(new InstrumentError('PROTOCOL', `bad ${i}`, { reason: 'messageNotJson' }));
      assert.equal(seen.length, 5);
      mock.timers.tick(9_999);
      assert.equal(seen.length, 5, 'not before the window ends');
      mock.timers.tick(1);
      assert.deepEqual([seen[5]?.details.reason, seen[5]?.details.count], ['warningsSuppressed', 3]);
      mock.timers.tick(60_000);
      assert.equal(seen.length, 6, 'said once');
      // Closed (the tester stopped): a pending count is dropped, its timer with it.
      for (let i = 0; i < 8; i++) throttle.offer(new InstrumentError('PROTOCOL', `bad ${i}`, { reason: 'messageNotJson' }));
      throttle.close();
      mock.timers.tick(60_000);
      assert.equal(seen.length, 11);
    } finally {
      mock.timers.reset();
    }
  });
});

describe('semiate over MQTT: the test apps write Python JSON', function () {
  this.timeout(15000);
  let sim: SemiAteSimulator;
  let tester: SemiAteTester;
  afterEach(async () => {
    await tester?.stop();
    await sim?.close();
  });

  it('the simulated test app publishes bare -Infinity, and the client reads the part as the websocket gives it', async () => {
    sim = new SemiAteSimulator({ ...FAST, sites: 1 });
    await sim.start();
    const raw = await mqtt.connectAsync(sim.mqttUrl);
    const texts: string[] = [];
    raw.on('message', (_topic, buffer) => texts.push(buffer.toString()));
    await raw.subscribeAsync(`ate/${sim.options.deviceId}/TestApp/testresult/+`);
    tester = new SemiAteTester({ transport: 'mqtt', url: sim.mqttUrl, deviceId: sim.options.deviceId });
    tester.start();
    try {
      await waitFor(() => tester.state === 'initialized', 5000, 'initialized');
      await tester.execute({ command: 'load', lotNumber: 'PY' }, { waitUntilDone: true });
      const tested = await tester.execute({ command: 'next' }, { waitUntilDone: true, timeoutMs: 5000 });
      await waitFor(() => texts.length === 1, 3000, 'the raw result');
      assert.match(texts[0], /"LO_LIMIT":-Infinity/, 'what the test app published');
      assert.throws(() => JSON.parse(texts[0]) as unknown, SyntaxError);
      const offset = tested.parts![0].tests.find((t) => t.number === 300)!;
      assert.equal(offset.low, -Infinity);
      const record = tested.records![0].find((r) => r.TEST_NUM === 300)!;
      assert.equal(record.LO_LIMIT, '-inf', 'the same shape as the websocket');
    } finally {
      await raw.endAsync();
    }
  });

  it('a message that cannot be read is a warning naming the topic and the reason, never dropped silently', async () => {
    sim = new SemiAteSimulator({ ...FAST, sites: 1 });
    await sim.start();
    tester = new SemiAteTester({ transport: 'mqtt', url: sim.mqttUrl, deviceId: sim.options.deviceId });
    const warnings: InstrumentError[] = [];
    tester.on('warning', (w) => warnings.push(w));
    tester.start();
    await waitFor(() => tester.state === 'initialized', 5000, 'initialized');
    const raw = await mqtt.connectAsync(sim.mqttUrl);
    const topic = `ate/${sim.options.deviceId}/TestApp/testresult/site0`;
    await raw.publishAsync(topic, '{"type":"testresult","payload":[{"type":"PIR"');
    await raw.publishAsync(topic, `{"type":"testresult","payload":${nested(3000)}}`);
    await raw.endAsync();
    await waitFor(() => warnings.length === 2, 3000, 'two warnings');
    assert.match(warnings[0].message, new RegExp(`^ignored a message from ${topic}: it is not JSON \\(`));
    assert.deepEqual([warnings[0].details.reason, warnings[0].details.source], ['messageNotJson', topic]);
    assert.match(warnings[1].message, /it is nested more than 64 levels deep$/);
    assert.equal(warnings[1].details.reason, 'messageTooDeep');
  });

  it('a result that gives no part is a warning naming the topic and why: a payload not a list, records without a PRR', async () => {
    sim = new SemiAteSimulator({ ...FAST, sites: 1 });
    await sim.start();
    tester = new SemiAteTester({ transport: 'mqtt', url: sim.mqttUrl, deviceId: sim.options.deviceId });
    const warnings: InstrumentError[] = [];
    let parts = 0;
    tester.on('warning', (w) => warnings.push(w));
    tester.on('part', () => (parts += 1));
    tester.start();
    await waitFor(() => tester.state === 'initialized', 5000, 'initialized');
    const raw = await mqtt.connectAsync(sim.mqttUrl);
    const topic = `ate/${sim.options.deviceId}/TestApp/testresult/site0`;
    await raw.publishAsync(topic, '{"oops":1}');
    await raw.publishAsync(topic, '{"type":"testresult","payload":[{"type":"PIR"},{"type":"PTR","TEST_NUM":1}]}');
    await raw.endAsync();
    await waitFor(() => warnings.length === 2, 3000, 'two warnings');
    assert.deepEqual(
      warnings.map((w) => [w.details.reason, w.details.source, w.message]),
      [
        ['testresultNotList', topic, `ignored a message from ${topic}: its payload is not a list of STDF records`],
        ['testresultWithoutPart', topic, `ignored a message from ${topic}: its records hold no part result (no PRR)`],
      ],
    );
    assert.equal(parts, 0);
  });
});

describe('semiate over MQTT: sites come from the apps, not from stray results', function () {
  this.timeout(15000);
  it('a result published for a site the tester does not have does not make a default next wait for it', async () => {
    const sim = new SemiAteSimulator({ ...FAST, sites: 2 });
    await sim.start();
    const tester = new SemiAteTester({ transport: 'mqtt', url: sim.mqttUrl, deviceId: sim.options.deviceId });
    tester.start();
    const raw = await mqtt.connectAsync(sim.mqttUrl);
    try {
      await waitFor(() => tester.state === 'initialized', 5000, 'initialized');
      // Loading makes every site's apps report their status.
      await tester.execute({ command: 'load', lotNumber: 'L' }, { waitUntilDone: true });
      await waitFor(() => tester.sites.length === 2, 3000, 'two sites');
      const stray = '{"type":"testresult","payload":[{"type":"PIR","SITE_NUM":99},{"type":"PRR","SITE_NUM":99,"PART_ID":"x"}]}';
      await raw.publishAsync(`ate/${sim.options.deviceId}/TestApp/testresult/site99`, stray);
      await waitFor(() => tester.yieldTracker.overall().tested === 1, 3000, 'the stray part counted');
      assert.deepEqual(tester.sites, ['0', '1']);
      const tested = await tester.execute({ command: 'next' }, { waitUntilDone: true, timeoutMs: 5000 });
      assert.deepEqual(tested.sites, ['0', '1']);
    } finally {
      await raw.endAsync();
      await tester.stop();
      await sim.close();
    }
  });
});

describe('semiate MQTT tester stopped while the broker has not answered the login', function () {
  this.timeout(10000);
  it("does not throw the client's later CONNACK timeout", async () => {
    // A broker that accepts the TCP connection and never answers CONNECT (a slow or stuck broker).
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const url = `mqtt://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      await noneUncaught(async () => {
        for (let i = 0; i < 3; i++) {
          const tester = new SemiAteTester({ transport: 'mqtt', url, deviceId: 'slow', connectTimeoutMs: 150 });
          tester.start();
          await waitFor(() => sockets.size > i, 3000, 'the connection');
          await tester.stop();
          tester.removeAllListeners();
        }
        // Past every CONNACK deadline.
        await new Promise((r) => setTimeout(r, 500));
      });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});

describe('semiate nodes against a hostile tester', function () {
  this.timeout(20000);
  let master: FakeMaster;
  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    master = await FakeMaster.start();
  });
  afterEach(async () => {
    await helper.unload();
    await master.close();
  });

  /** Every optional output of the status node wired to two nodes (Node-RED copies the msg), plus a Catch node. */
  async function deploy(): Promise<{ out: Msg[]; caught: Msg[] }> {
    await helper.load(nodes, [
      { id: 'f1', type: 'tab' },
      { id: 'tester', type: 'semiate-tester', transport: 'websocket', url: master.url },
      {
        id: 'status',
        type: 'semiate-status',
        z: 'f1',
        tester: 'tester',
        logs: true,
        yield: true,
        bintable: true,
        lotdata: true,
        usersettings: true,
        wires: [['a', 'b']],
      },
      { id: 'results', type: 'semiate-results', z: 'f1', tester: 'tester', includeRecords: true, wires: [['a', 'b']] },
      { id: 'a', type: 'helper', z: 'f1' },
      { id: 'b', type: 'helper', z: 'f1' },
      { id: 'catcher', type: 'catch', z: 'f1', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'f1' },
    ]);
    const out = collect<Msg>(helper.getNode('b'));
    const caught = collect<Msg>(helper.getNode('caught'));
    await waitFor(() => master.clients === 1, 5000, 'the tester connected');
    master.sendMessage('status', { state: 'initialized', sites: ['0'], lot_number: '' });
    await waitFor(() => out.some((m) => m.topic === 'state'), 5000, 'the first state');
    return { out, caught };
  }

  it('a payload nested thousands deep is refused with a warning; Node-RED lives and the next message flows', async () => {
    const { out, caught } = await deploy();
    await noneUncaught(async () => {
      master.send(`{"type":"lotdata","payload":${nested(3000)}}`);
      master.send(`{"type":"testresult","payload":[{"type":"PRR","PART_ID":${nested(3000, '"x"')}}]}`);
      master.sendMessage('lotdata', { LOT_ID: 'AFTER' });
      await waitFor(() => out.some((m) => m.topic === 'lotdata'), 5000, 'the lot data sent after');
    });
    assert.equal((out.find((m) => m.topic === 'lotdata')!.payload as { LOT_ID: string }).LOT_ID, 'AFTER');
    const warned = calls(helper.getNode('tester').warn);
    assert.equal(warned.filter((w) => /nested more than 64 levels deep/.test(w)).length, 2, warned.join('\n'));
    assert.deepEqual(caught, []);
  });

  it('bounds what it keeps of a peer: 100k site ids, thousands of message types, a 10 MB state', async () => {
    const { out } = await deploy();
    const tester = (helper.getNode('tester') as unknown as { registry: { current: SemiAteTester } }).registry.current;
    const texts: string[] = [];
    helper.getNode('status').on('call:status', (call: { args: Array<{ text?: string }> }) => texts.push(String(call.args[0]?.text)));
    const sites = Array.from({ length: 100_000 }, (_, i) => String(i));
    master.sendMessage('status', { state: 'ready', sites, lot_number: 'L' });
    for (let i = 0; i < 5000; i++) master.sendMessage(`type${i}`, i);
    master.sendMessage('status', { state: 'x'.repeat(10 * 1024 * 1024), sites: ['0'], lot_number: 'L' });
    await waitFor(() => texts.some((t) => t.startsWith('xxx')), 10000, 'the long state on the status');
    assert.ok(tester.sites.length <= 256, `${tester.sites.length} sites kept`);
    assert.ok(tester.latest.size <= 10, `${tester.latest.size} message types kept`);
    assert.ok(
      texts.every((t) => t.length <= 32),
      `status texts up to ${Math.max(...texts.map((t) => t.length))} characters`,
    );
    const states = out.filter((m) => m.topic === 'state');
    assert.ok(
      states.every((m) => String(m.payload).length <= 64),
      'the state in the msg is cut too',
    );
    assert.ok(states.every((m) => ((m.tester as { sites: string[] }).sites?.length ?? 0) <= 256));
  });
});

describe('semiate-command refuses careless values before sending', function () {
  this.timeout(15000);
  let sim: SemiAteSimulator;
  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    sim = new SemiAteSimulator({ ...FAST, sites: 1 });
    await sim.start();
  });
  afterEach(async () => {
    await helper.unload();
    await sim.close();
  });

  for (const transport of ['websocket', 'mqtt'] as const) {
    it(`a NaN test option value and a non-text msg.command are refused, naming the property (${transport})`, async () => {
      const config = transport === 'websocket' ? { transport, url: sim.wsUrl } : { transport, broker: sim.mqttUrl, deviceId: sim.options.deviceId };
      await helper.load(nodes, [
        { id: 'f1', type: 'tab' },
        { id: 'tester', type: 'semiate-tester', ...config },
        { id: 'cmd', type: 'semiate-command', z: 'f1', tester: 'tester', command: 'load', lotNumber: 'L1', lotNumberType: 'str', wires: [['out']] },
        { id: 'out', type: 'helper', z: 'f1' },
        { id: 'catcher', type: 'catch', z: 'f1', scope: null, uncaught: false, wires: [['caught']] },
        { id: 'caught', type: 'helper', z: 'f1' },
      ]);
      await waitFor(() => sim.state === 'initialized' && sim.openConnections === 1, 5000, 'connected');
      const caught = (msg: Msg): Promise<Msg> => {
        const reply = nextMessage<Msg>(helper.getNode('caught'), 5000, 'the error');
        helper.getNode('cmd').receive(msg);
        return reply;
      };
      const before = JSON.stringify(sim.options);
      if (transport === 'websocket') {
        const nan = await caught({ command: 'usersettings', options: [{ name: 'stop_on_fail', active: true, value: NaN }] });
        assert.match(nan.error!.message, /test option 0 \("stop_on_fail"\) needs a finite number as its value; it is NaN/);
        const active = await caught({ command: 'usersettings', options: [{ name: 'stop_on_fail', active: 'yes', value: 1 }] });
        assert.match(active.error!.message, /needs active as true or false; it is the text "yes"/);
      }
      const found = [];
      for (const command of [42, { name: 'next' }, ['unload'], true]) {
        const refused = await caught({ command, payload: 'x' });
        assert.match(refused.error!.message, /^msg\.command must be the name of a command as text, e\.g\. "next"; it is /);
        found.push(refused.error!.message.split('; it is ')[1]);
      }
      assert.deepEqual(found, ['42', 'an object', 'an array', 'a boolean']);
      const site = await caught({ command: transport === 'mqtt' ? 'next' : 'load', sites: [NaN], lotNumber: NaN });
      assert.match(site.error!.message, transport === 'mqtt' ? /each site for next must be a site id/ : /load needs a lot number/);
      if (transport === 'mqtt') {
        // A site id becomes part of a topic: a wildcard there would make the broker drop the master's connection.
        for (const bad of ['+', 'a/b', '#', ' ', '0 1'])
          assert.match(
            (await caught({ command: 'next', sites: [bad] })).error!.message,
            /each site for next must be a site id — a whole number, or text without/,
          );
      }
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(sim.lotNumber, '', 'the configured load was never sent in place of the bad command');
      assert.deepEqual(sim.ignored, []);
      assert.equal(JSON.stringify(sim.options), before);
      const settings = (sim as unknown as { userSettings: Array<{ value: number }> }).userSettings;
      assert.ok(
        settings.every((s) => s.value === -1),
        'no setting changed',
      );
    });
  }
});
