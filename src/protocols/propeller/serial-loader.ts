import { InstrumentError, errorMessage } from '../common/errors';
import { secondsOf } from '../common/timeout';
import { delay } from '../common/timers';
import type { LoadProgress } from './connection';
import { serialError, type SerialReason } from './serial-errors';
import type { LoaderPort } from './serial-port-handle';
import { ReplyInbox } from './serial-reply-inbox';
import {
  HANDSHAKE_REPLY_BYTES,
  ROM_COMMAND,
  TEMPLATE_BYTE,
  checkLoadable,
  commandBytes,
  handshakeBytes,
  judgeHandshakeReply,
  readSingleReply,
  wireMs,
  type RomCommand,
} from './rom-protocol';

export type ResetMode = 'dtr' | 'rts' | 'none';
export const RESET_MODES: readonly ResetMode[] = ['dtr', 'rts', 'none'];
/** RAM and run (1), program EEPROM then stop (2), program EEPROM then run (3). */
export type SerialLoadCommand = 'ram-run' | 'eeprom-program' | 'eeprom-program-run';

const COMMANDS: Record<SerialLoadCommand, RomCommand> = {
  'ram-run': ROM_COMMAND.loadRun,
  'eeprom-program': ROM_COMMAND.programShutdown,
  'eeprom-program-run': ROM_COMMAND.programRun,
};

export interface LoaderTiming {
  /** How long the reset line is held. */
  resetPulseMs: number;
  /** After releasing reset, before the handshake: the chip's ROM starts listening. */
  resetSettleMs: number;
  /** Extra time for the handshake answer beyond its time on the wire. */
  handshakeMs: number;
  /** One acknowledgement poll (a 0xF9 template) this often. */
  pollIntervalMs: number;
  ramCheckMs: number;
  programMs: number;
  verifyMs: number;
}

/**
 * The boot loader runs on RCFAST, which may be anywhere from 8 to 20 MHz. At 8 MHz reading the
 * 32 KB EEPROM back takes about 2 s and writing it longer (up to about 4.5 s), so the limits allow
 * about twice that: a slow chip must not be reported as "communication lost".
 */
export const DEFAULT_LOADER_TIMING: LoaderTiming = {
  resetPulseMs: 10,
  resetSettleMs: 95,
  handshakeMs: 1_000,
  pollIntervalMs: 10,
  ramCheckMs: 10_000,
  programMs: 8_000,
  verifyMs: 4_000,
};

/**
 * Download baud rates the boot loader follows at every RCFAST frequency (8 to 20 MHz): it times the
 * host's pulses with that clock, and outside about 9600 to 115200 baud it does not at every frequency.
 */
export const ROM_BAUD = { min: 9600, max: 115200 } as const;

/** Refuse a download baud rate the boot loader may not follow, before anything is sent. */
export function checkRomBaud(baudRate: number): void {
  if (Number.isFinite(baudRate) && baudRate >= ROM_BAUD.min && baudRate <= ROM_BAUD.max) return;
  throw new InstrumentError(
    'BAD_INPUT',
    `the download baud rate is ${baudRate}, but the Propeller's boot loader only follows ${ROM_BAUD.min} to ${ROM_BAUD.max} baud: ` +
      'set the baud rate of the propeller-serial configuration in that range (115200 is standard; a terminal sets its own baud rate)',
    { reason: 'romBaudOutOfRange', baudRate, min: ROM_BAUD.min, max: ROM_BAUD.max },
  );
}

export interface SerialLoadOptions {
  command: SerialLoadCommand;
  resetMode: ResetMode;
  /** The port's baud rate; sets how long the bytes take on the wire. */
  baudRate: number;
  timing?: Partial<LoaderTiming>;
  onProgress?: (progress: LoadProgress) => void;
  /** Aborting fails the load at its next wait with the signal's reason. */
  signal?: AbortSignal;
}

