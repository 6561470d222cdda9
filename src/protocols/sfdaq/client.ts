import http from 'node:http';
import { InstrumentError } from '../common/errors';
import { httpJson } from '../common/http-json';
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
  /** Per-call timeout in ms (default 10 s; take_pedestal gets at least its own minimum). */
  timeoutMs?: number;
  /** Which method to try first where the documented and current broker differ (a 405 switches anyway). */
  prefer?: 'current' | 'documented';
}

export interface CallOptions {
  /** Confirmation for irreversible routes: must equal the pgroup for close_pgroup_writing. */
  confirm?: unknown;
  /** Overrides the client's timeout for this call. */
  timeoutMs?: number;
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

function stripHtml(text: string): string {
  return text
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 160);
}

/**
 * Client of the two sf-daq brokers. One call at a time per broker (queued), JSON bodies with
 * Content-Type application/json on every method, no X-Forwarded-For (the broker would take the
 * beamline from it), 405 answered by one retry with the other method, which is then remembered.
 */
export class SfdaqClient {
  readonly fastUrl: string;
  readonly slowUrl: string;
  readonly timeoutMs: number;
  private readonly prefer: 'current' | 'documented';
  private readonly queues: Record<BrokerKind, SerialQueue>;
  private readonly methods = new Map<string, HttpMethod>();
  // The broker answers HTTP/1.0 and closes every connection: keep-alive would only hold dead sockets.
  private readonly agent = new http.Agent({ keepAlive: false });
  private closed = false;

  constructor(options: SfdaqClientOptions) {
    this.fastUrl = SfdaqClient.checkUrl(options.fastUrl, 'fast broker URL');
    this.slowUrl = SfdaqClient.checkUrl(
      options.slowUrl && options.slowUrl.trim() !== '' ? options.slowUrl : defaultSlowUrl(this.fastUrl),
      'slow broker URL',
    );
    this.timeoutMs = options.timeoutMs !== undefined && options.timeoutMs > 0 ? options.timeoutMs : DEFAULT_TIMEOUT_MS;
    this.prefer = options.prefer ?? 'current';
    this.queues = { fast: queueFor(this.fastUrl), slow: queueFor(this.slowUrl) };
  }

  private static checkUrl(value: string, what: string): string {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new InstrumentError('BAD_INPUT', `the ${what} "${value}" is not a URL; use e.g. http://sf-daq:10002`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new InstrumentError('BAD_INPUT', `the ${what} must start with http:// or https://`);
    return url.href.replace(/\/+$/, '');
  }

  /** Calls waiting or running on a broker. */
  pending(broker: BrokerKind): number {
    return this.queues[broker].length;
  }

  /** The method this client will use first for an operation (after any 405 it learned from). */
  private methodFor(route: RouteSpec): HttpMethod {
    return (
      this.methods.get(route.operation) ?? (this.prefer === 'documented' ? (route.documentedMethod ?? route.currentMethod) : route.currentMethod)
    );
  }

  async call(operation: string, params: Params = {}, options: CallOptions = {}): Promise<CallResult> {
    const route = findRoute(operation);
    if (!route) throw new InstrumentError('BAD_INPUT', `unknown sf-daq operation "${operation}"; use one of ${OPERATIONS.join(', ')}`);
    if (!isPlainObject(params)) throw new InstrumentError('BAD_INPUT', `parameters for ${operation} must be an object`);
    const body = validateParams(route, params, options.confirm);
    const timeoutMs = options.timeoutMs ?? Math.max(this.timeoutMs, route.minTimeoutMs ?? 0);
    if (this.closed) throw new InstrumentError('CLOSED', `the sf-daq client is closed; ${operation} was not sent`);
    return this.queues[route.broker].run(() => this.exchange(route, body, timeoutMs));
  }

  close(): void {
    this.closed = true;
    this.agent.destroy();
  }

  private async exchange(route: RouteSpec, body: Params, timeoutMs: number): Promise<CallResult> {
    if (this.closed) throw new InstrumentError('CLOSED', `the sf-daq client closed before ${route.operation} was sent`);
    let method = this.methodFor(route);
    let response = await this.send(route, method, body, timeoutMs);
    if (response.status === 405) {
      method = otherMethod(method);
      response = await this.send(route, method, body, timeoutMs);
      if (response.status !== 405) this.methods.set(route.operation, method);
    }
    return { ...this.interpret(route, response), method };
  }

  private url(route: RouteSpec): string {
    return `${route.broker === 'fast' ? this.fastUrl : this.slowUrl}/${route.operation}`;
  }

  private send(route: RouteSpec, method: HttpMethod, body: Params, timeoutMs: number): Promise<HttpJsonResponse> {
    const hasBody = route.params.length > 0 || Object.keys(body).length > 0;
    return httpJson({
      method,
      url: this.url(route),
      body: hasBody ? body : undefined,
      timeoutMs,
      agent: this.agent,
      label: `sf-daq ${route.operation} (${method} ${this.url(route)})`,
    });
  }

  private interpret(route: RouteSpec, response: HttpJsonResponse): Omit<CallResult, 'method'> {
    const url = this.url(route);
    const op = route.operation;
    const facts = { operation: op, url, httpStatus: response.status };
    if (response.status === 404) {
      const onlyCurrent = route.documentedMethod === null;
      throw new InstrumentError(
        'HTTP_STATUS',
        `${op}: the ${route.broker} broker at ${url} has no such route (HTTP 404)${onlyCurrent ? ' (this operation exists only on current broker versions)' : ''}; check the ${route.broker} broker URL`,
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
      throw new InstrumentError('HTTP_STATUS', `${op}: HTTP ${response.status} from ${url}: ${stripHtml(response.text)}`, {
        ...facts,
        reason: 'sfdaqHttpStatus',
        text: stripHtml(response.text),
      });
    if (!isPlainObject(response.json))
      throw new InstrumentError('PROTOCOL', `${op}: the reply from ${url} is not a JSON object: ${stripHtml(response.text)}`, {
        ...facts,
        reason: 'sfdaqNotAnObject',
        text: stripHtml(response.text),
      });
    const raw = response.json;
    const status = raw.status;
    // The documented broker omits status on its list replies; any status but "ok" is a failure.
    if (status !== undefined && status !== 'ok') {
      const message = typeof raw.message === 'string' ? raw.message : String(status);
      const exception = typeof raw.exception === 'string' ? raw.exception : undefined;
      throw new InstrumentError('REMOTE', `${op} failed: ${message}${exception ? ` (${exception})` : ''}`, {
        ...facts,
        reason: exception ? 'sfdaqFailedWith' : 'sfdaqFailed',
        status: String(status),
        message,
        exception,
        result: route.partialResults ? normaliseReply(op, raw) : undefined,
        reply: raw,
      });
    }
    return { operation: op, broker: route.broker, url, result: normaliseReply(op, raw), raw };
  }
}
