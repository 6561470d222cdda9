/**
 * Errors carry a stable code so node adapters can map them to status texts and message
 * catalogs without parsing English sentences.
 */
export type ErrorCode =
  | 'BAD_INPUT'
  | 'TIMEOUT'
  | 'CONNECT_FAILED'
  /** A call was not sent because the client knows it has no connection (the last dial failed). */
  | 'NOT_CONNECTED'
  | 'DISCONNECTED'
  | 'CLOSED'
  | 'AUTH_FAILED'
  | 'HTTP_STATUS'
  | 'TOO_LARGE'
  | 'PROTOCOL'
  | 'REMOTE';

/**
 * Details that name a catalog reason (`labwire.errors.<reason>`): what a helper that builds errors
 * takes, so every error it makes can be said in the user's language, not only in English.
 */
export type ReasonDetails = { reason: string } & Record<string, unknown>;

export class InstrumentError extends Error {
  readonly code: ErrorCode;
  /** Extra facts for msg.error consumers (never secrets). */
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InstrumentError';
    this.code = code;
    this.details = details;
  }

  /** Node-RED puts err.toString() into msg.error.message: give users the sentence, not the class name. */
  override toString(): string {
    return this.message;
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Node's socket error codes, as a reason key (for the message catalogs) and words a user can act on. */
const SOCKET_FAILURES: Record<string, { reason: string; text: string }> = {
  ECONNREFUSED: { reason: 'connectionRefused', text: 'connection refused (is the instrument or simulator running, and is the port right?)' },
  ENOTFOUND: { reason: 'hostNotFound', text: 'host name not found' },
  EAI_AGAIN: { reason: 'hostNotFound', text: 'host name not found' },
  EHOSTUNREACH: { reason: 'hostUnreachable', text: 'host unreachable' },
  ENETUNREACH: { reason: 'hostUnreachable', text: 'host unreachable' },
  ECONNRESET: { reason: 'connectionReset', text: 'connection reset by the peer' },
  ENOENT: { reason: 'socketPathMissing', text: 'socket path does not exist' },
  EACCES: { reason: 'permissionDenied', text: 'permission denied' },
  ETIMEDOUT: { reason: 'connectionTimedOut', text: 'connection timed out' },
};

/**
 * A socket error as a reason key and words: known codes get both; anything else keeps its own
 * message under the reason "socketError" (detail `error`).
 */
export function socketFailure(err: unknown): { reason: string; text: string; details: Record<string, unknown> } {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
  const known = SOCKET_FAILURES[code];
  if (known) return { ...known, details: {} };
  const text = errorMessage(err);
  return { reason: 'socketError', text, details: { error: text } };
}

/** Node's socket errors carry a code such as ECONNREFUSED; say it in words a user can act on. */
export function describeSocketError(err: unknown): string {
  return socketFailure(err).text;
}

/** A socket error in words, as an error whose reason names the failure (the cause of a socketError). */
export function socketCause(err: unknown): InstrumentError {
  const failure = socketFailure(err);
  return new InstrumentError('CONNECT_FAILED', failure.text, { reason: failure.reason, ...failure.details }, { cause: err });
}

/**
 * "<where>: <socket failure>" (reason "endpointFailed"), with the failure in words as its cause so
 * the catalogs can say both parts in the user's language; `extra` adds facts (url…).
 */
export function socketError(code: ErrorCode, where: string, err: unknown, extra: Record<string, unknown> = {}): InstrumentError {
  const cause = socketCause(err);
  return new InstrumentError(code, `${where}: ${cause.message}`, { ...extra, reason: 'endpointFailed', where }, { cause });
}

/**
 * Whether an error already says where it happened: every error of the connection layers that names
 * an address in its text ("ws://h:1: connection refused", "connecting to ws://h:1 timed out…") carries
 * it as the detail `where`, so a wrapper can tell by the details, not by the words.
 */
export function namesPlace(err: unknown): err is InstrumentError {
  return err instanceof InstrumentError && typeof err.details.where === 'string' && err.details.where !== '';
}

/**
 * A connection's failure as an error that names `where` once: one that already names its place is
 * returned as it is; any other becomes "<where>: <failure>" (reason "endpointFailed", the failure as its cause).
 */
export function failureAt(code: ErrorCode, where: string, failure: Error): InstrumentError {
  if (namesPlace(failure)) return failure;
  return new InstrumentError(code, `${where}: ${failure.message}`, { reason: 'endpointFailed', where }, { cause: failure });
}

/** The operating system's error code (ECONNRESET, EPIPE…) behind an error, looked for along its causes. */
export function systemErrorCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth += 1) {
    if (!(current instanceof InstrumentError) && typeof (current as { code?: unknown }).code === 'string') return (current as { code: string }).code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * A URL for messages: any password in it (http://user:secret@host/) is left out, in a parsed URL or
 * in text that does not parse, so an address typed with credentials never shows them in an error.
 */
export function redactUrl(url: string | URL): string {
  if (typeof url !== 'string') {
    if (url.password === '') return url.href;
    const copy = new URL(url.href);
    copy.password = '';
    return copy.href;
  }
  return url.replace(/(\/\/[^/@:\s]*):[^/@\s]*@/g, '$1@');
}

/** A value as a short phrase for an error message: text quoted (and cut), a number as it is, anything else by its kind. */
export function shownValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 40));
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null) return 'null';
  return Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
