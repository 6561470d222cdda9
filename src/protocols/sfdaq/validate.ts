import { InstrumentError, type ReasonDetails } from '../common/errors';
import { findJsonProblem } from '../common/json-limits';
import { ALLOWED_RATE_MULTIPLICATORS, MAX_BODY_BYTES, MAX_PULSEID_DELTA, USER_TAG_PATTERN } from './routes';
import type { ParamSpec, ParamType, RouteSpec } from './routes';

export type Params = Record<string, unknown>;

function bad(message: string, details: ReasonDetails): InstrumentError {
  return new InstrumentError('BAD_INPUT', message, details);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  // JSON would show NaN and Infinity as null.
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function toInteger(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  // Typed inputs of type "str" deliver digits as text; the broker itself int()s pulse ids.
  if (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) && Number.isSafeInteger(Number(value))) return Number(value);
  return undefined;
}

const DESCRIBE: Record<ParamType, string> = {
  string: 'a non-empty string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  object: 'an object (dict)',
  'string[]': 'a list of strings',
  'integer[]': 'a list of integers',
  detectors: 'a dict of detector name → options, e.g. {"JF02T09V03": {}}',
  'detectors-or-list': 'a non-empty dict of detector name → options or a list of detector names',
};

/**
 * The catalog sentence for each expected type (the type's words are part of it, so each language says them its own way);
 * `as const` keeps the names literal, so test/common/error-reasons.spec.ts checks each against the catalog.
 */
const NOT_OF_TYPE = {
  string: 'sfdaqParamNotString',
  integer: 'sfdaqParamNotInteger',
  number: 'sfdaqParamNotNumber',
  boolean: 'sfdaqParamNotBoolean',
  object: 'sfdaqParamNotObject',
  'string[]': 'sfdaqParamNotStrings',
  'integer[]': 'sfdaqParamNotIntegers',
  detectors: 'sfdaqParamNotDetectors',
  'detectors-or-list': 'sfdaqParamNotDetectorsOrList',
} as const satisfies Record<ParamType, string>;

/** The value converted to what the broker expects, or undefined when it cannot be. */
function coerce(type: ParamType, value: unknown): unknown {
  switch (type) {
    case 'string':
      return typeof value === 'string' && value.trim() !== '' ? value : undefined;
    case 'integer':
      return toInteger(value);
    case 'number': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
    }
    case 'boolean':
      if (typeof value === 'boolean') return value;
      return value === 'true' ? true : value === 'false' ? false : undefined;
    case 'object':
      return isPlainObject(value) ? value : undefined;
    case 'string[]':
      return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined;
    case 'integer[]': {
      if (!Array.isArray(value)) return undefined;
      const ints = value.map(toInteger);
      return ints.every((v) => v !== undefined) ? ints : undefined;
    }
    case 'detectors':
      return isPlainObject(value) && Object.values(value).every(isPlainObject) ? value : undefined;
    case 'detectors-or-list': {
      // Older brokers call .keys() on it, so a list is sent as a dict of empty options.
      const dict =
        Array.isArray(value) && value.every((v) => typeof v === 'string' && v !== '')
          ? Object.fromEntries(value.map((name: string) => [name, {}]))
          : coerce('detectors', value);
      // A pedestal of no detector is refused by the broker ("no detectors defined").
      return isPlainObject(dict) && Object.keys(dict).length > 0 ? dict : undefined;
    }
  }
}

function checkParam(route: RouteSpec, spec: ParamSpec, value: unknown): unknown {
  const converted = coerce(spec.type, value);
  if (converted === undefined) {
    const got = show(value);
    throw bad(`${spec.name} for ${route.operation} must be ${DESCRIBE[spec.type]}, got ${got}`, {
      reason: NOT_OF_TYPE[spec.type],
      parameter: spec.name,
      operation: route.operation,
      got,
    });
  }
  return converted;
}

