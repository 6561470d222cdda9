import { InstrumentError, type ReasonDetails } from '../common/errors';
import { LIMITS } from './limits';
import type { JsonObject, MasterState, TestOption } from './types';
import { isObject } from './types';

export type TransportKind = 'websocket' | 'mqtt';

export const WEBSOCKET_COMMANDS = [
  'load',
  'next',
  'unload',
  'reset',
  'usersettings',
  'getresults',
  'getlogs',
  'getlogfile',
  'setloglevel',
  'binMap',
  // Not a command of the master's UI websocket: answered from the state it reports about once a second.
  'get-state',
] as const;
export const MQTT_COMMANDS = ['load', 'next', 'unload', 'reset', 'identify', 'get-state', 'site-layout', 'get-host'] as const;
export type CommandName = (typeof WEBSOCKET_COMMANDS)[number] | (typeof MQTT_COMMANDS)[number];

/** The spec's names (and common spellings) for what the master calls otherwise. */
const ALIASES: Record<string, CommandName> = {
  start: 'next',
  getstate: 'get-state',
  gethost: 'get-host',
  sitelayout: 'site-layout',
  binmap: 'binMap',
};

/**
 * States in which the real master acts on a command; in any other state it only logs and
 * ignores it, so we refuse it up front. Commands not listed are accepted in every state.
 */
export const ALLOWED_STATES: Partial<Record<CommandName, readonly string[]>> = {
  load: ['initialized'],
  next: ['ready'],
  unload: ['ready'],
  reset: ['softerror'],
  usersettings: ['initialized', 'ready'],
};

export interface SiteRequest {
  siteid: string;
  partid?: string;
}

export interface CommandRequest {
  command: string;
  /** load: the lot number, sent as given (the spec shows 123456.123). */
  lotNumber?: unknown;
  /** MQTT next: which sites test which parts. */
  sites?: unknown;
  /** usersettings: the test options to apply. */
  options?: unknown;
  /** setloglevel: 10/20/30/40 or DEBUG/INFO/WARNING/ERROR. */
  level?: unknown;
  sBin?: unknown;
  hBin?: unknown;
  /** site-layout: [[x, y], …] per site. */
  layout?: unknown;
}

export interface PreparedCommand {
  name: CommandName;
  /** What goes on the wire (the transport adds its envelope). */
  body: JsonObject;
  /** For MQTT next: the site ids sent. */
  sites?: string[];
}

function bad(message: string, details: ReasonDetails): InstrumentError {
  return new InstrumentError('BAD_INPUT', message, details);
}

