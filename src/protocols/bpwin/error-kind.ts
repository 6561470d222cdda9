import { InstrumentError } from '../common/errors';

/** A short, translatable name for what went wrong, for node status dots (the full text goes to the error). */
export type ErrorKind = 'refused' | 'unreachable' | 'timeout' | 'http' | 'bad-reply' | 'bpwin' | 'bad-input' | 'closed';

export function errorKind(err: unknown): ErrorKind {
  if (!(err instanceof InstrumentError)) return 'bad-reply';
  switch (err.code) {
    case 'AUTH_FAILED':
      return 'refused';
    case 'CONNECT_FAILED':
    case 'DISCONNECTED':
      return 'unreachable';
    case 'TIMEOUT':
      return 'timeout';
    case 'HTTP_STATUS':
      return 'http';
    case 'REMOTE':
      return 'bpwin';
    case 'BAD_INPUT':
      return 'bad-input';
    case 'CLOSED':
      return 'closed';
    default:
      return 'bad-reply';
  }
}

/** HTTP status of an HTTP_STATUS error, for "HTTP 500" in a status text. */
export function errorStatusCode(err: unknown): number | undefined {
  if (err instanceof InstrumentError && typeof err.details.statusCode === 'number') return err.details.statusCode;
  return undefined;
}
