import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { SemiAteTester, type TesterOptions } from '../../src/protocols/semiate';
import type { InstrumentError } from '../../src/protocols/common/errors';
import { MQTT_CLIENT_ID_PREFIX } from '../../src/protocols/semiate/mqtt-transport';
import { SemiAteWebSocket } from '../../src/protocols/semiate/websocket-transport';
import { SemiAteSimulator, simulator, type SemiAteSimulatorOptions } from '../../src/simulators/semiate';
import { waitFor } from '../helpers/red';
import { FAST } from './fixtures';
import { hasMosquitto, startMosquitto, type StartedBroker } from './brokers';

type Variant = { name: string; transport: 'websocket' | 'mqtt'; external?: boolean };
const variants: Variant[] = [
  { name: 'websocket', transport: 'websocket' },
  { name: 'MQTT via embedded Aedes', transport: 'mqtt' },
];
if (hasMosquitto()) variants.push({ name: 'MQTT via mosquitto', transport: 'mqtt', external: true });

function optionsFor(sim: SemiAteSimulator, transport: 'websocket' | 'mqtt'): TesterOptions {
  return transport === 'websocket'
    ? { transport, url: sim.wsUrl, reconnectMs: 50 }
    : { transport, url: sim.mqttUrl, deviceId: sim.options.deviceId, reconnectMs: 50 };
}

