/**
 * Bounds on JSON that crosses the package's edges. Decoded replies become msgs that Node-RED clones
 * and formats recursively (thousands of levels overflow its stack), and values sent to an instrument
 * must reach it as the user wrote them: JSON.stringify quietly turns NaN into null and a Buffer into
 * {"type":"Buffer",…}.
 */

import { CLOSE_BRACE, CLOSE_BRACKET, OPEN_BRACE, OPEN_BRACKET, QUOTE, jsonStringEnd } from './json-bytes';

/** Deepest nesting accepted from an instrument; real replies stay under ten levels. */
export const MAX_JSON_DEPTH = 64;

/**
 * True when `text` holds more than `limit` opening brackets. Nesting deeper than `limit` needs at
 * least that many, so a text with fewer cannot be too deep; indexOf runs natively, several times
 * faster than a scan in JavaScript, and a typical reply or event has a handful of brackets.
 */
function moreOpeningsThan(text: string, limit: number): boolean {
  let count = 0;
  for (let at = text.indexOf('{'); at !== -1; at = text.indexOf('{', at + 1)) if (++count > limit) return true;
  for (let at = text.indexOf('['); at !== -1; at = text.indexOf('[', at + 1)) if (++count > limit) return true;
  return false;
}

/** True when the JSON text nests objects/arrays deeper than `maxDepth`; one linear pass, strings skipped. */
export function jsonTextTooDeep(text: string, maxDepth = MAX_JSON_DEPTH): boolean {
  if (!moreOpeningsThan(text, maxDepth)) return false;
  let depth = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) i = jsonStringEnd(text, i);
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth += 1;
      if (depth > maxDepth) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth -= 1;
  }
  return false;
}

/** What is wrong with a value that is about to be sent as JSON: where, what it is, what it must be. */
export interface JsonProblem {
  /** Stable name of the problem, for message catalogs. */
  kind: 'notFinite' | 'undefined' | 'bigint' | 'notJsonType' | 'tooDeep' | 'cycle' | 'notPlain';
  /** The property, e.g. "params.point[0]". */
  property: string;
  /** What was found, e.g. "NaN", "a Buffer", "undefined". */
  found: string;
  /** What it must be instead. */
  expected: string;
}

/**
 * An object literal or JSON.parse result: its prototype is Object.prototype of any realm (a
 * function node builds objects in its own) or null. Buffers, Dates and other class instances are not.
 */
export function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as object | null;
  return proto === null || Object.getPrototypeOf(proto) === null;
}

function kindOf(value: object): string {
  if (Buffer.isBuffer(value)) return 'a Buffer';
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' ? `a ${name}` : 'an object of an unknown class';
}

function propertyPath(parent: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

/**
 * The first part of `value` that JSON would change or cannot hold, or undefined when it goes through
 * unchanged: NaN/Infinity (sent as null), undefined (dropped or null), functions, symbols, bigints,
 * Buffers, Dates and other class instances, cycles and nesting deeper than `maxDepth`.
 */
export function findJsonProblem(value: unknown, root: string, maxDepth = MAX_JSON_DEPTH): JsonProblem | undefined {
  const ancestors = new Set<object>();
  const visit = (item: unknown, where: string, depth: number): JsonProblem | undefined => {
    switch (typeof item) {
      case 'string':
      case 'boolean':
        return undefined;
      case 'number':
        return Number.isFinite(item) ? undefined : { kind: 'notFinite', property: where, found: String(item), expected: 'a finite number' };
      case 'undefined':
        return { kind: 'undefined', property: where, found: 'undefined', expected: 'a value (or leave the property out)' };
      case 'bigint':
        return { kind: 'bigint', property: where, found: 'a BigInt', expected: 'a number or a string' };
      case 'function':
      case 'symbol':
        return {
          kind: 'notJsonType',
          property: where,
          found: `a ${typeof item}`,
          expected: 'a JSON value (text, number, true/false, null, list or object)',
        };
    }
    if (item === null) return undefined;
    const object = item as object;
    if (depth >= maxDepth) return { kind: 'tooDeep', property: where, found: `nesting deeper than ${maxDepth} levels`, expected: 'a flatter value' };
    if (ancestors.has(object)) return { kind: 'cycle', property: where, found: 'a reference to itself', expected: 'a value without cycles' };
    if (!Array.isArray(object) && !isPlainRecord(object)) {
      return {
        kind: 'notPlain',
        property: where,
        found: kindOf(object),
        expected: 'a plain JSON value: convert it first (e.g. to text, a number or a list)',
      };
    }
    ancestors.add(object);
    try {
      if (Array.isArray(object)) {
        for (let i = 0; i < object.length; i += 1) {
          const problem = visit(object[i], `${where}[${i}]`, depth + 1);
          if (problem) return problem;
        }
        return undefined;
      }
      for (const key of Object.keys(object)) {
        const problem = visit((object as Record<string, unknown>)[key], propertyPath(where, key), depth + 1);
        if (problem) return problem;
      }
      return undefined;
    } finally {
      ancestors.delete(object);
    }
  };
  return visit(value, root, 0);
}

/**
 * A short, never-throwing rendering of a decoded value for a log line: at most `maxChars`
 * characters, and no deeper than a few levels (JSON.stringify of a hostile reply can overflow the stack).
 */
export function previewJson(value: unknown, maxChars = 200): string {
  let out = '';
  const full = (): boolean => out.length >= maxChars;
  const write = (text: string): void => {
    if (!full()) out += text;
  };
  const visit = (item: unknown, depth: number): void => {
    if (full()) return;
    if (item === null || typeof item !== 'object') {
      write(typeof item === 'string' ? JSON.stringify(item.length > maxChars ? item.slice(0, maxChars) : item) : String(item));
      return;
    }
    if (depth >= 4) {
      write(Array.isArray(item) ? '[…]' : '{…}');
      return;
    }
    if (Array.isArray(item)) {
      write('[');
      for (let i = 0; i < item.length && !full(); i += 1) {
        if (i > 0) write(',');
        visit(item[i], depth + 1);
      }
      write(']');
      return;
    }
    write('{');
    let first = true;
    for (const key of Object.keys(item)) {
      if (full()) break;
      if (!first) write(',');
      first = false;
      write(`${JSON.stringify(key.length > 60 ? key.slice(0, 60) : key)}:`);
      visit((item as Record<string, unknown>)[key], depth + 1);
    }
    write('}');
  };
  visit(value, 0);
  return out.length > maxChars ? `${out.slice(0, maxChars - 1)}…` : out;
}
