import { InstrumentError } from '../common/errors';

/** The REST endpoints BPWin offers (all GET). */
export const ENDPOINTS = {
  health: '/health',
  version: '/version',
  'machine-name': '/data/machine-name',
  'job-name': '/data/job-name',
  'selected-device': '/data/selected-device',
  'job-stats': '/data/job-stats',
  'system-info': '/data/system-info',
} as const;

export type EndpointName = keyof typeof ENDPOINTS;

export const ENDPOINT_NAMES = Object.keys(ENDPOINTS) as EndpointName[];

/** Accepts "job-stats", "/data/job-stats", "data/job-stats" (any case); refuses anything else before a call is made. */
export function parseEndpointName(input: unknown): EndpointName {
  if (typeof input !== 'string' || input.trim() === '') {
    const list = ENDPOINT_NAMES.join(', ');
    throw new InstrumentError('BAD_INPUT', `choose a BPWin request in the node or set msg.topic to one of: ${list}`, {
      reason: 'bpwinNoRequest',
      list,
    });
  }
  const name = input
    .trim()
    .toLowerCase()
    .replace(/^\/+/, '')
    .replace(/^data\//, '');
  if ((ENDPOINT_NAMES as string[]).includes(name)) return name as EndpointName;
  const list = ENDPOINT_NAMES.join(', ');
  throw new InstrumentError('BAD_INPUT', `"${input}" is not a BPWin request; use one of: ${list}`, {
    reason: 'bpwinUnknownRequest',
    topic: input,
    list,
  });
}
