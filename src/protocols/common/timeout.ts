import { InstrumentError, shownValue } from './errors';

/** Shortest timeout accepted, in seconds: below a millisecond a timer cannot tell it from none. */
export const MIN_TIMEOUT_SECONDS = 0.001;
/**
 * Longest timeout accepted, in seconds (one day). Node's timers overflow past about 24.8 days and
 * then fire at once, so a larger value would fail the call immediately while the request still went out.
 */
export const MAX_TIMEOUT_SECONDS = 86_400;

/**
 * A timeout given in seconds (a number, or digits as text from a typed input or a dialog), as
 * milliseconds. Undefined, null and empty text mean "not given" (undefined). Anything else outside
 * MIN_TIMEOUT_SECONDS..MAX_TIMEOUT_SECONDS, or not a number, is refused naming `property`. With
 * `{ text: false }` (a msg property, where a text is a flow's mistake) only a number is taken.
 */
export function timeoutSecondsToMs(value: unknown, property: string, options: { text?: boolean } = {}): number | undefined {
  const text = options.text !== false;
  if (value === undefined || value === null || (text && typeof value === 'string' && value.trim() === '')) return undefined;
  const seconds = text && typeof value === 'string' && /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(value) ? Number(value) : value;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < MIN_TIMEOUT_SECONDS || seconds > MAX_TIMEOUT_SECONDS) {
    // A timeout of true is a kind mistake rather than a value to echo.
    const found = typeof value === 'boolean' ? 'a boolean' : shownValue(value);
    throw new InstrumentError(
      'BAD_INPUT',
      `${property} must be a number of seconds from ${MIN_TIMEOUT_SECONDS} to ${MAX_TIMEOUT_SECONDS} (fractions allowed, e.g. 2.5), not ${found}`,
      { reason: 'badTimeout', property, found, min: MIN_TIMEOUT_SECONDS, max: MAX_TIMEOUT_SECONDS },
    );
  }
  return Math.max(1, Math.round(seconds * 1000));
}

/**
 * A time limit (ms) as the seconds a message says: every timeout of the package is given in seconds,
 * so its errors say seconds too. Below 0.1 s to the millisecond (0.001, 0.05), above it to the
 * hundredth (0.5, 2, 2.5): a wait counts from when its command was queued, so what is left of a
 * 2 s limit may be 1999 ms, and it reads as the 2 s the user gave, not 1.999.
 */
export function secondsOf(ms: number): number {
  return ms < 100 ? Math.round(ms) / 1000 : Math.round(ms / 10) / 100;
}