for (const variant of variants) {
  describe(`semiate client over ${variant.name}`, function () {
    this.timeout(15000);
    let broker: StartedBroker | undefined;
    let sim: SemiAteSimulator;
    let tester: SemiAteTester;

    before(async () => {
      if (variant.external) broker = await startMosquitto();
    });
    after(async () => {
      await broker?.stop();
    });

    async function setup(options: SemiAteSimulatorOptions = {}): Promise<void> {
      sim = new SemiAteSimulator({ ...FAST, sites: 2, brokerUrl: broker?.url, deviceId: `T-${Math.random().toString(36).slice(2, 8)}`, ...options });
      await sim.start();
      tester = new SemiAteTester(optionsFor(sim, variant.transport));
      tester.start();
      await waitFor(() => tester.state === 'initialized', 5000, 'initialized');
    }

    afterEach(async () => {
      await tester?.stop();
      await sim?.close();
    });

    it('runs a lot: load → ready, next → one part per site, unload → initialized', async () => {
      await setup();
      const states: string[] = [];
      tester.on('state', (s) => states.push(s.state));
      const loaded = await tester.execute({ command: 'load', lotNumber: '123456.123' }, { waitUntilDone: true });
      assert.equal(loaded.state, 'ready');
      assert.equal(loaded.waited, true);
      assert.equal(sim.lotNumber, '123456.123');
      const parts: string[] = [];
      tester.on('part', (p) => parts.push(`${p.site}:${p.partId}`));
      const tested = await tester.execute({ command: 'start' }, { waitUntilDone: true });
      assert.equal(tested.command, 'next');
      assert.deepEqual(tested.parts!.map((p) => p.site).sort(), ['0', '1']);
      assert.equal(tested.parts![0].tests.length, 4);
      assert.equal(tested.records!.length, 2);
      assert.deepEqual(parts.sort(), tested.parts!.map((p) => `${p.site}:${p.partId}`).sort());
      if (variant.transport === 'mqtt')
        assert.deepEqual(
          (tested.response as { sites: Array<{ siteid: string }> }).sites.map((s) => s.siteid),
          ['0', '1'],
        );
      const unloaded = await tester.execute({ command: 'unload' }, { waitUntilDone: true });
      assert.equal(unloaded.state, 'initialized');
      // The websocket's status comes once per period: a phase shorter than that may never show.
      assert.equal(states[states.length - 1], 'initialized');
      if (variant.transport === 'mqtt')
        assert.deepEqual(states, ['loading', 'ready', 'testing', 'ready', 'unloading', 'initialized'], 'MQTT reports every change');
      assert.equal(tester.yieldTracker.snapshot().total.tested, 2);
      assert.deepEqual(sim.ignored, []);
    });

    it('refuses a command the state does not allow, and the master never sees it', async () => {
      await setup();
      await assert.rejects(
        tester.execute({ command: 'next' }),
        (err: InstrumentError) => err.code === 'BAD_INPUT' && /next is not possible while the tester is initialized/.test(err.message),
      );
      await assert.rejects(tester.execute({ command: 'unload' }), /allowed in: ready/);
      await assert.rejects(tester.execute({ command: 'reset' }), /allowed in: softerror/);
      await tester.execute({ command: 'load', lotNumber: 'L1' }, { waitUntilDone: true });
      await assert.rejects(tester.execute({ command: 'load', lotNumber: 'L2' }), /while the tester is ready/);
      assert.equal(sim.lotNumber, 'L1');
      assert.deepEqual(sim.ignored, []);
    });

    it('the simulator ignores out-of-state commands like the real master', async () => {
      await setup();
      // Bypass the gate by talking to the transport-level API through a second, raw command.
      (tester as unknown as { transport: { sendCommand(n: string, b: object): void } }).transport.sendCommand(
        'unload',
        variant.transport === 'mqtt' ? { payload: {} } : {},
      );
      await waitFor(() => sim.ignored.length === 1, 3000, 'the ignored command');
      assert.deepEqual(sim.ignored, ['unload@initialized']);
      assert.equal(sim.state, 'initialized');
    });

    it("a load that hangs ends in softerror at the master's timeout; reset recovers", async () => {
      await setup({ loadTimeoutMs: 150 });
      sim.injectFault('load', 'hang');
      await assert.rejects(
        tester.execute({ command: 'load', lotNumber: 'L1' }, { waitUntilDone: true, timeoutMs: 5000 }),
        (err: InstrumentError) => err.code === 'REMOTE' && /load failed: the tester went to softerror \(load timeout\)/.test(err.message),
      );
      assert.equal(tester.state, 'softerror');
      await assert.rejects(tester.execute({ command: 'load', lotNumber: 'L1' }), /allowed in: initialized/);
      const reset = await tester.execute({ command: 'reset' }, { waitUntilDone: true });
      assert.equal(reset.state, 'initialized');
    });

    it('wait-until-done times out with the state in the message', async () => {
      await setup({ loadMs: 2000 });
      await assert.rejects(
        tester.execute({ command: 'load', lotNumber: 'L1' }, { waitUntilDone: true, timeoutMs: 200 }),
        (err: InstrumentError) => err.code === 'TIMEOUT' && /no state ready after load within 0.2 s \(the tester is loading\)/.test(err.message),
      );
    });

    it('a test run that fails on a site reports softerror', async () => {
      await setup();
      await tester.execute({ command: 'load', lotNumber: 'L1' }, { waitUntilDone: true });
      sim.injectFault('next', 'error');
      await assert.rejects(
        tester.execute({ command: 'next' }, { waitUntilDone: true }),
        /next failed: the tester went to softerror \(next failed on site 0\)/,
      );
    });

    it('reconnects after the connection drops and learns the state again', async () => {
      await setup();
      await tester.execute({ command: 'load', lotNumber: 'L1' }, { waitUntilDone: true });
      const disconnected = new Promise((r) => tester.once('status', r));
      // The embedded broker and the websocket cut their clients; an external broker is restarted.
      if (broker) await broker.restart();
      else sim.dropClients();
      await disconnected;
      await waitFor(() => tester.status.state === 'connected' && tester.state === 'ready', 8000, 'reconnected and ready');
      const tested = await tester.execute({ command: 'next' }, { waitUntilDone: true });
      assert.equal(tested.parts!.length, 2);
    });

    it('closes without leaving connections behind', async () => {
      await setup();
      if (broker) {
        // The broker also has the simulated master and test apps: the package's tester is the one with its client id prefix.
        const testers = (): string[] => broker!.clients().filter((id) => id.startsWith(MQTT_CLIENT_ID_PREFIX));
        await waitFor(() => testers().length === 1, 3000, 'the tester connected to mosquitto');
        await tester.stop();
        await waitFor(() => testers().length === 0, 5000, 'the tester gone from mosquitto');
      } else {
        await waitFor(() => sim.openConnections === 1, 3000, 'one client');
        await tester.stop();
        await waitFor(() => sim.openConnections === 0, 3000, 'no clients');
      }
      assert.equal(tester.status.state, 'closed');
    });
  });
}

