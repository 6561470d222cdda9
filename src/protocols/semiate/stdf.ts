import type { PartResult, PartTest, StdfRecord } from './types';
import { asString, isObject } from './types';

/**
 * Turns the STDF records of a test run ([PIR, PTR/FTR/MPR…, PRR]) into parts. Numbers may
 * arrive as numbers or strings; the test app writes infinite limits as "inf"/"-inf".
 */
export function stdfNumber(value: unknown): number | null {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return null;
  const text = value.trim().toLowerCase();
  if (text === 'inf' || text === '+inf' || text === 'infinity' || text === '+infinity') return Infinity;
  if (text === '-inf' || text === '-infinity') return -Infinity;
  if (text === 'nan') return NaN;
  if (text === '') return null;
  const parsed = Number(text);
  return Number.isNaN(parsed) ? null : parsed;
}

function integer(value: unknown): number | null {
  const n = stdfNumber(value);
  return n === null || !Number.isFinite(n) ? null : Math.trunc(n);
}

/** TEST_FLG bit 7 = failed, bit 6 = no valid pass/fail; an FTR's bit 0 marks an exception (counts as not passed). */
function testPassed(record: StdfRecord): boolean {
  const flags = integer(record.TEST_FLG) ?? 0;
  const mask = record.type === 'FTR' ? 0xc1 : 0xc0;
  return (flags & mask) === 0;
}

function testOf(record: StdfRecord): PartTest {
  const test: PartTest = {
    number: integer(record.TEST_NUM) ?? 0,
    text: asString(record.TEST_TXT).trim(),
    result: record.type === 'FTR' ? null : stdfNumber(record.RESULT),
    low: stdfNumber(record.LO_LIMIT),
    high: stdfNumber(record.HI_LIMIT),
    units: asString(record.UNITS).trim(),
    pass: testPassed(record),
    kind: record.type,
  };
  if (record.type === 'MPR') {
    const results = Array.isArray(record.RTN_RSLT) ? record.RTN_RSLT.map(stdfNumber).filter((n): n is number => n !== null) : [];
    test.results = results;
    if (test.result === null) test.result = results[0] ?? null;
  }
  return test;
}

function emptyPart(site: string): PartResult {
  return { site, partId: '', pass: false, hardBin: null, softBin: null, testTime: null, x: null, y: null, tests: [] };
}

function siteOf(record: StdfRecord, fallback: string): string {
  const site = integer(record.SITE_NUM);
  return site === null ? fallback : String(site);
}

export function isStdfRecord(value: unknown): value is StdfRecord {
  return isObject(value) && typeof value.type === 'string';
}

/**
 * Parts in a record list: a PIR opens a part, a PRR closes it; records outside a PIR…PRR pair
 * are ignored. A list without any PIR still yields its PRR-closed parts. `site` is the fallback
 * when a record has no SITE_NUM (MQTT topics name the site).
 */
export function partsFromRecords(records: readonly unknown[], site = '0'): PartResult[] {
  const parts: PartResult[] = [];
  let current: PartResult | undefined;
  for (const record of records) {
    if (!isStdfRecord(record)) continue;
    switch (record.type) {
      case 'PIR':
        current = emptyPart(siteOf(record, site));
        break;
      case 'PTR':
      case 'FTR':
      case 'MPR':
        current ??= emptyPart(siteOf(record, site));
        current.tests.push(testOf(record));
        break;
      case 'PRR': {
        const part = current ?? emptyPart(site);
        part.site = siteOf(record, part.site);
        const flags = integer(record.PART_FLG) ?? 0;
        // bit 3 = failed, bit 4 = no pass/fail indication
        part.pass = (flags & 0x18) === 0;
        part.hardBin = integer(record.HARD_BIN);
        part.softBin = integer(record.SOFT_BIN);
        part.testTime = stdfNumber(record.TEST_T);
        part.x = integer(record.X_COORD);
        part.y = integer(record.Y_COORD);
        part.partId = asString(record.PART_ID).trim();
        parts.push(part);
        current = undefined;
        break;
      }
      default:
        break;
    }
  }
  return parts;
}
