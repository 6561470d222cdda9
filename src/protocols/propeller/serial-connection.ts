import { EventEmitter } from 'node:events';
import { secondsOf } from '../common/timeout';
import { InstrumentError, errorMessage } from '../common/errors';
import { SerialQueue } from '../common/serial-queue';
import type { LoadProgress, LoadRequest, LoadResult, PropellerConnection, TerminalOptions, TerminalSession } from './connection';
import { prepareImage } from './image';
import { failureOf, serialError } from './serial-errors';
import { checkRomBaud, loadOverSerial, type LoaderTiming, type ResetMode, type SerialLoadCommand } from './serial-loader';
import { SerialPortHandle, findSerialPorts, type PortSearch } from './serial-port-handle';
import { SerialTerminalSession } from './serial-terminal';

/** Bytes of program output kept for the first terminal after a load. */
const BACKLOG_LIMIT = 4096;

export interface SerialConnectionOptions {
  path: string;
  /** Download baud rate (115200 is the standard). */
  baudRate: number;
  resetMode: ResetMode;
  timing?: Partial<LoaderTiming>;
  /** Whole-load limit when the request gives none. */
  loadTimeoutMs?: number;
  /** Replaceable for tests: how ports are listed. */
  listPorts?: () => Promise<PortSearch>;
}

export type SerialConnectionState = 'closed' | 'opening' | 'open' | 'loading' | 'error';
export interface SerialConnectionStatus {
  state: SerialConnectionState;
  /** A key of the propeller-serial node's status texts; for 'error' one under status.reason (a failure's kind, "portLost"…). */
  text: string;
}

/**
 * A Propeller straight on a serial port. The port opens on first use and stays open until close():
 * after a load the program keeps running and terminals read it without a reset. Loads are
 * serialised. Events: 'status' (SerialConnectionStatus).
 */
export class SerialPropellerConnection extends EventEmitter implements PropellerConnection {
  readonly kind = 'serial' as const;
  private handle: SerialPortHandle | undefined;
  private opening: Promise<SerialPortHandle> | undefined;
  private readonly sessions = new Set<SerialTerminalSession>();
  private readonly loads = new SerialQueue();
  private activeLoad: AbortController | undefined;
  private closed = false;
  private terminalBaud: number | undefined;
  /** What the program printed after a load while no terminal listened; the first terminal gets it. */
  private backlog: Buffer[] | undefined;
  private backlogBytes = 0;

  constructor(readonly options: SerialConnectionOptions) {
    super();
  }

  get path(): string {
    return this.options.path;
  }

  get isOpen(): boolean {
    return this.handle?.isOpen === true;
  }

  async listPorts(): Promise<string[]> {
    const { ports, failure } = await (this.options.listPorts ?? findSerialPorts)();
    if (failure) throw failure;
    return ports;
  }

  load(request: LoadRequest, onProgress?: (progress: LoadProgress) => void): Promise<LoadResult> {
    let image: Buffer;
    try {
      this.checkPort(request.port);
      checkRomBaud(this.options.baudRate);
      // Refuse a bad image before the port is touched.
      image = prepareImage(request.image, { format: 'binary' }).image;
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.loads.length > 0) onProgress?.({ id: -1, stage: 'queued', text: `Waiting for another load on ${this.path} to finish` });
    return this.loads.run(() => this.runLoad(request, image, onProgress));
  }

  async openTerminal(options: TerminalOptions): Promise<TerminalSession> {
    this.checkPort(options.port);
    if (!Number.isInteger(options.baudrate) || options.baudrate <= 0)
      throw new InstrumentError('BAD_INPUT', `baud rate must be a positive whole number, got ${options.baudrate}`, {
        reason: 'serialBaudInvalid',
        baudrate: String(options.baudrate),
      });
    const handle = await this.ensureOpen();
    this.terminalBaud = options.baudrate;
    if (!this.activeLoad) await handle.setBaudRate(options.baudrate);
    const backlog = this.backlog;
    this.backlog = undefined;
    const session = new SerialTerminalSession(
      this.path,
      { writeTerminal: (data) => this.writeTerminal(data), detach: (s) => this.sessions.delete(s) },
      backlog?.length ? Buffer.concat(backlog) : undefined,
    );
    this.sessions.add(session);
    return session;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.activeLoad?.abort(serialError('serialClosedDuringLoad', `the connection to ${this.path} was closed during the load`, { port: this.path }));
    for (const session of [...this.sessions]) await session.close();
    const handle = this.handle ?? (await this.opening?.catch(() => undefined));
    this.handle = undefined;
    await handle?.close();
    this.setStatus('closed', 'closed');
  }

  private checkPort(port: string | undefined): void {
    if (port && port !== this.path) {
      throw new InstrumentError(
        'BAD_INPUT',
        `this propeller-serial connection drives ${this.path}, not ${port}; leave the port empty or pick a config node for ${port}`,
        { reason: 'serialOtherPort', port, path: this.path },
      );
    }
  }