/** Checks the broker makes itself, done here so a bad request is never sent. */
function checkRules(route: RouteSpec, params: Params): void {
  const { start_pulseid: start, stop_pulseid: stop, rate_multiplicator: rate, user_tag: tag, run_number: run } = params;
  if (typeof start === 'number' && typeof stop === 'number') {
    const delta = stop - start;
    const operation = route.operation;
    if (delta < 0) {
      throw bad(`stop_pulseid (${stop}) is before start_pulseid (${start}) for ${operation}`, {
        reason: 'sfdaqPulseOrder',
        parameter: 'stop_pulseid',
        operation,
        start,
        stop,
      });
    }
    if (delta > MAX_PULSEID_DELTA) {
      throw bad(`${operation} may cover at most ${MAX_PULSEID_DELTA} pulses; stop_pulseid - start_pulseid is ${delta}`, {
        reason: 'sfdaqTooManyPulses',
        parameter: 'stop_pulseid',
        operation,
        max: MAX_PULSEID_DELTA,
        delta,
      });
    }
  }
  if (rate !== undefined && !ALLOWED_RATE_MULTIPLICATORS.includes(rate as number)) {
    const allowed = ALLOWED_RATE_MULTIPLICATORS.join(', ');
    const got = show(rate);
    throw bad(`rate_multiplicator must be one of ${allowed}, got ${got}`, { reason: 'sfdaqBadRate', parameter: 'rate_multiplicator', allowed, got });
  }
  if (typeof tag === 'string' && !USER_TAG_PATTERN.test(tag)) {
    const got = show(tag);
    throw bad(`user_tag may contain only letters, digits, "_", "-", "+" and ".", got ${got}`, {
      reason: 'sfdaqBadUserTag',
      parameter: 'user_tag',
      got,
    });
  }
  if (typeof run === 'number' && run < 0) {
    throw bad(`run_number must not be negative, got ${run}`, { reason: 'sfdaqNegativeRun', parameter: 'run_number', run });
  }
}

/**
 * Validate and convert the parameters of one call. Returns the body to send (a new object);
 * throws InstrumentError BAD_INPUT naming the parameter and what is expected.
 */
export function validateParams(route: RouteSpec, params: Params, confirm?: unknown): Params {
  const known = new Map(route.params.map((p) => [p.name, p]));
  const out: Params = {};
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue;
    // Assigned to a plain object it would replace the prototype and supply "required" values unseen.
    if (name === '__proto__')
      throw bad(`"__proto__" is not a parameter name (of ${route.operation} or any operation); remove it from msg.payload`, {
        reason: 'badParameterName',
        parameter: name,
        operation: route.operation,
      });
    const spec = known.get(name);
    if (spec) {
      out[name] = checkParam(route, spec, value);
    } else if (route.passesExtraParams) {
      out[name] = value;
    } else if (route.params.length === 0) {
      throw bad(`${route.operation} takes no parameters, got "${name}"`, {
        reason: 'sfdaqTakesNoParameters',
        parameter: name,
        operation: route.operation,
      });
    } else {
      const takes = route.params.map((p) => p.name).join(', ');
      throw bad(`${route.operation} has no parameter "${name}" (it takes ${takes})`, {
        reason: 'sfdaqNoSuchParameter',
        parameter: name,
        operation: route.operation,
        takes,
      });
    }
    // JSON would send NaN as null and a Buffer as {"type":"Buffer",…}: refuse what would not arrive as written.
    const problem = findJsonProblem(out[name], name);
    if (problem)
      throw bad(`${problem.property} for ${route.operation} is ${problem.found}: it must be ${problem.expected}; nothing was sent`, {
        reason: 'parameterNotJson',
        parameter: name,
        operation: route.operation,
        ...problem,
      });
  }
  for (const spec of route.params) {
    if (spec.required && (!Object.hasOwn(out, spec.name) || out[spec.name] === undefined || out[spec.name] === null)) {
      throw bad(`${spec.name} is required for ${route.operation}`, {
        reason: 'sfdaqParameterRequired',
        parameter: spec.name,
        operation: route.operation,
      });
    }
  }
  checkRules(route, out);
  // Only a string confirms: String() would let ["p17502"] or any object whose toString names the pgroup pass.
  if (route.confirmParam !== undefined && (typeof confirm !== 'string' || confirm !== String(out[route.confirmParam]))) {
    const value = String(out[route.confirmParam]);
    throw bad(`${route.operation} is irreversible: set the confirmation (msg.confirm) to the ${route.confirmParam} "${value}" to run it`, {
      reason: 'sfdaqNotConfirmed',
      parameter: 'confirm',
      operation: route.operation,
      confirmParam: route.confirmParam,
      value,
    });
  }
  const size = Buffer.byteLength(JSON.stringify(out), 'utf8');
  if (size > MAX_BODY_BYTES) {
    throw bad(`the ${route.operation} request is ${size} bytes; the broker refuses bodies over ${MAX_BODY_BYTES} bytes`, {
      reason: 'sfdaqRequestTooLarge',
      operation: route.operation,
      size,
      max: MAX_BODY_BYTES,
    });
  }
  return out;
}
