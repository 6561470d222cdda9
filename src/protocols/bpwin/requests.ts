import { InstrumentError } from '../common/errors';
import type { BpwinCallOptions, BpwinClient } from './client';
import { ENDPOINTS, type EndpointName } from './endpoints';
import { isRecord, parseLenientJson } from './lenient-json';
import { lightTower, typeValues } from './typed-values';

export interface BpwinResult {
  endpoint: EndpointName;
  /** BPWin's fields, typed (booleans, numbers, `<Name>_Seconds` beside durations, lists as arrays). */
  payload: Record<string, unknown>;
  /** The reply exactly as BPWin sent it (parsed). */
  raw: unknown;
  httpStatus: number;
  /** /health only: the error that made BPWin unreachable (Ready: false, Message: its text). */
  failure?: Error;
}

const NO_SESSION = /session/i;

/** BPWin's own words go into error messages; a reply of kilobytes of text would bury the sentence around them. */
const MAX_REMOTE_TEXT = 300;

function cut(text: string): string {
  return text.length > MAX_REMOTE_TEXT ? `${text.slice(0, MAX_REMOTE_TEXT - 1)}…` : text;
}

/** Call one endpoint and return its typed result; `{"Success":0}` replies throw with BPWin's message. */
export async function request(client: BpwinClient, endpoint: EndpointName, options: BpwinCallOptions = {}): Promise<BpwinResult> {
  const path = ENDPOINTS[endpoint];
  if (endpoint === 'health') return health(client, options);
  const response = await client.get(path, options);
  if (response.status !== 200) {
    const remote = remoteMessage(response.text);
    throw new InstrumentError('HTTP_STATUS', `BPWin answered GET ${path} with HTTP ${response.status}${remote ? `: ${remote}` : ''}`, {
      reason: remote ? 'bpwinHttpStatusSaying' : 'bpwinHttpStatus',
      statusCode: response.status,
      endpoint,
      path,
      remote,
    });
  }
  const raw = parseLenientJson(response.text, `BPWin GET ${path}`).value;
  if (!isRecord(raw))
    throw new InstrumentError('PROTOCOL', `BPWin's reply to GET ${path} is not a JSON object`, { reason: 'bpwinNotObject', endpoint, path });
  if (raw.Success === 0 || raw.Success === '0') {
    const message = typeof raw.Message === 'string' ? cut(raw.Message.trim()) : 'no message';
    if (endpoint === 'job-stats' && NO_SESSION.test(message)) {
      return { endpoint, payload: { Session: false, Message: message }, raw, httpStatus: response.status };
    }
    throw new InstrumentError('REMOTE', `BPWin could not answer ${endpoint}: ${message}`, {
      reason: 'bpwinCouldNotAnswer',
      endpoint,
      bpwinMessage: message,
    });
  }
  const payload = typeValues(raw) as Record<string, unknown>;
  if (endpoint === 'job-stats') decorateJobStats(payload);
  return { endpoint, payload, raw, httpStatus: response.status };
}

/** Session, Mode (autohandler replies carry Machine_Status, manual ones do not) and Light_Tower. */
export function decorateJobStats(payload: Record<string, unknown>): void {
  payload.Session = true;
  const autohandler = 'Machine_Status' in payload;
  payload.Mode = autohandler ? 'Autohandler' : 'Manual';
  if (autohandler) payload.Light_Tower = lightTower(payload);
}

/**
 * /health exists to ask "is BPWin there?", so "no" is an answer, not an error: HTTP errors and
 * an unreachable host give Ready: false with the reason. A refused passphrase still throws.
 */
async function health(client: BpwinClient, options: BpwinCallOptions): Promise<BpwinResult> {
  let response;
  try {
    response = await client.get(ENDPOINTS.health, options);
  } catch (err) {
    if (err instanceof InstrumentError && err.code === 'AUTH_FAILED') throw err;
    const failure = err instanceof Error ? err : new Error(String(err));
    return { endpoint: 'health', payload: { Ready: false, Message: failure.message }, raw: undefined, httpStatus: 0, failure };
  }
  let raw: unknown = response.text;
  try {
    raw = parseLenientJson(response.text, 'BPWin GET /health').value;
  } catch {
    // keep the text
  }
  const ok = response.status === 200 && isRecord(raw) && (raw.Success === 1 || raw.Success === '1');
  const payload: Record<string, unknown> = isRecord(raw) ? (typeValues(raw) as Record<string, unknown>) : { Message: response.text };
  payload.Ready = ok;
  if (response.status !== 200) payload.HTTP_Status = response.status;
  return { endpoint: 'health', payload, raw, httpStatus: response.status };
}

/** BPWin's own Message in an error reply, if it gave one. */
function remoteMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as unknown;
    if (isRecord(parsed) && typeof parsed.Message === 'string') return cut(parsed.Message);
  } catch {
    // not JSON
  }
  return '';
}
