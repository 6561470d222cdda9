import { EventEmitter } from 'node:events';
import { InstrumentError } from '../common/errors';
import type { TerminalSession } from './connection';
import { terminalBytes } from './terminal-write';

/** A session nobody reads stops holding data after this much. */
const HOLD_LIMIT = 65_536;

export interface SerialTerminalOwner {
  writeTerminal(data: Buffer): void;
  detach(session: SerialTerminalSession): void;
}

/**
 * A terminal on the serial connection's port. Closing it only stops the data: the port stays open
 * (closing the port would drop DTR and reset the chip). Events: 'data', 'error', 'close'.
 */
export class SerialTerminalSession extends EventEmitter implements TerminalSession {
  private closed = false;
  /** Data held, in order, until the first 'data' listener attaches (starting with earlier output). */
  private held: Buffer[] | undefined;
  private heldBytes = 0;

  constructor(
    readonly port: string,
    private readonly owner: SerialTerminalOwner,
    earlier?: Buffer,
  ) {
    super();
    if (earlier && earlier.length > 0) {
      this.held = [earlier];
      this.heldBytes = earlier.length;
      this.on('newListener', this.onNewListener);
    }
  }

  private readonly onNewListener = (event: string | symbol): void => {
    if (event !== 'data') return;
    this.off('newListener', this.onNewListener);
    // newListener fires before the listener is added: release the held data just after.
    queueMicrotask(() => this.release());
  };

  private release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const data of held) this.deliver(data);
  }

  /** openTerminal resolves once the port is open: nothing left to confirm. */
  get confirmed(): boolean {
    return true;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  write(data: Buffer | string): void {
    if (this.closed) throw new InstrumentError('CLOSED', `the terminal on ${this.port} is closed`, { reason: 'terminalClosed', port: this.port });
    this.owner.writeTerminal(terminalBytes(this.port, data));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.owner.detach(this);
    this.emit('close');
  }

  deliver(data: Buffer): void {
    if (this.closed) return;
    if (this.held && this.heldBytes < HOLD_LIMIT) {
      this.held.push(data);
      this.heldBytes += data.length;
      return;
    }
    this.emit('data', data);
  }

  /** An 'error' without a listener would throw; only emit when someone listens. */
  deliverError(err: Error): void {
    if (!this.closed && this.listenerCount('error') > 0) this.emit('error', err);
  }
}
