import type { StdfRecord } from './types';

/**
 * Builds the STDF records a Semi-ATE test app publishes for one part: PIR, one record per test,
 * PRR. Used by the simulator and the benchmarks; shapes follow Semi-ATE's JSON (uppercase STDF V4
 * field names, infinite limits as "inf"/"-inf").
 */
export interface SimTest {
  number: number;
  text: string;
  kind: 'PTR' | 'FTR' | 'MPR';
  low: number;
  high: number;
  units: string;
  /** Value a good part measures. */
  nominal: number;
}

export interface SimBin {
  name: string;
  sBin: number;
  hBin: number;
  type: 'Good' | 'Bad';
}

export const DEFAULT_TESTS: SimTest[] = [
  { number: 100, text: 'contact', kind: 'FTR', low: 0, high: 0, units: '', nominal: 0 },
  { number: 200, text: 'supply current', kind: 'PTR', low: 1, high: 5, units: 'mA', nominal: 3 },
  { number: 300, text: 'offset voltage', kind: 'PTR', low: -Infinity, high: 0.01, units: 'V', nominal: 0.002 },
  { number: 400, text: 'gain per channel', kind: 'MPR', low: 9.5, high: 10.5, units: 'dB', nominal: 10 },
];

export const DEFAULT_BINS: SimBin[] = [
  { name: 'Good', sBin: 1, hBin: 1, type: 'Good' },
  { name: 'Contact', sBin: 10, hBin: 2, type: 'Bad' },
  { name: 'Parametric', sBin: 20, hBin: 3, type: 'Bad' },
];

function limit(value: number): number | string {
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  return value;
}

function base(type: string, site: number): StdfRecord {
  const [typ, sub] = ({ PIR: [5, 10], PRR: [5, 20], PTR: [15, 10], FTR: [15, 20], MPR: [15, 15] } as Record<string, [number, number]>)[type] ?? [
    0, 0,
  ];
  return { type, REC_LEN: null, REC_TYP: typ, REC_SUB: sub, HEAD_NUM: 1, SITE_NUM: site };
}

function inside(test: SimTest, value: number): boolean {
  return value >= test.low && value <= test.high;
}

function testRecord(test: SimTest, site: number, fail: boolean, random: () => number): StdfRecord {
  const record = { ...base(test.kind, site), TEST_NUM: test.number };
  if (test.kind === 'FTR') return { ...record, TEST_FLG: fail ? 128 : 0, TEST_TXT: test.text };
  // Good parts scatter within half the distance from nominal to the nearer limit.
  const room = Math.min(test.high - test.nominal, test.nominal - test.low);
  const span = Number.isFinite(room) && room > 0 ? room : Math.abs(test.nominal) + 1;
  const value = fail ? (Number.isFinite(test.high) ? test.high + span : test.low - span) : test.nominal + (random() - 0.5) * span;
  const limits = {
    PARM_FLG: 0,
    TEST_TXT: test.text,
    ALARM_ID: '',
    OPT_FLAG: 14,
    RES_SCAL: 0,
    LLM_SCAL: 0,
    HLM_SCAL: 0,
    LO_LIMIT: limit(test.low),
    HI_LIMIT: limit(test.high),
    LO_SPEC: limit(test.low),
    HI_SPEC: limit(test.high),
    UNITS: test.units,
    C_RESFMT: '%7.3f',
    C_LLMFMT: '%7.3f',
    C_HLMFMT: '%7.3f',
  };
  if (test.kind === 'PTR') return { ...record, TEST_FLG: inside(test, value) ? 0 : 128, RESULT: value, ...limits };
  const values = [value, test.nominal, test.nominal + (random() - 0.5) * span * 0.5];
  return {
    ...record,
    TEST_FLG: values.every((v) => inside(test, v)) ? 0 : 128,
    RTN_ICNT: 0,
    RSLT_CNT: values.length,
    RTN_STAT: [],
    RTN_RSLT: values,
    ...limits,
  };
}

export interface GeneratedPart {
  records: StdfRecord[];
  pass: boolean;
  bin: SimBin;
}

/** One part: fails with probability 1 - passRate, on a random test, binned to a random bad bin. */
export function generatePart(options: {
  site: number;
  partId: string;
  tests: SimTest[];
  bins: SimBin[];
  passRate: number;
  random: () => number;
  testTimeMs: number;
}): GeneratedPart {
  const { site, tests, bins, random } = options;
  const pass = random() < options.passRate;
  const failing = pass ? -1 : Math.floor(random() * tests.length);
  const good = bins.find((b) => b.type === 'Good') ?? bins[0];
  const bad = bins.filter((b) => b.type !== 'Good');
  const bin = pass || bad.length === 0 ? good : bad[Math.floor(random() * bad.length)];
  const records: StdfRecord[] = [base('PIR', site)];
  tests.forEach((test, i) => records.push(testRecord(test, site, i === failing, random)));
  records.push({
    ...base('PRR', site),
    PART_FLG: pass ? 0 : 8,
    NUM_TEST: tests.length,
    HARD_BIN: bin.hBin,
    SOFT_BIN: bin.sBin,
    X_COORD: -32768,
    Y_COORD: -32768,
    TEST_T: options.testTimeMs,
    PART_ID: options.partId,
    PART_TXT: '',
    PART_FIX: [],
  });
  return { records, pass, bin };
}