describe('semiate client: websocket-only and MQTT-only commands', function () {
  this.timeout(10000);
  let sim: SemiAteSimulator;
  const testers: SemiAteTester[] = [];
  before(async () => {
    sim = new SemiAteSimulator({ ...FAST, sites: 3 });
    await sim.start();
  });
  after(async () => {
    for (const t of testers) await t.stop();
    await sim.close();
  });
  function open(transport: 'websocket' | 'mqtt'): SemiAteTester {
    const tester = new SemiAteTester(optionsFor(sim, transport));
    testers.push(tester);
    tester.start();
    return tester;
  }

  it('websocket: connection id, configuration, user settings, results, logs, log file', async () => {
    const ws = open('websocket');
    await waitFor(() => ws.state === 'initialized', 5000, 'initialized');
    assert.match(ws.connectionId ?? '', /^[0-9a-f-]{36}$/);
    assert.deepEqual((ws.masterConfiguration as { sites: string[] }).sites, ['0', '1', '2']);
    assert.deepEqual(ws.sites, ['0', '1', '2']);
    await ws.execute({ command: 'usersettings', options: [{ name: 'stop_on_fail', active: true, value: 0 }] });
    await waitFor(() => JSON.stringify(ws.userSettings).includes('"active":true'), 3000, 'the new user settings');
    await ws.execute({ command: 'load', lotNumber: 'L7' }, { waitUntilDone: true });
    await ws.execute({ command: 'next' }, { waitUntilDone: true });
    const results = await ws.execute({ command: 'getresults' });
    assert.equal(results.parts!.length, 3);
    const logs = await ws.execute({ command: 'getlogs' });
    assert.ok(
      logs.logs!.some((l) => l.description === 'state ready' && l.type === 'INFO' && l.source === 'master'),
      'trimmed log entries',
    );
    const file = await ws.execute({ command: 'getlogfile' });
    assert.match(String((file.logfile as { content: string }).content), /state loading/);
    const level = await ws.execute({ command: 'setloglevel', level: 'debug' });
    assert.equal(level.waited, false);
    await waitFor(() => (ws.userSettings as { loglevel: number }).loglevel === 10, 3000, 'log level 10');
    await ws.execute({ command: 'binMap', sBin: 1, hBin: 1 });
    assert.deepEqual(sim.ignored, []);
    await ws.execute({ command: 'unload' }, { waitUntilDone: true });
  });

  it('websocket: yield and bin table are parsed only when wanted', async () => {
    const ws = open('websocket');
    await waitFor(() => ws.state !== undefined, 5000, 'a state');
    await waitFor(() => ws.latest.has('usersettings'), 3000, 'the greeting');
    assert.equal(ws.latest.has('yield'), false, 'skipped unparsed');
    const withdraw = ws.want('yield');
    const wantedTester = open('websocket');
    const withdrawOther = wantedTester.want('bintable');
    await waitFor(() => wantedTester.latest.has('bintable'), 3000, 'the bin table of the greeting');
    assert.equal(wantedTester.latest.has('yield'), false);
    withdraw();
    withdraw(); // twice is harmless
    withdrawOther();
  });

  it('MQTT: identify, get-state, get-host, site-layout, next with chosen sites and part ids', async () => {
    const mq = open('mqtt');
    await waitFor(() => mq.state === 'initialized', 5000, 'initialized');
    assert.deepEqual((await mq.execute({ command: 'identify' })).response, { name: sim.options.deviceId });
    assert.deepEqual((await mq.execute({ command: 'get-state' })).response, { state: 'initialized', message: null });
    assert.equal((await mq.execute({ command: 'get-host' })).response && typeof (await mq.execute({ command: 'get-host' })).response, 'object');
    await mq.execute({
      command: 'site-layout',
      layout: [
        [0, 0],
        [1, 0],
        [2, 0],
      ],
    });
    await mq.execute({ command: 'load', lotNumber: 'L8' }, { waitUntilDone: true });
    const tested = await mq.execute(
      {
        command: 'next',
        sites: [
          { siteid: '2', partid: 'P-100' },
          { siteid: '0', partid: 'P-101' },
        ],
      },
      { waitUntilDone: true },
    );
    assert.deepEqual(tested.sites, ['2', '0']);
    assert.deepEqual(tested.parts!.map((p) => `${p.site}:${p.partId}`).sort(), ['0:P-101', '2:P-100']);
    const bins = (tested.response as { sites: Array<{ siteid: string; binning: number }> }).sites;
    assert.deepEqual(
      bins.map((s) => s.binning),
      tested.parts!.sort((a, b) => Number(b.site) - Number(a.site)).map((p) => p.hardBin),
    );
    await assert.rejects(mq.execute({ command: 'getlogs' }), /not a Semi-ATE MQTT handler command/);
  });

  it("MQTT: the master's last will shows as crash, and the master's return is noticed", async () => {
    const mq = open('mqtt');
    await waitFor(() => mq.state !== undefined, 5000, 'a state');
    const before = mq.state;
    const master = (sim as unknown as { master: { stream: { destroy(): void } } }).master;
    master.stream.destroy();
    await waitFor(() => mq.state === 'crash', 5000, 'crash');
    // The master reconnects by itself and does not announce its state; asked, it answers.
    await waitFor(() => mq.state === before, 5000, `${before} again`);
  });
});

