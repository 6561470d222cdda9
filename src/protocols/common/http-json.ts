import http from 'node:http';
import { secondsOf } from './timeout';
import https from 'node:https';
import { InstrumentError, redactUrl, socketCause, socketError } from './errors';
import { MAX_JSON_DEPTH, jsonTextTooDeep } from './json-limits';

export interface HttpJsonRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  /** Sent as JSON with Content-Type: application/json, on GET too (Node's fetch refuses that, instrument APIs need it). */
  body?: unknown;
  headers?: Record<string, string>;
  /** Whole-request timeout in ms (connect + reply). */
  timeoutMs?: number;
  /** Largest reply body accepted, in bytes. */
  maxBytes?: number;
  /** Deepest nesting of a JSON reply accepted (a deeper one is refused before it is parsed). */
  maxDepth?: number;
  /** A keep-alive agent; defaults to a shared one per protocol. */
  agent?: http.Agent;
  /** Words that name the request in errors instead of the URL (e.g. to keep a path with a token out of logs). */
  label?: string;
}

export interface HttpJsonResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body as text, for callers that must read numbers JSON.parse would round. */
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
  /** True when the reply said it was JSON (or parsed as JSON). */
  isJson: boolean;
}

export const DEFAULT_MAX_BYTES = 8 * 1024 * 1024;

const sharedAgents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 16 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 16 }),
};

export function createKeepAliveAgent(secure = false, maxSockets = 16): http.Agent {
  return secure ? new https.Agent({ keepAlive: true, maxSockets }) : new http.Agent({ keepAlive: true, maxSockets });
}

/**
 * One HTTP exchange with a JSON instrument API. Non-2xx replies are returned, not thrown:
 * instruments put meaning into 403 and 405. Transport failures, timeouts and oversize
 * replies throw an InstrumentError that names the URL and the reason.
 */
export function httpJson(request: HttpJsonRequest): Promise<HttpJsonResponse> {
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    return Promise.reject(new InstrumentError('BAD_INPUT', `"${request.url}" is not a valid URL`, { reason: 'invalidUrl', url: request.url }));
  }
  const secure = url.protocol === 'https:';
  if (!secure && url.protocol !== 'http:') {
    return Promise.reject(
      new InstrumentError('BAD_INPUT', `${request.url}: only http and https URLs are supported`, { reason: 'httpUrlOnly', url: request.url }),
    );
  }
  const label = request.label ?? `${request.method} ${url.origin}${url.pathname}`;
  // Errors carry the address for msg.error consumers; a password in it stays out.
  const shownUrl = redactUrl(url);
  const payload = request.body === undefined ? undefined : Buffer.from(JSON.stringify(request.body), 'utf8');
  const headers: Record<string, string | number> = { Accept: 'application/json', ...request.headers };
  if (payload) {
    headers['Content-Type'] = 'application/json';
    headers['Content-Length'] = payload.length;
  }
  const maxBytes = request.maxBytes ?? DEFAULT_MAX_BYTES;
  const timeoutMs = request.timeoutMs ?? 10_000;
  const maxDepth = request.maxDepth ?? MAX_JSON_DEPTH;

  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | undefined, value?: HttpJsonResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(value as HttpJsonResponse);
    };
    const transport = secure ? https : http;
    const req = transport.request(url, {
      method: request.method,
      headers,
      agent: request.agent ?? (secure ? sharedAgents.https : sharedAgents.http),
    });
    const timer = setTimeout(() => {
      finish(
        // Seconds, the unit every timeout of the package is given in.
        new InstrumentError('TIMEOUT', `${label}: no reply within ${secondsOf(timeoutMs)} s`, {
          reason: 'noReplyWithinSeconds',
          where: label,
          url: shownUrl,
          timeoutSeconds: secondsOf(timeoutMs),
        }),
      );
      req.destroy();
    }, timeoutMs);
    req.on('error', (err) => finish(socketError('CONNECT_FAILED', label, err, { url: shownUrl })));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          finish(
            new InstrumentError('TOO_LARGE', `${label}: reply larger than ${maxBytes} bytes`, {
              reason: 'replyTooLarge',
              where: label,
              url: shownUrl,
              maxBytes,
            }),
          );
          req.destroy();
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', (err) => {
        const cause = socketCause(err);
        finish(
          new InstrumentError(
            'DISCONNECTED',
            `${label}: reply interrupted (${cause.message})`,
            { reason: 'replyInterrupted', where: label, url: shownUrl },
            { cause },
          ),
        );
      });
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const contentType = String(res.headers['content-type'] ?? '');
        let json: unknown;
        let isJson = false;
        const looksJson = text.trim() !== '' && (contentType.includes('json') || /^\s*[[{]/.test(text));
        if (looksJson && jsonTextTooDeep(text, maxDepth)) {
          finish(
            new InstrumentError('TOO_LARGE', `${label}: the reply is nested more than ${maxDepth} levels deep and was refused`, {
              url: shownUrl,
              reason: 'replyTooDeep',
              where: label,
              maxDepth,
            }),
          );
          return;
        }
        if (looksJson) {
          try {
            json = JSON.parse(text);
            isJson = true;
          } catch {
            json = undefined;
          }
        }
        finish(undefined, { status: res.statusCode ?? 0, headers: res.headers, text, json, isJson });
      });
    });
    if (payload) req.end(payload);
    else req.end();
  });
}
