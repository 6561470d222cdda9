import { EventEmitter } from 'node:events';
import { Backoff, type BackoffOptions } from './backoff';
import { InstrumentError, errorMessage, failureAt, namesPlace } from './errors';
import { secondsOf } from './timeout';
import { withTimeout } from './timers';

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'failed' | 'closed';

export interface ConnectionStatus {
  state: ConnectionState;
  /** Reconnect attempt number (1-based) while reconnecting. */
  attempt?: number;
  /** Delay before the next attempt while reconnecting. */
  retryInMs?: number;
  /** What went wrong last, in words. */
  error?: string;
  /** The error behind `error`, whose reason and details let a node say it in the user's language. */
  failure?: Error;
}

export interface ReconnectOptions {
  backoff?: BackoffOptions;
  /** Time allowed to open the transport (TCP connect, websocket upgrade). */
  connectTimeoutMs?: number;
  /** Time allowed for the protocol's greeting after the transport is open. */
  handshakeTimeoutMs?: number;
  /** Set false for one-shot connections. */
  reconnect?: boolean;
}

/**
 * A wait for the connection ran out: "not connected to <endpoint> within 2 s", with the last error when
 * there is one. When that error names its place itself ("ws://h:1: connection refused"), the sentence
 * leaves the endpoint to it, so the address is said once. Shared by every transport (MQTT too).
 */
export function notConnectedWithin(endpoint: string, timeoutMs: number, last: ConnectionStatus): InstrumentError {
  const timeoutSeconds = secondsOf(timeoutMs);
  if (!last.error) {
    return new InstrumentError('TIMEOUT', `not connected to ${endpoint} within ${timeoutSeconds} s`, {
      reason: 'notConnectedWithin',
      where: endpoint,
      timeoutSeconds,
    });
  }
  const cause = last.failure ?? new Error(last.error);
  if (namesPlace(cause)) {
    return new InstrumentError(
      'TIMEOUT',
      `not connected within ${timeoutSeconds} s (last error: ${cause.message})`,
      { reason: 'notConnectedWithinLastError', where: endpoint, timeoutSeconds },
      { cause },
    );
  }
  return new InstrumentError(
    'TIMEOUT',
    `not connected to ${endpoint} within ${timeoutSeconds} s (last error: ${cause.message})`,
    { reason: 'notConnectedWithinSince', where: endpoint, timeoutSeconds },
    { cause },
  );
}

export type BaseConnectionEvents = {
  status: [ConnectionStatus];
  connected: [];
  disconnected: [Error | undefined];
};

/**
 * Lifecycle shared by every long-lived instrument connection: dial, optional handshake, and on
 * loss a capped, jittered retry. A fatal error (refused credentials, wrong firmware) stops the loop
 * because retrying it only hammers the instrument. `stop()` leaves no timer or socket behind.
 *
 * Subclasses implement dial/hangUp and call `lost()` when their transport closes.
 */
export abstract class ReconnectingConnection<Extra extends Record<keyof Extra, unknown[]> = Record<never, never>> extends EventEmitter<
  BaseConnectionEvents & Extra
