import type { LoadProgress } from './connection';

/**
 * The BlocklyProp Launcher's websocket messages and how to read them. Where the published API and
 * the Launcher itself differ (port-list vs port-list-response), both are accepted.
 */

export interface LauncherInfo {
  /** Semantic version the Launcher reported, e.g. "1.0.7". */
  version: string;
  /** API major version; a missing api field means 1. */
  api: number;
  /** Future API: every msg/payload is base64 both ways. */
  b64Msg: boolean;
}

/** Solo (Parallax's own web client) refuses older Launchers; so do we. */
export const MINIMUM_LAUNCHER_VERSION = '1.0.1';

export type IncomingMessage =
  | { kind: 'hello'; info: LauncherInfo }
  | { kind: 'ports'; ports: string[] }
  | { kind: 'ui'; action: string; msg: string | undefined }
  | { kind: 'terminal-data'; packetId: number; data: Buffer }
  | { kind: 'terminal-error'; text: string }
  | { kind: 'other'; type: string };

/** Longest Launcher text kept (an error, a progress line, a version); the Launcher's own are far shorter. */
export const MAX_TEXT = 300;
/** A port list longer than this, or a port name longer than MAX_TEXT, is not from a Launcher: the rest is dropped. */
export const MAX_PORTS = 256;

/**
 * A Launcher text on one line: line breaks, with the blanks around them, become one space; at most
 * MAX_TEXT characters. Looks at a bounded head of the text, in linear time, whatever a peer sends.
 */
export function oneLine(text: string, max = MAX_TEXT): string {
  const head = text.length > max * 4 ? text.slice(0, max * 4) : text;
  const line = head
    .split(/[\r\n]+/)
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .join(' ');
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

function field(value: Record<string, unknown>, name: string): unknown {
  return value[name];
}

function truthy(value: unknown): boolean {
  return value === true || value === 'true' || value === 1 || value === '1';
}

/** Parse one text frame; undefined when it is not a JSON object with a type (ignored, as the Launcher's clients do). */
export function parseIncoming(text: string): IncomingMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  const type = field(record, 'type');
  if (typeof type !== 'string') return undefined;
  switch (type) {
    case 'hello-client': {
      const api = Number(field(record, 'api') ?? 1);
      // Only text or a number is a version; anything else would read "[object Object]" in the "too old" error.
      const version = field(record, 'version');
      return {
        kind: 'hello',
        info: {
          version: typeof version === 'string' || typeof version === 'number' ? oneLine(String(version), 40) : '',
          api: Number.isFinite(api) && api > 0 ? api : 1,
          b64Msg: truthy(field(record, 'b64Msg')),
        },
      };
    }
    case 'port-list':
    case 'port-list-response': {
      const ports = field(record, 'ports');
      return { kind: 'ports', ports: Array.isArray(ports) ? ports.filter((p): p is string => typeof p === 'string') : [] };
    }
    case 'ui-command': {
      const msg = field(record, 'msg');
      return { kind: 'ui', action: String(field(record, 'action') ?? ''), msg: typeof msg === 'string' ? msg : undefined };
    }
    case 'serial-terminal': {
      const msg = field(record, 'msg');
      const packetId = field(record, 'packetID');
      // Data always has a packetID; the Launcher's errors have neither packetID nor action.
      if (packetId !== undefined && packetId !== null && typeof msg === 'string') {
        return { kind: 'terminal-data', packetId: Number(packetId), data: Buffer.from(msg, 'base64') };
      }
      return { kind: 'terminal-error', text: typeof msg === 'string' ? msg : '' };
    }
    default:
      return { kind: 'other', type };
  }
}

/** Port names as the Launcher lists them; a leading "" only means "nothing preferred". */
export function cleanPorts(ports: string[]): string[] {
  return ports.filter((p) => p !== '' && p.length <= MAX_TEXT).slice(0, MAX_PORTS);
}

/** Compare dotted versions numerically; a part that is not a number counts as 0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((p) => parseInt(p, 10) || 0);
  const pb = b.split('.').map((p) => parseInt(p, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i += 1) {
    const diff = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (diff !== 0) return Math.sign(diff);
  }
  return 0;
}

export function isSupportedVersion(version: string): boolean {
  return /^\d+(\.\d+)*/.test(version) && compareVersions(version, MINIMUM_LAUNCHER_VERSION) >= 0;
}

/** Launcher notice ids (its messages.js; 012 is how its source's octal `014` arrives). */
export const NOTICE = {
  milestone: 0,
  downloading: 2,
  verifyingRam: 3,
  success: 5,
  programmingEeprom: 12,
  downloadFailed: 102,
} as const;

export type ParsedProgress = LoadProgress & { withoutId: boolean };

function milestoneStage(text: string): string {
  if (/^scanning/i.test(text)) return 'scanning';
  if (/^found/i.test(text)) return 'found';
  if (/^ready/i.test(text)) return 'ready';
  if (/^launching/i.test(text)) return 'launching';
  return 'milestone';
}

export function stageFor(id: number, text: string): string {
  if (id === NOTICE.milestone) return milestoneStage(text);
  if (id === NOTICE.downloading) return 'downloading';
  if (id === NOTICE.verifyingRam) return 'verifying-ram';
  if (id === NOTICE.programmingEeprom) return 'programming-eeprom';
  if (id === NOTICE.success) return 'success';
  if (id === NOTICE.downloadFailed) return 'failed';
  if (id >= 100) return 'error';
  return 'status';
}

/**
 * A message-compile text: "\r###-text". The id is parseInt of the digits before the first "-".
 * "." is the deprecated activity tick (undefined). Text without an id that starts with "Error:"
 * (a bad image) is a failure with id -1 and `withoutId`.
 */
export function parseProgress(raw: string): ParsedProgress | undefined {
  const body = raw.slice(0, MAX_TEXT * 4).replace(/^[\r\n]+/, '');
  if (body === '' || body === '.') return undefined;
  const match = /^(\d+)-([\s\S]*)$/.exec(body);
  if (match) {
    const id = parseInt(match[1]!, 10);
    const text = oneLine(match[2]!);
    return { id, text, stage: stageFor(id, text), withoutId: false };
  }
  const text = oneLine(body);
  if (/^error\b/i.test(text)) return { id: -1, text, stage: 'error', withoutId: true };
  return { id: NOTICE.milestone, text, stage: milestoneStage(text), withoutId: true };
}
