import { InstrumentError, errorMessage, type ErrorCode } from '../common/errors';

/**
 * Why a serial load can fail, grouped by the package's error code, with the BlocklyProp Launcher's
 * error id for the same failure so the load node reports both transports alike.
 */
const FAILURES_BY_CODE = {
  TIMEOUT: { 'no-propeller': 104, 'communication-lost': 128, 'load-timeout': 128 },
  PROTOCOL: { 'wrong-version': 124 },
  REMOTE: { 'ram-checksum': 125, 'eeprom-program': 127, 'eeprom-verify': 127 },
  CONNECT_FAILED: { 'reset-failed': 199, 'port-not-found': 130, 'port-busy': 117, 'port-open-failed': 117 },
  CLOSED: { 'port-closed': 128 },
} as const satisfies Partial<Record<ErrorCode, Record<string, number>>>;

type ByCode = typeof FAILURES_BY_CODE;
export type SerialFailure = { [C in keyof ByCode]: keyof ByCode[C] }[keyof ByCode];

const FAILURES = new Map<string, { errorId: number; code: ErrorCode }>();
for (const code of Object.keys(FAILURES_BY_CODE) as (keyof ByCode)[]) {
  for (const [reason, errorId] of Object.entries(FAILURES_BY_CODE[code])) FAILURES.set(reason, { errorId, code });
}

export function serialError(reason: SerialFailure, message: string, extra: Record<string, unknown> = {}, cause?: unknown): InstrumentError {
  const { errorId, code } = FAILURES.get(reason)!;
  return new InstrumentError(code, message, { reason, errorId, ...extra }, cause === undefined ? undefined : { cause });
}

export function failureOf(err: unknown): { reason: SerialFailure; errorId: number } | undefined {
  if (!(err instanceof InstrumentError)) return undefined;
  const reason = err.details.reason;
  const failure = typeof reason === 'string' ? FAILURES.get(reason) : undefined;
  return failure && { reason: reason as SerialFailure, errorId: failure.errorId };
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
