import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import { execFileSync } from 'node:child_process';
import { closeAndWatch, collect, helper, nextMessage, setRuntimeLanguage, waitFor } from '../helpers/red';
import { LauncherSimulator, type LauncherSimulatorOptions } from '../../src/simulators/launcher';
import type { NodeDef, RedAPI, RedNode } from '../../src/nodered/red-types';
import type { PropellerConnection } from '../../src/protocols/propeller/connection';
import { connectionTestPath } from '../../src/nodered/connection-test';
import { makeBinary, withBadChecksum } from './images';
import { HostileLauncher } from '../propeller-fuzz/hostile-launcher';
import { watchEventLoop } from '../helpers/fuzz';
import launcherNode = require('../../src/nodes/propeller-launcher');
import loadNode = require('../../src/nodes/propeller-load');
import terminalNode = require('../../src/nodes/propeller-terminal');
import portsNode = require('../../src/nodes/propeller-ports');

type Msg = Record<string, unknown> & { payload?: unknown; error?: { message: string } };
type Flow = Array<Record<string, unknown>>;
type Progress = { id: number; text: string; stage: string };
type Result = { success: boolean; port: string; action: string; log: Progress[]; durationMs: number; error?: string; errorId?: number };

/** A stand-in propeller-serial config node, to prove a user node follows the "connection kind" select. */
function fakeSerial(RED: RedAPI): void {
  RED.nodes.registerType('propeller-serial', function (this: RedNode, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const node = this as RedNode & Record<string, unknown>;
    const connection: PropellerConnection = {
      kind: 'serial',
      listPorts: async () => ['/dev/ttyFAKE'],
      load: async () => ({ success: true, port: '/dev/ttyFAKE', action: 'RAM', log: [], durationMs: 0 }),
      openTerminal: async () =>
        Object.assign(new EventEmitter(), { port: '/dev/ttyFAKE', confirmed: true, write: () => undefined, close: async () => undefined }),
    };
    node.acquire = () => connection;
    node.release = async () => undefined;
  });
}

const nodes = [launcherNode, loadNode, terminalNode, portsNode, fakeSerial] as never[];

