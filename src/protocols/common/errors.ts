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

/** Node's socket errors carry a code such as ECONNREFUSED; say it in words a user can act on. */
export function describeSocketError(err: unknown): string {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused (is the instrument or simulator running, and is the port right?)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name not found';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    case 'ECONNRESET':
      return 'connection reset by the peer';
    case 'ENOENT':
      return 'socket path does not exist';
    case 'EACCES':
      return 'permission denied';
    case 'ETIMEDOUT':
      return 'connection timed out';
    default:
      return errorMessage(err);
  }
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
