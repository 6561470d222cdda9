import { InstrumentError, errorMessage, type ErrorCode } from '../common/errors';

/**
 * Why a serial load failed, with the BlocklyProp Launcher's error id for the same failure so the
 * load node reports both transports alike.
 */
export type SerialFailure =
  | 'no-propeller'
  | 'wrong-version'
  | 'ram-checksum'
  | 'eeprom-program'
  | 'eeprom-verify'
  | 'communication-lost'
  | 'reset-failed'
  | 'port-not-found'
  | 'port-busy'
  | 'port-open-failed'
  | 'port-closed'
  | 'load-timeout';

const FAILURES: Record<SerialFailure, { errorId: number; code: ErrorCode }> = {
  'no-propeller': { errorId: 104, code: 'TIMEOUT' },
  'wrong-version': { errorId: 124, code: 'PROTOCOL' },
  'ram-checksum': { errorId: 125, code: 'REMOTE' },
  'eeprom-program': { errorId: 127, code: 'REMOTE' },
  'eeprom-verify': { errorId: 127, code: 'REMOTE' },
  'communication-lost': { errorId: 128, code: 'TIMEOUT' },
  'reset-failed': { errorId: 199, code: 'CONNECT_FAILED' },
  'port-not-found': { errorId: 130, code: 'CONNECT_FAILED' },
  'port-busy': { errorId: 117, code: 'CONNECT_FAILED' },
  'port-open-failed': { errorId: 117, code: 'CONNECT_FAILED' },
  'port-closed': { errorId: 128, code: 'CLOSED' },
  'load-timeout': { errorId: 128, code: 'TIMEOUT' },
};

export function serialError(reason: SerialFailure, message: string, extra: Record<string, unknown> = {}, cause?: unknown): InstrumentError {
  const { errorId, code } = FAILURES[reason];
  return new InstrumentError(code, message, { reason, errorId, ...extra }, cause === undefined ? undefined : { cause });
}

export function failureOf(err: unknown): { reason: SerialFailure; errorId: number } | undefined {
  if (!(err instanceof InstrumentError)) return undefined;
  const reason = err.details.reason;
  if (typeof reason !== 'string' || !(reason in FAILURES)) return undefined;
  return { reason: reason as SerialFailure, errorId: FAILURES[reason as SerialFailure].errorId };
}

/** serialport's open errors are sentences from the binding; turn them into what to do. */
export function describeOpenError(path: string, err: unknown): InstrumentError {
  const text = errorMessage(err);
  if (/no such file|ENOENT/i.test(text)) {
    return serialError(
      'port-not-found',
      `serial port ${path} does not exist; check the cable and the port path (e.g. /dev/ttyUSB0 or COM3)`,
      { port: path },
      err,
    );
  }
  if (/lock|busy|EBUSY|temporarily unavailable/i.test(text)) {
    return serialError(
      'port-busy',
      `serial port ${path} is in use by another program or another propeller-serial node; close that first`,
      { port: path },
      err,
    );
  }
  if (/permission|EACCES/i.test(text)) {
    return serialError(
      'port-open-failed',
      `no permission to open serial port ${path}; add the Node-RED user to the dialout group`,
      { port: path },
      err,
    );
  }
  return serialError('port-open-failed', `could not open serial port ${path}: ${text}`, { port: path }, err);
}
