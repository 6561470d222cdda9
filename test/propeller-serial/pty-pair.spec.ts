import { strict as assert } from 'node:assert';
import { SerialPort } from 'serialport';
import { createPtyPair, type PtyPair } from '../../src/simulators/pty-pair';
import { waitFor } from '../helpers/wait-for';

function openHost(path: string): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path, baudRate: 115200, autoOpen: false, hupcl: false });
    port.open((err) => (err ? reject(err) : resolve(port)));
  });
}

function closeHost(port: SerialPort): Promise<void> {
  return new Promise((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
}

function collect(emitter: { on(event: 'data', listener: (data: Buffer) => void): unknown }): () => Buffer {
  const chunks: Buffer[] = [];
  emitter.on('data', (data: Buffer) => chunks.push(data));
  return () => Buffer.concat(chunks);
}

describe('pseudo-terminal for the fake Propeller (no system package)', function () {
  this.timeout(10_000);
  let pair: PtyPair;
  afterEach(async () => pair?.close());

  // CI's optional lane runs this file again with LABWIRE_PTY=socat.
  const expected = process.env.LABWIRE_PTY === 'socat' ? 'socat' : 'openpty';

  it(`comes from ${expected === 'openpty' ? "the npm package's openpty(), not from socat" : 'socat, as LABWIRE_PTY asks'}`, async () => {
    pair = await createPtyPair();
    assert.equal(pair.via, expected);
    assert.match(pair.hostPath, /^\/dev\/pts\/\d+$/);
  });

  it('carries all 256 byte values unchanged both ways through the tty layer, in order', async () => {
    pair = await createPtyPair();
    const host = await openHost(pair.hostPath);
    try {
      const every = Buffer.alloc(4096);
      for (let i = 0; i < every.length; i++) every[i] = (i * 7) & 0xff;
      const atChip = collect(pair.chip);
      host.write(every);
      await waitFor(() => atChip().length >= every.length, 3000, "the chip to read the host's bytes");
      assert.ok(atChip().equals(every), 'host → chip changed bytes (echo, CR/LF or flow-control processing)');

      const atHost = collect(host);
      // One byte per write, as the ROM answers: they must arrive in the order written.
      for (const byte of every) pair.chip.write(Buffer.of(byte));
      await waitFor(() => atHost().length >= every.length, 3000, "the host to read the chip's bytes");
      assert.ok(atHost().equals(every), 'chip → host changed or reordered bytes');
    } finally {
      await closeHost(host);
    }
  });

  it('never blocks the process while nobody reads the host end, and bounds what it holds', async () => {
    pair = await createPtyPair();
    const started = performance.now();
    let longestGap = 0;
    let last = started;
    const ticker = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
    }, 5);
    try {
      for (let i = 0; i < 64; i++) {
        pair.chip.write(Buffer.alloc(8192, 0x41));
        await new Promise((resolve) => setImmediate(resolve));
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      clearInterval(ticker);
    }
    assert.ok(longestGap < 500, `the event loop stalled ${Math.round(longestGap)} ms`);
    const dropped = pair.chip.dropped ?? 0;
    assert.ok(dropped > 0 && dropped < 64 * 8192, `dropped ${dropped} of ${64 * 8192} bytes`);
  });

  it('survives the host closing and reopening the port, and flushes what the old host left', async () => {
    pair = await createPtyPair();
    let host = await openHost(pair.hostPath);
    await closeHost(host);
    const errors: Error[] = [];
    pair.chip.on('error', (err: Error) => errors.push(err));
    pair.chip.write('nobody hears this\r\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    host = await openHost(pair.hostPath);
    try {
      const atHost = collect(host);
      pair.chip.write('hello again\r\n');
      await waitFor(() => atHost().includes('hello again'), 3000, 'the reopened host to read');
      assert.equal(atHost().toString('latin1'), 'hello again\r\n');
      const atChip = collect(pair.chip);
      host.write('ping');
      await waitFor(() => atChip().length >= 4, 3000, 'the chip to read the reopened host');
      assert.equal(atChip().toString(), 'ping');
      assert.deepEqual(errors, []);
    } finally {
      await closeHost(host);
    }
  });
});
