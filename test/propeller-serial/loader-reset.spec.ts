import { strict as assert } from 'node:assert';
import { RomChip } from '../../src/simulators/rom-chip';
import { loadOverSerial, type ResetMode } from '../../src/protocols/propeller/serial-loader';
import type { LoaderPort } from '../../src/protocols/propeller/serial-port-handle';
import { makeBinary } from './image-fixtures';

/** A port wired straight to an in-memory chip, recording every call in order. A reset line pulse resets the chip. */
class RecordingPort implements LoaderPort {
  readonly path = '/dev/ttyTEST';
  readonly calls: string[] = [];
  readonly chip = new RomChip({ timing: { checksumMs: 1, programMs: 1, verifyMs: 1 } });
  private onData: ((data: Buffer) => void) | undefined;
  private lines = { dtr: false, rts: false };

  constructor(private readonly failSignals = false) {
    this.chip.on('reply', (bytes: Buffer) => setImmediate(() => this.onData?.(bytes)));
  }

  async write(data: Buffer): Promise<void> {
    if (this.calls[this.calls.length - 1] !== 'write') this.calls.push('write');
    this.chip.receive(data);
  }
  async drain(): Promise<void> {
    this.calls.push('drain');
  }
  async setSignals(signals: { dtr: boolean; rts: boolean }): Promise<void> {
    assert.deepEqual(Object.keys(signals).sort(), ['dtr', 'rts'], 'both lines are always given');
    this.calls.push(`set dtr=${signals.dtr} rts=${signals.rts} @${Date.now()}`);
    if (this.failSignals) throw new Error('Inappropriate ioctl for device, cannot set');
    // Releasing an asserted line is the edge that resets the board.
    if ((this.lines.dtr && !signals.dtr) || (this.lines.rts && !signals.rts)) this.chip.reset();
    this.lines = signals;
  }
  async flushInput(): Promise<void> {
    this.calls.push('flush');
  }
  capture(onData: (data: Buffer) => void): () => void {
    this.onData = onData;
    return () => (this.onData = undefined);
  }
}

const timing = { resetPulseMs: 15, resetSettleMs: 30, handshakeMs: 300, ramCheckMs: 500, programMs: 500, verifyMs: 500 };

describe('propeller serial loader: reset lines', () => {
  for (const mode of ['dtr', 'rts'] as ResetMode[]) {
    it(`reset by ${mode.toUpperCase()}: pulse with both lines given, release, settle, flush, then the handshake`, async () => {
      const port = new RecordingPort();
      const outcome = await loadOverSerial(port, makeBinary(32), { command: 'ram-run', resetMode: mode, baudRate: 115200, timing });
      assert.equal(outcome.version, 1);
      const steps = port.calls.map((c) => c.replace(/ @\d+$/, ''));
      const pulse = mode === 'dtr' ? 'set dtr=true rts=false' : 'set dtr=false rts=true';
      assert.deepEqual(steps.slice(0, 4), [pulse, 'set dtr=false rts=false', 'flush', 'write']);
      const held = Number(port.calls[1].split('@')[1]) - Number(port.calls[0].split('@')[1]);
      assert.ok(held >= 14, `the line was held ${held} ms`);
      assert.equal(port.chip.state, 'running');
    });
  }

  it('reset none touches no control line', async () => {
    const port = new RecordingPort();
    await loadOverSerial(port, makeBinary(32), { command: 'eeprom-program-run', resetMode: 'none', baudRate: 115200, timing });
    assert.equal(
      port.calls.some((c) => c.startsWith('set')),
      false,
    );
    assert.equal(port.calls[0], 'flush');
  });

  it('a port that cannot drive the line fails with serialResetFailed before anything is sent', async () => {
    const port = new RecordingPort(true);
    await assert.rejects(
      loadOverSerial(port, makeBinary(32), { command: 'ram-run', resetMode: 'dtr', baudRate: 115200, timing }),
      (err: Error & { details?: { reason?: string; errorId?: number } }) =>
        err.details?.reason === 'serialResetFailed' && err.details.errorId === 199 && /Inappropriate ioctl/.test(err.message),
    );
    assert.equal(port.calls.includes('write'), false);
  });

  it('an aborted load stops at its next wait', async () => {
    const port = new RecordingPort();
    port.chip.fault = 'no-ack';
    const abort = new AbortController();
    const pending = loadOverSerial(port, makeBinary(32), {
      command: 'ram-run',
      resetMode: 'none',
      baudRate: 115200,
      timing: { ...timing, ramCheckMs: 10_000 },
      signal: abort.signal,
    });
    setTimeout(() => abort.abort(new Error('stop now')), 50);
    await assert.rejects(pending, /stop now/);
  });
});
