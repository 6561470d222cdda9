import { EventEmitter } from 'node:events';
import { InstrumentError } from '../common/errors';
import type { TerminalSession } from './connection';
import { terminalBytes } from './terminal-write';

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
  private isConfirmed: boolean;

  constructor(
    readonly port: string,
    private readonly owner: TerminalOwner,
    confirmed = false,
  ) {
    super();
    this.isConfirmed = confirmed;
  }

  get confirmed(): boolean {
    return this.isConfirmed;
  }

  /** Called by the owner: data came from the port ('open' once), or the Launcher is being asked to open it again ('opening'). */
  setConfirmed(confirmed: boolean): void {
    if (this.closed || confirmed === this.isConfirmed) return;
    this.isConfirmed = confirmed;
    this.emit(confirmed ? 'open' : 'opening');
  }

  /** Strings are sent as UTF-8 bytes; the Launcher wants one char code per byte. */
  write(data: Buffer | string): void {
    if (this.closed) throw new InstrumentError('CLOSED', `the terminal on ${this.port} is closed`, { reason: 'terminalClosed', port: this.port });
    this.owner.writeTerminal(this.port, terminalBytes(this.port, data));
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

/** A warning about lost terminal packets: its catalog key (reason), the parts of the text, and the English text. */
export interface GapWarning {
  reason: 'terminalPacketsLost' | 'terminalPacketsLostRepeatedly';
  port: string;
  /** Packets lost in the gaps this warning covers. */
  lost: number;
  /** Gaps this warning covers (1 for terminalPacketsLost). */
  gaps: number;
  /** The latest gap. */
  expected: number;
  received: number;
  /** The interval the gaps of a terminalPacketsLostRepeatedly fell in. */
  seconds: number;
  text: string;
}

/**
 * A lossy link can drop a packet in every batch: warn of a gap at once, then at most once per
 * interval, summing up the gaps in between (delivered when the interval ends), so the log stays
 * readable. dispose() drops a pending summary.
 */
export class GapWarnings {
  private quietUntil = -Infinity;
  private lost = 0;
  private gaps = 0;
  private latest: { port: string; gap: PacketGap } | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly warn: (warning: GapWarning) => void,
    private readonly intervalMs = 10_000,
  ) {}

  note(port: string, gap: PacketGap): void {
    this.lost += gap.received - gap.expected;
    this.gaps += 1;
    this.latest = { port, gap };
    if (Date.now() >= this.quietUntil) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.quietUntil - Date.now());
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.gaps = 0;
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const latest = this.latest;
    if (this.gaps === 0 || !latest) return;
    const { lost, gaps } = this;
    this.quietUntil = Date.now() + this.intervalMs;
    this.lost = 0;
    this.gaps = 0;
    const { port, gap } = latest;
    const where = `expected packetID ${gap.expected}, got ${gap.received}`;
    const seconds = Math.round(this.intervalMs / 1000);
    const facts = { port, lost, gaps, ...gap, seconds };
    this.warn(
      gaps === 1
        ? { reason: 'terminalPacketsLost', ...facts, text: `lost ${lost} terminal packet(s) from ${port} (${where})` }
        : {
            reason: 'terminalPacketsLostRepeatedly',
            ...facts,
            text:
              `lost ${lost} terminal packets from ${port} in ${gaps} gaps within ${seconds} s (latest: ${where}); ` +
              'the link to the board is losing data',
          },
    );
  }
}