describe('propeller nodes (Launcher)', function () {
  let sim: LauncherSimulator;
  let tmp: string;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(function () {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'propeller-'));
  });
  afterEach(async function () {
    await helper.unload();
    await sim?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function start(options: LauncherSimulatorOptions = {}): Promise<void> {
    sim = await LauncherSimulator.start({ stepMs: 2, printIntervalMs: 50, portListIntervalMs: 100, ...options });
  }

  /** A launcher config, one user node wired to out (and out2), and a Catch node wired to caught. */
  function flow(user: Record<string, unknown>): Flow {
    return [
      { id: 't1', type: 'tab', label: 'propeller' },
      { id: 'launcher', type: 'propeller-launcher', url: sim.url },
      { id: 'user', z: 't1', connectionType: 'launcher', launcher: 'launcher', wires: [['out'], ['out2']], ...user },
      { id: 'out', type: 'helper', z: 't1' },
      { id: 'out2', type: 'helper', z: 't1' },
      { id: 'catcher', type: 'catch', z: 't1', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 't1' },
    ];
  }

  /** The same flow on the Launcher at `url` (a hostile or silent one) instead of the simulator. */
  function flowOn(url: string, user: Record<string, unknown>): Flow {
    return flow(user).map((n) => (n.id === 'launcher' ? { ...n, url } : n));
  }

  const loadDef = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    type: 'propeller-load',
    source: 'payload',
    action: 'RAM',
    port: '',
    debug: 'none',
    timeout: 30,
    ...extra,
  });

  async function loadOnce(msg: Msg): Promise<{ result: Msg; progress: Msg[] }> {
    const progress = collect<Msg>(helper.getNode('out2'));
    const result = nextMessage<Msg>(helper.getNode('out'), 5000, 'the load result');
    helper.getNode('user').receive(msg);
    return { result: await result, progress };
  }

  async function caughtError(msg: Msg): Promise<string> {
    const caught = nextMessage<Msg>(helper.getNode('caught'), 5000, 'an error at the Catch node');
    helper.getNode('user').receive(msg);
    return (await caught).error!.message;
  }

  /** Every status the user node set, from the helper's spy (a status may be set before a listener could be added). */
  function statuses(id = 'user'): Array<{ fill?: string; text?: string }> {
    const spy = helper.getNode(id).status as unknown as {
      getCalls(): Array<{ thisValue: { id: string }; args: [{ fill?: string; text?: string }] }>;
    };
    return spy
      .getCalls()
      .filter((c) => c.thisValue.id === id)
      .map((c) => c.args[0]);
  }
  const statusTexts = (id = 'user'): string[] => statuses(id).map((st) => String(st.text));

  describe('propeller-load', function () {
    it('loads a Buffer to RAM, with progress on output 2 and the whole log in the result', async function () {
      await start();
      await helper.load(nodes, flow(loadDef()));
      const { result, progress } = await loadOnce({ payload: makeBinary(4096), keep: 'me' });
      const payload = result.payload as Result;
      assert.equal(payload.success, true);
      assert.equal(payload.port, 'COM3');
      assert.equal(payload.action, 'RAM');
      assert.equal(result.topic, 'load');
      assert.equal(result.keep, 'me');
      assert.deepEqual(result.image, {
        format: 'binary',
        size: 4096,
        clockFrequency: 80_000_000,
        clockMode: (result.image as { clockMode: string }).clockMode,
      });
      assert.deepEqual(
        progress.map((m) => m.payload),
        payload.log,
      );
      assert.deepEqual(progress[0]!.payload, { id: 0, text: 'Scanning port COM3', stage: 'scanning' });
      assert.equal(progress.at(-1)!.topic, 'progress');
      assert.deepEqual(sim.loads, [{ action: 'RAM', portPath: 'COM3', debug: 'none', bytes: 4096 }]);
    });

    it('takes a base64 string, msg.port, msg.action and msg.debug', async function () {
      await start();
      await helper.load(nodes, flow(loadDef({ allowMsgEeprom: true })));
      const { result } = await loadOnce({ payload: makeBinary().toString('base64'), port: 'wx-1a2b3c', action: 'EEPROM', debug: 'term' });
      assert.equal((result.payload as Result).success, true);
      assert.deepEqual(sim.loads, [{ action: 'EEPROM', portPath: 'wx-1a2b3c', debug: 'term', bytes: 64 }]);
    });

    it('sends the .binary part of a 32 KB .eeprom file, which the Launcher accepts', async function () {
      await start();
      await helper.load(nodes, flow(loadDef({ action: 'EEPROM', port: 'COM3' })));
      const eeprom = Buffer.alloc(32768);
      makeBinary(128).copy(eeprom);
      Buffer.from([0xff, 0xff, 0xf9, 0xff, 0xff, 0xff, 0xf9, 0xff]).copy(eeprom, 128);
      const { result } = await loadOnce({ payload: eeprom });
      assert.equal((result.payload as Result).success, true);
      assert.equal((result.image as { format: string }).format, 'eeprom');
      assert.equal(sim.loads[0]!.bytes, 128);
    });

    it('reads the image from the file in the dialog, or msg.filename', async function () {
      await start();
      const a = path.join(tmp, 'a.binary');
      const b = path.join(tmp, 'b.binary');
      fs.writeFileSync(a, makeBinary(256));
      fs.writeFileSync(b, makeBinary(512));
      await helper.load(nodes, flow(loadDef({ source: 'file', file: a })));
      assert.equal(((await loadOnce({ payload: 'ignored' })).result.payload as Result).success, true);
      assert.equal(((await loadOnce({ filename: b })).result.payload as Result).success, true);
      assert.deepEqual(
        sim.loads.map((l) => l.bytes),
        [256, 512],
      );
      const missing = await caughtError({ filename: path.join(tmp, 'missing.binary') });
      assert.match(missing, /the image file .*missing\.binary does not exist/);
      assert.doesNotMatch(missing, /socket/, 'a missing file is not called a socket path');
    });

    it('refuses a device, a FIFO or a non-image file from msg.filename at once, sends nothing, and loads the next file', async function () {
      await start();
      const fifo = path.join(tmp, 'pipe.binary');
      execFileSync('mkfifo', [fifo]);
      const text = path.join(tmp, 'notes.binary');
      fs.writeFileSync(text, 'user:secret-hash:19000:0:99999:7:::\n'.repeat(20));
      const good = path.join(tmp, 'good.binary');
      fs.writeFileSync(good, makeBinary(256));
      await helper.load(nodes, flow(loadDef({ source: 'file', file: good })));
      try {
        assert.match(await caughtError({ filename: '/dev/zero' }), /\/dev\/zero is a device/);
        assert.match(await caughtError({ filename: fifo }), /is a named pipe \(FIFO\)/);
        const notImage = await caughtError({ filename: text });
        assert.match(notImage, /rule "not-an-image"/);
        assert.doesNotMatch(notImage, /secret|\b740\b/, 'nothing of the file is told');
        assert.deepEqual(sim.loads, [], 'nothing reached the Launcher');
        assert.equal(((await loadOnce({})).result.payload as Result).success, true);
      } finally {
        try {
          fs.closeSync(fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
        } catch {
          // No reader was left waiting.
        }
      }
    });

    it('reads a relative file path from settings.fileWorkingDirectory', async function () {
      await start();
      fs.writeFileSync(path.join(tmp, 'rel.binary'), makeBinary(128));
      helper.settings({ fileWorkingDirectory: tmp });
      try {
        await helper.load(nodes, flow(loadDef({ source: 'file', file: 'rel.binary' })));
        assert.equal(((await loadOnce({})).result.payload as Result).success, true);
        assert.equal(sim.loads[0]!.bytes, 128);
      } finally {
        helper.settings({});
      }
    });

    it('takes the file path from a msg property when the File field is typed msg', async function () {
      await start();
      const a = path.join(tmp, 'a.binary');
      const b = path.join(tmp, 'b.binary');
      fs.writeFileSync(a, makeBinary(256));
      fs.writeFileSync(b, makeBinary(512));
      await helper.load(nodes, flow(loadDef({ source: 'file', file: 'imagePath', fileType: 'msg' })));
      const { result } = await loadOnce({ imagePath: a, payload: 'ignored' });
      assert.equal((result.payload as Result).success, true);
      assert.equal(result.imagePath, a);
      assert.equal(((await loadOnce({ imagePath: a, filename: b })).result.payload as Result).success, true, 'msg.filename still wins');
      assert.deepEqual(
        sim.loads.map((l) => l.bytes),
        [256, 512],
      );
    });

    it('takes the file path from an environment variable, and from flow context', async function () {
      await start();
      const a = path.join(tmp, 'env.binary');
      fs.writeFileSync(a, makeBinary(128));
      const variable = 'LABWIRE_TEST_PROPELLER_IMAGE';
      process.env[variable] = a;
      try {
        await helper.load(nodes, flow(loadDef({ source: 'file', file: variable, fileType: 'env' })));
        assert.equal(((await loadOnce({})).result.payload as Result).success, true);
        await helper.unload();
        await helper.load(nodes, flow(loadDef({ source: 'file', file: 'image', fileType: 'flow' })));
        (helper.getNode('user') as unknown as { context(): { flow: { set(key: string, value: unknown): void } } }).context().flow.set('image', a);
        assert.equal(((await loadOnce({})).result.payload as Result).success, true);
        assert.deepEqual(
          sim.loads.map((l) => l.bytes),
          [128, 128],
        );
      } finally {
        delete process.env[variable];
      }
    });

    it('refuses an empty typed file path with an error for Catch nodes, before anything is sent', async function () {
      await start();
      const variable = 'LABWIRE_TEST_PROPELLER_UNSET';
      delete process.env[variable];
      const sent: Msg[][] = [];
      const load = async (def: Record<string, unknown>): Promise<void> => {
        await helper.load(nodes, flow(loadDef(def)));
        sent.push(collect<Msg>(helper.getNode('out')), collect<Msg>(helper.getNode('out2')));
      };
      await load({ source: 'file', file: 'imagePath', fileType: 'msg' });
      assert.match(await caughtError({}), /no image file: the node takes the file path from msg\.imagePath, which is empty or not set/);
      assert.match(await caughtError({ imagePath: '  ' }), /msg\.imagePath, which is empty or not set/);
      assert.match(await caughtError({ imagePath: 42 }), /msg\.imagePath must be the image file's path as a string \(got number\)/);
      await helper.unload();
      await load({ source: 'file', file: variable, fileType: 'env' });
      assert.match(await caughtError({}), /the environment variable LABWIRE_TEST_PROPELLER_UNSET, which is empty or not set/);
      await helper.unload();
      await load({ source: 'file', file: '' });
      assert.match(await caughtError({}), /no image file: set the file path in the node or send msg\.filename/);
      assert.deepEqual(
        sent.map((messages) => messages.length),
        [0, 0, 0, 0, 0, 0],
        'no result or progress message',
      );
      assert.equal(sim.loads.length, 0);
    });

    it('refuses bad images with the rule they broke, before anything is sent', async function () {
      await start();
      await helper.load(nodes, flow(loadDef()));
      assert.match(await caughtError({ payload: withBadChecksum(makeBinary()) }), /rule "checksum"/);
      assert.match(await caughtError({ payload: makeBinary().subarray(0, 62) }), /rule "/);
      assert.match(await caughtError({ payload: 'not base64!' }), /not base64/);
      assert.match(await caughtError({ payload: 42 }), /^msg\.payload must be the image file's bytes as a Buffer or a base64 string \(got number\)$/);
      // The same reading of msg.payload as propeller-image's, with its size limit: no base64 string larger than any image file.
      assert.match(await caughtError({ payload: 'A'.repeat(3_000_000) }), /^msg\.payload is a string of more than \d+ characters/);
      assert.equal(sim.loads.length, 0);
    });

    it('a RAM node refuses msg.action "EEPROM" in any case or spacing unless it allows it; the Launcher sees no load', async function () {
      await start();
      await helper.load(nodes, flow(loadDef()));
      for (const action of ['EEPROM', 'eeprom', ' Eeprom\t']) {
        assert.match(
          await caughtError({ payload: makeBinary(), action }),
          /^msg\.action asks for EEPROM, but this node stores in RAM and does not let a msg choose EEPROM: nothing was loaded/,
          JSON.stringify(action),
        );
      }
      assert.equal(sim.loads.length, 0, 'no load-prop reached the Launcher');
      // RAM is always a msg's to choose; the next load runs as usual.
      assert.equal(((await loadOnce({ payload: makeBinary(), action: 'ram' })).result.payload as Result).action, 'RAM');
      await helper.unload();
      await helper.load(nodes, flow(loadDef({ allowMsgEeprom: true })));
      assert.equal(((await loadOnce({ payload: makeBinary(), action: ' eeprom ' })).result.payload as Result).success, true);
      assert.deepEqual(
        sim.loads.map((l) => l.action),
        ['RAM', 'EEPROM'],
      );
    });

    it('an EEPROM node still loads to EEPROM, and a msg may make it RAM', async function () {
      await start();
      await helper.load(nodes, flow(loadDef({ action: 'EEPROM' })));
      await loadOnce({ payload: makeBinary() });
      await loadOnce({ payload: makeBinary(), action: 'RAM' });
      assert.deepEqual(
        sim.loads.map((l) => l.action),
        ['EEPROM', 'RAM'],
      );
    });

    it('refuses an unknown msg.action or msg.debug, naming the property and the allowed values, before anything is sent', async function () {
      await start();
      await helper.load(nodes, flow(loadDef({ allowMsgEeprom: true })));
      const cases: Array<[Msg, RegExp]> = [
        [{ action: 'FLASH' }, /^msg\.action must be one of "RAM", "EEPROM" \(any case\), not "FLASH"$/],
        [{ action: 1 }, /^msg\.action must be one of "RAM", "EEPROM" \(any case\), not 1$/],
        [{ action: '' }, /^msg\.action must be one of "RAM", "EEPROM" \(any case\), not ""$/],
        [{ action: null }, /^msg\.action must be one of .*, not null$/],
        [{ action: ['EEPROM'] }, /^msg\.action must be one of .*, not a list$/],
        [{ debug: 'verbose' }, /^msg\.debug must be one of "none", "term", "graph" \(any case\), not "verbose"$/],
        [{ debug: true }, /^msg\.debug must be one of .*, not true$/],
      ];
      for (const [extra, expected] of cases) assert.match(await caughtError({ payload: makeBinary(), ...extra }), expected, JSON.stringify(extra));
      assert.deepEqual(sim.loads, []);
    });

    it('refuses a msg.timeout that is no number of seconds from 0.001 to 86400, naming it, before anything is sent', async function () {
      await start();
      await helper.load(nodes, flow(loadDef()));
      const cases: Array<[unknown, string]> = [
        [Number.NaN, 'NaN'],
        [Number.POSITIVE_INFINITY, 'Infinity'],
        [1e12, '1000000000000'],
        [-5, '-5'],
        [0, '0'],
        ['soon', '"soon"'],
        // Text, even digits: a msg property is refused as text, as in every node of the package.
        ['5', '"5"'],
        [true, 'a boolean'],
        [{ s: 5 }, 'an object'],
      ];
      for (const [timeout, found] of cases) {
        const message = await caughtError({ payload: makeBinary(), timeout });
        assert.equal(message, `msg.timeout must be a number of seconds from 0.001 to 86400 (fractions allowed, e.g. 2.5), not ${found}`);
      }
      assert.deepEqual(sim.loads, []);
      // A valid one replaces the node's limit.
      sim.nextLoadFault = 'stall';
      const { result } = await loadOnce({ payload: makeBinary(), timeout: 0.25 });
      assert.match((result.payload as Result).error!, /within 0\.25 s/);
    });

    it('says these refusals in the runtime language (German)', async function () {
      await start();
      await setRuntimeLanguage('de');
      try {
        await helper.load(nodes, flow(loadDef({ timeout: 'bald' })));
        assert.equal(
          await caughtError({ payload: makeBinary() }),
          'das Zeitlimit des Nodes muss eine Zahl von Sekunden von 0.001 bis 86400 sein (Bruchteile erlaubt, z. B. 2.5), nicht "bald"',
        );
        await helper.unload();
        await helper.load(nodes, flow(loadDef()));
        assert.match(
          await caughtError({ payload: makeBinary(), action: 'EEPROM' }),
          /^msg\.action verlangt EEPROM, aber dieser Node speichert in den RAM/,
        );
        assert.equal(
          await caughtError({ payload: makeBinary(), debug: 'laut' }),
          'msg.debug muss einer der Werte "none", "term", "graph" sein (Groß-/Kleinschreibung egal), nicht "laut"',
        );
        assert.match(
          await caughtError({ payload: 42 }),
          /^msg\.payload muss die Bytes der Image-Datei als Buffer oder Base64-String enthalten \(erhalten: number\)$/,
        );
        assert.equal(sim.loads.length, 0);
      } finally {
        await setRuntimeLanguage('en-US');
      }
    });

    it('a Time limit no load can use makes the node refuse every input, naming the field', async function () {
      await start();
      for (const timeout of ['abc', -5, 1e12, 'Infinity']) {
        await helper.load(nodes, flow(loadDef({ timeout })));
        await waitFor(() => statusTexts().includes('invalid configuration'), 5000, `the status for ${String(timeout)}`);
        assert.match(await caughtError({ payload: makeBinary() }), /^the node's Time limit must be a number of seconds from 0\.001 to 86400/);
        await helper.unload();
      }
      assert.equal(sim.connectionCount, 0, 'a node that cannot load opens no connection');
      assert.deepEqual(sim.loads, []);
    });

    it('refuses a port the Launcher does not list, before anything is sent', async function () {
      await start();
      await helper.load(nodes, flow(loadDef({ port: 'COM9' })));
      assert.match(await caughtError({ payload: makeBinary() }), /port "COM9" is not in the Launcher's port list/);
      assert.equal(sim.loads.length, 0);
    });

    it('reports a Launcher failure in the result and to a Catch node', async function () {
      await start();
      await helper.load(nodes, flow(loadDef()));
      sim.nextLoadFault = 104;
      const caught = nextMessage<Msg>(helper.getNode('caught'), 5000, 'the error');
      const { result } = await loadOnce({ payload: makeBinary() });
      const payload = result.payload as Result;
      assert.equal(payload.success, false);
      assert.equal(payload.errorId, 104);
      assert.equal(payload.log.at(-1)!.id, 102);
      assert.match((await caught).error!.message, /load to RAM on COM3 failed: Error: Propeller not found \(id 104\)/);
    });

    it('fails a load when the Launcher closes mid-load, and loads again after reconnecting', async function () {
      await start();
      await helper.load(nodes, flow(loadDef()));
      sim.nextLoadFault = 'drop';
      const caught = nextMessage<Msg>(helper.getNode('caught'), 5000, 'the error');
      const { result } = await loadOnce({ payload: makeBinary() });
      assert.equal((result.payload as Result).success, false);
      assert.match((await caught).error!.message, /lost during the load/);
      const again = await loadOnce({ payload: makeBinary() });
      assert.equal((again.result.payload as Result).success, true);
    });

    it('fails on its time limit', async function () {
      await start();
      await helper.load(nodes, flow(loadDef({ timeout: 0.3 })));
      sim.nextLoadFault = 'stall';
      const { result } = await loadOnce({ payload: makeBinary() });
      assert.match((result.payload as Result).error!, /within 0\.3 s/);
    });

    it('runs two loads at once one after the other', async function () {
      await start();
      await helper.load(nodes, flow(loadDef({ allowMsgEeprom: true })));
      const results = collect<Msg>(helper.getNode('out'));
      helper.getNode('user').receive({ payload: makeBinary(8192) });
      helper.getNode('user').receive({ payload: makeBinary(8192), action: 'EEPROM' });
      await waitFor(() => results.length === 2, 5000, 'two results');
      assert.deepEqual(
        results.map((r) => (r.payload as Result).success),
        [true, true],
      );
      assert.equal(sim.maxConcurrentLoads, 1);
      assert.equal(sim.loads.length, 2);
    });

    it('says clearly when the Launcher is too old', async function () {
      await start({ version: '1.0.0' });
      await helper.load(nodes, flow(loadDef()));
      assert.match(await caughtError({ payload: makeBinary() }), /1\.0\.0 is too old: version 1\.0\.1 or newer/);
    });

    it('sets no status once closed, even when a load it started finishes later on the shared connection', async function () {
      await start({ stepMs: 20 });
      const withPorts = flow(loadDef());
      withPorts.push({ id: 'ports', type: 'propeller-ports', z: 't1', connectionType: 'launcher', launcher: 'launcher', wires: [[]] });
      await helper.load(nodes, withPorts);
      const result = nextMessage<Msg>(helper.getNode('out'), 5000, 'the load result');
      helper.getNode('user').receive({ payload: makeBinary(4096) });
      await waitFor(() => sim.loads.length === 1, 3000, 'the load to start');
      // The ports node keeps the connection, so the load runs on to the end.
      const after = await closeAndWatch('user');
      assert.equal(((await result).payload as Result).success, true);
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(after, [], 'no status from a closed node');
    });

    it('load, terminal and ports with no connection chosen show "not configured" and refuse every input', async function () {
      await start();
      for (const user of [loadDef(), { type: 'propeller-terminal', port: '', baudrate: 115200 }, { type: 'propeller-ports' }]) {
        for (const kind of ['launcher', 'serial']) {
          await helper.load(nodes, flow({ ...user, connectionType: kind, launcher: kind === 'launcher' ? '' : 'launcher', serial: '' }));
          await waitFor(() => statusTexts().includes('not configured'), 5000, `${user.type as string} (${kind}): the status`);
          assert.equal(await caughtError({ payload: makeBinary() }), `no propeller-${kind} configuration is chosen: open the node and choose one`);
          await helper.unload();
        }
      }
      assert.equal(sim.connectionCount, 0);
      assert.equal(sim.loads.length, 0);
    });

    it('says which connection is missing, and follows the connection kind select', async function () {
      await start();
      await helper.load(nodes, flow(loadDef({ connectionType: 'serial', serial: '' })));
      assert.match(await caughtError({ payload: makeBinary() }), /no propeller-serial configuration is chosen: open the node and choose one/);
      await helper.unload();
      const withSerial = flow(loadDef({ connectionType: 'serial', serial: 'ser' }));
      withSerial.push({ id: 'ser', type: 'propeller-serial' });
      await helper.load(nodes, withSerial);
      const { result } = await loadOnce({ payload: makeBinary() });
      assert.equal((result.payload as Result).port, '/dev/ttyFAKE');
      assert.equal(sim.loads.length, 0);
    });
  });

  describe('propeller-terminal', function () {
    const termDef = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
      type: 'propeller-terminal',
      port: 'COM3',
      baudrate: 115200,
      mode: 'term',
      output: 'string',
      encoding: 'utf8',
      split: 'line',
      delimiter: '\\n',
      ...extra,
    });

    it('emits lines as strings and sends msg.payload to the Propeller', async function () {
      await start();
      await helper.load(nodes, flow(termDef()));
      const first = await nextMessage<Msg>(helper.getNode('out'), 5000, 'a line');
      assert.equal(first.payload, 'Hello from the simulated Propeller');
      assert.equal(first.port, 'COM3');
      const second = await nextMessage<Msg>(helper.getNode('out'), 5000, 'a line');
      assert.match(String(second.payload), /^count = \d+$/);
      helper.getNode('user').receive({ payload: 'x=1\n' });
      helper.getNode('user').receive({ payload: Buffer.from([0x80, 0x81]) });
      await waitFor(() => sim.terminalInput.length === 2, 3000, 'terminal input');
      assert.deepEqual(sim.terminalInput, [Buffer.from('x=1\n'), Buffer.from([0x80, 0x81])]);
    });

    it('emits Buffers unsplit, and graph rows split on a \\r delimiter', async function () {
      await start();
      await helper.load(nodes, flow(termDef({ output: 'buffer', split: 'none' })));
      const chunk = await nextMessage<Msg>(helper.getNode('out'), 5000, 'a chunk');
      assert.ok(Buffer.isBuffer(chunk.payload));
      assert.ok((chunk.payload as Buffer).toString().startsWith('Hello from the simulated Propeller\r\n'));
      await helper.unload();
      await helper.load(nodes, flow(termDef({ mode: 'graph', split: 'delimiter', delimiter: '\\r', encoding: 'latin1' })));
      const row = await nextMessage<Msg>(helper.getNode('out'), 5000, 'a graph row');
      assert.match(String(row.payload), /^-?\d+,-?\d+$/);
    });

    it('reports lost packets on the next msg', async function () {
      await start();
      await helper.load(nodes, flow(termDef({ split: 'none' })));
      await nextMessage<Msg>(helper.getNode('out'), 5000, 'first data');
      sim.dropNextPackets(3);
      let msg: Msg;
      do msg = await nextMessage<Msg>(helper.getNode('out'), 5000, 'data after the gap');
      while (!msg.gap);
      const gap = msg.gap as { expected: number; received: number };
      assert.equal(gap.received - gap.expected, 3);
    });

    it('a gap in every packet gives one warning at once (the rest are summed up later), not one log line per packet', async function () {
      await start();
      const hostile = await HostileLauncher.start({
        onTerminal: (send, message) => {
          if (message.action !== 'open') return;
          const data = Buffer.from('x\n').toString('base64');
          for (let i = 0; i < 2000; i++) send(JSON.stringify({ type: 'serial-terminal', packetID: 2 * i, msg: data }));
        },
      });
      try {
        await helper.load(nodes, flowOn(hostile.url, termDef()));
        const warnings: string[] = [];
        (helper.getNode('user') as unknown as EventEmitter).on('call:warn', (call: { args: [string] }) => warnings.push(call.args[0]));
        const lines = collect<Msg>(helper.getNode('out'));
        // Lines that arrive in one burst may leave joined (at most 200 msgs per burst): count the lines, not the msgs.
        const lineCount = (): number => lines.reduce((n, m) => n + String(m.payload).split('\n').length, 0);
        await waitFor(() => lineCount() === 2000, 10_000, 'every line');
        assert.ok(
          lines.some((m) => m.gap),
          'a msg after a gap still says so',
        );
        assert.equal(warnings.length, 1, warnings.slice(0, 3).join(' | '));
        assert.match(warnings[0]!, /lost 1 terminal packet\(s\) from COM3 \(expected packetID 1, got 2\)/);
      } finally {
        await helper.unload();
        await hostile.close();
      }
    });

    it('a flood of empty lines does not stall Node-RED: at most a bounded number of msgs per burst, nothing lost', async function () {
      await start();
      const packets = 40;
      const hostile = await HostileLauncher.start({
        onTerminal: (send, message) => {
          if (message.action !== 'open') return;
          for (let i = 0; i < packets; i++)
            send(JSON.stringify({ type: 'serial-terminal', packetID: i, msg: Buffer.alloc(4096, 0x0a).toString('base64') }));
          send(JSON.stringify({ type: 'serial-terminal', packetID: packets, msg: Buffer.from('end\n').toString('base64') }));
        },
      });
      try {
        await helper.load(nodes, flowOn(hostile.url, termDef()));
        const lines = collect<Msg>(helper.getNode('out'));
        const watch = watchEventLoop();
        await waitFor(() => String(lines.at(-1)?.payload).endsWith('end'), 15_000, 'the last line').catch((err: Error) => {
          throw new Error(`${err.message}: ${lines.length} msgs, last ${JSON.stringify(lines.at(-1)?.payload).slice(0, 40)}`);
        });
        const stalledMs = watch.stop();
        assert.ok(stalledMs < 1000, `the event loop stalled ${Math.round(stalledMs)} ms`);
        const newlines = lines.reduce((n, m) => n + 1 + (String(m.payload).match(/\n/g)?.length ?? 0), 0);
        assert.equal(newlines, packets * 4096 + 1, 'every line arrived, some joined');
      } finally {
        await helper.unload();
        await hostile.close();
      }
    });

    it('turns "port not found" and "failed to connect" into errors for Catch nodes', async function () {
      await start();
      await helper.load(nodes, flow(termDef({ port: 'COM9' })));
      const caught = await nextMessage<Msg>(helper.getNode('caught'), 5000, 'an error');
      assert.equal(caught.error!.message, 'Launcher: Port COM9 not found. Please close this terminal and select an existing port.');
      await helper.unload();
      sim.unconnectablePorts.add('COM3');
      await helper.load(nodes, flow(termDef()));
      const errors = collect<Msg>(helper.getNode('caught'));
      await waitFor(() => errors.length === 1, 5000, 'an error');
      assert.equal(errors[0]!.error!.message, 'Launcher: Failed to connect. Please close this terminal and select a connected port.');
    });

    it('lets go of a missing port, stays red at every retry (never green), and opens it once the board appears', async function () {
      await start();
      sim.setPorts(['COM3']);
      helper.settings({ propellerTerminalRetryTime: 50 });
      try {
        await helper.load(nodes, flow(termDef({ port: 'COM4' })));
        const errors = collect<Msg>(helper.getNode('caught'));
        const lines = collect<Msg>(helper.getNode('out'));
        // Each try that fails sets the red status again: four of them are the first try and three retries.
        await waitFor(() => statuses().filter((st) => st.fill === 'red').length >= 4, 5000, 'the first try and three retries');
        assert.equal(errors.length, 1, 'the same problem is reported once');
        const firstRed = statuses().findIndex((st) => st.fill === 'red');
        assert.deepEqual(
          statuses()
            .slice(firstRed)
            .filter((st) => st.fill !== 'red'),
          [],
          'no other status between retries',
        );
        assert.ok(!statuses().some((st) => st.fill === 'green' && st.text?.includes('COM4')), JSON.stringify(statuses()));
        sim.setPorts(['COM3', 'COM4']);
        await waitFor(() => lines.length > 0, 5000, 'data from COM4');
        assert.equal(lines[0]!.port, 'COM4');
        await waitFor(() => statuses().at(-1)?.text === 'term COM4 @ 115200', 5000, 'green once data came');
        assert.equal(statuses().at(-1)!.fill, 'green');
      } finally {
        helper.settings({});
      }
    });

    it('says "no data yet" until the Launcher sends data from the port, then shows the port in green', async function () {
      await start();
      const silent = await HostileLauncher.start({ onTerminal: () => undefined });
      try {
        await helper.load(nodes, flowOn(silent.url, termDef()));
        await waitFor(() => statuses().at(-1)?.text === 'COM3 @ 115200, no data yet', 5000, 'the waiting status');
        assert.equal(statuses().at(-1)!.fill, 'yellow');
        assert.ok(!statuses().some((st) => st.fill === 'green' && st.text?.startsWith('term')), 'not green before any data');
        silent.sendAll(JSON.stringify({ type: 'serial-terminal', packetID: 0, msg: Buffer.from('hi\n').toString('base64') }));
        await waitFor(() => statuses().at(-1)?.text === 'term COM3 @ 115200', 5000, 'green with the first data');
        assert.equal(statuses().at(-1)!.fill, 'green');
      } finally {
        await helper.unload();
        await silent.close();
      }
    });

    it('a fresh terminal says what it is doing ("looking for a port…", "opening COM3…"), never the connection\'s green', async function () {
      this.timeout(20_000);
      await start();
      const greenBefore = (text: string): Array<{ fill?: string; text?: string }> => {
        const all = statuses();
        return all
          .slice(
            0,
            all.findIndex((st) => st.text === text),
          )
          .filter((st) => st.fill === 'green');
      };
      sim.setPorts(['COM3']);
      await helper.load(nodes, flow(termDef({ port: '' })));
      await waitFor(() => statuses().some((st) => st.text === 'term COM3 @ 115200'), 5000, 'the first listed port open');
      assert.equal(statuses()[0]!.text, 'looking for a port…');
      assert.deepEqual(greenBefore('term COM3 @ 115200'), [], JSON.stringify(statuses()));
      await helper.unload();

      await helper.load(nodes, flow(termDef()));
      await waitFor(() => statuses().some((st) => st.text === 'term COM3 @ 115200'), 5000, 'COM3 open');
      assert.deepEqual(statuses()[0], { fill: 'yellow', shape: 'ring', text: 'opening COM3 @ 115200…' });
      assert.deepEqual(greenBefore('term COM3 @ 115200'), [], JSON.stringify(statuses()));
      await helper.unload();

      // No board at all: the Launcher is connected, yet the terminal has nothing to show in green.
      sim.setPorts([]);
      await helper.load(nodes, flow(termDef({ port: '' })));
      await waitFor(() => statuses().some((st) => st.fill === 'red'), 10_000, 'the "no ports" error');
      const firstRed = statuses().findIndex((st) => st.fill === 'red');
      assert.deepEqual(
        statuses()
          .slice(0, firstRed)
          .filter((st) => st.fill === 'green'),
        [],
        JSON.stringify(statuses()),
      );
    });

    it('after a Launcher reconnect it shows its own port again, not the connection\'s "connected (2 ports)"', async function () {
      await start();
      await helper.load(nodes, flow(termDef()));
      await waitFor(() => statuses().at(-1)?.text === 'term COM3 @ 115200', 5000, 'the terminal open');
      const before = statuses().length;
      sim.disconnectAll();
      await waitFor(() => sim.connectionCount === 1, 5000, 'reconnect');
      await waitFor(() => statuses().length > before && statuses().at(-1)?.text === 'term COM3 @ 115200', 5000, 'its own port again');
      const after = statuses().slice(before);
      assert.ok(
        after.some((st) => st.fill !== 'green'),
        `the lost connection showed: ${JSON.stringify(after)}`,
      );
      assert.ok(!after.some((st) => /connected/.test(st.text ?? '')), `no connection status stood in for the terminal: ${JSON.stringify(after)}`);
    });

    it('says why it cannot open in the runtime language (German): to the Catch node and, short, in its status', async function () {
      await start({ ports: [] });
      await setRuntimeLanguage('de');
      try {
        // No port chosen: the terminal waits for the Launcher to list one (4 s), then gives up and says so.
        await helper.load(nodes, flow(termDef({ port: '' })));
        const caught = await nextMessage<Msg>(helper.getNode('caught'), 10_000, 'the open error');
        assert.equal(
          caught.error!.message,
          'Der Launcher listet keine Ports: Schließen Sie eine Propeller-Platine an (USB oder WLAN) und versuchen Sie es erneut.',
        );
        assert.deepEqual(statuses().at(-1), { fill: 'red', shape: 'ring', text: 'Launcher listet keine Ports' });
        // A load naming a port the (empty) list lacks is refused at once, before anything is sent.
        await helper.unload();
        await helper.load(nodes, flow(loadDef({ port: 'COM9' })));
        assert.match(await caughtError({ payload: makeBinary() }), /^Der Port „COM9“ steht nicht in der Portliste des Launchers \(sie ist leer\)\./);
        assert.equal(statuses().at(-1)!.text, 'Launcher listet keine Ports');
        assert.deepEqual(sim.loads, []);
      } finally {
        await setRuntimeLanguage('en-US');
      }
    });

    it('refuses input before the terminal is open', async function () {
      await start({ version: '0.9.0' });
      await helper.load(nodes, flow(termDef()));
      const caught = collect<Msg>(helper.getNode('caught'));
      await waitFor(() => caught.length >= 1, 15000, 'the open error');
      assert.match(caught[0]!.error!.message, /too old/);
      helper.getNode('user').receive({ payload: 'hello' });
      await waitFor(() => caught.length >= 2, 5000, 'the input error');
      assert.match(caught[1]!.error!.message, /the terminal is not open yet/);
    });

    it('opens the terminal again after the Launcher restarts', async function () {
      await start();
      await helper.load(nodes, flow(termDef()));
      await nextMessage<Msg>(helper.getNode('out'), 5000, 'data');
      const lines = collect<Msg>(helper.getNode('out'));
      sim.disconnectAll();
      await waitFor(() => sim.connectionCount === 1, 5000, 'reconnect');
      const after = await nextMessage<Msg>(helper.getNode('out'), 5000, 'data after reconnect');
      assert.ok(typeof after.payload === 'string');
      // The simulator greets only when a terminal is opened, so a second greeting proves the node
      // opened it again on the new connection (a line still in flight from the old one would not).
      await waitFor(() => lines.some((m) => m.payload === 'Hello from the simulated Propeller'), 5000, 'the greeting of the reopened terminal');
    });
  });

  describe('flows saved before config versions (no version field) deploy and behave as before', function () {
    /** The flow as an older release wrote it: no connectionType, no version. */
    function oldFlow(user: Record<string, unknown>, extra: Flow = []): Flow {
      const nodesOf = flow(user).map((n) => (n.id === 'user' ? Object.fromEntries(Object.entries(n).filter(([k]) => k !== 'connectionType')) : n));
      return [...nodesOf, ...extra];
    }
    const serialConfig = { id: 'ser', type: 'propeller-serial' };

    it('propeller-load: the Launcher field alone, "Store in" and "Afterwards" in any case, a file path without fileType', async function () {
      await start();
      const file = path.join(tmp, 'old.binary');
      fs.writeFileSync(file, makeBinary(256));
      const old = loadDef({ source: 'file', file, action: 'eeprom', debug: 'TERM' });
      await helper.load(nodes, oldFlow(old));
      assert.equal(((await loadOnce({})).result.payload as Result).success, true);
      assert.deepEqual(sim.loads, [{ action: 'EEPROM', portPath: 'COM3', debug: 'term', bytes: 256 }]);
    });

    it('propeller-load of version 0 or 1: msg.action may no longer choose EEPROM; the node loads as before otherwise', async function () {
      await start();
      for (const version of [undefined, 1, '1']) {
        const old = { ...loadDef(), ...(version === undefined ? {} : { version }) };
        await helper.load(nodes, version === undefined ? oldFlow(old) : flow(old));
        assert.match(await caughtError({ payload: makeBinary(), action: 'EEPROM' }), /does not let a msg choose EEPROM/, String(version));
        assert.equal(((await loadOnce({ payload: makeBinary(), action: 'RAM', debug: 'term' })).result.payload as Result).success, true);
        await helper.unload();
      }
      assert.deepEqual(sim.loads, [
        { action: 'RAM', portPath: 'COM3', debug: 'term', bytes: 64 },
        { action: 'RAM', portPath: 'COM3', debug: 'term', bytes: 64 },
        { action: 'RAM', portPath: 'COM3', debug: 'term', bytes: 64 },
      ]);
    });

    it('propeller-load: both fields set means the Launcher; the serial field alone means the serial port', async function () {
      await start();
      await helper.load(nodes, oldFlow(loadDef({ serial: 'ser' }), [serialConfig]));
      assert.equal(((await loadOnce({ payload: makeBinary() })).result.payload as Result).port, 'COM3');
      assert.equal(sim.loads.length, 1);
      await helper.unload();
      await helper.load(nodes, oldFlow(loadDef({ launcher: '', serial: 'ser' }), [serialConfig]));
      assert.equal(((await loadOnce({ payload: makeBinary() })).result.payload as Result).port, '/dev/ttyFAKE');
      assert.equal(sim.loads.length, 1, 'nothing went to the Launcher');
    });

    it('propeller-ports and propeller-terminal: the serial field alone means the serial port', async function () {
      await start();
      await helper.load(nodes, oldFlow({ type: 'propeller-ports', launcher: '', serial: 'ser' }, [serialConfig]));
      const answer = nextMessage<Msg>(helper.getNode('out'), 5000, 'the port list');
      helper.getNode('user').receive({});
      assert.deepEqual((await answer).payload, ['/dev/ttyFAKE']);
      await helper.unload();
      await helper.load(
        nodes,
        oldFlow({ type: 'propeller-terminal', launcher: '', serial: 'ser', port: '', baudrate: 115200, mode: 'term' }, [serialConfig]),
      );
      await waitFor(() => statusTexts().includes('term /dev/ttyFAKE @ 115200'), 5000, 'the terminal open on the serial port');
    });
  });

  describe('closed nodes', function () {
    it('a closed terminal or ports node sets no status, whatever the shared connection does next', async function () {
      await start();
      const flowWith = flow({
        type: 'propeller-terminal',
        port: 'COM3',
        baudrate: 115200,
        mode: 'term',
        output: 'string',
        encoding: 'utf8',
        split: 'line',
      });
      flowWith.push(
        { id: 'ports', type: 'propeller-ports', z: 't1', connectionType: 'launcher', launcher: 'launcher', wires: [[]] },
        { id: 'keeper', type: 'propeller-ports', z: 't1', connectionType: 'launcher', launcher: 'launcher', wires: [[]] },
      );
      await helper.load(nodes, flowWith);
      await nextMessage<Msg>(helper.getNode('out'), 5000, 'terminal data');
      const open: string[] = [];
      (helper.getNode('keeper') as unknown as EventEmitter).on('call:status', (call: { args: [{ text?: string }] }) =>
        open.push(String(call.args[0].text)),
      );
      const closed = [await closeAndWatch('user'), await closeAndWatch('ports')];
      sim.disconnectAll();
      await waitFor(() => open.some((t) => /reconnecting/.test(t)), 5000, 'the open node to see the drop');
      await waitFor(() => /^connected/.test(open.at(-1) ?? ''), 5000, 'the open node to see the reconnect');
      assert.deepEqual(closed, [[], []], 'no status from a closed node');
    });
  });

  describe('propeller-ports', function () {
    it('answers with the port list, and sends changes when watching', async function () {
      await start({ ports: ['', 'COM3'] });
      await helper.load(nodes, flow({ type: 'propeller-ports', watch: true }));
      const initial = await nextMessage<Msg>(helper.getNode('out'), 5000, 'the first list');
      assert.deepEqual(initial.payload, ['COM3']);
      assert.equal(initial.changed, true);
      sim.setPorts(['COM3', 'COM4']);
      const changed = await nextMessage<Msg>(helper.getNode('out'), 5000, 'the changed list');
      assert.deepEqual(changed.payload, ['COM3', 'COM4']);
      const asked = nextMessage<Msg>(helper.getNode('out'), 5000, 'the answer');
      helper.getNode('user').receive({ payload: 'now', topic: 'x' });
      const answer = await asked;
      assert.deepEqual(answer.payload, ['COM3', 'COM4']);
      assert.equal(answer.topic, 'ports');
      assert.equal(answer.changed, undefined);
    });

    it('does not send on changes unless asked to', async function () {
      await start();
      await helper.load(nodes, flow({ type: 'propeller-ports', watch: false }));
      const seen = collect<Msg>(helper.getNode('out'));
      await waitFor(() => sim.portListRequests === 1, 5000, 'the connection');
      sim.setPorts(['COM7']);
      // Wait until the connection has the new list (so a watcher would have been told), then for delivery.
      const launcher = helper.getNode('launcher') as unknown as { client(): { ports?: string[] } | undefined };
      await waitFor(() => launcher.client()?.ports?.join() === 'COM7', 5000, 'the changed list to reach the connection');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(seen.length, 0);
    });
  });

  describe('propeller-launcher', function () {
    type Agent = { post(path: string): { send(body: unknown): Promise<{ status: number; body: Record<string, unknown> }> } };

    it('tests a connection from the dialog values: version and ports, or the reason', async function () {
      await start();
      await helper.load(nodes, flow({ type: 'propeller-ports', watch: false }));
      const ok = await (helper.request() as Agent).post(connectionTestPath('propeller-launcher')).send({ config: { url: sim.url }, credentials: {} });
      assert.deepEqual(ok.body, { ok: true, message: 'BlocklyProp Launcher 1.0.7; ports: COM3, wx-1a2b3c' });
      // Nobody there: what happened where, the address said once.
      const nobody = await (helper.request() as Agent)
        .post(connectionTestPath('propeller-launcher'))
        .send({ config: { url: 'ws://127.0.0.1:1' }, credentials: {} });
      assert.equal(nobody.body.ok, false);
      assert.match(String(nobody.body.message), /^ws:\/\/127\.0\.0\.1:1: connection refused/);
      assert.equal(String(nobody.body.message).split('127.0.0.1:1').length - 1, 1);
      await sim.close();
      const old = await LauncherSimulator.start({ version: '1.0.0' });
      try {
        const refused = await (helper.request() as Agent)
          .post(connectionTestPath('propeller-launcher'))
          .send({ config: { url: old.url.replace('ws://', '') }, credentials: {} });
        assert.equal(refused.body.ok, false);
        assert.match(String(refused.body.message), /1\.0\.0 is too old/);
      } finally {
        await old.close();
      }
    });

    it('lists ports for the load dialog from the deployed node, or from a URL', async function () {
      await start();
      await helper.load(nodes, flow({ type: 'propeller-ports', watch: false }));
      await waitFor(() => sim.portListRequests === 1, 5000, 'the deployed connection');
      const deployed = await (helper.request() as Agent).post('/propeller-launcher/ports').send({ id: 'launcher' });
      assert.deepEqual(deployed.body, { ports: ['COM3', 'wx-1a2b3c'] });
      sim.setPorts(['COM8']);
      const byUrl = await (helper.request() as Agent).post('/propeller-launcher/ports').send({ url: sim.url });
      assert.deepEqual(byUrl.body, { ports: ['COM8'] });
      const down = await (helper.request() as Agent).post('/propeller-launcher/ports').send({ url: 'ws://127.0.0.1:1' });
      assert.equal(down.status, 502);
      assert.match(String(down.body.error), /refused/);
    });

    it('shares one connection, shows the port count, and redeploys without leaks', async function () {
      await start();
      const resources = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'TCPSocketWrap').length;
      let before = -1;
      for (let round = 0; round < 4; round += 1) {
        const twoUsers = flow(loadDef());
        twoUsers.push({ id: 'ports', type: 'propeller-ports', z: 't1', connectionType: 'launcher', launcher: 'launcher', watch: true, wires: [[]] });
        await helper.load(nodes, twoUsers);
        const statuses: Array<{ text?: string }> = [];
        (helper.getNode('user') as unknown as EventEmitter).on('call:status', (call: { args: [{ text?: string }] }) => statuses.push(call.args[0]));
        await waitFor(() => sim.connectionCount === 1 && sim.portListRequests === round + 1, 5000, 'one shared connection');
        await waitFor(() => statuses.some((s) => s.text === 'connected (2 ports)'), 5000, 'the status');
        const load = nextMessage<Msg>(helper.getNode('out'), 5000, 'a load result');
        helper.getNode('user').receive({ payload: makeBinary() });
        assert.equal(((await load).payload as Result).success, true);
        await helper.unload();
        await waitFor(() => sim.connectionCount === 0, 5000, 'the connection to close');
        await new Promise((r) => setTimeout(r, 50));
        // Round 0 settles lazily created runtime resources; later rounds must leave none behind.
        if (round === 0) before = resources();
        else assert.ok(resources() <= before, `timers and sockets after round ${round}: ${resources()} (was ${before})`);
      }
      assert.equal(sim.pingsReceived, 0);
    });
  });
});
