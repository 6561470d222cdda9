import { InstrumentError } from '../protocols/common/errors';
import { withTimeout } from '../protocols/common/timers';
import { errorText } from './i18n';
import type { RedAPI } from './red-types';

/** Tries the connection the dialog describes; resolves with a short answer in the runtime's language, rejects with the reason. */
export type ConnectionProbe = (config: Record<string, unknown>, credentials: Record<string, string>) => Promise<string>;

/** The editor sends this placeholder for a password field the user has not retyped. */
const UNCHANGED_PASSWORD = '__PWRD__';

export function connectionTestPath(type: string): string {
  return `/labwire-instruments/${type}/test`;
}

function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/**
 * Serve a config node's "Test connection" button: POST {id, config, credentials} and get
 * {ok, message}. Only editors allowed to change that node type may use it. Stored secrets fill in
 * fields the dialog left as the unchanged-password placeholder, and never travel back.
 */
export function registerConnectionTest(RED: RedAPI, type: string, probe: ConnectionProbe, timeoutMs = 10_000): void {
  RED.httpAdmin.post(connectionTestPath(type), RED.auth.needsPermission(`${type}.write`), (req, res) => {
    const body = asRecord(req.body);
    const id = typeof body.id === 'string' ? body.id : undefined;
    const config = asRecord(body.config);
    const sent = asRecord(body.credentials);
    const stored = (id ? RED.nodes.getCredentials(id) : undefined) ?? {};
    const credentials: Record<string, string> = {};
    for (const key of new Set([...Object.keys(sent), ...Object.keys(stored)])) {
      const value = sent[key];
      if (typeof value === 'string' && value !== UNCHANGED_PASSWORD) credentials[key] = value;
      else if (typeof stored[key] === 'string') credentials[key] = stored[key];
    }
    // A probe that throws before its first await (bad options) still answers {ok: false}, not HTTP 500.
    const probing = Promise.resolve().then(() => probe(config, credentials));
    withTimeout(probing, timeoutMs, () =>
      timeoutMs >= 1000
        ? new InstrumentError('TIMEOUT', `no answer within ${Math.round(timeoutMs / 1000)} s`, {
            reason: 'noAnswerWithinSeconds',
            seconds: Math.round(timeoutMs / 1000),
          })
        : new InstrumentError('TIMEOUT', `no answer within ${timeoutMs} ms`, { reason: 'noAnswerWithinMs', ms: timeoutMs }),
    ).then(
      (message) => res.json({ ok: true, message }),
      (err: unknown) => res.json({ ok: false, message: scrub(errorText(RED, err), credentials) }),
    );
  });
}

/** Belt and braces: an error text must never echo a secret back to the browser. */
function scrub(text: string, credentials: Record<string, string>): string {
  let out = text;
  for (const secret of Object.values(credentials)) {
    if (secret.length >= 3) out = out.split(secret).join('•••');
  }
  return out;
}
