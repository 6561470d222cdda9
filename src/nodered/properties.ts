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