> {
  private current: ConnectionStatus = { state: 'idle' };
  private readonly backoff: Backoff;
  private retryTimer: NodeJS.Timeout | undefined;
  private generation = 0;
  protected readonly reconnectOptions: Required<Omit<ReconnectOptions, 'backoff'>>;

  constructor(options: ReconnectOptions = {}) {
    super();
    this.backoff = new Backoff(options.backoff);
    this.reconnectOptions = {
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
      reconnect: options.reconnect ?? true,
    };
  }

  /** Open the transport. Resolve once it can carry data. */
  protected abstract dial(): Promise<void>;
  /** Destroy the transport now; must not throw, must be safe when nothing is open. */
  protected abstract hangUp(): void;
  /** Protocol greeting after the transport is open (hello, auth). Default: none. */
  protected handshake(): Promise<void> {
    return Promise.resolve();
  }
  /** Short name for messages, e.g. "ws://10.0.0.5:6009". */
  abstract get endpoint(): string;

  get status(): ConnectionStatus {
    return this.current;
  }

  get isConnected(): boolean {
    return this.current.state === 'connected';
  }

  /** Begin connecting (idempotent). */
  start(): void {
    if (this.current.state === 'idle' || this.current.state === 'closed' || this.current.state === 'failed') {
      void this.attempt();
    }
  }

  /** Close for good. Resolves when the transport is down; safe to call twice. */
  async stop(): Promise<void> {
    this.generation += 1;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const wasUp = this.current.state !== 'idle' && this.current.state !== 'closed';
    this.hangUp();
    if (wasUp) this.setStatus({ state: 'closed' });
  }

  /** Resolves when connected; rejects on timeout, fatal failure or stop. Starts the connection if needed. */
  whenConnected(timeoutMs: number): Promise<void> {
    if (this.isConnected) return Promise.resolve();
    if (this.current.state === 'failed') {
      return Promise.reject(this.connectFailed(this.current, 'connection failed'));
    }
    this.start();
    let cleanup = (): void => undefined;
    const waiter = new Promise<void>((resolve, reject) => {
      const onStatus = (status: ConnectionStatus): void => {
        if (status.state === 'connected') {
          cleanup();
          resolve();
        } else if (status.state === 'failed' || status.state === 'closed') {
          cleanup();
          reject(this.connectFailed(status, 'connection closed'));
        }
      };
      cleanup = (): void => {
        (this as EventEmitter).off('status', onStatus);
      };
      (this as EventEmitter).on('status', onStatus);
    });
    return withTimeout(waiter, timeoutMs, () => {
      cleanup();
      return notConnectedWithin(this.endpoint, timeoutMs, this.current);
    });
  }

  /** Why the connection is not up, naming the endpoint once (see failureAt). */
  private connectFailed(status: ConnectionStatus, fallback: string): InstrumentError {
    return failureAt('CONNECT_FAILED', this.endpoint, status.failure ?? new Error(status.error ?? fallback));
  }

  /** Subclasses call this when an open transport closes or errors. */
  protected lost(err?: Error): void {
    if (this.current.state === 'closed' || this.current.state === 'failed') return;
    const wasConnected = this.current.state === 'connected';
    this.hangUp();
    if (wasConnected) this.emitEvent('disconnected', err);
    this.scheduleRetry(err ?? new InstrumentError('DISCONNECTED', 'connection closed', { reason: 'connectionClosed' }));
  }

  /** A failure that retrying cannot fix: report it and stop. */
  protected fail(err: Error): void {
    this.generation += 1;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const wasConnected = this.current.state === 'connected';
    this.hangUp();
    if (wasConnected) this.emitEvent('disconnected', err);
    this.setStatus({ state: 'failed', error: err.message, failure: err });
  }

  protected setStatus(status: ConnectionStatus): void {
    this.current = status;
    this.emitEvent('status', status);
  }

  private emitEvent(name: keyof BaseConnectionEvents, ...args: unknown[]): void {
    (this as EventEmitter).emit(name, ...args);
  }

  private async attempt(): Promise<void> {
    const generation = ++this.generation;
    const first = this.backoff.attempts === 0;
    // Keep the last error visible while retrying, so a timeout can say why the link is down.
    this.setStatus(
      first
        ? { state: 'connecting' }
        : { state: 'reconnecting', attempt: this.backoff.attempts, error: this.current.error, failure: this.current.failure },
    );
    try {
      await withTimeout(
        this.dial(),
        this.reconnectOptions.connectTimeoutMs,
        () =>
          new InstrumentError('TIMEOUT', `connecting to ${this.endpoint} timed out after ${secondsOf(this.reconnectOptions.connectTimeoutMs)} s`, {
            reason: 'connectTimedOut',
            where: this.endpoint,
            timeoutSeconds: secondsOf(this.reconnectOptions.connectTimeoutMs),
          }),
      );
      if (generation !== this.generation) return this.dropStale();
      await withTimeout(
        this.handshake(),
        this.reconnectOptions.handshakeTimeoutMs,
        () =>
          new InstrumentError(
            'TIMEOUT',
            `${this.endpoint} did not complete its handshake within ${secondsOf(this.reconnectOptions.handshakeTimeoutMs)} s`,
            {
              reason: 'handshakeTimedOut',
              where: this.endpoint,
              timeoutSeconds: secondsOf(this.reconnectOptions.handshakeTimeoutMs),
            },
          ),
      );
      if (generation !== this.generation) return this.dropStale();
      this.backoff.reset();
      this.setStatus({ state: 'connected' });
      this.emitEvent('connected');
    } catch (err) {
      if (generation !== this.generation) return;
      if (err instanceof InstrumentError && err.code === 'AUTH_FAILED') {
        this.fail(err);
        return;
      }
      this.hangUp();
      this.scheduleRetry(err instanceof Error ? err : new Error(errorMessage(err)));
    }
  }

  /**
   * stop() (or a fatal failure) landed while dial() was still awaiting something, e.g. an async
   * headers() call: the transport it then opened belongs to nobody, so close it.
   */
  private dropStale(): void {
    if (this.current.state === 'closed' || this.current.state === 'failed') this.hangUp();
  }

  private scheduleRetry(failure: Error): void {
    const error = failure.message;
    if (!this.reconnectOptions.reconnect) {
      this.generation += 1;
      this.setStatus({ state: 'closed', error, failure });
      return;
    }
    clearTimeout(this.retryTimer);
    const retryInMs = this.backoff.next();
    const generation = ++this.generation;
    this.setStatus({ state: 'reconnecting', attempt: this.backoff.attempts, retryInMs, error, failure });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (generation === this.generation) void this.attempt();
    }, retryInMs);
  }
}
