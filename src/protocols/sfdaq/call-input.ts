import { createHash } from 'node:crypto';
import { timeoutSecondsToMs } from '../common/timeout';
import { isPlainObject, type Params } from './validate';

/**
 * Where a call's parameters and timeout come from when a flow drives it: the rule the help states.
 *
 * - Parameters: the node's fields, then the keys of an object in msg.payload (a key wins over the
 *   field of the same name). A payload that is, unchanged, the reply of an earlier call is not used:
 *   wiring one call straight into another runs the second with its own fields, instead of sending
 *   it the first one's reply ("get_current_run_number has no parameter run_number"). A payload a
 *   function node built or changed is used as usual.
 * - Timeout: msg.timeout in seconds (fractions allowed), like every timeout of the package.
 */

/** Kept on a reply (invisible to JSON and the debug pane; copied when Node-RED clones a msg). */
const REPLY_MARK = Symbol.for('labwire.sfdaq.reply');

function fingerprint(value: unknown): string {
  return createHash('sha1')
    .update(JSON.stringify(value) ?? '')
    .digest('base64');
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
  /** msg.timeout as it came. */
  timeout: unknown;
}

export interface CallPlan {
  params: Params;
  /** Undefined: the broker configuration's timeout. */
  timeoutMs: number | undefined;
  /** msg.payload was left out because it is an earlier call's reply. */
  payloadWasReply: boolean;
}

/** The parameters and timeout of one call from a msg; refuses a bad msg.timeout before anything is sent. */
export function planCall(input: CallInput): CallPlan {
  const timeoutMs = timeoutSecondsToMs(input.timeout, 'msg.timeout');
  const payloadWasReply = isUnchangedReply(input.payload);
  const fromPayload = !payloadWasReply && isPlainObject(input.payload) ? input.payload : {};
  // Own keys only, copied as data: an own "__proto__" key stays a key (and is refused by validation).
  const params: Params = { ...input.fields };
  for (const key of Object.keys(fromPayload)) Object.defineProperty(params, key, { value: fromPayload[key], enumerable: true, writable: true });
  return { params, timeoutMs, payloadWasReply };
}
