import { EventEmitter } from 'node:events';
import { InstrumentError } from '../common/errors';
import type { TerminalSession } from './connection';

/** What a session needs from the Launcher client that owns it. */
export interface TerminalOwner {
  writeTerminal(port: string, data: Buffer): void;
  detach(session: LauncherTerminalSession): Promise<void>;
}

export interface PacketGap {
  expected: number;
  received: number;
}

/**
 * A view on the Launcher's serial-terminal stream for one port. Events: 'data' (Buffer), 'error'
 * (Error: "port not found", "failed to connect", connection lost), 'gap' (PacketGap), 'close'.
 */
export class LauncherTerminalSession extends EventEmitter implements TerminalSession {
  private closed = false;

  constructor(
    readonly port: string,
    private readonly owner: TerminalOwner,
  ) {
    super();
  }

  /** Strings are sent as UTF-8 bytes; the Launcher wants one char code per byte. */
  write(data: Buffer | string): void {
    if (this.closed) throw new InstrumentError('CLOSED', `the terminal on ${this.port} is closed`);
    this.owner.writeTerminal(this.port, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.owner.detach(this);
    this.emit('close');
  }

  /** Called by the owner; an 'error' with no listener would throw, so only emit when someone listens. */
  deliverError(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}

/**
 * packetID counts up per port from 0 and never resets inside a Launcher run, so the first packet
 * after (re)opening sets the baseline and any jump after it is a loss worth reporting.
 */
export class PacketCounter {
  private expected: number | undefined;

  /** Returns the gap, if any, and advances. */
  next(packetId: number): PacketGap | undefined {
    if (!Number.isFinite(packetId)) return undefined;
    const expected = this.expected;
    this.expected = packetId + 1;
    if (expected !== undefined && packetId > expected) return { expected, received: packetId };
    return undefined;
  }

  reset(): void {
    this.expected = undefined;
  }
}
