import { strict as assert } from 'node:assert';
import { InstrumentError } from '../../src/protocols/common/errors';
import { computeChecksum } from '../../src/protocols/propeller/image';
import { TEMPLATE_BYTE, commandBytes, handshakeBytes, readSingleReply } from '../../src/protocols/propeller/rom-protocol';
import { SerialPropellerConnection } from '../../src/protocols/propeller/serial-connection';
import { DEFAULT_LOADER_TIMING, ROM_BAUD, loadOverSerial } from '../../src/protocols/propeller/serial-loader';
import { SerialPortHandle } from '../../src/protocols/propeller/serial-port-handle';
import { FakeChipBench } from '../../src/simulators/propeller-chip';
import { RCFAST_HZ, RomChip, rcfastTiming } from '../../src/simulators/rom-chip';
import { waitFor } from '../helpers/red';
import { makeBinary } from './image-fixtures';

const FAST = { handshakeMs: 300, ramCheckMs: 400, programMs: 400, verifyMs: 400 };

function withClockMode(mode: number): Buffer {
  const image = makeBinary(64);
  image[4] = mode;
  image[5] = computeChecksum(image);
  return image;
}

describe('propeller ROM loader: inside what the chip can do', function () {
  this.timeout(30_000);

  describe('EEPROM time limits with margin for a chip on RCFAST at 8 MHz', () => {
    it('the simulated chip at 8 MHz takes about 1.97 s to verify, and faster chips less', () => {
      assert.equal(rcfastTiming(RCFAST_HZ.min).verifyMs, 1970);
      assert.ok(rcfastTiming(RCFAST_HZ.max).verifyMs < rcfastTiming(RCFAST_HZ.nominal).verifyMs);
    });

    it('the limits allow at least half as long again as the slowest chip needs', () => {
      const slowest = rcfastTiming(RCFAST_HZ.min);
      assert.ok(DEFAULT_LOADER_TIMING.verifyMs >= 1.5 * slowest.verifyMs, `verify limit ${DEFAULT_LOADER_TIMING.verifyMs} ms`);
      assert.ok(DEFAULT_LOADER_TIMING.programMs >= 1.5 * slowest.programMs, `program limit ${DEFAULT_LOADER_TIMING.programMs} ms`);
    });

    it('an EEPROM load to a chip at 8 MHz succeeds with the default limits, though the chip really takes its time', async () => {
      const bench = await FakeChipBench.start({ timing: rcfastTiming(RCFAST_HZ.min) });
      const connection = new SerialPropellerConnection({ path: bench.hostPath, baudRate: 115200, resetMode: 'none' });
      try {
        const at: Record<string, number> = {};
        const result = await connection.load({ image: makeBinary(200), action: 'EEPROM', debug: 'none' }, (p) => (at[p.stage] = Date.now()));
        assert.equal(result.success, true, result.error);
        assert.ok(at.success! - at['verifying-eeprom']! >= 1900, 'verifying took the chip about 1.97 s');
        assert.ok(at['verifying-eeprom']! - at['programming-eeprom']! >= 4000, 'programming took the chip about 4.5 s');
        await waitFor(() => bench.chip.isRunning, 2000, 'the program to run');
      } finally {
        await connection.close();
        await bench.close();
      }
    });
  });

  describe(`download baud rate: only ${ROM_BAUD.min} to ${ROM_BAUD.max}`, () => {
    let bench: FakeChipBench;
    let heard: number;
    beforeEach(async () => {
      bench = await FakeChipBench.start({ paceBaud: 9600 });
      heard = 0;
      bench.pair.chip.on('data', (data: Buffer) => (heard += data.length));
    });
    afterEach(() => bench.close());

    for (const baudRate of [4800, 230400, 3_000_000, Number.NaN]) {
      it(`refuses ${baudRate} baud before the port is touched, with a catalog reason`, async () => {
        const connection = new SerialPropellerConnection({ path: bench.hostPath, baudRate, resetMode: 'none', timing: FAST });
        try {
          await assert.rejects(
            connection.load({ image: makeBinary(64), action: 'RAM', debug: 'none' }),
            (err: InstrumentError) =>
              err.code === 'BAD_INPUT' &&
              err.details.reason === 'romBaudOutOfRange' &&
              Object.is(err.details.baudRate, baudRate) &&
              err.details.min === 9600 &&
              err.details.max === 115200 &&
              /only follows 9600 to 115200 baud/.test(err.message),
          );
          assert.equal(connection.isOpen, false);
          assert.equal(heard, 0, 'nothing reached the chip');
        } finally {
          await connection.close();
        }
      });
    }

    it('loads at 9600 baud, the slow end, on a line that really carries only 9600 baud', async () => {
      const connection = new SerialPropellerConnection({ path: bench.hostPath, baudRate: 9600, resetMode: 'none', timing: FAST });
      try {
        const result = await connection.load({ image: makeBinary(64), action: 'RAM', debug: 'none' });
        assert.equal(result.success, true, result.error);
        assert.deepEqual(bench.chip.loads[0]!.image, makeBinary(64));
      } finally {
        await connection.close();
      }
    });

    it('the loader API refuses an image the boot loader cannot take with a coded error, before anything is sent', async () => {
      const handle = await SerialPortHandle.open(bench.hostPath, 115200);
      try {
        for (const image of [Buffer.alloc(6), Buffer.alloc(0), Buffer.alloc(40_000)]) {
          await assert.rejects(
            loadOverSerial(handle, image, { command: 'ram-run', resetMode: 'none', baudRate: 115200, timing: FAST }),
            (err: InstrumentError) =>
              err instanceof InstrumentError &&
              err.code === 'BAD_INPUT' &&
              err.details.reason === 'imageNotLoadable' &&
              err.details.bytes === image.length,
          );
        }
        await assert.rejects(
          loadOverSerial(handle, 'AAAA' as unknown as Buffer, { command: 'ram-run', resetMode: 'none', baudRate: 115200, timing: FAST }),
          (err: InstrumentError) => err instanceof InstrumentError && err.details.reason === 'imageNotBuffer',
        );
        assert.equal(heard, 0, 'no handshake was sent');
      } finally {
        await handle.close();
      }
    });

    it('the loader API refuses such a baud rate too', async () => {
      const handle = await SerialPortHandle.open(bench.hostPath, 115200);
      try {
        await assert.rejects(
          loadOverSerial(handle, makeBinary(64), { command: 'ram-run', resetMode: 'none', baudRate: 250_000, timing: FAST }),
          (err: InstrumentError) => err.details.reason === 'romBaudOutOfRange',
        );
        assert.equal(heard, 0);
      } finally {
        await handle.close();
      }
    });
  });

  describe('the simulated chip runs an image whose clock mode it cannot run as a real one would', () => {
    let chip: RomChip;
    afterEach(() => chip.dispose());

    /** Load an image straight into the chip model, past every host-side check; the chip's events, in order. */
    async function loadRaw(image: Buffer): Promise<string[]> {
      chip = new RomChip({ timing: { checksumMs: 1 } });
      const events: string[] = [];
      for (const event of ['run', 'reboot', 'halted']) chip.on(event, () => events.push(event));
      const replies: number[] = [];
      chip.on('reply', (b: Buffer) => replies.push(...b));
      chip.receive(handshakeBytes());
      replies.length = 0;
      chip.receive(commandBytes(1, image));
      for (let i = 0; i < 200 && replies.length === 0; i++) {
        chip.receive(Buffer.from([TEMPLATE_BYTE]));
        await new Promise((r) => setTimeout(r, 2));
      }
      assert.equal(readSingleReply(replies[0]!), 0, 'the RAM checksum is fine');
      return events;
    }

    it('$80 (RESET bit): the chip reboots into its boot loader instead of running', async () => {
      assert.deepEqual(await loadRaw(withClockMode(0x80)), ['reboot']);
      assert.equal(chip.state, 'listening');
    });

    it('$07 (PLL16X with PLLENA and OSCENA off): the clock stops; the chip hears nothing until a reset', async () => {
      assert.deepEqual(await loadRaw(withClockMode(0x07)), ['halted']);
      assert.equal(chip.state, 'halted');
      const replies: number[] = [];
      chip.on('reply', (b: Buffer) => replies.push(...b));
      chip.receive(handshakeBytes());
      assert.deepEqual(replies, [], 'a stopped chip does not answer a handshake');
      chip.reset();
      chip.receive(handshakeBytes());
      assert.equal(replies.length, 129, 'after a reset its boot loader answers again');
    });

    it('a valid clock mode runs', async () => {
      assert.deepEqual(await loadRaw(withClockMode(0x6f)), ['run']);
      assert.equal(chip.state, 'running');
    });
  });
});