describe('semiate client: a master that reports its state only every second', function () {
  this.timeout(15000);
  it('tests touchdown after touchdown without a stale "testing" refusing the next one', async () => {
    const sim = new SemiAteSimulator({ ...FAST, statusOnChange: false, statusIntervalMs: 100, testMs: 250 });
    await sim.start();
    const tester = new SemiAteTester({ transport: 'websocket', url: sim.wsUrl });
    tester.start();
    try {
      await waitFor(() => tester.state === 'initialized', 5000, 'initialized');
      await tester.execute({ command: 'load', lotNumber: 'L1' }, { waitUntilDone: true });
      for (let i = 0; i < 3; i++) {
        const tested = await tester.execute({ command: 'next' }, { waitUntilDone: true });
        assert.equal(tested.parts!.length, 2);
        assert.equal(tested.state, 'ready');
      }
      assert.deepEqual(sim.ignored, []);
      assert.equal(sim.parts.size, 6);
      assert.equal(tester.yieldTracker.overall().tested, 6);
      // A second lot: its load may be over before a periodic status shows "loading"; the new lot number restarts the yield.
      await tester.execute({ command: 'unload' }, { waitUntilDone: true });
      await tester.execute({ command: 'load', lotNumber: 'L2' }, { waitUntilDone: true });
      await tester.execute({ command: 'next' }, { waitUntilDone: true });
      assert.equal(tester.yieldTracker.overall().tested, 2);
      assert.equal(tester.lotNumber, 'L2');
    } finally {
      await tester.stop();
      await sim.close();
    }
  });
});

