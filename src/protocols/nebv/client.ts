import { InstrumentError, errorMessage } from '../common/errors';
import { secondsOf } from '../common/timeout';
import { JsonFramer } from '../common/json-framer';
import { PendingRequests } from '../common/pending-requests';
import { MAX_JSON_DEPTH, previewJson } from '../common/json-limits';
import type { ConnectionState, ConnectionStatus, ReconnectOptions } from '../common/reconnecting-connection';
import { TcpConnection, parseSocketTarget, type SocketTarget } from '../common/tcp-connection';
import { withTimeout } from '../common/timers';
import { assertParams, normalizeMethod } from './params';
import { NebvRpcError } from './rpc-error';
import { isRecord, type JsonRpcReply, type JsonRpcRequest } from './types';

export interface NebvClientOptions extends ReconnectOptions {
  /** A SocketTarget, or text: "host:port", "host:port-portmax" (tried in order) or a Unix socket path. */
  target: SocketTarget | string;
  /** Default time allowed for each call, waiting for the connection included (ms). */
  timeoutMs?: number;
  /** Append "\n" to every request, for servers that read line by line. The spec sends none. */
  newline?: boolean;
  /** Largest reply accepted, in bytes; a larger one resets the connection. */
  maxReplyBytes?: number;
  /** Deepest nesting of a reply accepted; a deeper one resets the connection before it is parsed. */
  maxReplyDepth?: number;
}

export interface CallOptions {
  timeoutMs?: number;
}

export type NebvClientEvents = {
  /** A reply whose id matches no call in flight: late after a timeout, or not ours. */
  unmatched: [unknown];
  /** The reply stream could not be framed (stray bytes, an oversize or cut-off reply); the socket is dropped to resynchronise. */
  streamError: [InstrumentError];
};