/** How a value a user sent looks in an error: its type, or the number itself (NaN, Infinity). */
function shown(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the text "${value.length > 20 ? `${value.slice(0, 19)}…` : value}"`;
  return typeof value === 'object' || typeof value === 'undefined' ? `an ${typeof value}` : `a ${typeof value}`;
}

/**
 * The command a msg asks for: msg.command when given (it must then be a non-empty text),
 * else the node's setting. A number or object in msg.command is refused, not silently replaced
 * by the setting: the flow meant something else than what would be sent.
 */
export function commandOf(fromMsg: unknown, configured: string): string {
  if (fromMsg === undefined || fromMsg === null || fromMsg === '') return configured;
  if (typeof fromMsg !== 'string' || fromMsg.trim() === '')
    throw bad(`msg.command must be the name of a command as text, e.g. "next"; it is ${shown(fromMsg)}`, {
      reason: 'commandNotText',
      property: 'msg.command',
      found: shown(fromMsg),
    });
  return fromMsg;
}

export function canonicalCommand(command: string, transport: TransportKind): CommandName {
  const trimmed = command.trim();
  const name = (ALIASES[trimmed.toLowerCase()] ?? trimmed) as CommandName;
  const list: readonly string[] = transport === 'mqtt' ? MQTT_COMMANDS : WEBSOCKET_COMMANDS;
  if (!list.includes(name)) {
    const mqtt = transport === 'mqtt';
    throw bad(`"${command}" is not a Semi-ATE ${mqtt ? 'MQTT handler' : 'websocket'} command; use one of ${list.join(', ')}`, {
      reason: mqtt ? 'unknownMqttCommand' : 'unknownWebsocketCommand',
      command,
      list: list.join(', '),
    });
  }
  return name;
}

/** Refuse a command the master would silently ignore in its current state. */
export function checkState(name: CommandName, state: MasterState | undefined): void {
  const allowed = ALLOWED_STATES[name];
  if (!allowed || (state !== undefined && allowed.includes(state))) return;
  throw new InstrumentError(
    'BAD_INPUT',
    `${name} is not possible while the tester is ${state ?? 'unknown'}; the master would ignore it (allowed in: ${allowed.join(', ')})`,
    { reason: 'notAllowedInState', state: state ?? 'unknown', command: name, allowed: allowed.join(', ') },
  );
}

const LOG_LEVELS: Record<string, number> = { debug: 10, info: 20, warning: 30, warn: 30, error: 40 };

function logLevel(value: unknown): number {
  const level = typeof value === 'string' ? (LOG_LEVELS[value.trim().toLowerCase()] ?? Number(value)) : value;
  if (level === 10 || level === 20 || level === 30 || level === 40) return level;
  throw bad('setloglevel needs a level: 10 (debug), 20 (info), 30 (warning) or 40 (error)', { reason: 'badLogLevel' });
}

function bin(value: unknown, what: string): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 0) return n;
  throw bad(`binMap needs ${what} as a whole number ≥ 0`, { reason: 'badBin', what });
}

/** A test option's value: a finite number (or numeric text); absent means none (-1), as does 0 for the master. */
function optionValue(item: JsonObject, index: number): number {
  const given = item.value;
  if (given === undefined || given === null) return -1;
  const n = typeof given === 'string' && given.trim() !== '' ? Number(given) : given;
  if (typeof n !== 'number' || !Number.isFinite(n))
    throw bad(`test option ${index} ("${String(item.name)}") needs a finite number as its value; it is ${shown(given)}`, {
      reason: 'optionValueNotNumber',
      index,
      name: String(item.name),
      found: shown(given),
    });
  return n === 0 ? -1 : n;
}

function optionActive(item: JsonObject, index: number): boolean {
  const given = item.active;
  if (given === undefined || given === false || given === 'false') return false;
  if (given === true || given === 'true') return true;
  throw bad(`test option ${index} ("${String(item.name)}") needs active as true or false; it is ${shown(given)}`, {
    reason: 'optionActiveNotBoolean',
    index,
    name: String(item.name),
    found: shown(given),
  });
}

function testOptions(value: unknown): TestOption[] {
  const list = Array.isArray(value) ? value : isObject(value) && Array.isArray(value.testoptions) ? value.testoptions : undefined;
  if (!list || list.length === 0) throw bad('usersettings needs test options: [{name, active, value}, …]', { reason: 'noTestOptions' });
  if (list.length > 64)
    throw bad(`usersettings takes at most 64 test options; it got ${list.length}`, { reason: 'tooManyOptions', count: list.length, max: 64 });
  return list.map((item: unknown, index: number) => {
    if (!isObject(item) || typeof item.name !== 'string' || item.name === '')
      throw bad('each test option needs a name, e.g. {"name": "stop_on_fail", "active": true, "value": -1}', { reason: 'optionWithoutName' });
    return { name: item.name, active: optionActive(item, index), value: optionValue(item, index) };
  });
}

/** Text a site id cannot hold: it becomes part of MQTT topics (site<N>), where these are wildcards or separators. */
const NOT_IN_SITE_ID = /[\s/+#]/;

/** A site id for next: a whole number ≥ 0 or a short text that can stand in a topic. */
function siteId(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? String(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const id = value.trim();
  // Control characters (below a space) have no place in a topic either.
  const printable = [...id].every((c) => c.charCodeAt(0) >= 0x20);
  return id !== '' && id.length <= 64 && printable && !NOT_IN_SITE_ID.test(id) ? id : undefined;
}

/** A part id for next: text or a finite number, at most 64 characters; absent gives '' (numbered by the client). */
function partId(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = typeof value === 'string' ? value : typeof value === 'number' && Number.isFinite(value) ? String(value) : undefined;
  if (text === undefined || text.length > 64)
    throw bad(`a part id for next must be text or a number of at most 64 characters; it is ${shown(value)}`, {
      reason: 'badPartId',
      found: shown(value),
    });
  return text;
}

/** Sites for an MQTT next: ["0","1"], [0,1], or [{siteid, partid}]; part ids default from `nextPartId`. */
export function nextSites(value: unknown, knownSites: readonly string[], nextPartId: () => string): SiteRequest[] {
  const list = value === undefined || value === null || value === '' ? knownSites : value;
  if (!Array.isArray(list) || list.length === 0)
    throw bad('next over MQTT needs sites, e.g. ["0","1"] or [{"siteid":"0","partid":"17"}], and none are known from the tester yet', {
      reason: 'nextWithoutSites',
    });
  if (list.length > LIMITS.maxSites)
    throw bad(`next takes at most ${LIMITS.maxSites} sites; it got ${list.length}`, {
      reason: 'tooManySites',
      count: list.length,
      max: LIMITS.maxSites,
    });
  return list.map((item: unknown) => {
    const id = siteId(isObject(item) ? item.siteid : item);
    if (id === undefined)
      throw bad(
        'each site for next must be a site id — a whole number, or text without spaces, "/", "+" or "#" — or {"siteid": "0", "partid": "1"}',
        {
          reason: 'badSiteId',
        },
      );
    const partid = partId(isObject(item) ? item.partid : undefined);
    return { siteid: id, partid: partid === '' ? nextPartId() : partid };
  });
}

export function prepareCommand(
  transport: TransportKind,
  request: CommandRequest,
  context: { knownSites: readonly string[]; nextPartId: () => string },
): PreparedCommand {
  const name = canonicalCommand(request.command, transport);
  const mqtt = transport === 'mqtt';
  switch (name) {
    case 'load': {
      const lot = request.lotNumber;
      if ((typeof lot !== 'string' || lot.trim() === '') && (typeof lot !== 'number' || !Number.isFinite(lot)))
        throw bad('load needs a lot number (msg.lotNumber or the node setting)', { reason: 'noLotNumber' });
      return { name, body: mqtt ? { payload: { lot_number: String(lot) } } : { lot_number: lot } };
    }
    case 'next': {
      if (!mqtt) return { name, body: {} };
      const sites = nextSites(request.sites, context.knownSites, context.nextPartId);
      const payload = { sites: sites.map((s) => ({ siteid: s.siteid, partid: s.partid, binning: -1, logflag: 0, additionalinfo: 0 })) };
      return { name, body: { payload }, sites: sites.map((s) => s.siteid) };
    }
    case 'usersettings':
      return { name, body: { payload: testOptions(request.options) } };
    case 'setloglevel':
      return { name, body: { level: logLevel(request.level) } };
    case 'binMap':
      return { name, body: { sBin: bin(request.sBin, 'sBin'), hBin: bin(request.hBin, 'hBin') } };
    case 'site-layout': {
      const layout = request.layout;
      const valid =
        Array.isArray(layout) &&
        layout.every((xy) => Array.isArray(xy) && xy.length === 2 && xy.every((n) => typeof n === 'number' && Number.isFinite(n)));
      if (!valid || layout.length === 0) throw bad("site-layout needs the sites' positions as [[x, y], …]", { reason: 'badSiteLayout' });
      return { name, body: { payload: { sites: layout } } };
    }
    default:
      return { name, body: mqtt ? { payload: {} } : {} };
  }
}
