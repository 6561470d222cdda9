import { InstrumentError } from '../common/errors';
import { isRecord, parseLenientJson } from './lenient-json';
import { RESULT_CODES } from './result-codes';

export const EVENT_NOTES = ['DataPattern', 'JobFile', 'Job', 'SocketStatus'] as const;
export type EventNote = (typeof EVENT_NOTES)[number];

export type JobOutcome = 'begin' | 'complete' | 'soft-abort' | 'hard-abort' | 'unknown';

/** One /ws event, decoded. Fields that do not apply to the event's Note are absent. */
export interface BpwinEvent {
  note: string;
  status: string;
  /** ISO 8601 with BPWin's UTC offset, e.g. "2023-12-08T17:08:16-06:00". */
  timestamp?: string;
  /** Milliseconds since the epoch. */
  time?: number;
  /** Lone backslashes had to be repaired to read it. */
  repaired: boolean;
  // SocketStatus
  site?: number;
  socket?: number;
  socketLetter?: string;
  siteSocket?: string;
  resultCode?: number;
  passed?: boolean;
  description?: string;
  apsSerialNumber?: string;
  dpChecksum?: string;
  siteSerialNumber?: string;
  socketPartNumber?: string;
  socketSerialNumber?: string;
  // Job
  code?: number;
  outcome?: JobOutcome;
  // JobFile and DataPattern
  operation?: string;
  directory?: string;
  fileName?: string;
  progress?: number;
  /** The event as BPWin sent it (after the backslash repair). */
  raw: Record<string, string>;
}

const JOB_CODES: Record<string, { outcome: JobOutcome; description: string }> = {
  '0': { outcome: 'complete', description: 'Job completed successfully' },
  '1000': { outcome: 'soft-abort', description: 'Job soft abort' },
  '1001': { outcome: 'hard-abort', description: 'Job hard abort' },
};

const TIMESTAMP = /^\s*(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\s*([+-])(\d{2}):?(\d{2}))?\s*$/;
const SITE_SOCKET = /^(\d+)([A-Za-z])$/;

export interface ParsedTimestamp {
  readonly iso: string;
  readonly time: number;
}

/**
 * The last timestamp read and its result. BPWin stamps events to the second, and the events of a
 * run come in bursts (Active, then Pass/Fail, per socket), so consecutive events mostly carry the
 * same text: one comparison then replaces the regex, the ISO text and the date arithmetic.
 */
let lastStamp: { text: string; parsed: ParsedTimestamp | undefined } = { text: '', parsed: undefined };

/** "2023-12-08 17:08:16 -0600" → ISO with offset and epoch ms; undefined when it is not that shape. */
export function parseTimestamp(text: string): ParsedTimestamp | undefined {
  if (text === lastStamp.text) return lastStamp.parsed;
  const parsed = readTimestamp(text);
  lastStamp = { text, parsed };
  return parsed;
}

function readTimestamp(text: string): ParsedTimestamp | undefined {
  const m = TIMESTAMP.exec(text);
  if (!m) return undefined;
  const offsetMinutes = m[7] ? (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9])) : undefined;
  const iso = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[7] ? `${m[7]}${m[8]}:${m[9]}` : ''}`;
  // Date.UTC on the parts is several times cheaper than Date.parse on the text.
  const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  const time = offsetMinutes === undefined ? Date.parse(iso) : wall - offsetMinutes * 60_000;
  // Frozen: the same result is handed to every caller with the same text.
  return Number.isNaN(time) ? undefined : Object.freeze({ iso, time });
}

export interface SiteSocket {
  readonly site: number;
  readonly socket: number;
  readonly letter: string;
}

/** Labels read so far: a programmer has a few dozen sockets, and every SocketStatus event names one. */
const siteSockets = new Map<string, SiteSocket>();
/** Only labels up to this length are remembered, and at most this many, so odd labels cannot grow the map. */
const SITE_SOCKET_KEY_MAX = 8;
const SITE_SOCKETS_MAX = 256;

/** "3A" → site 3, socket 1 (letter A); both 1-based as BPWin counts them. */
export function parseSiteSocket(text: string): SiteSocket | undefined {
  const known = siteSockets.get(text);
  if (known) return known;
  const parsed = readSiteSocket(text);
  // Unreadable labels are not remembered: they are rare, and cheap to refuse again.
  if (parsed && text.length <= SITE_SOCKET_KEY_MAX) {
    if (siteSockets.size >= SITE_SOCKETS_MAX) siteSockets.clear();
    siteSockets.set(text, parsed);
  }
  return parsed;
}

function readSiteSocket(text: string): SiteSocket | undefined {
  const m = SITE_SOCKET.exec(text.trim());
  if (!m) return undefined;
  const letter = m[2]!.toUpperCase();
  // Frozen: the same result is handed to every event with the same label.
  return Object.freeze({ site: Number(m[1]), socket: letter.charCodeAt(0) - 64, letter });
}

/** Appendix B description of a result code; 0 is a pass. */
export function describeResultCode(code: number): string {
  if (code === 0) return 'Pass';
  return RESULT_CODES[code] ?? `Result code ${code} is not in BPWin's table (Appendix B)`;
}

