import http from 'node:http';
import { InstrumentError, redactUrl } from '../common/errors';
import { httpJson } from '../common/http-json';
import { secondsOf, timeoutSecondsToMs } from '../common/timeout';
import { copyOutcome } from './copy-outcome';
import { MAX_REPLY_TEXT, clipText, textOfHtml } from './reply-text';
import type { HttpJsonResponse } from '../common/http-json';
import { normaliseReply } from './normalise';
import type { Reply, Result } from './normalise';
import { DEFAULT_TIMEOUT_MS, OPERATIONS, findRoute, otherMethod } from './routes';
import type { BrokerKind, HttpMethod, RouteSpec } from './routes';
import { sharedQueue, type SerialQueue } from '../common/serial-queue';
import { isPlainObject, validateParams } from './validate';
import type { Params } from './validate';

export interface SfdaqClientOptions {
  /** Fast broker, e.g. http://sf-daq:10002. */
  fastUrl: string;
  /** Slow broker; default: the fast broker's host with port + 1. */
  slowUrl?: string;
  /** Per-call timeout in ms (default 10 s; take_pedestal gets at least its own minimum), counted from when the call is queued. */
  timeoutMs?: number;
  /** Which method to try first where the documented and current broker differ (a 405 switches anyway). */
  prefer?: 'current' | 'documented';
}

export interface CallOptions {
  /** Confirmation for irreversible routes: must equal the pgroup for close_pgroup_writing. */
  confirm?: unknown;
  /** Overrides the client's timeout for this call; it counts from when the call is queued. */
  timeoutMs?: number;
  /** The call waits behind `ahead` others for its broker (called only when it has to wait). */
  onQueued?: (ahead: number) => void;
  /** The call's turn came: its request goes out now. */
  onSending?: () => void;
}

export interface CallResult {
  operation: string;
  broker: BrokerKind;
  method: HttpMethod;
  url: string;
  /** The reply normalised to one shape for documented and current brokers. */
  result: Result;
  /** The reply as the broker sent it. */
  raw: Reply;
}

/** The slow broker usually listens on the fast broker's port + 1. */
export function defaultSlowUrl(fastUrl: string): string {
  const url = new URL(fastUrl);
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  url.port = String(port + 1);
  return url.href.replace(/\/+$/, '');
}

/** One queue per broker address in this process, shared by every client. */
function queueFor(url: string): SerialQueue {
  return sharedQueue(`sfdaq ${url}`);
}

/** A call's time: its timeout, and when it ends counted from when it was queued. */
interface Budget {
  deadline: number;
  timeoutMs: number;
}

/**
 * Client of the two sf-daq brokers. One call at a time per broker (queued), JSON bodies with
 * Content-Type application/json on every method, no X-Forwarded-For (the broker would take the
 * beamline from it), 405 answered by one retry with the other method, which is then remembered.
 */
export class SfdaqClient {
  /** The broker addresses for messages and msgs: any password in them left out. */
  readonly fastUrl: string;
  readonly slowUrl: string;
  readonly timeoutMs: number;
  /** The addresses requests go to, credentials included. */
  private readonly requestUrls: Record<BrokerKind, string>;
  private readonly waiting: Record<BrokerKind, number> = { fast: 0, slow: 0 };
  private readonly prefer: 'current' | 'documented';
  private readonly queues: Record<BrokerKind, SerialQueue>;
  private readonly methods = new Map<string, HttpMethod>();
  // The broker answers HTTP/1.0 and closes every connection: keep-alive would only hold dead sockets.
  private readonly agent = new http.Agent({ keepAlive: false });
  private closed = false;

  constructor(options: SfdaqClientOptions) {
    const fast = SfdaqClient.checkUrl(options.fastUrl, 'fast');
    const slow = SfdaqClient.checkUrl(options.slowUrl && options.slowUrl.trim() !== '' ? options.slowUrl : defaultSlowUrl(fast), 'slow');
    this.requestUrls = { fast, slow };
    this.fastUrl = redactUrl(fast);
    this.slowUrl = redactUrl(slow);
    this.timeoutMs = SfdaqClient.checkTimeout(options.timeoutMs);
    this.prefer = options.prefer ?? 'current';
    this.queues = { fast: queueFor(fast), slow: queueFor(slow) };
  }

  /** Node's timers overflow past about 24.8 days and then fire at once: refuse such a timeout here, in the shared range. */
  private static checkTimeout(timeoutMs: number | undefined, property = 'the broker timeout'): number {
    if (timeoutMs === undefined) return DEFAULT_TIMEOUT_MS;
    return timeoutSecondsToMs(timeoutMs / 1000, property) ?? DEFAULT_TIMEOUT_MS;
  }

