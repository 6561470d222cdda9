import assert from 'node:assert/strict';
import { once } from 'node:events';
import { LauncherClient } from '../../src/protocols/propeller/launcher-client';
import type { LoadProgress, TerminalSession } from '../../src/protocols/propeller/connection';
import { LauncherSimulator, type LauncherSimulatorOptions } from '../../src/simulators/launcher';
import { waitFor } from '../helpers/red';
import { makeBinary, makeEeprom, withBadChecksum } from './images';

describe('propeller launcher client', function () {
  let sim: LauncherSimulator;
  let client: LauncherClient | undefined;

  async function setup(options: LauncherSimulatorOptions = {}): Promise<LauncherClient> {
    sim = await LauncherSimulator.start({ stepMs: 2, printIntervalMs: 50, portListIntervalMs: 100, ...options });
    client = new LauncherClient({ url: sim.url, backoff: { initialMs: 20, maxMs: 50 }, portWaitMs: 1000 });
    client.start();
    return client;
  }

  afterEach(async function () {
    await client?.stop();
    client = undefined;
    await sim?.close();
  });

  describe('connection', function () {
    it('keeps version, api (default 1) and b64Msg from hello-client', async function () {
      const c = await setup();
      await c.whenConnected(2000);
      assert.deepEqual(c.info, { version: '1.0.7', api: 1, b64Msg: false });
      await c.stop();
      await sim.close();
      const d = await setup({ version: '1.2.0', api: 2, b64Msg: true });
      await d.whenConnected(2000);
      assert.deepEqual(d.info, { version: '1.2.0', api: 2, b64Msg: true });
    });

    it('refuses a Launcher older than 1.0.1 with a clear message and does not retry', async function () {
      const c = await setup({ version: '1.0.0' });
      await assert.rejects(c.whenConnected(2000), /1\.0\.0 is too old: version 1\.0\.1 or newer/);
      assert.equal(c.status.state, 'failed');
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(c.status.state, 'failed');
      assert.equal(sim.connectionCount, 0);
    });

    it('names no garbled version when a Launcher sends one that is not text (found by the large fuzz)', async function () {
      const c = await setup({ version: { major: 1 } as unknown as string });
      await assert.rejects(c.whenConnected(2000), (err: Error) => {
        assert.match(err.message, /Launcher \(version not given\) is too old/);
        assert.doesNotMatch(err.message, /object Object/);
        return true;
      });
    });

    it('sends one port-list-request per connection, never pings, and re-requests after a reconnect', async function () {
      const c = await setup();
      await c.whenConnected(2000);
      const first = await c.listPorts();
      assert.deepEqual(first, ['COM3', 'wx-1a2b3c']);
      await new Promise((r) => setTimeout(r, 350));
      assert.equal(sim.portListRequests, 1);
      sim.disconnectAll();
      await waitFor(() => sim.portListRequests === 2 && c.isConnected, 3000, 'reconnect');
      assert.equal(sim.pingsReceived, 0);
      assert.equal(sim.connectionCount, 1);
    });

    it('accepts port-list-response, drops the leading "" and reports changes only', async function () {
      const c = await setup({ listType: 'port-list-response', ports: ['', 'COM5'] });
      const seen: string[][] = [];
      const unwatch = c.watchPorts((p) => seen.push(p));
      assert.deepEqual(await c.listPorts(), ['COM5']);
      await new Promise((r) => setTimeout(r, 250));
      assert.equal(seen.length, 1);
      sim.setPorts(['', 'COM5', 'MyWX']);
      await waitFor(() => seen.length === 2, 2000, 'port change');
      assert.deepEqual(seen[1], ['COM5', 'MyWX']);
      unwatch();
      sim.setPorts(['COM6']);
      await waitFor(() => c.ports?.[0] === 'COM6', 2000, 'new list');
      assert.equal(seen.length, 2);
    });
  });

  describe('load-prop', function () {
    it('loads to RAM on the first available port and reports every step', async function () {
      const c = await setup();
      const progress: LoadProgress[] = [];
      const result = await c.load({ image: makeBinary(4096), action: 'RAM', debug: 'none' }, (p) => progress.push(p));
      assert.equal(result.success, true);
      assert.equal(result.port, 'COM3');
      assert.deepEqual(sim.loads, [{ action: 'RAM', portPath: 'COM3', debug: 'none', bytes: 4096 }]);
      assert.deepEqual(
        result.log.map((p) => p.stage),
        ['scanning', 'found', 'ready', 'downloading', 'downloading', 'verifying-ram', 'launching', 'success'],
      );
      assert.deepEqual(progress, result.log);
      assert.deepEqual(result.log[0], { id: 0, text: 'Scanning port COM3', stage: 'scanning' });
      assert.equal(result.log.at(-1)!.id, 5);
    });

    it('loads to EEPROM on a named port with a terminal to open afterwards', async function () {
      const c = await setup();
      const result = await c.load({ image: makeBinary(), action: 'EEPROM', port: 'wx-1a2b3c', debug: 'term' });
      assert.equal(result.success, true);
      assert.equal(result.port, 'wx-1a2b3c');
      assert.ok(result.log.some((p) => p.id === 12 && p.stage === 'programming-eeprom'));
      assert.equal(sim.loads[0]!.debug, 'term');
    });

    for (const id of [104, 117, 124, 125, 127, 128, 199]) {
      it(`fails on error ${id} followed by 102, naming the specific error`, async function () {
        const c = await setup();
        sim.nextLoadFault = id;
        const result = await c.load({ image: makeBinary(), action: 'EEPROM', debug: 'none' });
        assert.equal(result.success, false);
        assert.equal(result.errorId, id);
        assert.match(result.error!, /^Error: /);
        assert.equal(result.log.at(-1)!.id, 102);
        assert.equal(result.log.at(-1)!.stage, 'failed');
      });
    }

    it('fails on the id-less "Error:" message of a bad image (no 102 follows)', async function () {
      const c = await setup();
      const result = await c.load({ image: withBadChecksum(makeBinary()), action: 'RAM', debug: 'none' });
      assert.equal(result.success, false);
      assert.equal(result.errorId, undefined);
      assert.equal(result.error, 'Error: Invalid checksum in .binary or .eeprom data');
      assert.deepEqual(result.log, [{ id: -1, text: 'Error: Invalid checksum in .binary or .eeprom data', stage: 'error' }]);
    });

    it('reproduces the Launcher failing a 32 KB .eeprom image with 125', async function () {
      const c = await setup();
      const result = await c.load({ image: makeEeprom(), action: 'RAM', debug: 'none' });
      assert.equal(result.success, false);
      assert.equal(result.errorId, 125);
    });

    it('fails when the Launcher closes mid-load, then reconnects', async function () {
      const c = await setup();
      sim.nextLoadFault = 'drop';
      const result = await c.load({ image: makeBinary(), action: 'RAM', debug: 'none' });
      assert.equal(result.success, false);
      assert.match(result.error!, /connection to the Launcher was lost during the load/);
      await c.whenConnected(3000);
      const again = await c.load({ image: makeBinary(), action: 'RAM', debug: 'none' });
      assert.equal(again.success, true);
    });

    it('fails on its time limit when the Launcher goes quiet', async function () {
      const c = await setup();
      sim.nextLoadFault = 'stall';
      const result = await c.load({ image: makeBinary(), action: 'RAM', debug: 'none', timeoutMs: 300 });
      assert.equal(result.success, false);
      assert.match(result.error!, /did not finish the load within 0\.3 s/);
    });

    it('fails a running load when the client is stopped', async function () {
      const c = await setup();
      sim.nextLoadFault = 'stall';
      const pending = c.load({ image: makeBinary(), action: 'RAM', debug: 'none' });
      await waitFor(() => sim.loads.length === 1, 2000, 'the load to start');
      await c.stop();
      const result = await pending;
      assert.equal(result.success, false);
      assert.match(result.error!, /connection was closed during the load/);
    });

    it('gives up on a load when the Launcher cannot be reached', async function () {
      await setup();
      const unreachable = new LauncherClient({ url: 'ws://127.0.0.1:1', connectWaitMs: 300, backoff: { initialMs: 50 } });
      try {
        await assert.rejects(
          unreachable.load({ image: makeBinary(), action: 'RAM', debug: 'none' }),
          /^not connected within 0\.3 s \(last error: ws:\/\/127\.0\.0\.1:1: connection refused/,
        );
      } finally {
        await unreachable.stop();
      }
    });

    it('a one-shot connection that is refused names the Launcher once', async function () {
      await setup();
      const once = new LauncherClient({ url: 'ws://127.0.0.1:1', reconnect: false, connectWaitMs: 2000 });
      try {
        await assert.rejects(once.listPorts(), (err: Error) => {
          assert.match(err.message, /^ws:\/\/127\.0\.0\.1:1: connection refused/);
          assert.equal(err.message.split('127.0.0.1:1').length - 1, 1, err.message);
          return true;
        });
      } finally {
        await once.stop();
      }
    });

    it('refuses a port the Launcher does not list before sending anything', async function () {
      const c = await setup();
      await assert.rejects(c.load({ image: makeBinary(), action: 'RAM', port: 'COM9', debug: 'none' }), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'BAD_INPUT');
        assert.match(err.message, /port "COM9" is not in the Launcher's port list \(COM3, wx-1a2b3c\)/);
        return true;
      });
      assert.equal(sim.loads.length, 0);
    });

    it('refuses "first available" when the Launcher lists no ports', async function () {
      const c = await setup({ ports: [''] });
      await assert.rejects(c.load({ image: makeBinary(), action: 'RAM', debug: 'none' }), /lists no ports/);
      assert.equal(sim.loads.length, 0);
    });

    it('runs two loads at once one after the other, across two clients of one Launcher', async function () {
      const c = await setup();
      const other = new LauncherClient({ url: sim.url });
      try {
        const queued: LoadProgress[] = [];
        const [a, b, d] = await Promise.all([
          c.load({ image: makeBinary(8192), action: 'RAM', debug: 'none' }),
          c.load({ image: makeBinary(8192), action: 'EEPROM', debug: 'none' }, (p) => p.stage === 'queued' && queued.push(p)),
          other.load({ image: makeBinary(), action: 'RAM', debug: 'none' }),
        ]);
        assert.deepEqual([a.success, b.success, d.success], [true, true, true]);
        assert.equal(sim.maxConcurrentLoads, 1);
        assert.equal(sim.loads.length, 3);
        assert.equal(queued.length, 1);
      } finally {
        await other.stop();
      }
    });
  });

  describe('serial-terminal', function () {
    let session: TerminalSession | undefined;
    afterEach(async function () {
      await session?.close();
      session = undefined;
    });

    it('decodes base64 data, writes plain strings and closes', async function () {
      const c = await setup();
      session = await c.openTerminal({ baudrate: 115200, mode: 'term' });
      assert.equal(session.port, 'COM3');
      const chunks: Buffer[] = [];
      session.on('data', (d: Buffer) => chunks.push(d));
      await waitFor(() => Buffer.concat(chunks).toString('latin1').includes('count = 2'), 3000, 'printed lines');
      assert.match(Buffer.concat(chunks).toString('latin1'), /^Hello from the simulated Propeller\r\ncount = 1\r\n/);
      session.write('ab\u00e9');
      session.write(Buffer.from([0x00, 0xff]));
      await waitFor(() => sim.terminalInput.length === 2, 2000, 'terminal input');
      assert.deepEqual(sim.terminalInput[0], Buffer.from('ab\u00e9', 'utf8'));
      assert.deepEqual(sim.terminalInput[1], Buffer.from([0x00, 0xff]));
      await session.close();
      session = undefined;
      const count = chunks.length;
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(chunks.length, count);
    });

    it('sends base64 to a b64Msg Launcher', async function () {
      const c = await setup({ b64Msg: true });
      session = await c.openTerminal({ port: 'COM3', baudrate: 9600, mode: 'term' });
      session.write(Buffer.from([1, 2, 3]));
      await waitFor(() => sim.terminalInput.length === 1, 2000, 'terminal input');
      assert.deepEqual(sim.terminalInput[0], Buffer.from([1, 2, 3]));
    });

    it('reports packetID gaps', async function () {
      const c = await setup();
      session = await c.openTerminal({ port: 'COM3', baudrate: 115200, mode: 'term' });
      const gaps: unknown[] = [];
      session.on('gap', (g) => gaps.push(g));
      await once(session, 'data');
      sim.dropNextPackets(2);
      await waitFor(() => gaps.length === 1, 3000, 'a gap');
      const gap = gaps[0] as { expected: number; received: number };
      assert.equal(gap.received - gap.expected, 2);
    });

    it('turns "port not found" and "failed to connect" into errors', async function () {
      const c = await setup();
      session = await c.openTerminal({ port: 'COM9', baudrate: 115200, mode: 'term' });
      const [err] = (await once(session, 'error')) as [Error];
      assert.equal(err.message, 'Launcher: Port COM9 not found. Please close this terminal and select an existing port.');
      await session.close();
      sim.unconnectablePorts.add('COM3');
      session = await c.openTerminal({ port: 'COM3', baudrate: 115200, mode: 'graph' });
      const [err2] = (await once(session, 'error')) as [Error];
      assert.match(err2.message, /^Launcher: Failed to connect\./);
    });

    it('serves one port per connection, shares it, and reopens it after a reconnect', async function () {
      const c = await setup();
      session = await c.openTerminal({ port: 'COM3', baudrate: 115200, mode: 'term' });
      await assert.rejects(c.openTerminal({ port: 'wx-1a2b3c', baudrate: 115200, mode: 'term' }), /one terminal port at a time \(COM3 is open\)/);
      const second = await c.openTerminal({ port: 'COM3', baudrate: 115200, mode: 'term' });
      await Promise.all([once(session, 'data'), once(second, 'data')]);
      await second.close();
      sim.disconnectAll();
      await waitFor(() => c.isConnected && sim.connectionCount === 1, 3000, 'reconnect');
      await once(session, 'data');
    });

    it('confirms a session with the first data from its port, and asks again when the terminal is reopened after a reconnect', async function () {
      const c = await setup();
      session = await c.openTerminal({ port: 'COM3', baudrate: 115200, mode: 'term' });
      const events: string[] = [];
      session.on('open', () => events.push('open'));
      session.on('opening', () => events.push('opening'));
      assert.equal(session.confirmed, false, 'the open is only sent');
      await once(session, 'open');
      assert.equal(session.confirmed, true);
      const joined = await c.openTerminal({ port: 'COM3', baudrate: 115200, mode: 'term' });
      assert.equal(joined.confirmed, true, 'a session on a confirmed terminal starts confirmed');
      await joined.close();
      sim.disconnectAll();
      await waitFor(() => events.length === 3, 3000, 'unconfirmed by the reopen, confirmed by its data');
      assert.deepEqual(events, ['open', 'opening', 'open']);
      const rebauded = await c.openTerminal({ port: 'COM3', baudrate: 9600, mode: 'term' });
      assert.equal(rebauded.confirmed, false, 'a new baud rate sends a new open');
      await rebauded.close();
    });
  });
});
