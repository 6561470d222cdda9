import { strict as assert } from 'node:assert';
import { reasonText } from '../../src/nodered/i18n';
import type { RedAPI } from '../../src/nodered/red-types';
import { InstrumentError } from '../../src/protocols/common/errors';
import type { LoadResult } from '../../src/protocols/propeller/connection';
import { HUB_RAM_SIZE } from '../../src/protocols/propeller/image';
import { SerialPropellerConnection, type SerialConnectionOptions } from '../../src/protocols/propeller/serial-connection';
import { loadOverSerial } from '../../src/protocols/propeller/serial-loader';
import { SerialPortHandle, findSerialPorts } from '../../src/protocols/propeller/serial-port-handle';
import type { ChipFault } from '../../src/simulators/rom-chip';
import { FakeChipBench } from '../../src/simulators/propeller-chip';
import { translatorFor, waitFor } from '../helpers/red';
import { makeBinary } from './image-fixtures';

const FAST = { handshakeMs: 300, ramCheckMs: 400, programMs: 400, verifyMs: 400 };

/**
 * A failed load carries its error, and the en-US catalog sentence of its reason reads exactly as
 * its English message: the load node says it through the catalog, so English stays as it was.
 */
async function assertSaidAsBefore(result: LoadResult): Promise<void> {
  assert.ok(result.failure instanceof InstrumentError, `the failure rides along: ${result.error}`);
  assert.equal(result.failure.message, result.error);
  const red = { _: await translatorFor('propeller-load') } as unknown as RedAPI;
  assert.equal(reasonText(red, result.failure, 'errors'), result.error, `labwire.errors.${String(result.failure.details.reason)}`);
}