  private async runLoad(request: LoadRequest, image: Buffer, onProgress?: (progress: LoadProgress) => void): Promise<LoadResult> {
    const started = Date.now();
    const log: LoadProgress[] = [];
    const note = (p: LoadProgress): void => {
      log.push(p);
      onProgress?.(p);
    };
    const abort = new AbortController();
    this.activeLoad = abort;
    const limitMs = request.timeoutMs ?? this.options.loadTimeoutMs ?? 60_000;
    const seconds = secondsOf(limitMs);
    const limit = setTimeout(
      () =>
        abort.abort(serialError('serialLoadTimeout', `the load on ${this.path} did not finish within ${seconds} s`, { port: this.path, seconds })),
      limitMs,
    );
    const result: LoadResult = { success: false, port: this.path, action: request.action, log, durationMs: 0 };
    try {
      const handle = await this.ensureOpen();
      this.setStatus('loading', 'loading');
      await handle.setBaudRate(this.options.baudRate);
      const command: SerialLoadCommand = request.action === 'EEPROM' ? 'eeprom-program-run' : 'ram-run';
      this.backlog = [];
      this.backlogBytes = 0;
      const outcome = await loadOverSerial(handle, image, {
        command,
        resetMode: this.options.resetMode,
        baudRate: this.options.baudRate,
        timing: this.options.timing,
        onProgress: note,
        signal: abort.signal,
      });
      if (outcome.trailing.length > 0) this.deliver(outcome.trailing);
      if (this.terminalBaud !== undefined) await handle.setBaudRate(this.terminalBaud);
      result.success = true;
      this.setStatus('open', 'loaded');
    } catch (err) {
      result.error = errorMessage(err);
      // The error itself, for the load node to say in the runtime's language (not part of msg.payload).
      result.failure = err instanceof Error ? err : new Error(result.error);
      const known = failureOf(err);
      if (known) result.errorId = known.errorId;
      note({ id: known?.errorId ?? 199, stage: 'error', text: result.error });
      this.backlog = undefined;
      this.setStatus('error', known?.kind ?? 'loadFailed');
    } finally {
      clearTimeout(limit);
      this.activeLoad = undefined;
      result.durationMs = Date.now() - started;
    }
    return result;
  }

  private ensureOpen(): Promise<SerialPortHandle> {
    if (this.closed) {
      return Promise.reject(
        new InstrumentError('CLOSED', `the connection to ${this.path} is closed; redeploy the flow`, { reason: 'serialClosed', path: this.path }),
      );
    }
    if (!this.path) {
      return Promise.reject(
        new InstrumentError('BAD_INPUT', 'no serial port path is set: open the propeller-serial node and type one, e.g. /dev/ttyUSB0 or COM3', {
          reason: 'serialNoPath',
        }),
      );
    }
    if (this.handle?.isOpen) return Promise.resolve(this.handle);
    if (this.opening) return this.opening;
    this.setStatus('opening', 'opening');
    const opening = SerialPortHandle.open(this.path, this.options.baudRate).then(
      (handle) => {
        this.opening = undefined;
        if (this.closed) {
          void handle.close();
          throw new InstrumentError('CLOSED', `the connection to ${this.path} was closed while opening`, {
            reason: 'serialClosedWhileOpening',
            path: this.path,
          });
        }
        this.handle = handle;
        handle.on('data', (data: Buffer) => this.deliver(data));
        handle.on('close', (err: Error) => this.portLost(handle, err));
        this.setStatus('open', 'open');
        return handle;
      },
      (err: unknown) => {
        this.opening = undefined;
        const failure = failureOf(err);
        this.setStatus('error', failure?.kind ?? 'openFailed');
        throw err;
      },
    );
    this.opening = opening;
    return opening;
  }

  private deliver(data: Buffer): void {
    if (this.sessions.size > 0) {
      for (const session of this.sessions) session.deliver(data);
    } else if (this.backlog && this.backlogBytes < BACKLOG_LIMIT) {
      const kept = data.subarray(0, BACKLOG_LIMIT - this.backlogBytes);
      this.backlog.push(kept);
      this.backlogBytes += kept.length;
    }
  }

  private portLost(handle: SerialPortHandle, err: Error): void {
    if (this.handle !== handle) return;
    this.handle = undefined;
    this.setStatus('error', 'portLost');
    for (const session of this.sessions) session.deliverError(err);
  }

  private writeTerminal(data: Buffer): void {
    const handle = this.handle;
    if (!handle?.isOpen) {
      throw serialError('serialPortNotOpen', `serial port ${this.path} is not open; load a program or reopen the terminal`, { port: this.path });
    }
    if (this.activeLoad)
      throw new InstrumentError('BAD_INPUT', `a load is running on ${this.path}; wait for it to finish before sending terminal data`, {
        reason: 'serialLoadRunning',
        path: this.path,
      });
    handle.write(data).catch((err: unknown) => {
      // A lost port has already told every session (portLost); other write errors are news.
      if (this.handle !== handle) return;
      for (const session of this.sessions) session.deliverError(err instanceof Error ? err : new Error(String(err)));
    });
  }

  private setStatus(state: SerialConnectionState, text: string): void {
    this.emit('status', { state, text } satisfies SerialConnectionStatus);
  }
}
