/**
 * Shapes of what a Semi-ATE master says, over its UI websocket and over MQTT
 * (see shared/protocols/semi-ate.md). Everything arriving from the wire is `unknown` until
 * checked; these types describe what we hand on after checking.
 */

/** Master states the code enters; the spec lists more (waitingforbintable, finished, paused) and a client must accept any string. */
export type MasterState = 'connecting' | 'initialized' | 'loading' | 'ready' | 'testing' | 'unloading' | 'softerror' | 'error' | 'crash' | string;

export type JsonObject = Record<string, unknown>;

/** One STDF record as the master sends it: `{type: "PTR", TEST_NUM: …}`. */
export interface StdfRecord extends JsonObject {
  type: string;
}

export interface PartTest {
  number: number;
  text: string;
  /** PTR/MPR: the measured value; FTR: null; MPR: the first returned result (all in `results`). */
  result: number | null;
  low: number | null;
  high: number | null;
  units: string;
  pass: boolean;
  /** The record type the test came from: PTR, FTR or MPR. */
  kind: string;
  /** MPR only: every returned result. */
  results?: number[];
}

export interface PartResult {
  /** Site id as a string, as everywhere outside STDF records. */
  site: string;
  partId: string;
  pass: boolean;
  hardBin: number | null;
  softBin: number | null;
  /** Test time in ms (PRR TEST_T). */
  testTime: number | null;
  x: number | null;
  y: number | null;
  tests: PartTest[];
}

export interface SiteYield {
  site: string;
  tested: number;
  passed: number;
  failed: number;
  /** Percent 0..100; 0 when nothing is tested yet. */
  yield: number;
}

export interface YieldSnapshot {
  /** Per site, keyed by site id. */
  sites: Record<string, SiteYield>;
  /** All sites together. */
  total: SiteYield;
}

/** A message from the master normalised across transports. */
export type TesterEvent =
  | { kind: 'state'; state: MasterState; message: string; raw: JsonObject }
  | { kind: 'part'; site: string; records: StdfRecord[] }
  | { kind: 'parts'; parts: StdfRecord[][] }
  | { kind: 'logs'; entries: LogEntry[] }
  | { kind: 'response'; type: string; payload: unknown }
  | { kind: 'data'; type: string; payload: unknown };

export interface LogEntry {
  source: string;
  date: string;
  type: string;
  description: string;
}

export interface TestOption {
  name: string;
  active: boolean;
  value: number;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asString(value: unknown, fallback = ''): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return fallback;
}