export interface SerialLoadOutcome {
  version: number;
  /** Bytes sent for command, length and image (the figure of merit beside the image size). */
  wireBytes: number;
  handshakeBytes: number;
  /** What the chip sent after the last acknowledgement (the program's first output), for the terminal. */
  trailing: Buffer;
}

/**
 * Load a validated image through the Propeller 1 ROM boot loader on an open port: reset, handshake
 * with the version check, command + length + longs in one stream, then poll each acknowledgement
 * within its time budget. Throws an InstrumentError whose details carry reason and errorId.
 */
export async function loadOverSerial(port: LoaderPort, image: Buffer, options: SerialLoadOptions): Promise<SerialLoadOutcome> {
  checkRomBaud(options.baudRate);
  checkLoadable(image);
  const timing = { ...DEFAULT_LOADER_TIMING, ...options.timing };
  const progress = (id: number, stage: string, text: string): void => options.onProgress?.({ id, stage, text });
  const inbox = new ReplyInbox();
  const release = port.capture(
    (data) => inbox.push(data),
    (err) => inbox.fail(err),
  );
  const onAbort = (): void => inbox.fail(options.signal?.reason instanceof Error ? options.signal.reason : new Error('the load was aborted'));
  options.signal?.addEventListener('abort', onAbort);
  if (options.signal?.aborted) onAbort();
  try {
    progress(
      0,
      'resetting',
      options.resetMode === 'none'
        ? `Talking to the Propeller on ${port.path} (reset: none)`
        : `Resetting the Propeller on ${port.path} by ${options.resetMode.toUpperCase()}`,
    );
    await resetChip(port, options.resetMode, timing);
    inbox.clear();

    const handshake = handshakeBytes();
    await port.write(handshake);
    const version = await awaitHandshake(port.path, inbox, timing.handshakeMs + wireMs(handshake.length + HANDSHAKE_REPLY_BYTES, options.baudRate));
    progress(0, 'found', `Found Propeller version ${version} on ${port.path}`);
    inbox.clear();

    const payload = commandBytes(COMMANDS[options.command], image);
    progress(2, 'downloading', `Downloading ${image.length} bytes as ${payload.length} wire bytes`);
    const started = Date.now();
    await port.write(payload);
    await port.drain();
    // A real UART's drain waits for the last bit; a pseudo-terminal's does not. Polling before the
    // chip can have read the image would only queue templates behind it.
    await delay(Math.max(0, wireMs(payload.length, options.baudRate) - (Date.now() - started)));

    progress(3, 'verifying-ram', 'Verifying RAM');
    if ((await pollAcknowledgement(port, inbox, timing, timing.ramCheckMs, 'ramChecksum')) === 1) {
      throw serialError(
        'serialRamChecksum',
        `RAM checksum failed: the Propeller on ${port.path} received a different image than was sent ` +
          `(noise on the line, or a wrong baud rate); try again or lower the baud rate`,
        { port: port.path },
      );
    }
    if (options.command !== 'ram-run') {
      progress(12, 'programming-eeprom', 'Programming EEPROM');
      if ((await pollAcknowledgement(port, inbox, timing, timing.programMs, 'eepromProgram')) === 1) {
        throw serialError(
          'serialEepromProgram',
          `EEPROM programming failed on the Propeller at ${port.path}: is an EEPROM fitted and not write-protected?`,
          { port: port.path },
        );
      }
      progress(12, 'verifying-eeprom', 'Verifying EEPROM');
      if ((await pollAcknowledgement(port, inbox, timing, timing.verifyMs, 'eepromVerify')) === 1) {
        throw serialError(
          'serialEepromVerify',
          `EEPROM verify failed on the Propeller at ${port.path}: the EEPROM does not hold what was written; the EEPROM may be faulty or too small`,
          { port: port.path },
        );
      }
    }
    progress(5, 'success', 'Download successful!');
    return { version, wireBytes: payload.length, handshakeBytes: handshake.length, trailing: Buffer.from(inbox.bytes) };
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    release();
  }
}

