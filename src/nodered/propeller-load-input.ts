import { InstrumentError, shownValue as shown } from '../protocols/common/errors';
import { timeoutSecondsToMs } from '../protocols/common/timeout';
import type { DebugMode, LoadAction } from '../protocols/propeller/connection';
import { msgTimeoutMs } from './properties';
import type { NodeDef, NodeMessage } from './red-types';

export const LOAD_ACTIONS: readonly LoadAction[] = ['RAM', 'EEPROM'];
export const DEBUG_MODES: readonly DebugMode[] = ['none', 'term', 'graph'];
/** The load node's time limit when its field is empty, in seconds (a 32 KB EEPROM load over Wi-Fi can take a minute). */
export const DEFAULT_LOAD_TIMEOUT_S = 120;

/**
 * `value` as one of `allowed` (any case, spaces around it ignored); undefined when not given. Anything
 * else is refused naming `property` and the allowed values: a typo must not fall back silently.
 */
export function choice<T extends string>(value: unknown, allowed: readonly T[], property: string): T | undefined {
  if (value === undefined) return undefined;
  const text = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
  const found = allowed.find((a) => a.toLowerCase() === text);
  if (found !== undefined) return found;
  const list = allowed.map((a) => `"${a}"`).join(', ');
  throw new InstrumentError('BAD_INPUT', `${property} must be one of ${list} (any case), not ${shown(value)}`, {
    reason: 'valueNotAllowed',
    property,
    allowed: list,
    found: shown(value),
  });
}

/** What the node's config says, checked once at deploy. */
export interface LoadSettings {
  action: LoadAction;
  debug: DebugMode;
  /** The "msg.action may choose EEPROM" box: without it a msg can only choose RAM. */
  allowMsgEeprom: boolean;
  timeoutMs: number;
}

/** The node's config as load settings; a value no load can use is refused (`timeoutName` is the field as the user sees it). */
export function loadSettings(def: NodeDef, timeoutName: string): LoadSettings {
  return {
    action: choice(def.action, LOAD_ACTIONS, 'action') ?? 'RAM',
    debug: choice(def.debug, DEBUG_MODES, 'debug') ?? 'none',
    allowMsgEeprom: def.allowMsgEeprom === true,
    timeoutMs: timeoutSecondsToMs(def.timeout, timeoutName) ?? DEFAULT_LOAD_TIMEOUT_S * 1000,
  };
}

/**
 * The action, afterwards-mode and time limit for one msg: msg.action, msg.debug and msg.timeout
 * (a number of seconds) replace the node's when given and valid. Writing the EEPROM cannot be
 * undone, so a msg may choose it only when the node allows that (or stores in EEPROM itself).
 * Everything is checked before a byte is sent.
 */
export function loadChoices(settings: LoadSettings, msg: NodeMessage): Pick<LoadSettings, 'action' | 'debug' | 'timeoutMs'> {
  const action = choice(msg.action, LOAD_ACTIONS, 'msg.action') ?? settings.action;
  const debug = choice(msg.debug, DEBUG_MODES, 'msg.debug') ?? settings.debug;
  // The reader every node shares: a number of seconds, never text (a change node set to string).
  const timeoutMs = msgTimeoutMs(msg) ?? settings.timeoutMs;
  if (action === 'EEPROM' && settings.action !== 'EEPROM' && !settings.allowMsgEeprom) {
    throw new InstrumentError(
      'BAD_INPUT',
      'msg.action asks for EEPROM, but this node stores in RAM and does not let a msg choose EEPROM: nothing was loaded. ' +
        'To allow it, tick "msg.action may choose EEPROM" in the node',
      { reason: 'msgEepromNotAllowed' },
    );
  }
  return { action, debug, timeoutMs };
}
