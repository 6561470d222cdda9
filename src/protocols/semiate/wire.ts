import type { LogEntry, StdfRecord, TesterEvent } from './types';
import { asString, isObject } from './types';

/** Log fields arrive space-padded from the master: trim them. */
export function trimLogs(payload: unknown): LogEntry[] {
  if (!Array.isArray(payload)) return [];
  return payload.filter(isObject).map((entry) => ({
    source: asString(entry.source).trim(),
    date: asString(entry.date).trim(),
    type: asString(entry.type).trim(),
    description: asString(entry.description).trim(),
  }));
}

/** The apps log over MQTT as "name|date|LEVEL|msg" (the message may itself contain "|"). */
export function parseMqttLog(site: string, payload: unknown): LogEntry | undefined {
  const line = isObject(payload) ? asString(payload.payload) : '';
  if (line === '') return undefined;
  const [source = '', date = '', type = '', ...rest] = line.split('|');
  return { source: `${source.trim()} (site ${site})`, date: date.trim(), type: type.trim(), description: rest.join('|').trim() };
}

/**
 * A part's record list as sent. Not filtered here: the parser skips anything that is not a
 * record, and sparing a copy per part matters at thousands of parts per second.
 */
export function records(payload: unknown): StdfRecord[] {
  return Array.isArray(payload) ? (payload as StdfRecord[]) : [];
}

/** A websocket message `{type, payload}` from the master as a transport-neutral event. */
export function websocketEvent(type: string, payload: unknown): TesterEvent {
  switch (type) {
    case 'status': {
      const body = isObject(payload) ? payload : {};
      return { kind: 'state', state: asString(body.state, 'unknown'), message: asString(body.error_message), raw: body };
    }
    case 'testresult':
      return { kind: 'part', site: '', records: records(payload) };
    case 'testresults':
      return { kind: 'parts', parts: Array.isArray(payload) ? payload.map(records) : [] };
    case 'logs':
      return { kind: 'logs', entries: trimLogs(payload) };
    default:
      return { kind: 'data', type, payload };
  }
}

/** The state in a Master/status message: top level, or inside payload (the last will carries only the top level). */
export function mqttStatusState(message: Record<string, unknown>): { state: string; message: string } {
  const payload = isObject(message.payload) ? message.payload : {};
  const state = asString(payload.state) || asString(message.state, 'unknown');
  return { state, message: asString(payload.message) };
}
