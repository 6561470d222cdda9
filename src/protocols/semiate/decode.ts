import { InstrumentError } from '../common/errors';
import { QUOTE, jsonStringEnd } from '../common/json-bytes';
import { LIMITS, bounded } from './limits';
import type { JsonObject } from './types';
import { isObject } from './types';
import { isStdfRecord } from './stdf';

const CAPITAL_N = 0x4e;
const CAPITAL_I = 0x49;

export type DropCause = 'tooLarge' | 'tooDeep' | 'notJson' | 'notMessage' | 'noType' | 'noState' | 'resultNotList' | 'resultWithoutPart';

export type Decoded = { ok: true; message: JsonObject } | { ok: false; cause: DropCause; text: string; details: Record<string, unknown> };

/**
 * Whether a parsed value nests deeper than `maxDepth`. V8 parses without recursion, so the parse
 * itself is safe; what is not is everything after it (Node-RED copies a msg recursively). The
 * walk uses its own stack and stops as soon as the limit is passed.
 */
function deeperThan(value: object, maxDepth: number): boolean {
  const values: object[] = [value];
  const depths: number[] = [1];
  while (values.length > 0) {
    const current = values.pop()!;
    const depth = depths.pop()!;
    if (depth > maxDepth) return true;
    if (Array.isArray(current)) {
      for (const child of current as unknown[]) {
        if (typeof child === 'object' && child !== null) {
          values.push(child);
          depths.push(depth + 1);
        }
      }
    } else {
      for (const key in current) {
        const child = (current as Record<string, unknown>)[key];
        if (typeof child === 'object' && child !== null) {
          values.push(child);
          depths.push(depth + 1);
        }
      }
    }
  }
  return false;
}

/**
 * Python's json.dumps writes infinite and missing values as bare NaN, Infinity and -Infinity.
 * They become the strings the master's websocket sends for the same values ("nan", "inf",
 * "-inf"), so a part's records have one shape whichever way they came.
 */
export function pythonTokensAsStrings(text: string): string {
  let out = '';
  let copied = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = jsonStringEnd(text, i);
    } else if (c === CAPITAL_N && text.startsWith('NaN', i)) {
      out += `${text.slice(copied, i)}"nan"`;
      i += 2;
      copied = i + 1;
    } else if (c === CAPITAL_I && text.startsWith('Infinity', i)) {
      const negative = i > 0 && text.charCodeAt(i - 1) === 0x2d;
      out += `${text.slice(copied, negative ? i - 1 : i)}${negative ? '"-inf"' : '"inf"'}`;
      i += 7;
      copied = i + 1;
    }
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/**
 * A message from the tester as a JSON object, or why it cannot be one: not larger than
 * maxMessageBytes, not nested deeper than maxDepth (Node-RED copies a msg recursively when a node
 * has several wires, and a value thousands of levels deep overflows the stack there).
 */
export function decodeMessage(text: string, byteLength = text.length): Decoded {
  if (byteLength > LIMITS.maxMessageBytes) {
    return {
      ok: false,
      cause: 'tooLarge',
      text: `it is ${byteLength} bytes, more than the ${LIMITS.maxMessageBytes} accepted`,
      details: { bytes: byteLength, maxBytes: LIMITS.maxMessageBytes },
    };
  }
  // Python's tokens are words JSON does not have; a cheap search tells whether to look for them.
  const python = text.includes('NaN') || text.includes('Infinity');
  let value: unknown;
  try {
    value = JSON.parse(python ? pythonTokensAsStrings(text) : text);
  } catch (err) {
    const why = bounded(err instanceof Error ? err.message : String(err), 120);
    return { ok: false, cause: 'notJson', text: `it is not JSON (${why})`, details: { parseError: why } };
  }
  if (typeof value === 'object' && value !== null && deeperThan(value, LIMITS.maxDepth)) {
    return {
      ok: false,
      cause: 'tooDeep',
      text: `it is nested more than ${LIMITS.maxDepth} levels deep`,
      details: { maxDepth: LIMITS.maxDepth },
    };
  }
  if (!isObject(value)) return { ok: false, cause: 'notMessage', text: 'it is not a JSON object {"type": …, "payload": …}', details: {} };
  return { ok: true, message: value };
}

/**
 * Why a test app's result gives no part, if it does not: its payload is not a record list, or the
 * list has no PRR (the record that closes a part). Said as a warning instead of dropped silently: a
 * waiting next would otherwise only time out, with nothing to say what arrived.
 */
export function resultWithoutPart(payload: unknown): Extract<Decoded, { ok: false }> | undefined {
  if (!Array.isArray(payload)) return { ok: false, cause: 'resultNotList', text: 'its payload is not a list of STDF records', details: {} };
  for (const record of payload as unknown[]) if (isStdfRecord(record) && record.type === 'PRR') return undefined;
  return { ok: false, cause: 'resultWithoutPart', text: 'its records hold no part result (no PRR)', details: {} };
}

/** One reason (one sentence in the catalogs) per way a message can be unusable. */
const DROP_REASONS: Record<DropCause, string> = {
  tooLarge: 'messageTooLarge',
  tooDeep: 'messageTooDeep',
  notJson: 'messageNotJson',
  notMessage: 'messageNotObject',
  noType: 'messageWithoutType',
  noState: 'statusWithoutState',
  resultNotList: 'testresultNotList',
  resultWithoutPart: 'testresultWithoutPart',
};

/** The warning for a message that was not used: where it came from and why, never its content. */
export function droppedMessage(source: string, failure: Extract<Decoded, { ok: false }>): InstrumentError {
  return new InstrumentError('PROTOCOL', `ignored a message from ${source}: ${failure.text}`, {
    reason: DROP_REASONS[failure.cause],
    source,
    ...failure.details,
  });
}