describe('semiate client: a websocket nobody answers on', function () {
  const url = 'ws://127.0.0.1:1/ws';
  const once = (text: string): number => text.split('127.0.0.1:1').length - 1;

  it('a one-shot connection says the address once: "<url>: connection refused"', async () => {
    const socket = new SemiAteWebSocket({ url, reconnect: false });
    try {
      await assert.rejects(socket.whenConnected(2000), (err: InstrumentError) => {
        assert.match(err.message, /^ws:\/\/127\.0\.0\.1:1\/ws: connection refused/);
        assert.equal(once(err.message), 1, err.message);
        return true;
      });
    } finally {
      await socket.stop();
    }
  });

  it('a wait that runs out says seconds and leaves the address to the last error', async () => {
    const tester = new SemiAteTester({ transport: 'websocket', url, reconnectMs: 50 });
    try {
      tester.start();
      await waitFor(() => tester.status.error !== undefined, 3000, 'a first refusal');
      await assert.rejects(tester.ready(300), (err: InstrumentError) => {
        assert.equal(err.details.reason, 'notConnectedWithinLastError');
        assert.match(err.message, /^not connected within 0\.3 s \(last error: ws:\/\/127\.0\.0\.1:1\/ws: connection refused/);
        assert.equal(once(err.message), 1, err.message);
        return true;
      });
    } finally {
      await tester.stop();
    }
  });
});

describe('semiate client: MQTT login', function () {
  this.timeout(10000);
  it('a refused login fails once and does not retry', async () => {
    const sim = new SemiAteSimulator({ ...FAST, mqttUsername: 'op', mqttPassword: 'secret' });
    await sim.start();
    const tester = new SemiAteTester({
      transport: 'mqtt',
      url: sim.mqttUrl,
      deviceId: sim.options.deviceId,
      username: 'op',
      password: 'wrong',
      reconnectMs: 50,
    });
    const seen: string[] = [];
    tester.on('status', (s) => seen.push(s.state));
    try {
      await assert.rejects(tester.ready(3000), /refused the login.*check username and password/);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(tester.status.state, 'failed');
      assert.equal(seen.filter((s) => s === 'reconnecting').length, 0);
      assert.ok(!JSON.stringify(tester.status).includes('wrong'), 'no password in the status');
      const good = new SemiAteTester({ transport: 'mqtt', url: sim.mqttUrl, deviceId: sim.options.deviceId, username: 'op', password: 'secret' });
      good.start();
      assert.equal(await good.ready(3000).then(() => good.status.state), 'connected');
      await good.stop();
    } finally {
      await tester.stop();
      await sim.close();
    }
  });
});

describe('semiate client: MQTT subscription refused', function () {
  this.timeout(10000);
  it('fails with the reason instead of reporting a reconnect that never comes', async () => {
    const { Aedes } = await import('aedes');
    const broker = await Aedes.createBroker();
    // An ACL that lets the user in but not onto the tester's topics.
    broker.authorizeSubscribe = (_client, _sub, done) => done(null, null);
    const server = net.createServer((socket) => broker.handle(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const tester = new SemiAteTester({ transport: 'mqtt', url, deviceId: 'acl', reconnectMs: 50 });
    try {
      await assert.rejects(tester.ready(3000), /refused the subscription to ate\/acl\/.*check the broker's access rules/);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(tester.status.state, 'failed');
      assert.match(tester.status.error ?? '', /refused the subscription/);
    } finally {
      await tester.stop();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('semiate client: MQTT over TLS', function () {
  this.timeout(15000);
  let sim: SemiAteSimulator;
  let proxy: tls.Server;
  let port = 0;
  let dir = '';

  before(async function () {
    // A self-signed certificate, and a TLS front for the simulator's plain broker.
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'semiate-tls-'));
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-keyout',
          path.join(dir, 'key.pem'),
          '-out',
          path.join(dir, 'cert.pem'),
          '-days',
          '1',
          '-subj',
          '/CN=127.0.0.1',
        ],
        { stdio: 'ignore' },
      );
    } catch {
      this.skip();
    }
    sim = new SemiAteSimulator(FAST);
    await sim.start();
    const brokerPort = Number(new URL(sim.mqttUrl).port);
    proxy = tls.createServer({ key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) }, (socket) => {
      const plain = net.connect(brokerPort, '127.0.0.1');
      socket.pipe(plain).pipe(socket);
      socket.on('error', () => plain.destroy());
      plain.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    port = (proxy.address() as AddressInfo).port;
  });
  after(async () => {
    await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
    await sim?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('connects with mqtts:// when TLS is on and a self-signed certificate is accepted', async () => {
    const tester = new SemiAteTester({
      transport: 'mqtt',
      url: `mqtt://127.0.0.1:${port}`,
      deviceId: sim.options.deviceId,
      tls: true,
      tlsInsecure: true,
    });
    tester.start();
    try {
      assert.equal(await tester.ready(5000), 'initialized');
      assert.match(tester.endpoint, /^mqtts:/);
    } finally {
      await tester.stop();
    }
  });

  it('refuses a certificate that does not verify unless told to accept it', async () => {
    const tester = new SemiAteTester({
      transport: 'mqtt',
      url: `mqtt://127.0.0.1:${port}`,
      deviceId: sim.options.deviceId,
      tls: true,
      reconnectMs: 100,
    });
    const errors: string[] = [];
    tester.on('status', (s) => s.error && errors.push(s.error));
    tester.start();
    try {
      await waitFor(() => errors.some((e) => /self.signed|certificate/i.test(e)), 5000, 'a certificate error');
      assert.equal(tester.state, undefined);
    } finally {
      await tester.stop();
    }
  });
});

describe('semiate simulator from the command line options', function () {
  this.timeout(10000);
  it('takes the sites, pass rate, test list and bins from labwire-sim options', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'semiate-sim-'));
    fs.writeFileSync(
      path.join(dir, 'tests.json'),
      JSON.stringify([{ number: 7, text: 'leakage', kind: 'PTR', low: '-inf', high: 1e-6, units: 'A', nominal: 1e-7 }]),
    );
    fs.writeFileSync(
      path.join(dir, 'bins.json'),
      JSON.stringify([
        { name: 'Pass', sBin: 1, hBin: 1, type: 'Good' },
        { name: 'Leaky', sBin: 42, hBin: 9, type: 'Bad' },
      ]),
    );
    const running = await simulator.start({
      options: { sites: '3', 'pass-rate': '0', tests: path.join(dir, 'tests.json'), bins: path.join(dir, 'bins.json'), 'test-ms': '1' },
    });
    const node: { id: string; type: string; transport: string; url?: string } = { id: 't', type: 'semiate-tester', transport: 'websocket' };
    running.configure(node);
    const tester = new SemiAteTester({ transport: 'websocket', url: node.url! });
    tester.start();
    try {
      await waitFor(() => tester.state === 'initialized', 5000, 'initialized');
      await tester.execute({ command: 'load', lotNumber: 'CLI' }, { waitUntilDone: true });
      const tested = await tester.execute({ command: 'next' }, { waitUntilDone: true });
      assert.deepEqual(tested.parts!.map((p) => p.site).sort(), ['0', '1', '2']);
      for (const part of tested.parts!) {
        assert.equal(part.pass, false, 'pass rate 0');
        assert.deepEqual([part.softBin, part.hardBin], [42, 9]);
        assert.deepEqual(
          part.tests.map((t) => [t.number, t.text, t.low, t.units, t.pass]),
          [[7, 'leakage', -Infinity, 'A', false]],
        );
      }
    } finally {
      await tester.stop();
      await running.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
