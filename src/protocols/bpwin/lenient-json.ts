import { InstrumentError } from '../common/errors';

/**
 * BPWin writes Windows paths into its JSON without escaping the backslashes (the vendor's own
 * example event is `"Directory": "C:\APITestFile\APITestAbp.abp"`). Any backslash that does not
 * start `\\`, `\"`, `\/` or `\uXXXX` is taken literally and doubled. `\n`, `\t`… are doubled too:
 * BPWin never puts control characters into its values, but paths like `C:\new\table.bp` are common.
 */
const ESCAPE = /\\(\\|"|\/|u[0-9a-fA-F]{4})|\\/g;

export function repairBackslashes(text: string): string {
  return text.replace(ESCAPE, (whole: string, valid: string | undefined) => (valid === undefined ? '\\\\' : whole));
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