/** A short, safe rendering of a reply for a log line (a hostile reply must not break the warning about it). */
export function describeReply(reply: unknown): string {
  return previewJson(reply, 200);
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_REPLY_BYTES = 16 * 1024 * 1024;
const MAX_ID = 2 ** 31 - 1;

/**
 * A neoEBV JSON-RPC client over one persistent socket. Requests are pipelined: any number may be
 * in flight, each with its own timeout, matched to replies by the string form of the id (the spec's
 * own error example echoes a numeric id as a string). Replies carry no delimiter, so the shared
 * JsonFramer finds object boundaries. When the socket dies every call in flight fails at once
 * and the connection comes back with backoff.
 */
export class NebvClient extends TcpConnection<NebvClientEvents> {
  private readonly pending = new PendingRequests<JsonRpcReply>();
  private readonly framer: JsonFramer;
  private readonly timeoutMs: number;
  private readonly newline: boolean;
  private readonly maxReplyBytes: number;
  private nextId = 1;
  /** Requests serialised this tick, written together so a burst costs one syscall. */
  private outbox: string[] = [];
  private outboxIds: number[] = [];
  private flushQueued = false;
  /** One shared wait for the connection, however many calls are waiting on it. */
  private ready: Promise<void> | undefined;
  private waiting = 0;
  /** Why the socket is being dropped, so the calls it takes down say so. */
  private dropReason: InstrumentError | undefined;
  private closedForGood = false;
  /** The last dial failed and no connection has been made since: calls fail at once instead of waiting. */
  private dialFailed = false;
  private previousState: ConnectionState = 'idle';

  constructor(options: NebvClientOptions) {
    const target = typeof options.target === 'string' ? parseSocketTarget(options.target) : options.target;
    super({ ...options, target });
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.newline = options.newline ?? false;
    this.maxReplyBytes = options.maxReplyBytes ?? DEFAULT_MAX_REPLY_BYTES;
    this.framer = new JsonFramer({ maxBytes: this.maxReplyBytes, maxDepth: options.maxReplyDepth ?? MAX_JSON_DEPTH });
    this.on('data', (chunk) => this.onData(chunk));
    // Registered first, so every other status listener (a call waiting to connect) sees the flag updated.
    this.on('status', (status) => this.track(status));
  }

  /** Calls sent and not yet answered, plus calls waiting for the connection. */
  get inFlight(): number {
    return this.pending.size + this.waiting;
  }

  /**
   * Call a pynebv method ("pynebv.FileList.open" or just "FileList.open") with named params.
   * Resolves with `result`; rejects with NebvRpcError for a JSON-RPC error, InstrumentError otherwise.
   */
  async call(method: string, params: Record<string, unknown> = {}, options: CallOptions = {}): Promise<unknown> {
    const name = normalizeMethod(method);
    assertParams(params);
    if (this.closedForGood) throw this.closedError(name);
    const id = this.takeId();
    let text: string;
    try {
      const request: JsonRpcRequest = { jsonrpc: '2.0', method: name, id, params };
      text = JSON.stringify(request) + (this.newline ? '\n' : '');
    } catch (err) {
      const error = errorMessage(err);
      throw new InstrumentError('BAD_INPUT', `${name}: params cannot be sent as JSON (${error})`, {
        reason: 'nebvParamsNotJson',
        method: name,
        error,
      });
    }
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    let replyTimeoutMs = timeoutMs;
    if (!this.isConnected) {
      // Time spent waiting for the connection counts against the call's timeout.
      const started = Date.now();
      await this.waitForConnection(name, timeoutMs);
      replyTimeoutMs = Math.max(1, timeoutMs - (Date.now() - started));
    }
    const describe = `${name} (id ${id}) to ${this.endpoint}`;
    const reply = this.pending.add(id, replyTimeoutMs, describe);
    this.enqueue(id, text);
    let answer: JsonRpcReply;
    try {
      answer = await reply;
    } catch (err) {
      // Name the call's whole timeout, not what was left of it after connecting.
      if (err instanceof InstrumentError && err.code === 'TIMEOUT') throw this.timedOut(describe, timeoutMs, err);
      throw err;
    }
    if (answer.error !== undefined && answer.error !== null) throw new NebvRpcError(name, answer.error);
    if (!('result' in answer)) {
      throw new InstrumentError('PROTOCOL', `${name}: neoEBV replied with neither result nor error`, {
        reason: 'nebvNoResult',
        method: name,
        reply: answer,
      });
    }
    return answer.result;
  }

  /** Stop for good: calls in flight fail, the socket closes, no reconnect. */
  async close(): Promise<void> {
    this.closedForGood = true;
    this.dropReason = new InstrumentError('CLOSED', `the connection to ${this.endpoint} was closed while the call was in flight`, {
      reason: 'nebvClosedInFlight',
      address: this.endpoint,
    });
    await this.stop();
  }

  protected override hangUp(): void {
    super.hangUp();
    this.framer.reset();
    this.outbox = [];
    this.outboxIds = [];
    if (this.pending.size > 0) {
      const count = this.pending.size;
      const reason =
        this.dropReason ??
        new InstrumentError(
          'DISCONNECTED',
          `the connection to ${this.endpoint} closed with ${count} call(s) in flight; they may or may not have run`,
          { reason: 'nebvDroppedInFlight', address: this.endpoint, count },
        );
      this.pending.rejectAll(reason);
    }
    this.dropReason = undefined;
  }

  private takeId(): number {
    const id = this.nextId;
    this.nextId = this.nextId >= MAX_ID ? 1 : this.nextId + 1;
    return id;
  }

  /** Keep track of whether the link is down because a dial failed (fail fast) or because it dropped (wait for the redial). */
  private track(status: ConnectionStatus): void {
    if (status.state === 'connected') this.dialFailed = false;
    else if (status.state === 'reconnecting' && status.retryInMs !== undefined) this.dialFailed = this.previousState !== 'connected';
    else if (status.state === 'closed' || status.state === 'failed') this.dialFailed = true;
    this.previousState = status.state;
  }

  private closedError(method: string): InstrumentError {
    return new InstrumentError('CLOSED', `${method}: the neoEBV client for ${this.endpoint} has been closed`, {
      reason: 'nebvClientClosed',
      method,
      address: this.endpoint,
    });
  }

  /** The call was not sent because there is no connection: its own code, so a flow can branch on it. */
  private notConnected(method: string): InstrumentError {
    if (this.closedForGood) return this.closedError(method);
    const status = this.status;
    // The dial's own error names the address ("127.0.0.1:5000: connection refused …"); say it once.
    const lastError = status.error ?? `no connection to ${this.endpoint}`;
    const retryInSeconds = status.retryInMs !== undefined ? Math.max(1, Math.round(status.retryInMs / 1000)) : undefined;
    const retry = retryInSeconds !== undefined ? `; the next attempt to connect is in ${retryInSeconds} s` : '';
    return new InstrumentError('NOT_CONNECTED', `${method} was not sent, neoEBV is not connected: ${lastError}${retry}`, {
      reason: retryInSeconds === undefined ? 'nebvNotConnected' : 'nebvNotConnectedRetry',
      method,
      lastError,
      retryInSeconds,
    });
  }

  /**
   * Wait for the link before sending. A call fails at once with NOT_CONNECTED when the last dial
   * failed (neoEBV not running) and as soon as the dial under way fails; after a drop (neoEBV
   * restarting, a reset to resynchronise) it waits for the redial, within the call's timeout.
   */
  private async waitForConnection(method: string, timeoutMs: number): Promise<void> {
    if (this.closedForGood || this.dialFailed) throw this.notConnected(method);
    this.ready ??= this.nextLinkOutcome().finally(() => {
      this.ready = undefined;
    });
    this.waiting += 1;
    try {
      await withTimeout(this.ready, timeoutMs, () => {
        const timeoutSeconds = secondsOf(timeoutMs);
        const lastError = this.status.error;
        return lastError
          ? new InstrumentError('TIMEOUT', `${method}: no connection within ${timeoutSeconds} s (last error: ${lastError})`, {
              reason: 'nebvNoConnectionSince',
              method,
              timeoutSeconds,
              lastError,
            })
          : new InstrumentError('TIMEOUT', `${method}: no connection to ${this.endpoint} within ${timeoutSeconds} s`, {
              reason: 'nebvNoConnection',
              method,
              where: this.endpoint,
              timeoutSeconds,
            });
      });
    } catch (err) {
      if (err instanceof InstrumentError && err.code === 'TIMEOUT') throw err;
      if (this.closedForGood) {
        throw new InstrumentError('CLOSED', `${method}: the neoEBV client for ${this.endpoint} was closed while the call waited for the connection`, {
          reason: 'nebvClosedWhileWaiting',
          method,
          address: this.endpoint,
        });
      }
      throw this.notConnected(method);
    } finally {
      this.waiting -= 1;
    }
  }

  /** Resolves when connected; rejects when a dial fails or the client stops. Starts connecting if idle. */
  private nextLinkOutcome(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onStatus = (status: ConnectionStatus): void => {
        if (status.state === 'connected') {
          this.off('status', onStatus);
          resolve();
        } else if (this.dialFailed) {
          this.off('status', onStatus);
          reject(new Error(status.error ?? 'not connected'));
        }
      };
      this.on('status', onStatus);
      this.start();
    });
  }

  /**
   * A call timed out. If a reply was cut off part-way, the stream cannot be trusted: drop it and redial.
   */
  private timedOut(describe: string, timeoutMs: number, err: InstrumentError): InstrumentError {
    const timeoutSeconds = secondsOf(timeoutMs);
    // The call's own limit, not what was left of it after waiting for the connection.
    if (!this.framer.midValue || !this.socket) {
      return new InstrumentError('TIMEOUT', `${describe}: no reply within ${timeoutSeconds} s`, {
        ...err.details,
        reason: 'noReplyWithinSeconds',
        where: describe,
        timeoutSeconds,
      });
    }
    const bytes = this.framer.buffered;
    const reason = new InstrumentError(
      'PROTOCOL',
      `a reply from ${this.endpoint} stopped part-way (${bytes} bytes of an unfinished reply when a call timed out); ` +
        'the connection was reset to resynchronise',
      { reason: 'replyCutOff', address: this.endpoint, bytes },
    );
    this.resynchronise(reason);
    return new InstrumentError(
      'TIMEOUT',
      `${describe}: no reply within ${timeoutSeconds} s; an unfinished reply (${bytes} bytes) was pending, so the connection was reset to resynchronise`,
      { ...err.details, call: describe, timeoutSeconds, reason: 'timeoutReplyCutOff', bytes },
    );
  }

  private enqueue(id: number, text: string): void {
    this.outbox.push(text);
    this.outboxIds.push(id);
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.flushQueued = false;
    if (this.outbox.length === 0) return;
    const text = this.outbox.length === 1 ? this.outbox[0]! : this.outbox.join('');
    const ids = this.outboxIds;
    this.outbox = [];
    this.outboxIds = [];
    try {
      this.write(text);
    } catch (err) {
      const reason = err instanceof InstrumentError ? err : new InstrumentError('DISCONNECTED', errorMessage(err));
      for (const id of ids) this.pending.reject(id, reason);
    }
  }

  private onData(chunk: Buffer): void {
    let texts: string[];
    try {
      texts = this.framer.push(chunk);
    } catch (err) {
      this.breakStream(err);
      return;
    }
    const socket = this.socket;
    for (const text of texts) {
      // After a broken reply the socket is gone: the rest of this chunk cannot be trusted either.
      if (this.socket !== socket) return;
      this.onReply(text);
    }
  }

  private onReply(text: string): void {
    let reply: unknown;
    try {
      reply = JSON.parse(text);
    } catch (err) {
      const error = errorMessage(err);
      const start = text.slice(0, 80);
      this.breakStream(
        new InstrumentError('PROTOCOL', `neoEBV sent a reply that is not valid JSON (${error}): ${start}`, {
          reason: 'nebvReplyNotJson',
          error,
          text: start,
        }),
      );
      return;
    }
    const id = isRecord(reply) ? reply.id : undefined;
    const matched = (typeof id === 'string' || typeof id === 'number') && this.pending.resolve(id, reply as JsonRpcReply);
    if (!matched) (this as NebvClient).emit('unmatched', reply);
  }

  /** The byte stream can no longer be trusted: fail what is in flight with the reason and reconnect. */
  private breakStream(err: unknown): void {
    const tooDeep = err instanceof InstrumentError && err.details.reason === 'tooDeep';
    const reason = tooDeep
      ? new InstrumentError(
          'TOO_LARGE',
          `a reply from ${this.endpoint} is nested more than ${String(err.details.maxDepth)} levels deep; ` +
            'it was refused and the connection was reset',
          { reason: 'streamTooDeep', address: this.endpoint, maxDepth: err.details.maxDepth },
        )
      : err instanceof InstrumentError && err.code === 'TOO_LARGE'
        ? new InstrumentError(
            'TOO_LARGE',
            `a reply from ${this.endpoint} exceeded the ${this.maxReplyBytes}-byte limit; ` +
              `the connection was reset (raise the maximum reply size if such replies are expected)`,
            { reason: 'nebvReplyTooLarge', address: this.endpoint, maxBytes: this.maxReplyBytes },
          )
        : // The cause (a stray byte, a reply that is not JSON) is said in the user's language inside this sentence.
          new InstrumentError(
            'PROTOCOL',
            `the reply stream from ${this.endpoint} broke (${errorMessage(err)}); the connection was reset`,
            { reason: 'nebvStreamBroke', address: this.endpoint },
            { cause: err },
          );
    this.resynchronise(reason);
  }

  /**
   * Drop the connection now and redial: calls in flight fail with `reason`. Marked down at once
   * (not when the socket's close event comes), so a call made in between waits for the redial.
   */
  private resynchronise(reason: InstrumentError): void {
    this.emit('streamError', reason);
    this.dropReason = reason;
    this.lost(reason);
  }
}
