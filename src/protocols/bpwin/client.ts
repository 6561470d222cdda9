import { EventEmitter } from 'node:events';
import type http from 'node:http';
import { InstrumentError, systemErrorCode } from '../common/errors';
import { createKeepAliveAgent, httpJson, type HttpJsonResponse } from '../common/http-json';
import { extractChallenge } from './challenge';

export const DEFAULT_PORT = 8080;
export const DEFAULT_TIMEOUT_MS = 3_000;
export const REFUSED_MESSAGE = 'BPWin refused the passphrase (HTTP 403)';
/** After a refusal, how long until the client asks BPWin once more whether it accepts the passphrase. */
export const DEFAULT_RECHECK_MS = 60_000;
/** A re-check is an /auth and one call: never more often than this, whatever the settings say. */
export const MIN_RECHECK_MS = 1_000;
/**
 * BPWin's replies are a few kilobytes (system-info of 26 sites with 26 sockets each stays under
 * 100 KB). A reply of megabytes is not BPWin's, and turning it into typed msgs for several
 * outputs would hold up every flow: it is refused unread.
 */
export const MAX_REPLY_BYTES = 1024 * 1024;
/** The one call of a re-check: a data endpoint, which BPWin certainly guards with the passphrase. */
const RECHECK_PATH = '/data/machine-name';

export interface BpwinClientOptions {
  host: string;
  port?: number;
  /** Contents of BPWin's C:\BP\Auth.txt; empty or absent = the API is open. */
  passphrase?: string;
  /** Per-request timeout in ms (said in seconds in errors, like every timeout of the package). */
  timeoutMs?: number;
  /** After a refusal, the time between re-checks in ms (default one minute, at least one second). */
  recheckMs?: number;
}

export type BpwinClientEvents = {
  /** A second 403 in a row: the passphrase is wrong. From then on only a slow re-check asks BPWin again. */
  refused: [InstrumentError];
  /** BPWin accepts the passphrase again (a call or a re-check succeeded after a refusal): whatever stopped may resume. */
  authenticated: [];
};

/** Options of one call. */
export interface BpwinCallOptions {
  /** This call's timeout in ms instead of the client's (the /auth a call may need keeps the client's). */
  timeoutMs?: number;
}

/** Header values must be visible ASCII; say so before anything is sent instead of failing inside http. */
const HEADER_SAFE = /^[\x20-\x7e]*$/;

function isStaleSocket(err: unknown): boolean {
  if (!(err instanceof InstrumentError) || err.code !== 'CONNECT_FAILED') return false;
  const code = systemErrorCode(err);
  return code === 'ECONNRESET' || code === 'EPIPE';
}

export function refusedError(): InstrumentError {
  return new InstrumentError('AUTH_FAILED', `${REFUSED_MESSAGE}: check the passphrase in the BPWin server node against C:\\BP\\Auth.txt`, {
    reason: 'bpwinRefused',
    statusCode: 403,
  });
}

/**
 * BPWin's REST API with its challenge handshake: GET /auth once, then send Random-Challenge and
 * Passphrase on every call. When BPWin restarts the challenge goes stale and calls get 403, so
 * one 403 fetches a new challenge and retries once; a second 403 is a wrong passphrase.
 *
 * A wrong passphrase is fixed on the BPWin PC by correcting Auth.txt and restarting BPWin, which
 * nobody tells us about. So after a refusal the client asks again, slowly: every `recheckMs` one
 * fresh /auth and one call, no retry. When BPWin accepts, it says 'authenticated' and everything
 * that stopped on the refusal (event stream, poller) resumes by itself.
 */
export class BpwinClient extends EventEmitter<BpwinClientEvents> {
  readonly baseUrl: string;
  private readonly passphrase: string;
  private readonly timeoutMs: number;
  private readonly agent: http.Agent;
  private challenge: string | undefined;
  private challengeRequest: Promise<string | undefined> | undefined;
  private refused = false;
  private closed = false;
  private readonly recheckMs: number;
  private recheckTimer: NodeJS.Timeout | undefined;