/** Parse and decode one websocket text; throws PROTOCOL for text that is not a JSON object. */
export function decodeEventText(text: string): BpwinEvent {
  const { value, repaired } = parseLenientJson(text, 'BPWin event');
  if (!isRecord(value)) throw new InstrumentError('PROTOCOL', 'BPWin event is not a JSON object', { reason: 'bpwinEventNotObject' });
  return decodeEvent(allStrings(value), repaired);
}

/** BPWin sends every value as a string; anything else is kept as its JSON text so `raw` stays Record<string, string>. */
function allStrings(value: Record<string, unknown>): Record<string, string> {
  for (const key in value) {
    if (typeof value[key] !== 'string') {
      const raw: Record<string, string> = {};
      for (const [name, item] of Object.entries(value)) raw[name] = typeof item === 'string' ? item : JSON.stringify(item);
      return raw;
    }
  }
  return value as Record<string, string>;
}

export function decodeEvent(raw: Record<string, string>, repaired = false): BpwinEvent {
  const event: BpwinEvent = { note: raw.Note ?? '', status: raw.Status ?? '', repaired, raw };
  const stamp = raw.Timestamp === undefined ? undefined : parseTimestamp(raw.Timestamp);
  if (stamp) {
    event.timestamp = stamp.iso;
    event.time = stamp.time;
  }
  switch (event.note) {
    case 'SocketStatus':
      decodeSocket(event, raw);
      break;
    case 'Job':
      decodeJob(event, raw);
      break;
    case 'JobFile':
      event.operation = raw.Operation;
      event.directory = raw.Directory;
      if (raw.Directory !== undefined) event.fileName = raw.Directory.split(/[\\/]/).pop();
      break;
    case 'DataPattern':
      event.operation = raw.Operation;
      if (raw.Progress !== undefined && raw.Progress.trim() !== '' && Number.isFinite(Number(raw.Progress))) event.progress = Number(raw.Progress);
      break;
  }
  return event;
}

function decodeSocket(event: BpwinEvent, raw: Record<string, string>): void {
  if (raw.Site_Socket !== undefined) {
    event.siteSocket = raw.Site_Socket;
    const where = parseSiteSocket(raw.Site_Socket);
    if (where) {
      event.site = where.site;
      event.socket = where.socket;
      event.socketLetter = where.letter;
    }
  }
  if (raw.ResultCode !== undefined && /^-?\d{1,9}$/.test(raw.ResultCode.trim())) {
    event.resultCode = Number(raw.ResultCode);
    event.passed = event.resultCode === 0;
    event.description = describeResultCode(event.resultCode);
  } else if (event.status === 'Pass' || event.status === 'Fail') {
    event.passed = event.status === 'Pass';
  }
  event.apsSerialNumber = raw['APS Serial Number'];
  event.dpChecksum = raw['DP Checksum'];
  event.siteSerialNumber = raw.Site_SN;
  event.socketPartNumber = raw.Socket_PartNumber;
  event.socketSerialNumber = raw.Socket_SN;
}

function decodeJob(event: BpwinEvent, raw: Record<string, string>): void {
  if (event.status === 'Begin') {
    event.outcome = 'begin';
    return;
  }
  if (raw.Code === undefined) return;
  // A code that is not a whole number stays out of `code` (NaN would travel on as null in JSON); `raw` keeps it.
  if (/^\s*-?\d{1,9}\s*$/.test(raw.Code)) event.code = Number(raw.Code);
  const known = JOB_CODES[raw.Code.trim()];
  event.outcome = known?.outcome ?? 'unknown';
  event.description = known?.description ?? `Job ended with code ${raw.Code}`;
}
