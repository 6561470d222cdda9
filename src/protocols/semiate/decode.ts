import { InstrumentError } from '../common/errors';
import { LIMITS, bounded } from './limits';
import type { JsonObject } from './types';
import { isObject } from './types';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const CAPITAL_N = 0x4e;
const CAPITAL_I = 0x49;

export type DropCause = 'tooLarge' | 'tooDeep' | 'notJson' | 'notMessage';

export type Decoded = { ok: true; message: JsonObject } | { ok: false; cause: DropCause; text: string; details: Record<string, unknown> };

/** Outside strings, the only characters that matter; inside, where a string may end. */
const STRUCTURE = /["[\]{}NI]/g;
const STRING_END = /["\\]/g;

/**
 * One pass over the text: nesting depth (stopping at the limit, so a hostile `[[[[…` costs no
 * more than the limit says), and whether a capital N or I appears outside strings — the start of
 * Python's bare NaN / Infinity, which plain JSON never has there. The regular expressions let the
 * engine skip long strings and runs of numbers at native speed.
 */
function scan(text: string, maxDepth: number): { tooDeep: boolean; python: boolean } {
  let depth = 0;
  let python = false;
  STRUCTURE.lastIndex = 0;
  for (let found = STRUCTURE.exec(text); found !== null; found = STRUCTURE.exec(text)) {
    const c = text.charCodeAt(found.index);
    if (c === QUOTE) {
      STRING_END.lastIndex = found.index + 1;
      for (let end = STRING_END.exec(text); ; end = STRING_END.exec(text)) {
        if (end === null) return { tooDeep: false, python };
        if (text.charCodeAt(end.index) === QUOTE) {
          STRUCTURE.lastIndex = end.index + 1;
          break;
        }
        STRING_END.lastIndex = end.index + 2; // skip the escaped character
      }
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth += 1;
      if (depth > maxDepth) return { tooDeep: true, python };
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth -= 1;
    } else {
      python = true;
    }
  }
  return { tooDeep: false, python };
}

/**
 * Python's json.dumps writes infinite and missing values as bare NaN, Infinity and -Infinity.
 * They become the strings the master's websocket sends for the same values ("nan", "inf",
 * "-inf"), so a part's records have one shape whichever way they came.
 */
export function pythonTokensAsStrings(text: string): string {
  let out = '';
  let copied = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i += 1;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) {
      inString = true;
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
 * A message from the tester as a JSON object, or why it cannot be one. Size and depth are checked
 * before parsing: Node-RED copies a msg recursively when a node has several wires, and a value
 * thousands of levels deep overflows the stack there.
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
  const { tooDeep, python } = scan(text, LIMITS.maxDepth);
  if (tooDeep) {
    return {
      ok: false,
      cause: 'tooDeep',
      text: `it is nested more than ${LIMITS.maxDepth} levels deep`,
      details: { maxDepth: LIMITS.maxDepth },
    };
  }
  let value: unknown;
  try {
    value = JSON.parse(python ? pythonTokensAsStrings(text) : text);
  } catch (err) {
    const why = bounded(err instanceof Error ? err.message : String(err), 120);
    return { ok: false, cause: 'notJson', text: `it is not JSON (${why})`, details: { parseError: why } };
  }
  if (!isObject(value)) return { ok: false, cause: 'notMessage', text: 'it is not a JSON object {"type": …, "payload": …}', details: {} };
  return { ok: true, message: value };
}

/** The warning for a message that was not used: where it came from and why, never its content. */
export function droppedMessage(source: string, failure: Extract<Decoded, { ok: false }>): InstrumentError {
  return new InstrumentError('PROTOCOL', `ignored a message from ${source}: ${failure.text}`, {
    reason: 'messageDropped',
    source,
    cause: failure.cause,
    ...failure.details,
  });
}