  private static checkUrl(value: string, broker: BrokerKind): string {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      const shown = redactUrl(value);
      throw new InstrumentError('BAD_INPUT', `the ${broker} broker URL "${shown}" is not a URL; use e.g. http://sf-daq:10002`, {
        reason: 'sfdaqBadUrl',
        broker,
        url: shown,
      });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new InstrumentError('BAD_INPUT', `the ${broker} broker URL must start with http:// or https://`, { reason: 'sfdaqUrlScheme', broker });
    }
    return url.href.replace(/\/+$/, '');
  }

  /** Calls waiting or running on a broker (through any client of this process). */
  pending(broker: BrokerKind): number {
    return this.queues[broker].length;
  }

  /** Calls of this client waiting for their turn on a broker, not yet sent. */
  queued(broker: BrokerKind): number {
    return this.waiting[broker];
  }

  /** The method this client will use first for an operation (after any 405 it learned from). */
  private methodFor(route: RouteSpec): HttpMethod {
    return (
      this.methods.get(route.operation) ?? (this.prefer === 'documented' ? (route.documentedMethod ?? route.currentMethod) : route.currentMethod)
    );
  }

  async call(operation: string, params: Params = {}, options: CallOptions = {}): Promise<CallResult> {
    const route = findRoute(operation);
    if (!route) {
      const list = OPERATIONS.join(', ');
      throw new InstrumentError('BAD_INPUT', `unknown sf-daq operation "${operation}"; use one of ${list}`, {
        reason: 'sfdaqUnknownOperation',
        operation,
        list,
      });
    }
    if (!isPlainObject(params)) {
      throw new InstrumentError('BAD_INPUT', `parameters for ${operation} must be an object`, { reason: 'sfdaqParamsNotObject', operation });
    }
    const body = validateParams(route, params, options.confirm);
    const timeoutMs =
      options.timeoutMs !== undefined
        ? SfdaqClient.checkTimeout(options.timeoutMs, 'the call timeout')
        : Math.max(this.timeoutMs, route.minTimeoutMs ?? 0);
    if (this.closed)
      throw new InstrumentError('CLOSED', `the sf-daq client is closed; ${operation} was not sent`, { reason: 'sfdaqClientClosed', operation });
    return this.inTurn(route, timeoutMs, options, (deadline) => this.exchange(route, body, { deadline, timeoutMs }));
  }

  /**
   * Run `work` when the broker is free, with the call's timeout counted from now: a call that waits
   * its whole timeout in the queue fails then, unsent, and its turn is skipped.
   */
  private inTurn<T>(route: RouteSpec, timeoutMs: number, options: CallOptions, work: (deadline: number) => Promise<T>): Promise<T> {
    const queue = this.queues[route.broker];
    const deadline = Date.now() + timeoutMs;
    const ahead = queue.length;
    let state: 'queued' | 'sent' | 'expired' = 'queued';
    this.waiting[route.broker] += 1;
    const leaveQueue = (next: 'sent' | 'expired'): void => {
      state = next;
      this.waiting[route.broker] -= 1;
    };
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        if (state !== 'queued') return;
        leaveQueue('expired');
        reject(
          new InstrumentError(
            'TIMEOUT',
            `${route.operation} was not sent: it waited its whole timeout (${secondsOf(timeoutMs)} s) ` +
              `for the ${route.broker} broker, busy with earlier calls`,
            { reason: 'queuedTooLong', operation: route.operation, broker: route.broker, timeoutSeconds: secondsOf(timeoutMs) },
          ),
        );
      }, timeoutMs);
    });
    if (ahead > 0) options.onQueued?.(ahead);
    const turn = queue.run(async () => {
      if (state !== 'queued') return undefined as never;
      leaveQueue('sent');
      clearTimeout(timer);
      options.onSending?.();
      return work(deadline);
    });
    // The expired branch may have settled the call already; the turn then ends unseen.
    turn.catch(() => undefined);
    return Promise.race([turn, expired]).finally(() => clearTimeout(timer));
  }

  close(): void {
    this.closed = true;
    this.agent.destroy();
  }

  private async exchange(route: RouteSpec, body: Params, budget: Budget): Promise<CallResult> {
    if (this.closed) {
      throw new InstrumentError('CLOSED', `the sf-daq client closed before ${route.operation} was sent`, {
        reason: 'sfdaqClosedBeforeSend',
        operation: route.operation,
      });
    }
    let method = this.methodFor(route);
    let response = await this.send(route, method, body, budget);
    if (response.status === 405) {
      method = otherMethod(method);
      response = await this.send(route, method, body, budget);
      if (response.status !== 405) this.methods.set(route.operation, method);
    }
    return { ...this.interpret(route, response, body), method };
  }

  /** The address shown in messages and msgs (no password). */
  private url(route: RouteSpec): string {
    return `${route.broker === 'fast' ? this.fastUrl : this.slowUrl}/${route.operation}`;
  }

  private async send(route: RouteSpec, method: HttpMethod, body: Params, budget: Budget): Promise<HttpJsonResponse> {
    const hasBody = route.params.length > 0 || Object.keys(body).length > 0;
    const timeoutMs = budget.deadline - Date.now();
    const noReply = (): InstrumentError =>
      new InstrumentError(
        'TIMEOUT',
        `${route.operation}: no reply from the ${route.broker} broker at ${this.url(route)} within ${secondsOf(budget.timeoutMs)} s`,
        { reason: 'noReply', operation: route.operation, broker: route.broker, url: this.url(route), timeoutSeconds: secondsOf(budget.timeoutMs) },
      );
    if (timeoutMs < 1) throw noReply();
    try {
      return await httpJson({
        method,
        url: `${this.requestUrls[route.broker]}/${route.operation}`,
        body: hasBody ? body : undefined,
        timeoutMs,
        agent: this.agent,
        label: `sf-daq ${route.operation} (${method} ${this.url(route)})`,
      });
    } catch (err) {
      if (err instanceof InstrumentError && err.code === 'TIMEOUT') throw noReply();
      throw err;
    }
  }

  private interpret(route: RouteSpec, response: HttpJsonResponse, request: Params): Omit<CallResult, 'method'> {
    const url = this.url(route);
    const op = route.operation;
    const facts = { operation: op, url, httpStatus: response.status };
    if (response.status === 404) {
      const onlyCurrent = route.documentedMethod === null;
      throw new InstrumentError(
        'HTTP_STATUS',
        `${op}: the ${route.broker} broker at ${url} has no such route (HTTP 404)` +
          `${onlyCurrent ? ' (this operation exists only on current broker versions)' : ''}; check the ${route.broker} broker URL`,
        { ...facts, reason: onlyCurrent ? 'sfdaqNoRouteCurrentOnly' : 'sfdaqNoRoute', broker: route.broker },
      );
    }
    if (response.status === 405) {
      const allow = String(response.headers.allow ?? '?');
      throw new InstrumentError(
        'HTTP_STATUS',
        `${op}: the broker refused both GET and POST (HTTP 405, Allow: ${allow}); is ${url} an sf-daq broker?`,
        { ...facts, allow, reason: 'sfdaqMethodsRefused' },
      );
    }
    if (response.status === 413)
      throw new InstrumentError('TOO_LARGE', `${op}: the broker refused the request body as too large (HTTP 413)`, {
        ...facts,
        reason: 'sfdaqBodyTooLarge',
      });
    if (response.status !== 200)
      throw new InstrumentError('HTTP_STATUS', `${op}: HTTP ${response.status} from ${url}: ${textOfHtml(response.text)}`, {
        ...facts,
        reason: 'sfdaqHttpStatus',
        text: textOfHtml(response.text),
      });
    if (!isPlainObject(response.json))
      throw new InstrumentError('PROTOCOL', `${op}: the reply from ${url} is not a JSON object: ${textOfHtml(response.text, MAX_REPLY_TEXT)}`, {
        ...facts,
        reason: 'sfdaqNotAnObject',
        text: textOfHtml(response.text, MAX_REPLY_TEXT),
      });
    const raw = response.json;
    const status = raw.status;
    // Some files copied, some not: one outcome whichever broker generation answered (see copyOutcome).
    const partialCopy = route.partialResults ? copyOutcome(raw) : undefined;
    if (partialCopy) {
      const result = normaliseReply(op, raw, request);
      throw new InstrumentError('REMOTE', `${op} failed for ${partialCopy.failed} of ${partialCopy.total} file(s): ${partialCopy.summary}`, {
        ...facts,
        reason: 'filesNotCopied',
        failedCount: partialCopy.failed,
        copiedCount: partialCopy.total - partialCopy.failed,
        total: partialCopy.total,
        firstFailed: partialCopy.firstFailed,
        result,
        reply: raw,
      });
    }
    // The documented broker omits status on its list replies; any status but "ok" is a failure.
    if (status !== undefined && status !== 'ok') {
      const message = clipText(typeof raw.message === 'string' ? raw.message : typeof status === 'string' ? status : JSON.stringify(status));
      const exception = typeof raw.exception === 'string' ? clipText(raw.exception, 100) : undefined;
      throw new InstrumentError('REMOTE', `${op} failed: ${message}${exception ? ` (${exception})` : ''}`, {
        ...facts,
        reason: exception ? 'sfdaqFailedWith' : 'sfdaqFailed',
        status: clipText(String(status), 100),
        message,
        exception,
        result: route.partialResults ? normaliseReply(op, raw, request) : undefined,
        reply: raw,
      });
    }
    return { operation: op, broker: route.broker, url, result: normaliseReply(op, raw, request), raw };
  }
}
