import assert from 'node:assert/strict';
import type { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { listSerialPorts, SerialPortHandle } from '../../src/protocols/propeller/serial-port-handle';
import { FakeChipBench } from '../../src/simulators/propeller-chip';
import { closeAndWatch, collect, helper, nextMessage, setRuntimeLanguage, waitFor } from '../helpers/red';
import { makeBinary, makeElf } from './image-fixtures';
import serialNode = require('../../src/nodes/propeller-serial');
import imageNode = require('../../src/nodes/propeller-image');
import loadNode = require('../../src/nodes/propeller-load');
import terminalNode = require('../../src/nodes/propeller-terminal');
import portsNode = require('../../src/nodes/propeller-ports');

type Msg = Record<string, unknown> & { payload?: unknown; error?: { message: string; source?: { id: string } } };
type Flow = Array<Record<string, unknown>>;
type Result = { success: boolean; port: string; action: string; log: Array<{ id: number; stage: string }>; error?: string; errorId?: number };

const nodes = [serialNode, imageNode, loadNode, terminalNode, portsNode] as never[];

describe('propeller nodes on a serial port (fake chip on a pseudo-terminal)', function () {
  this.timeout(20_000);
  let bench: FakeChipBench;
  let tmp: string;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    bench = await FakeChipBench.start({ printIntervalMs: 50 });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'propeller-serial-'));
  });
  afterEach(async () => {
    await helper.unload();
    await bench.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  function serialConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { id: 'serial', type: 'propeller-serial', port: bench.hostPath, baudRate: 115200, resetMode: 'none', ...extra };
  }

  function flow(extra: Flow, config = serialConfig()): Flow {
    return [
      { id: 't1', type: 'tab', label: 'serial' },
      config,
      {
        id: 'load',
        type: 'propeller-load',
        z: 't1',
        connectionType: 'serial',
        serial: 'serial',
        launcher: '',
        source: 'payload',
        action: 'RAM',
        port: '',
        debug: 'term',
        timeout: 30,
        wires: [['result'], ['progress']],
      },
      { id: 'result', type: 'helper', z: 't1' },
      { id: 'progress', type: 'helper', z: 't1' },
      { id: 'catcher', type: 'catch', z: 't1', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 't1' },
      ...extra,
    ];
  }

  const terminal = {
    id: 'tnode',
    type: 'propeller-terminal',
    z: 't1',
    connectionType: 'serial',
    serial: 'serial',
    launcher: '',
    port: '',
    baudrate: 115200,
    mode: 'term',
    output: 'string',
    encoding: 'utf8',
    split: 'line',
    delimiter: '\\n',
    wires: [['lines']],
  };
  const lines = { id: 'lines', type: 'helper', z: 't1' };

  async function load(image: Buffer, extra: Record<string, unknown> = {}): Promise<Result> {
    const result = nextMessage<Msg>(helper.getNode('result'), 10_000, 'the load result');
    helper.getNode('load').receive({ payload: image, ...extra });
    return (await result).payload as Result;
  }

  it('propeller-load and propeller-terminal work through propeller-serial; the terminal keeps reading after the load', async () => {
    await helper.load(nodes, flow([terminal, lines]));
    const printed = collect<Msg>(helper.getNode('lines'));
    const progress = collect<Msg>(helper.getNode('progress'));
    const image = makeBinary(512);
    const result = await load(image);
    assert.equal(result.success, true, result.error);
    assert.equal(result.port, bench.hostPath);
    assert.deepEqual(
      result.log.map((p) => p.stage),
      ['resetting', 'found', 'downloading', 'verifying-ram', 'success'],
    );
    assert.deepEqual(
      progress.map((m) => (m.payload as { stage: string }).stage),
      ['resetting', 'found', 'downloading', 'verifying-ram', 'success'],
    );
    assert.deepEqual(bench.chip.loads[0].image, image);
    await waitFor(() => printed.some((m) => m.payload === 'tick 2'), 5000, 'program output in the terminal');
    assert.equal(printed[0].payload, 'Propeller running: 132 longs loaded, clock 80000000 Hz');
    helper.getNode('tnode').receive({ payload: 'status?\r\n' });
    await waitFor(() => printed.some((m) => m.payload === 'echo: status?'), 5000, 'the echo');
    assert.equal(bench.chip.loads.length, 1, 'the terminal did not reset the chip');
  });

  it('a chip fault reaches a Catch node with the failure named, and the result carries the error id', async () => {
    await helper.load(nodes, flow([]));
    bench.chip.fault = 'wrong-version';
    const statuses: Array<{ text?: string; fill?: string }> = [];
    (helper.getNode('load') as unknown as EventEmitter).on('call:status', (call: { args: [{ text?: string; fill?: string }] }) =>
      statuses.push(call.args[0]),
    );
    const caught = nextMessage<Msg>(helper.getNode('caught'), 10_000, 'the caught error');
    const result = await load(makeBinary(64));
    assert.equal(result.success, false);
    assert.equal(result.errorId, 124);
    const error = (await caught).error!;
    assert.match(error.message, /reports version 2.*\(id 124\)/);
    assert.equal(error.source?.id, 'load');
    // The config node's status (from the catalog, or the reason itself where no catalog is loaded) reaches its users.
    assert.ok(
      statuses.some((st) => st.fill === 'red' && /wrong.version/.test(st.text ?? '')),
      JSON.stringify(statuses),
    );
  });

  it('says a failed serial load in the runtime language (German): the Catch node and the statuses, no English of the failure left', async () => {
    // English words of the two failures below: none may reach a German user.
    const english = /checksum|received|image|noise|try again|lower|does not exist|check the|cable|failed|load to/i;
    await setRuntimeLanguage('de');
    try {
      await helper.load(nodes, flow([]));
      const statuses: Array<{ text?: string; fill?: string }> = [];
      (helper.getNode('load') as unknown as EventEmitter).on('call:status', (call: { args: [{ text?: string; fill?: string }] }) =>
        statuses.push(call.args[0]),
      );
      bench.chip.fault = 'bad-checksum';
      let caught = nextMessage<Msg>(helper.getNode('caught'), 10_000, 'the caught error');
      const result = await load(makeBinary(64));
      assert.equal(result.errorId, 125);
      assert.equal('failure' in result, false, 'msg.payload carries the result, not the error object');
      const port = bench.hostPath;
      assert.equal(
        (await caught).error!.message,
        `Laden in RAM an ${port} fehlgeschlagen: RAM-Prüfsumme falsch: Der Propeller an ${port} hat ein anderes Abbild empfangen, ` +
          'als gesendet wurde (Störungen auf der Leitung oder eine falsche Baudrate). Versuchen Sie es erneut oder senken Sie die Baudrate. (id 125)',
      );
      const red = statuses.filter((st) => st.fill === 'red').map((st) => st.text ?? '');
      // The port's status (its kind, from propeller-serial's catalog) and the load's own (the sentence of the cause, cut).
      assert.ok(red.includes('RAM-Prüfsumme falsch'), JSON.stringify(red));
      assert.ok(
        red.some((text) => text.startsWith('RAM-Prüfsumme falsch: Der') && text.endsWith('…')),
        JSON.stringify(red),
      );
      for (const text of red) assert.doesNotMatch(text, english);
      await helper.unload();

      // A port that does not exist fails before the chip is asked: said German too.
      const missing = path.join(tmp, 'no-such-tty');
      await helper.load(nodes, flow([], serialConfig({ port: missing })));
      caught = nextMessage<Msg>(helper.getNode('caught'), 5000, 'the caught error');
      assert.equal((await load(makeBinary(64))).errorId, 130);
      const message = (await caught).error!.message;
      assert.equal(
        message,
        `Laden in RAM an ${missing} fehlgeschlagen: Der serielle Port ${missing} existiert nicht; ` +
          'prüfen Sie das Kabel und den Portpfad (z. B. /dev/ttyUSB0 oder COM3). (id 130)',
      );
      assert.doesNotMatch(message.replaceAll(missing, ''), english);
    } finally {
      await setRuntimeLanguage('en-US');
    }
  });

  it('a download baud rate the boot loader cannot follow reaches a Catch node before the port is opened', async () => {
    await helper.load(nodes, flow([], serialConfig({ baudRate: 230400 })));
    let heard = 0;
    bench.pair.chip.on('data', (data: Buffer) => (heard += data.length));
    const caught = nextMessage<Msg>(helper.getNode('caught'), 10_000, 'the caught error');
    helper.getNode('load').receive({ payload: makeBinary(64) });
    assert.match((await caught).error!.message, /download baud rate is 230400.*9600 to 115200/);
    assert.equal(heard, 0);
    assert.equal(bench.chip.loads.length, 0);
  });

  it('a RAM node refuses msg.action "EEPROM", an unknown action or a bad msg.timeout before the port is opened; the chip sees nothing', async () => {
    await helper.load(nodes, flow([]));
    let heard = 0;
    bench.pair.chip.on('data', (data: Buffer) => (heard += data.length));
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ action: 'EEPROM' }, /^msg\.action asks for EEPROM, but this node stores in RAM/],
      [{ action: ' eeprom ' }, /^msg\.action asks for EEPROM/],
      [{ action: 'FLASH' }, /^msg\.action must be one of "RAM", "EEPROM" \(any case\), not "FLASH"$/],
      [{ debug: 7 }, /^msg\.debug must be one of "none", "term", "graph" \(any case\), not 7$/],
      [{ timeout: Number.POSITIVE_INFINITY }, /^msg\.timeout must be a number of seconds from 0\.001 to 86400/],
    ];
    for (const [extra, expected] of cases) {
      const caught = nextMessage<Msg>(helper.getNode('caught'), 5000, 'the caught error');
      helper.getNode('load').receive({ payload: makeBinary(64), ...extra });
      assert.match((await caught).error!.message, expected, JSON.stringify(extra));
    }
    assert.equal(bench.chip.loads.length, 0);
    assert.equal(heard, 0, 'not a byte reached the chip');
    // Nothing opened the port: another opener can still take it.
    const other = await SerialPortHandle.open(bench.hostPath, 115200);
    await other.close();
  });

  it('a node that allows it programs the EEPROM when a msg asks', async () => {
    const allowing = flow([]).map((n) => (n.id === 'load' ? { ...n, allowMsgEeprom: true, debug: 'none' } : n));
    await helper.load(nodes, allowing);
    const result = await load(makeBinary(64), { action: 'EEPROM' });
    assert.equal(result.success, true, result.error);
    assert.equal(result.action, 'EEPROM');
    assert.equal(bench.chip.loads.length, 1);
  });

  it('a bad image is refused before the port is opened', async () => {
    await helper.load(nodes, flow([]));
    const bad = makeBinary(64);
    bad[40] ^= 1;
    const caught = nextMessage<Msg>(helper.getNode('caught'), 5000, 'the caught error');
    helper.getNode('load').receive({ payload: bad });
    assert.match((await caught).error!.message, /rule "checksum"/);
    // Nothing opened the port: another opener can still take it.
    const other = await SerialPortHandle.open(bench.hostPath, 115200);
    await other.close();
  });

  it('reports port busy and port not found through the load node', async () => {
    await helper.load(nodes, flow([], serialConfig({ port: path.join(tmp, 'no-such-tty') })));
    let caught = nextMessage<Msg>(helper.getNode('caught'), 5000, 'the caught error');
    assert.equal((await load(makeBinary(64))).errorId, 130);
    assert.match((await caught).error!.message, /does not exist/);
    await helper.unload();

    const holder = await SerialPortHandle.open(bench.hostPath, 115200);
    try {
      await helper.load(nodes, flow([]));
      caught = nextMessage<Msg>(helper.getNode('caught'), 5000, 'the caught error');
      assert.equal((await load(makeBinary(64))).errorId, 117);
      assert.match((await caught).error!.message, /in use by another program/);
    } finally {
      await holder.close();
    }
  });

  it('pushes the connection status to its user nodes', async () => {
    await helper.load(nodes, flow([]));
    const statuses: Array<{ text?: string; fill?: string }> = [];
    (helper.getNode('load') as unknown as EventEmitter).on('call:status', (call: { args: [{ text?: string; fill?: string }] }) =>
      statuses.push(call.args[0]),
    );
    assert.equal((await load(makeBinary(64))).success, true);
    const texts = statuses.map((s) => s.text);
    for (const expected of ['opening', 'loading', 'loaded']) assert.ok(texts.includes(expected), `status "${expected}" in ${texts.join(', ')}`);
  });

  it('the terminal shows its own port once open, the load while it runs, and its own port again after it (not "loaded")', async () => {
    await helper.load(nodes, flow([terminal, lines]));
    const statuses: Array<{ text?: string; fill?: string }> = [];
    const spy = helper.getNode('tnode').status as unknown as {
      getCalls(): Array<{ thisValue: { id: string }; args: [{ text?: string; fill?: string }] }>;
    };
    const seen = (): Array<{ text?: string; fill?: string }> =>
      spy
        .getCalls()
        .filter((c) => c.thisValue.id === 'tnode')
        .map((c) => c.args[0]);
    const own = { fill: 'green', shape: 'dot', text: `term ${bench.hostPath} @ 115200` };
    await waitFor(() => JSON.stringify(seen().at(-1)) === JSON.stringify(own), 5000, 'the terminal open');
    const before = seen().length;
    assert.equal((await load(makeBinary(64))).success, true);
    await waitFor(() => seen().length > before + 1 && JSON.stringify(seen().at(-1)) === JSON.stringify(own), 5000, 'its own port after the load');
    statuses.push(...seen().slice(before));
    assert.ok(
      statuses.some((st) => st.text === 'loading'),
      JSON.stringify(statuses),
    );
    assert.ok(
      !statuses.some((st) => st.text === 'loaded'),
      `the connection's "loaded" did not stand in for the terminal: ${JSON.stringify(statuses)}`,
    );
  });

  it('redeploys (full and a partial one that changes the config node) without leaving the port locked', async () => {
    for (let round = 0; round < 2; round++) {
      await helper.load(nodes, flow([terminal, lines]));
      assert.equal((await load(makeBinary(64))).success, true);
      await helper.unload();
      const probe = await SerialPortHandle.open(bench.hostPath, 115200);
      await probe.close();
    }
    await helper.load(nodes, flow([terminal, lines]));
    assert.equal((await load(makeBinary(64))).success, true);
    await helper.setFlows(flow([terminal, lines], serialConfig({ name: 'renamed' })), 'nodes');
    await waitFor(() => helper.getNode('serial')?.name === 'renamed', 5000, 'the redeployed config node');
    const again = await load(makeBinary(96));
    assert.equal(again.success, true, `the new config node opened the port again: ${again.error}`);
    assert.equal(bench.chip.loads.length, 4);
  });

  it('propeller-ports lists through the serial connection', async () => {
    await helper.load(nodes, [
      { id: 't1', type: 'tab' },
      serialConfig(),
      { id: 'ports', type: 'propeller-ports', z: 't1', connectionType: 'serial', serial: 'serial', launcher: '', watch: false, wires: [['out']] },
      { id: 'out', type: 'helper', z: 't1' },
      { id: 'catcher', type: 'catch', z: 't1', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 't1' },
    ]);
    const expected = await listSerialPorts();
    const out = expected.error
      ? nextMessage<Msg>(helper.getNode('caught'), 5000, 'the error')
      : nextMessage<Msg>(helper.getNode('out'), 5000, 'the list');
    helper.getNode('ports').receive({});
    const msg = await out;
    if (expected.error) assert.match(msg.error!.message, /cannot list serial ports/);
    else assert.ok(Array.isArray(msg.payload));
  });

  it('the editor endpoint lists ports or says why it cannot', async () => {
    await helper.load(nodes, [serialConfig()]);
    const request = helper.request() as { get(url: string): { expect(code: number): Promise<{ body: { ports: string[]; error?: string } }> } };
    const res = await request.get('/propeller-serial/ports').expect(200);
    assert.ok(Array.isArray(res.body.ports));
    assert.deepEqual(res.body, await listSerialPorts(), 'the endpoint answers what the system lists, or why it cannot');
    const failing = await listSerialPorts(async () => {
      throw new Error('spawn udevadm ENOENT');
    });
    assert.deepEqual(failing.ports, []);
    assert.match(failing.error ?? '', /cannot list serial ports \(udev is not available here.*type the port path instead/);
  });

  describe('propeller-image', () => {
    function imageFlow(def: Record<string, unknown>): Flow {
      return [
        { id: 't1', type: 'tab' },
        {
          id: 'img',
          type: 'propeller-image',
          z: 't1',
          source: 'payload',
          file: '',
          format: 'auto',
          fixChecksum: false,
          output: 'facts',
          wires: [['out']],
          ...def,
        },
        { id: 'out', type: 'helper', z: 't1' },
        { id: 'catcher', type: 'catch', z: 't1', scope: null, uncaught: false, wires: [['caught']] },
        { id: 'caught', type: 'helper', z: 't1' },
      ];
    }

    it('sets no status once closed, even when a file it was reading arrives later', async () => {
      // Hold the file's opening until the node has closed, as a slow disk or network share would.
      const file = path.join(tmp, 'slow.binary');
      fs.writeFileSync(file, makeBinary(64));
      const realOpen = fs.promises.open;
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let opened = false;
      fs.promises.open = (async (...args: Parameters<typeof realOpen>) => {
        await gate;
        opened = true;
        return realOpen(...args);
      }) as typeof realOpen;
      try {
        await helper.load(nodes, imageFlow({ source: 'file', file }));
        const out = nextMessage<Msg>(helper.getNode('out'), 5000, 'the image facts');
        helper.getNode('img').receive({});
        const after = await closeAndWatch('img');
        release();
        assert.equal((await out).topic, 'binary');
        assert.ok(opened, 'the read finished after the close');
        await new Promise((r) => setImmediate(r));
        assert.deepEqual(after, [], 'no status from a closed node');
      } finally {
        fs.promises.open = realOpen;
      }
    });

    it('gives the facts of a .binary', async () => {
      await helper.load(nodes, imageFlow({}));
      const out = nextMessage<Msg>(helper.getNode('out'));
      helper.getNode('img').receive({ payload: makeBinary(64).toString('base64') });
      const msg = await out;
      assert.equal(msg.topic, 'binary');
      const facts = msg.payload as Record<string, unknown>;
      assert.deepEqual(
        [
          facts.format,
          facts.size,
          facts.longs,
          facts.clockFrequency,
          facts.clockMode,
          facts.clockModeText,
          facts.checksumOk,
          facts.vbase,
          facts.dbase,
        ],
        ['binary', 80, 20, 80_000_000, 0x6f, 'XTAL1 + PLL16X', true, 80, 92],
      );
      assert.equal('image' in facts, false, 'no bytes among the facts');
    });

    it('turns an .elf file into a .binary and a .binary into an .eeprom', async () => {
      const elfFile = path.join(tmp, 'program.elf');
      fs.writeFileSync(elfFile, makeElf([{ physicalAddress: 0, bytes: makeBinary(40) }]));
      await helper.load(nodes, imageFlow({ source: 'file', file: elfFile, output: 'binary' }));
      let out = nextMessage<Msg>(helper.getNode('out'));
      helper.getNode('img').receive({});
      const binary = await out;
      assert.equal(binary.topic, 'elf');
      assert.ok(Buffer.isBuffer(binary.payload));
      assert.equal((binary.payload as Buffer).length, 56);
      assert.equal((binary.image as { dcurr: number }).dcurr, 56 + 12);
      await helper.unload();

      await helper.load(nodes, imageFlow({ output: 'eeprom' }));
      out = nextMessage<Msg>(helper.getNode('out'));
      helper.getNode('img').receive({ payload: binary.payload });
      const eeprom = (await out).payload as Buffer;
      assert.equal(eeprom.length, 32768);
      assert.deepEqual(eeprom.subarray(0, 56), binary.payload);
    });

    it('reads a relative file path from settings.fileWorkingDirectory, as propeller-load does', async () => {
      fs.writeFileSync(path.join(tmp, 'rel.binary'), makeBinary(64));
      helper.settings({ fileWorkingDirectory: tmp });
      try {
        await helper.load(nodes, imageFlow({ source: 'file', file: 'rel.binary' }));
        const out = nextMessage<Msg>(helper.getNode('out'));
        helper.getNode('img').receive({});
        assert.equal(((await out).payload as { size: number }).size, 80);
      } finally {
        helper.settings({});
      }
    });

    it('refuses a bad image with a catchable error naming the rule, or repairs the checksum when asked', async () => {
      await helper.load(nodes, imageFlow({}));
      const bad = makeBinary(64);
      bad[5] ^= 0x10;
      const caught = nextMessage<Msg>(helper.getNode('caught'));
      helper.getNode('img').receive({ payload: bad });
      assert.match((await caught).error!.message, /rule "checksum"/);
      const out = nextMessage<Msg>(helper.getNode('out'));
      helper.getNode('img').receive({ payload: bad, fixChecksum: true });
      const facts = (await out).payload as { checksumOk: boolean; checksumFixed: boolean };
      assert.deepEqual([facts.checksumOk, facts.checksumFixed], [false, true]);
    });

    it('refuses input that is not an image, a missing file and an unknown format', async () => {
      await helper.load(nodes, imageFlow({}));
      for (const [msg, pattern] of [
        [{ payload: 42 }, /must be the image file's bytes/],
        [{ payload: 'not base64 !' }, /not base64/],
        [{ payload: makeBinary(8), format: 'hex' }, /unknown image format "hex"/],
        [{ payload: makeBinary(8), format: 'eeprom' }, /rule "eeprom-size"/],
      ] as Array<[Msg, RegExp]>) {
        const caught = nextMessage<Msg>(helper.getNode('caught'));
        helper.getNode('img').receive(msg);
        assert.match((await caught).error!.message, pattern);
      }
      await helper.unload();
      fs.writeFileSync(path.join(tmp, 'good.binary'), makeBinary(64));
      await helper.load(nodes, imageFlow({ source: 'file', file: path.join(tmp, 'missing.binary') }));
      const statuses: Array<{ text?: string; fill?: string }> = [];
      (helper.getNode('img') as unknown as EventEmitter).on('call:status', (call: { args: [{ text?: string; fill?: string }] }) =>
        statuses.push(call.args[0]),
      );
      const out = nextMessage<Msg>(helper.getNode('out'));
      helper.getNode('img').receive({ filename: path.join(tmp, 'good.binary') });
      await out;
      assert.equal(statuses.at(-1)?.fill, 'green');
      const caught = nextMessage<Msg>(helper.getNode('caught'));
      helper.getNode('img').receive({});
      assert.match((await caught).error!.message, /the image file .*missing\.binary does not exist/);
      assert.deepEqual(statuses.at(-1), { fill: 'red', shape: 'ring', text: 'no image' }, "a failed read does not leave the last image's green dot");
    });
  });
});