async function resetChip(port: LoaderPort, mode: ResetMode, timing: LoaderTiming): Promise<void> {
  if (mode !== 'none') {
    try {
      await port.setSignals({ dtr: mode === 'dtr', rts: mode === 'rts' });
      await delay(timing.resetPulseMs);
      await port.setSignals({ dtr: false, rts: false });
    } catch (err) {
      const line = mode.toUpperCase();
      // The port's own failure is the cause: the catalog says it through __cause__.
      throw serialError(
        'serialResetFailed',
        `could not pulse ${line} on ${port.path} to reset the Propeller (${errorMessage(err)}); ` +
          `pseudo-terminals and some adapters have no control lines: ` +
          `set the reset mode to "none" and reset the board another way`,
        { port: port.path, line },
        err,
      );
    }
    await delay(timing.resetSettleMs);
  }
  await port.flushInput();
}

async function awaitHandshake(path: string, inbox: ReplyInbox, ms: number): Promise<number> {
  await inbox.until((bytes) => judgeHandshakeReply(bytes).kind !== 'no-match', ms);
  const verdict = judgeHandshakeReply(inbox.bytes);
  if (verdict.kind === 'ok') return verdict.version;
  if (verdict.kind === 'wrong-version') {
    throw serialError(
      'serialWrongVersion',
      `the chip on ${path} reports version ${verdict.version}; this loader drives a Propeller 1 (version 1). A Propeller 2 needs its own loader`,
      { port: path, version: verdict.version },
    );
  }
  const advice = "check the board's power, the cable, the baud rate and the reset mode";
  const bytes = inbox.bytes.length;
  if (bytes === 0) throw serialError('serialNoPropellerSilent', `no Propeller found on ${path} (no answer at all): ${advice}`, { port: path });
  throw serialError('serialNoPropellerGarbled', `no Propeller found on ${path} (${bytes} bytes that are not the boot loader's answer): ${advice}`, {
    port: path,
    bytes,
  });
}

/**
 * The acknowledgements the loader waits for, as its English messages name them, and the reasons of
 * their failures: German words each step differently ("die RAM-Prüfsumme" / "während der …").
 */
const ACK_STEPS = {
  ramChecksum: { what: 'the RAM checksum', garbled: 'serialRamAckGarbled', missing: 'serialRamAckMissing' },
  eepromProgram: { what: 'EEPROM programming', garbled: 'serialProgramAckGarbled', missing: 'serialProgramAckMissing' },
  eepromVerify: { what: 'EEPROM verification', garbled: 'serialVerifyAckGarbled', missing: 'serialVerifyAckMissing' },
} as const satisfies Record<string, { what: string; garbled: SerialReason; missing: SerialReason }>;
type AckStep = keyof typeof ACK_STEPS;

/**
 * Send a template every pollIntervalMs until the chip answers it (0xFE = 0, 0xFF = 1) or the
 * budget runs out. The chip ignores templates until it has the answer ready.
 */
async function pollAcknowledgement(port: LoaderPort, inbox: ReplyInbox, timing: LoaderTiming, budgetMs: number, step: AckStep): Promise<number> {
  const { what, garbled, missing } = ACK_STEPS[step];
  const deadline = Date.now() + budgetMs;
  const poll = Buffer.from([TEMPLATE_BYTE]);
  while (Date.now() < deadline) {
    await port.write(poll);
    if (await inbox.until((bytes) => bytes.length > 0, Math.min(timing.pollIntervalMs, deadline - Date.now()))) {
      const byte = inbox.shift()!;
      const bit = readSingleReply(byte);
      if (bit === undefined) {
        const answer = `0x${byte.toString(16)}`;
        throw serialError(garbled, `communication lost during ${what} on ${port.path}: the chip answered ${answer} instead of an acknowledgement`, {
          port: port.path,
          answer,
        });
      }
      return bit;
    }
  }
  const seconds = secondsOf(budgetMs);
  throw serialError(missing, `communication lost: the Propeller on ${port.path} did not acknowledge ${what} within ${seconds} s`, {
    port: port.path,
    seconds,
  });
}
