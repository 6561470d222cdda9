import { InstrumentError, errorMessage } from '../protocols/common/errors';
import type { RedAPI } from './red-types';

/**
 * Node-RED names each node type's catalog "<package>/<type>" and loads only those, one file per
 * type. Texts every node shares (connection states, "not configured", the reasons of errors)
 * therefore live in one type's catalog, under a top-level "labwire" section, and are looked up
 * by full namespace from any node.
 */
export const PACKAGE_NAME = '@labwire/node-red-instruments';
export const SHARED_CATALOG_TYPE = 'bpwin-events';
export const SHARED_SECTION = 'labwire';
const SHARED = `${PACKAGE_NAME}/${SHARED_CATALOG_TYPE}:${SHARED_SECTION}.`;

/** Node-RED's own texts for connection states ("connected", "connecting", "disconnected", "error"). */
const CORE_STATUS = 'node-red:common.status.';

export type Substitutions = Record<string, string | number>;

/**
 * A catalog text, or undefined when the runtime has none: i18next answers a missing key with the
 * key itself, and leaves a placeholder it has no value for as `__name__`.
 */
export function lookup(RED: RedAPI, key: string, substitutions?: Substitutions): string | undefined {
  const text = RED._(key, substitutions);
  if (typeof text !== 'string' || text === '') return undefined;
  const bare = key.slice(key.indexOf(':') + 1);
  if (text === key || text === bare || /__\w+__/.test(text)) return undefined;
  return text;
}

/** A shared text ("status.notConfigured", "test.noAnswer"…); the key itself if the catalog lacks it. */
export function sharedText(RED: RedAPI, key: string, substitutions?: Substitutions): string {
  return lookup(RED, SHARED + key, substitutions) ?? `${SHARED_SECTION}.${key}`;
}

export type CoreStatus = 'connected' | 'not-connected' | 'disconnected' | 'connecting' | 'error' | 'ok';

/** Node-RED's own word for a connection state, as its core nodes show it. */
export function coreStatusText(RED: RedAPI, state: CoreStatus): string {
  return lookup(RED, CORE_STATUS + state) ?? state;
}

/** The reason key of an error (InstrumentError.details.reason), if it has one. */
export function reasonOf(err: unknown): string | undefined {
  return err instanceof InstrumentError && typeof err.details.reason === 'string' ? err.details.reason : undefined;
}

/**
 * An error's details as catalog substitutions: text and numbers as they are, and `cause` as the
 * localized text of the error's cause (so "__where__: __cause__" reads in one language).
 */
function substitutionsOf(RED: RedAPI, err: InstrumentError, depth: number): Substitutions {
  const out: Substitutions = {};
  for (const [name, value] of Object.entries(err.details)) {
    if (typeof value === 'string' || typeof value === 'number') out[name] = value;
    else if (typeof value === 'boolean') out[name] = String(value);
  }
  if (err.cause !== undefined && depth < 4) out.cause = localize(RED, err.cause, depth + 1);
  return out;
}

/** The catalog text of an error's reason: its sentence ("errors") or its short status form ("short"). */
export function reasonText(RED: RedAPI, err: unknown, form: 'errors' | 'short', depth = 0): string | undefined {
  const reason = reasonOf(err);
  if (reason === undefined) return undefined;
  return lookup(RED, `${SHARED}${form}.${reason}`, substitutionsOf(RED, err as InstrumentError, depth));
}

function localize(RED: RedAPI, err: unknown, depth: number): string {
  return reasonText(RED, err, 'errors', depth) ?? errorMessage(err);
}

/** The sentence for an error in the runtime's language: catalog entry of its reason, else its English message. */
export function errorText(RED: RedAPI, err: unknown): string {
  return localize(RED, err, 0);
}

/**
 * The error a Catch node sees: the same code and details with the sentence in the runtime's
 * language; the original (English) error stays reachable as `cause` (msg.error.cause). Errors
 * without a catalog entry, and those whose text does not change, pass through untouched.
 */
export function localizedError(RED: RedAPI, err: unknown): Error {
  if (!(err instanceof InstrumentError) || reasonOf(err) === undefined) return err instanceof Error ? err : new Error(errorMessage(err));
  const text = errorText(RED, err);
  if (text === err.message) return err;
  const localized = new InstrumentError(err.code, text, err.details, { cause: err });
  if (err.stack) localized.stack = `InstrumentError: ${text}\n${err.stack.split('\n').slice(1).join('\n')}`;
  return localized;
}
