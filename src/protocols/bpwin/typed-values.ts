import { isRecord } from './lenient-json';

/**
 * BPWin sends many values as text ("true", "00:02:13", "26359"). Flows want booleans, seconds and
 * numbers; these helpers convert them while keeping BPWin's field names so its documentation
 * still applies. Durations keep the original text and gain a `<Name>_Seconds` field beside it.
 */
const NUMERIC_KEYS = new Set([
  'Ordinal',
  'Odometer',
  'TripOdometer',
  'MasterSite',
  'SocketsPerSite',
  'Job_Yield',
  'Actual_DPH',
  'Potential_DPH',
  'Passed_Device',
  'Failed_Device',
  'Active_Device',
  'Remaining_Device',
]);

/** XML-born lists: one element arrives as an object, several as an array. Always arrays here. */
const LIST_KEYS = new Set(['Site', 'Socket']);

const YES_NO_KEYS = new Set(['OperatorMode']);

const DURATION = /^(\d+):([0-5]\d):([0-5]\d)$/;
const NUMBER = /^-?\d+(\.\d+)?$/;

/** "hh:mm:ss" → seconds; "--:--:--" (unknown) and anything else → null. */
export function durationSeconds(text: string): number | null {
  const match = DURATION.exec(text.trim());
  if (!match) return null;
  return Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3]);
}

function typeScalar(key: string, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const lower = value.trim().toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  if (YES_NO_KEYS.has(key) && (lower === 'yes' || lower === 'no')) return lower === 'yes';
  if (NUMERIC_KEYS.has(key) && NUMBER.test(value.trim())) return Number(value);
  return value;
}

/** Recursively type a BPWin reply. Returns a new value; the input is not changed. */
export function typeValues(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((item) => typeValues(item, key));
  if (!isRecord(value)) return typeScalar(key, value);
  const out: Record<string, unknown> = {};
  for (const [name, item] of Object.entries(value)) {
    const listed = LIST_KEYS.has(name) && item !== null && item !== undefined && !Array.isArray(item) ? [item] : item;
    out[name] = typeValues(listed, name);
    if (name.endsWith('_Time') && typeof item === 'string') out[`${name.slice(0, -'_Time'.length)}_Seconds`] = durationSeconds(item);
  }
  return out;
}

export type LightColour = 'red' | 'amber' | 'green';

/** Which lamps of the tower are lit, e.g. "green", "red+amber", or "off". */
export function lightTower(stats: Record<string, unknown>): string {
  const lit: LightColour[] = [];
  if (stats.Red_Light_On === true) lit.push('red');
  if (stats.Amber_Light_On === true) lit.push('amber');
  if (stats.Green_Light_On === true) lit.push('green');
  return lit.length === 0 ? 'off' : lit.join('+');
}
