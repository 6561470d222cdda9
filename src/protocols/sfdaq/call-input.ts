import crypto from 'node:crypto';
import { isPlainObject, type Params } from './validate';

/**
 * Where a call's parameters come from when a flow drives it: the rule the help states.
 *
 * - Parameters: the node's fields, then the keys of an object in msg.payload (a key wins over the
 *   field of the same name). A payload that is, unchanged, the reply of an earlier call is not used:
 *   wiring one call straight into another runs the second with its own fields, instead of sending
 *   it the first one's reply ("get_current_run_number has no parameter run_number"). A payload a
 *   function node built or changed is used as usual.
 * (msg.timeout is read by the node, with the reader every node of the package shares.)
 */

/** Kept on a reply (invisible to JSON and the debug pane; copied when Node-RED clones a msg). */
const REPLY_MARK = Symbol.for('labwire.sfdaq.reply');

// The one-shot crypto.hash (Node 20.12 and later) skips the Hash object createHash builds, which
// costs more than hashing a typical reply; earlier Node 20 releases lack it.
const hashOnce: ((algorithm: string, data: string, encoding: 'base64') => string) | undefined = (crypto as Partial<typeof crypto>).hash;

function fingerprint(value: unknown): string {
  const text = JSON.stringify(value) ?? '';
  return hashOnce ? hashOnce('sha1', text, 'base64') : crypto.createHash('sha1').update(text).digest('base64');
}

/** Mark a result as a reply, so a later call recognises it in msg.payload while it is unchanged. */
export function markReply<T extends object>(result: T): T {
  Object.defineProperty(result, REPLY_MARK, { value: fingerprint(result), enumerable: true, configurable: true, writable: true });
  return result;
}

/** True when `payload` is an earlier call's reply that nobody has changed since. */
export function isUnchangedReply(payload: unknown): boolean {
  if (!isPlainObject(payload)) return false;
  const mark = (payload as Record<symbol, unknown>)[REPLY_MARK];
  return typeof mark === 'string' && mark === fingerprint(payload);
}

export interface CallInput {
  /** The node's fields, already evaluated. */
  fields: Params;
  payload: unknown;
}

export interface CallPlan {
  params: Params;
  /** msg.payload was left out because it is an earlier call's reply. */
  payloadWasReply: boolean;
}

/** The parameters of one call from a msg. */
export function planCall(input: CallInput): CallPlan {
  const payloadWasReply = isUnchangedReply(input.payload);
  const fromPayload = !payloadWasReply && isPlainObject(input.payload) ? input.payload : {};
  // Own keys only, copied as data: an own "__proto__" key stays a key (and is refused by validation);
  // any other key is assigned, which is several times cheaper than defining it.
  const params: Params = { ...input.fields };
  for (const key of Object.keys(fromPayload)) {
    if (key === '__proto__') Object.defineProperty(params, key, { value: fromPayload[key], enumerable: true, writable: true });
    else params[key] = fromPayload[key];
  }
  return { params, payloadWasReply };
}
