import { InstrumentError, errorMessage } from '../common/errors';
import { findJsonProblem, isPlainRecord } from '../common/json-limits';
import { isEbvItem } from './types';

const METHOD_NAME = /^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$/;

/**
 * "FileList.open" → "pynebv.FileList.open". Any dotted name is accepted because the real method
 * list is larger than the spec shows; only the shape is checked so a typo with a space or a
 * slash is refused before it reaches the instrument.
 */
export function normalizeMethod(name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '') {
    throw new InstrumentError('BAD_INPUT', 'a method is required: set it in the node, or send msg.method (e.g. "pynebv.FileList.open")', {
      reason: 'nebvNoMethod',
    });
  }
  const method = name.trim();
  if (!METHOD_NAME.test(method)) {
    throw new InstrumentError('BAD_INPUT', `"${method}" is not a pynebv method name (expected e.g. pynebv.FileList.open or MarkList.add)`, {
      reason: 'nebvBadMethod',
      method,
    });
  }
  return method.startsWith('pynebv.') ? method : `pynebv.${method}`;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (Buffer.isBuffer(value)) return 'a Buffer';
  if (typeof value === 'object') return `a ${(value as { constructor?: { name?: string } }).constructor?.name ?? 'class instance'}`;
  return `a ${typeof value}`;
}

/**
 * Where params come from, as a message names it: each place has its own catalog sentence (the place is part of it);
 * `as const` keeps the names literal, so test/common/error-reasons.spec.ts checks each against the catalog.
 */
type ParamsPlace = 'params' | 'msg.payload (the params)' | 'the params field';
const NOT_AN_OBJECT = {
  params: 'nebvParamsNotObject',
  'msg.payload (the params)': 'nebvPayloadNotObject',
  'the params field': 'nebvParamsFieldNotObject',
} as const satisfies Record<ParamsPlace, string>;

/**
 * neoEBV takes arguments by name only, so params must be a JSON object; and every value must reach
 * it as written (JSON.stringify would send NaN as null and drop undefined), so such values are refused.
 */
export function assertParams(params: unknown, where: ParamsPlace = 'params'): asserts params is Record<string, unknown> {
  if (!isPlainRecord(params)) {
    const found = describeType(params);
    throw new InstrumentError('BAD_INPUT', `${where} must be a JSON object of named arguments such as {"point":[10,0]}, not ${found}`, {
      reason: NOT_AN_OBJECT[where],
      found,
    });
  }
  const problem = findJsonProblem(params, where);
  if (problem) {
    throw new InstrumentError('BAD_INPUT', `${problem.property} is ${problem.found}: it must be ${problem.expected}; nothing was sent`, {
      reason: 'paramNotJson',
      ...problem,
    });
  }
  if ('item' in params && !isEbvItem(params.item)) {
    throw new InstrumentError('BAD_INPUT', 'params.item must be an EbvItem as a previous call returned it (an object with "key" and "klass")', {
      reason: 'nebvBadItem',
    });
  }
  if ('itemList' in params) {
    const list = params.itemList;
    if (!Array.isArray(list) || !list.every(isEbvItem)) {
      throw new InstrumentError(
        'BAD_INPUT',
        'params.itemList must be an array of EbvItems as a previous call returned them (objects with "key" and "klass")',
        { reason: 'nebvBadItemList' },
      );
    }
  }
}

export type ParamsSource = 'field' | 'payload' | 'both';

export interface ParamsInput {
  source: ParamsSource;
  /** Parsed from the node's JSON field (already an object, or undefined when empty). */
  field?: Record<string, unknown>;
  payload?: unknown;
  /** msg.item / msg.itemList: added unless params already name their own. */
  item?: unknown;
  itemList?: unknown;
}

/**
 * Params for one call: the dialog's JSON, msg.payload, or both (payload keys win), then
 * msg.item / msg.itemList. Refuses anything that is not an object before a byte is sent.
 */
export function buildParams(input: ParamsInput): Record<string, unknown> {
  let params: Record<string, unknown>;
  if (input.source === 'field') {
    params = { ...(input.field ?? {}) };
  } else {
    const payload = input.payload ?? {};
    assertParams(payload, 'msg.payload (the params)');
    params = input.source === 'both' ? { ...(input.field ?? {}), ...payload } : { ...payload };
  }
  if (input.item !== undefined && !('item' in params)) params.item = input.item;
  if (input.itemList !== undefined && !('itemList' in params)) params.itemList = input.itemList;
  assertParams(params);
  return params;
}

/** The dialog's params text: empty means {}; anything else must parse to an object. */
export function parseParamsField(text: unknown): Record<string, unknown> {
  if (text === undefined || text === null || (typeof text === 'string' && text.trim() === '')) return {};
  let parsed: unknown = text;
  if (typeof text === 'string') {
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      const error = errorMessage(err);
      throw new InstrumentError('BAD_INPUT', `the params field is not valid JSON (${error})`, { reason: 'nebvParamsFieldNotJson', error });
    }
  }
  assertParams(parsed, 'the params field');
  return parsed;
}
