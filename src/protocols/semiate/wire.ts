import { LIMITS, bounded } from './limits';
import type { LogEntry, StdfRecord, TesterEvent } from './types';
import { asString, isObject } from './types';

/** A state name as reported, cut so a peer's text cannot flood a status or a msg; '' when there is none. */
export function stateName(value: unknown, fallback = ''): string {
  return bounded(asString(value, fallback), LIMITS.maxNameChars) || fallback;
}

/** The master's message about its state (an error text), cut to a readable length. */
export function stateMessage(value: unknown): string {
  return bounded(asString(value), LIMITS.maxMessageChars);
}

/** Site ids from a list the master sent (status, configuration): strings, cut, at most maxSites of them. */
export function siteIds(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const ids: string[] = [];
  for (const site of value.slice(0, LIMITS.maxSites)) {
    const id = bounded(asString(site), LIMITS.maxNameChars);
    if (id !== '') ids.push(id);
  }
  return ids;
}

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
      return { kind: 'state', state: stateName(body.state), message: stateMessage(body.error_message), raw: body };
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
  const state = stateName(payload.state, '') || stateName(message.state);
  return { state, message: stateMessage(payload.message) };
}