  constructor(options: BpwinClientOptions) {
    super();
    const host = options.host.trim();
    if (host === '') {
      throw new InstrumentError('BAD_INPUT', 'the BPWin host is required (the IP address or name of the PC running BPWin)', {
        reason: 'bpwinHostRequired',
      });
    }
    // A URL or host:port in the host field (a flow written by hand): say what goes where instead of dialling nonsense.
    if (/[\s/]/.test(host) || /^[^:]*:[^:]*$/.test(host) || /^\[.*\]:/.test(host)) {
      throw new InstrumentError(
        'BAD_INPUT',
        `the BPWin host must be only the address of the PC, e.g. 192.168.0.121, not "${host}": the port has its own field`,
        {
          reason: 'bpwinHostOnly',
          host,
        },
      );
    }
    const port = options.port ?? DEFAULT_PORT;
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new InstrumentError('BAD_INPUT', `the BPWin port must be 1-65535 (got ${port})`, { reason: 'bpwinPortRange', port });
    }
    this.passphrase = options.passphrase ?? '';
    if (!HEADER_SAFE.test(this.passphrase)) {
      throw new InstrumentError('BAD_INPUT', 'the passphrase may contain only printable ASCII characters (it is sent as an HTTP header)', {
        reason: 'bpwinPassphraseAscii',
      });
    }
    this.baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    this.timeoutMs = options.timeoutMs && options.timeoutMs > 0 ? options.timeoutMs : DEFAULT_TIMEOUT_MS;
    this.agent = createKeepAliveAgent(false, 4);
    const recheckMs = options.recheckMs ?? DEFAULT_RECHECK_MS;
    this.recheckMs = Number.isFinite(recheckMs) ? Math.max(MIN_RECHECK_MS, recheckMs) : DEFAULT_RECHECK_MS;
  }

  /** The challenge in use (digits as text), for diagnostics; never the passphrase. */
  get currentChallenge(): string | undefined {
    return this.challenge;
  }

  get isRefused(): boolean {
    return this.refused;
  }

  get isOpenApi(): boolean {
    return this.passphrase === '';
  }

  /** Headers for any call or the /ws upgrade, fetching a challenge first if there is none. */
  async authHeaders(): Promise<Record<string, string>> {
    return this.headersFor(await this.ensureChallenge());
  }

  /** Drop the stored challenge (after a 403) so the next call asks /auth again. */
  forgetChallenge(stale?: string): void {
    if (stale === undefined || this.challenge === stale) this.challenge = undefined;
  }

  /** Record a refusal seen elsewhere (the /ws upgrade) so every user hears about it; the slow re-check starts. */
  markRefused(err: InstrumentError = refusedError()): InstrumentError {
    this.refused = true;
    this.emit('refused', err);
    this.scheduleRecheck();
    return err;
  }

  /** GET a path with the challenge headers; resolves with any HTTP status except an auth failure. */
  async get(path: string, options: BpwinCallOptions = {}): Promise<HttpJsonResponse> {
    if (this.closed) throw new InstrumentError('CLOSED', 'the BPWin client has been closed', { reason: 'bpwinClientClosed' });
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    let challenge = await this.ensureChallenge();
    let response = await this.getOnce(path, this.headersFor(challenge), timeoutMs);
    if (response.status === 403) {
      // Stale challenge (BPWin restarted): one new challenge, one retry.
      this.forgetChallenge(challenge);
      challenge = await this.ensureChallenge();
      response = await this.getOnce(path, this.headersFor(challenge), timeoutMs);
      if (response.status === 403) throw this.markRefused();
    }
    this.accepted();
    return response;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.recheckTimer);
    this.recheckTimer = undefined;
    this.agent.destroy();
    this.removeAllListeners();
  }

  private accepted(): void {
    if (!this.refused) return;
    this.refused = false;
    clearTimeout(this.recheckTimer);
    this.recheckTimer = undefined;
    this.emit('authenticated');
  }

  /** One re-check pending at most; a refusal seen while one waits does not move it closer. */
  private scheduleRecheck(): void {
    if (this.closed || this.recheckTimer !== undefined) return;
    this.recheckTimer = setTimeout(() => {
      this.recheckTimer = undefined;
      void this.recheck();
    }, this.recheckMs);
  }

  /** A fresh challenge and one call, no retry: any answer but 403 means BPWin accepts the passphrase again. */
  private async recheck(): Promise<void> {
    if (this.closed || !this.refused) return;
    this.forgetChallenge();
    try {
      const challenge = await this.ensureChallenge();
      const response = await this.getOnce(RECHECK_PATH, this.headersFor(challenge));
      if (response.status !== 403) this.accepted();
    } catch {
      // BPWin is down (restarting, perhaps with a corrected Auth.txt): ask again at the next re-check.
    }
    if (this.refused) this.scheduleRecheck();
  }

  private headersFor(challenge: string | undefined): Record<string, string> {
    const headers: Record<string, string> = { Passphrase: this.passphrase };
    if (challenge !== undefined) headers['Random-Challenge'] = challenge;
    return headers;
  }

  private async getOnce(path: string, headers: Record<string, string>, timeoutMs = this.timeoutMs): Promise<HttpJsonResponse> {
    // A destroyed agent still opens new sockets: a call that was waiting for a challenge when the node closed must stop here.
    const call = (): Promise<HttpJsonResponse> => {
      if (this.closed) return Promise.reject(new InstrumentError('CLOSED', 'the BPWin client has been closed', { reason: 'bpwinClientClosed' }));
      return httpJson({
        method: 'GET',
        url: `${this.baseUrl}${path}`,
        headers,
        timeoutMs,
        maxBytes: MAX_REPLY_BYTES,
        agent: this.agent,
        label: `BPWin GET ${path}`,
      });
    };
    try {
      return await call();
    } catch (err) {
      // A kept-alive socket that BPWin closed (it restarted) fails at once; GET is safe to send again once.
      if (isStaleSocket(err)) return call();
      throw err;
    }
  }

  private ensureChallenge(): Promise<string | undefined> {
    if (this.challenge !== undefined) return Promise.resolve(this.challenge);
    if (!this.challengeRequest) {
      this.challengeRequest = this.fetchChallenge().finally(() => {
        this.challengeRequest = undefined;
      });
    }
    return this.challengeRequest;
  }

  private async fetchChallenge(): Promise<string | undefined> {
    const response = await this.getOnce('/auth', {});
    const challenge = response.status === 200 ? extractChallenge(response.text) : undefined;
    if (challenge === undefined) {
      // An open API (empty Auth.txt) works without a challenge; a protected one cannot.
      if (this.isOpenApi) return undefined;
      const why = response.status === 200 ? 'a reply without a challenge number' : `HTTP ${response.status}`;
      throw new InstrumentError(
        'PROTOCOL',
        `BPWin GET /auth answered with ${why}; is the REST API enabled (C:\\BP\\Auth.txt) and BPWin 8.0.1 or later?`,
        {
          reason: response.status === 200 ? 'bpwinNoChallenge' : 'bpwinAuthHttpStatus',
          statusCode: response.status,
        },
      );
    }
    this.challenge = challenge;
    return challenge;
  }
}