describe('propeller serial loader against the fake chip on a pseudo-terminal', function () {
  this.timeout(20_000);
  let bench: FakeChipBench;
  let connection: SerialPropellerConnection | undefined;

  beforeEach(async () => {
    bench = await FakeChipBench.start({ printIntervalMs: 50 });
  });
  afterEach(async () => {
    await connection?.close();
    connection = undefined;
    await bench.close();
  });

  function connect(options: Partial<SerialConnectionOptions> = {}): SerialPropellerConnection {
    connection = new SerialPropellerConnection({ path: bench.hostPath, baudRate: 115200, resetMode: 'none', timing: FAST, ...options });
    return connection;
  }

  it('loads RAM and runs: the chip holds exactly the image, the log follows the stages, the terminal reads the program', async () => {
    const image = makeBinary(4000);
    const progress: string[] = [];
    const result = await connect().load({ image, action: 'RAM', debug: 'term' }, (p) => progress.push(`${p.id}:${p.stage}`));
    assert.equal(result.success, true, result.error);
    assert.equal(result.port, bench.hostPath);
    assert.deepEqual(progress, ['0:resetting', '0:found', '2:downloading', '3:verifying-ram', '5:success']);
    assert.deepEqual(
      result.log.map((p) => p.id),
      [0, 0, 2, 3, 5],
    );
    assert.equal(bench.chip.loads.length, 1);
    assert.equal(bench.chip.loads[0].command, 1);
    assert.deepEqual(bench.chip.loads[0].image, image);
    assert.equal(bench.chip.isRunning, true);

    const terminal = await connection!.openTerminal({ baudrate: 115200, mode: 'term' });
    let text = '';
    terminal.on('data', (data: Buffer) => (text += data.toString('latin1')));
    terminal.write('hello chip\r');
    await waitFor(() => text.includes('echo: hello chip') && text.includes('tick 2'), 5000, 'program output');
    // The banner printed right after the load reaches the terminal opened later, first.
    assert.match(text, /^Propeller running: 1004 longs loaded, clock 80000000 Hz\r\n/);
    assert.equal(bench.chip.loads.length, 1, 'opening the terminal did not reset or reload the chip');
    await terminal.close();
    assert.equal(connection!.isOpen, true, 'the port stays open after the terminal closes');
  });

  it('programs the EEPROM and runs (command 3): EEPROM holds image, zeros and the call frame', async () => {
    const image = makeBinary(200);
    const result = await connect().load({ image, action: 'EEPROM', debug: 'none' });
    assert.equal(result.success, true, result.error);
    assert.deepEqual(
      result.log.map((p) => p.stage),
      ['resetting', 'found', 'downloading', 'verifying-ram', 'programming-eeprom', 'verifying-eeprom', 'success'],
    );
    assert.equal(bench.chip.loads[0].command, 3);
    const eeprom = bench.chip.chip.eeprom;
    assert.deepEqual(eeprom.subarray(0, image.length), image);
    const dbase = image.readUInt16LE(10);
    assert.deepEqual([...eeprom.subarray(dbase - 8, dbase)], [0xff, 0xff, 0xf9, 0xff, 0xff, 0xff, 0xf9, 0xff]);
    assert.equal(
      eeprom.subarray(image.length, dbase - 8).every((b) => b === 0),
      true,
    );
    let sum = 0;
    for (const b of eeprom) sum += b;
    assert.equal(sum & 0xff, 0, 'the EEPROM as a whole sums to 0');
    await waitFor(() => bench.chip.isRunning, 2000, 'the program to run');
  });

  it('programs the EEPROM without running (command 2) through the loader API', async () => {
    const handle = await SerialPortHandle.open(bench.hostPath, 115200);
    try {
      const outcome = await loadOverSerial(handle, makeBinary(64), { command: 'eeprom-program', resetMode: 'none', baudRate: 115200, timing: FAST });
      assert.equal(outcome.version, 1);
      assert.equal(outcome.handshakeBytes, 198);
      assert.ok(outcome.wireBytes > 80 * 2 && outcome.wireBytes < 80 * 2.75 + 10);
      assert.equal(bench.chip.loads[0].command, 2);
      assert.equal(bench.chip.chip.state, 'shutdown');
      assert.equal(bench.chip.isRunning, false);
    } finally {
      await handle.close();
    }
  });

  it('loads again while a program runs and prints (reset none: the handshake stops it)', async () => {
    const c = connect();
    assert.equal((await c.load({ image: makeBinary(64), action: 'RAM', debug: 'none' })).success, true);
    let printed = '';
    bench.chip.on('output', (text: string) => (printed += text));
    await waitFor(() => printed.includes('tick 2'), 5000, 'the first program printing');
    assert.equal(bench.chip.isRunning, true, 'the first program runs before the second load');
    const second = makeBinary(128, { fill: () => 0x11 });
    const result = await c.load({ image: second, action: 'RAM', debug: 'none' });
    assert.equal(result.success, true, result.error);
    assert.equal(bench.chip.loads.length, 2);
    assert.deepEqual(bench.chip.loads[1].image, second);
    assert.equal(bench.chip.isRunning, true, 'the second program runs');
  });

  const faults: Array<{ fault: ChipFault; action: 'RAM' | 'EEPROM'; errorId: number; reason: string; text: RegExp }> = [
    { fault: 'silence', action: 'RAM', errorId: 104, reason: 'serialNoPropellerSilent', text: /no Propeller found .*no answer at all/ },
    { fault: 'bad-handshake', action: 'RAM', errorId: 104, reason: 'serialNoPropellerGarbled', text: /no Propeller found .*129 bytes that are not/ },
    { fault: 'wrong-version', action: 'RAM', errorId: 124, reason: 'serialWrongVersion', text: /reports version 2/ },
    { fault: 'bad-checksum', action: 'RAM', errorId: 125, reason: 'serialRamChecksum', text: /RAM checksum failed/ },
    { fault: 'eeprom-program', action: 'EEPROM', errorId: 127, reason: 'serialEepromProgram', text: /EEPROM programming failed/ },
    { fault: 'eeprom-verify', action: 'EEPROM', errorId: 127, reason: 'serialEepromVerify', text: /EEPROM verify failed/ },
    { fault: 'no-ack', action: 'RAM', errorId: 128, reason: 'serialRamAckMissing', text: /did not acknowledge the RAM checksum within 0\.4 s/ },
  ];
  for (const f of faults) {
    it(`fault ${f.fault}: fails with "${f.reason}" (${f.errorId})`, async () => {
      bench.chip.fault = f.fault;
      const result = await connect().load({ image: makeBinary(64), action: f.action, debug: 'none' });
      assert.equal(result.success, false);
      assert.equal(result.errorId, f.errorId);
      assert.match(result.error ?? '', f.text);
      await assertSaidAsBefore(result);
      assert.equal((result.failure as InstrumentError).details.reason, f.reason);
      const last = result.log[result.log.length - 1];
      assert.equal(last.stage, 'error');
      assert.equal(last.id, f.errorId);
      assert.equal(bench.chip.isRunning, false);
      // The port is still usable: clear the fault and load again.
      bench.chip.fault = 'none';
      bench.chip.reset();
      assert.equal((await connection!.load({ image: makeBinary(64), action: 'RAM', debug: 'none' })).success, true);
    });
  }

  it('a reset by DTR on a pseudo-terminal fails clearly and quickly instead of hanging', async () => {
    const result = await connect({ resetMode: 'dtr' }).load({ image: makeBinary(64), action: 'RAM', debug: 'none' });
    assert.equal(result.success, false);
    assert.equal(result.errorId, 199);
    assert.match(result.error ?? '', /could not pulse DTR on .*set the reset mode to "none"/);
    await assertSaidAsBefore(result);
    const rts = await new SerialPropellerConnection({ path: bench.hostPath, baudRate: 115200, resetMode: 'rts' });
    await connection!.close();
    connection = rts;
    assert.match((await rts.load({ image: makeBinary(64), action: 'RAM', debug: 'none' })).error ?? '', /could not pulse RTS/);
  });

  it('port not found and port busy are named', async () => {
    const missing = await connect({ path: '/dev/does-not-exist-propeller' }).load({ image: makeBinary(64), action: 'RAM', debug: 'none' });
    assert.equal(missing.errorId, 130);
    assert.match(missing.error ?? '', /serial port \/dev\/does-not-exist-propeller does not exist/);
    await assertSaidAsBefore(missing);
    await connection!.close();

    const holder = await SerialPortHandle.open(bench.hostPath, 115200);
    try {
      const busy = await connect().load({ image: makeBinary(64), action: 'RAM', debug: 'none' });
      assert.equal(busy.errorId, 117);
      assert.match(busy.error ?? '', /is in use by another program/);
      await assertSaidAsBefore(busy);
      await assert.rejects(
        connection!.openTerminal({ baudrate: 115200, mode: 'term' }),
        (err: InstrumentError) => err.details.reason === 'serialPortBusy',
      );
    } finally {
      await holder.close();
    }
    // Once the other holder lets go the same connection opens it.
    assert.equal((await connection!.load({ image: makeBinary(64), action: 'RAM', debug: 'none' })).success, true);
  });

  it('refuses a bad image or another port before touching the port', async () => {
    const c = connect({ path: '/dev/does-not-exist-propeller' });
    const bad = makeBinary(64);
    bad[5] ^= 0xff;
    await assert.rejects(
      c.load({ image: bad, action: 'RAM', debug: 'none' }),
      (err: InstrumentError) => err.code === 'BAD_INPUT' && err.details.rule === 'checksum',
    );
    await assert.rejects(
      c.load({ image: Buffer.alloc(HUB_RAM_SIZE), action: 'RAM', debug: 'none' }),
      (err: InstrumentError) => err.code === 'BAD_INPUT',
    );
    await assert.rejects(
      c.load({ image: makeBinary(64), action: 'RAM', debug: 'none', port: '/dev/ttyUSB9' }),
      /drives \/dev\/does-not-exist-propeller, not \/dev\/ttyUSB9/,
    );
    await assert.rejects(c.openTerminal({ baudrate: 0, mode: 'term' }), /baud rate/);
    assert.equal(c.isOpen, false);
  });

  it('reports clearly when the system cannot list ports, and the typed path still loads', async () => {
    const c = connect({
      listPorts: () =>
        findSerialPorts(async () => {
          throw new Error('spawn udevadm ENOENT');
        }),
    });
    await assert.rejects(
      c.listPorts(),
      (err: InstrumentError) => /cannot list serial ports \(udev is not available/.test(err.message) && err.details.reason === 'serialListNoUdev',
    );
    assert.equal((await c.load({ image: makeBinary(64), action: 'RAM', debug: 'none' })).success, true);
  });

  it('closing the connection during a load fails the load at once and frees the port', async () => {
    bench.chip.fault = 'no-ack';
    const c = connect({ timing: { ...FAST, ramCheckMs: 10_000 } });
    const pending = c.load({ image: makeBinary(64), action: 'RAM', debug: 'none' });
    await waitFor(() => bench.chip.loads.length === 1, 5000, 'the image to arrive');
    const started = Date.now();
    await c.close();
    const result = await pending;
    assert.equal(result.success, false);
    assert.match(result.error ?? '', /closed/);
    assert.equal(result.errorId, 128);
    await assertSaidAsBefore(result);
    assert.ok(Date.now() - started < 2000);
    const again = await SerialPortHandle.open(bench.hostPath, 115200);
    await again.close();
  });

  it('a whole-load time limit stops a load that never finishes', async () => {
    bench.chip.fault = 'no-ack';
    const result = await connect({ timing: { ...FAST, ramCheckMs: 10_000 } }).load({
      image: makeBinary(64),
      action: 'RAM',
      debug: 'none',
      timeoutMs: 600,
    });
    assert.equal(result.success, false);
    assert.equal(result.errorId, 128);
    assert.match(result.error ?? '', /did not finish within 0\.6 s/);
    await assertSaidAsBefore(result);
  });

  it('tells the terminal when the port goes away (adapter unplugged), and a later load says what happened', async () => {
    const c = connect();
    assert.equal((await c.load({ image: makeBinary(64), action: 'RAM', debug: 'none' })).success, true);
    const terminal = await c.openTerminal({ baudrate: 115200, mode: 'term' });
    const errors: Error[] = [];
    terminal.on('error', (err: Error) => errors.push(err));
    const statuses: string[] = [];
    c.on('status', (s: { text: string }) => statuses.push(s.text));
    await bench.pair.close();
    // serialport does not always notice a hung-up pseudo-terminal by itself; the next write does.
    await waitFor(
      () => {
        if (errors.length === 0 && c.isOpen) terminal.write('anyone there?\r');
        return errors.length > 0;
      },
      5000,
      'the terminal error',
    );
    assert.match(errors[0].message, /closed unexpectedly.*unplugged/);
    const red = { _: await translatorFor('propeller-terminal') } as unknown as RedAPI;
    assert.equal(reasonText(red, errors[0], 'errors'), errors[0].message);
    assert.ok(statuses.includes('portLost'));
    assert.equal(c.isOpen, false);
    const result = await c.load({ image: makeBinary(64), action: 'RAM', debug: 'none' });
    assert.equal(result.success, false);
    assert.equal(result.errorId, 130, result.error);
  });

  it('loads one after another when asked at once', async () => {
    const c = connect();
    const images = [makeBinary(32, { fill: () => 1 }), makeBinary(32, { fill: () => 2 }), makeBinary(32, { fill: () => 3 })];
    const queued: number[] = [];
    const results = await Promise.all(
      images.map((image, i) => c.load({ image, action: 'RAM', debug: 'none' }, (p) => p.stage === 'queued' && queued.push(i))),
    );
    assert.deepEqual(
      results.map((r) => r.success),
      [true, true, true],
    );
    assert.deepEqual(queued, [1, 2]);
    assert.deepEqual(
      bench.chip.loads.map((l) => l.image[20]),
      [1, 2, 3],
    );
  });
});
