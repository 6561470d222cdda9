import { InstrumentError, errorMessage, type ErrorCode } from '../common/errors';

/**
 * The kinds of serial load failure, grouped by the package's error code, with the BlocklyProp
 * Launcher's error id for the same failure so the load node reports both transports alike. A kind
 * also names the propeller-serial node's status (propeller-serial.status.reason.<kind>).
 */
const KINDS_BY_CODE = {
  TIMEOUT: { noPropeller: 104, communicationLost: 128, loadTimeout: 128 },
  PROTOCOL: { wrongVersion: 124 },
  REMOTE: { ramChecksum: 125, eepromProgram: 127, eepromVerify: 127 },
  CONNECT_FAILED: { resetFailed: 199, portNotFound: 130, portBusy: 117, portOpenFailed: 117 },
  CLOSED: { portClosed: 128 },
} as const satisfies Partial<Record<ErrorCode, Record<string, number>>>;

type ByCode = typeof KINDS_BY_CODE;
export type SerialFailureKind = { [C in keyof ByCode]: keyof ByCode[C] }[keyof ByCode];

/**
 * Every sentence a serial failure is said in, as its catalog reason (labwire.errors.<reason>), with
 * its kind. A kind has several when its English message varies by more than a value: German needs
 * a sentence of its own for "no answer at all" and for "bytes that are not the answer".
 */
const REASONS = {
  serialNoPropellerSilent: 'noPropeller',
  serialNoPropellerGarbled: 'noPropeller',
  serialWrongVersion: 'wrongVersion',
  serialRamChecksum: 'ramChecksum',
  serialEepromProgram: 'eepromProgram',
  serialEepromVerify: 'eepromVerify',
  serialRamAckGarbled: 'communicationLost',
  serialRamAckMissing: 'communicationLost',
  serialProgramAckGarbled: 'communicationLost',
  serialProgramAckMissing: 'communicationLost',
  serialVerifyAckGarbled: 'communicationLost',
  serialVerifyAckMissing: 'communicationLost',
  serialLoadTimeout: 'loadTimeout',
  serialResetFailed: 'resetFailed',
  serialPortNotFound: 'portNotFound',
  serialPortBusy: 'portBusy',
  serialPortNoPermission: 'portOpenFailed',
  serialPortOpenFailed: 'portOpenFailed',
  serialPortLost: 'portClosed',
  serialPortLostQuietly: 'portClosed',
  serialPortClosed: 'portClosed',
  serialPortNotOpen: 'portClosed',
  serialClosedDuringLoad: 'portClosed',
  serialClosedWrite: 'portClosed',
  serialClosedDrain: 'portClosed',
  serialClosedSignals: 'portClosed',
  serialClosedFlush: 'portClosed',
  serialClosedBaud: 'portClosed',
} as const satisfies Record<string, SerialFailureKind>;

export type SerialReason = keyof typeof REASONS;

const KINDS = new Map<string, { errorId: number; code: ErrorCode }>();
for (const code of Object.keys(KINDS_BY_CODE) as (keyof ByCode)[]) {
  for (const [kind, errorId] of Object.entries(KINDS_BY_CODE[code])) KINDS.set(kind, { errorId, code });
}

/** The details are every variable part of `message`: the catalog sentence of `reason` names them. */
export function serialError(reason: SerialReason, message: string, details: Record<string, string | number>, cause?: unknown): InstrumentError {
  const { errorId, code } = KINDS.get(REASONS[reason])!;
  return new InstrumentError(code, message, { reason, errorId, ...details }, cause === undefined ? undefined : { cause });
}

export function failureOf(err: unknown): { kind: SerialFailureKind; errorId: number } | undefined {
  if (!(err instanceof InstrumentError)) return undefined;
  const reason = err.details.reason;
  if (typeof reason !== 'string' || !Object.hasOwn(REASONS, reason)) return undefined;
  const kind = REASONS[reason as SerialReason];
  return { kind, errorId: KINDS.get(kind)!.errorId };
}

/** serialport's open errors are sentences from the binding; turn them into what to do. */
export function describeOpenError(path: string, err: unknown): InstrumentError {
  const text = errorMessage(err);
  if (/no such file|ENOENT/i.test(text)) {
    return serialError(
      'serialPortNotFound',
      `serial port ${path} does not exist; check the cable and the port path (e.g. /dev/ttyUSB0 or COM3)`,
      { port: path },
      err,
    );
  }
  if (/lock|busy|EBUSY|temporarily unavailable/i.test(text)) {
    return serialError(
      'serialPortBusy',
      `serial port ${path} is in use by another program or another propeller-serial node; close that first`,
      { port: path },
      err,
    );
  }
  if (/permission|EACCES/i.test(text)) {
    return serialError(
      'serialPortNoPermission',
      `no permission to open serial port ${path}; add the Node-RED user to the dialout group`,
      { port: path },
      err,
    );
  }
  // The binding's own text is the cause: the catalog says it through __cause__.
  return serialError('serialPortOpenFailed', `could not open serial port ${path}: ${text}`, { port: path }, err);
}
