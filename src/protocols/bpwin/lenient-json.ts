import { InstrumentError } from '../common/errors';
import { BACKSLASH, QUOTE } from '../common/json-bytes';
import { MAX_JSON_DEPTH, jsonTextTooDeep } from '../common/json-limits';

const SLASH = 0x2f;
const LOWER_U = 0x75;
const HEX4 = /^[0-9a-fA-F]{4}$/;

/**
 * BPWin writes Windows paths into its JSON without escaping the backslashes (the vendor's own
 * example event is `"Directory": "C:\APITestFile\APITestAbp.abp"`). Any backslash that does not
 * start `\\`, `\"`, `\/` or `\uXXXX` is taken literally and doubled. `\n`, `\t`… are doubled too:
 * BPWin never puts control characters into its values, but paths like `C:\new\table.bp` are common.
 *
 * One pass over the text (a frame may be a megabyte of backslashes): valid escapes are skipped whole.
 */
export function repairBackslashes(text: string): string {
  const parts: string[] = [];
  let from = 0;
  let at = text.indexOf('\\');
  while (at !== -1) {
    const next = text.charCodeAt(at + 1);
    if (next === BACKSLASH || next === QUOTE || next === SLASH) {
      at = text.indexOf('\\', at + 2);
      continue;
    }
    if (next === LOWER_U && HEX4.test(text.slice(at + 2, at + 6))) {
      at = text.indexOf('\\', at + 6);
      continue;
    }
    parts.push(text.slice(from, at + 1));
    from = at;
    at = text.indexOf('\\', at + 1);
  }
  if (parts.length === 0) return text;
  parts.push(text.slice(from));
  return parts.join('');
}

export interface LenientParse {
  value: unknown;
  /** True when lone backslashes had to be repaired. */
  repaired: boolean;
}

/**
 * JSON.parse that survives BPWin's unescaped backslashes; throws PROTOCOL with a snippet otherwise
 * (`what` names the text, e.g. "BPWin GET /version").
 */
export function parseLenientJson(text: string, what: string): LenientParse {
  // BPWin's JSON is a few levels deep; a deeper text would become a msg that Node-RED cannot clone or format.
  if (jsonTextTooDeep(text)) {
    throw new InstrumentError('TOO_LARGE', `${what}: nested more than ${MAX_JSON_DEPTH} levels deep; refused`, {
      reason: 'bpwinTooDeep',
      what,
      maxDepth: MAX_JSON_DEPTH,
    });
  }
  // Fast path: nothing to repair (every SocketStatus event, most REST replies).
  if (text.indexOf('\\') === -1) return { value: parseOrThrow(text, what), repaired: false };
  const repairedText = repairBackslashes(text);
  return { value: parseOrThrow(repairedText, what), repaired: repairedText !== text };
}

function parseOrThrow(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const snippet = text.length > 80 ? `${text.slice(0, 77)}...` : text;
    const error = err instanceof Error ? err.message : String(err);
    throw new InstrumentError('PROTOCOL', `${what}: not valid JSON (${error}): ${snippet}`, { reason: 'bpwinNotJson', what, error, text: snippet });
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
