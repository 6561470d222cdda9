import { timeoutSecondsToMs } from '../protocols/common/timeout';
import type { NodeMessage, RedAPI, RedNode } from './red-types';

/** Evaluate a typed-input property (msg/flow/global/env/str/num/json/bool) as a promise. */
export function evaluateProperty(RED: RedAPI, node: RedNode, msg: NodeMessage, value: unknown, type: string | undefined): Promise<unknown> {
  return new Promise((resolve, reject) => {
    RED.util.evaluateNodeProperty(value, type ?? 'str', node, msg, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

/** A reconnect time (ms) from settings.js, e.g. bpwinReconnectTime, else the default. */
export function settingsNumber(RED: RedAPI, key: string, fallback: number): number {
  const value = RED.settings[key];
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback;
}

/** Parse a number from a config field (the editor stores strings); fall back when empty or invalid. */
export function configNumber(value: unknown, fallback: number): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return fallback;
}

/**
 * msg.timeout (or another msg property named by `property`) as milliseconds: every timeout of the
 * package is given in seconds, fractions allowed. Absent (undefined or null) is "not given". Only a
 * number is taken: a text such as "5" or "5000 ms" in a msg is a flow's mistake (a change node set
 * to string, a unit of its own) and is refused, like NaN, Infinity, zero, negatives and anything a
 * timer cannot hold, naming the property, before anything is sent.
 */
export function msgTimeoutMs(msg: NodeMessage, property = 'timeout'): number | undefined {
  return timeoutSecondsToMs(msg[property], `msg.${property}`, { text: false });
}

/**
 * A timeout field of a config dialog (seconds; text from the editor, a number from a flow file) as
 * milliseconds; empty means `fallbackMs`. A value outside the accepted range is refused naming `field`.
 */
export function configTimeoutMs<F extends number | undefined>(value: unknown, fallbackMs: F, field: string): number | F {
  return timeoutSecondsToMs(value, field) ?? fallbackMs;
}
