import { InstrumentError, redactUrl } from '../protocols/common/errors';
import { withTimeout } from '../protocols/common/timers';
import type { AdminRequest } from './express-types';
import { errorText, reasonOf } from './i18n';
import { SlidingWindowLimit } from './rate-limit';
import type { NodeDef, RedAPI } from './red-types';

/** Tries the connection the dialog describes; resolves with a short answer in the runtime's language, rejects with the reason. */
export type ConnectionProbe = (config: Record<string, unknown>, credentials: Record<string, string>) => Promise<string>;

export interface ConnectionTestOptions {
  /**
   * Where the probe would connect for a config (host and port, URL, broker and TLS, serial path),
   * normalised so that the dialog's strings and a flow file's numbers compare equal. A stored
   * secret is only ever sent to the address of the deployed node it belongs to. May throw on an
   * unusable config: that is never the stored address.
   */
  address: (config: Record<string, unknown>) => string;
  /** Time the whole probe may take. */
  timeoutMs?: number;
}

/** The editor sends this placeholder for a password field the user has not retyped. */
const UNCHANGED_PASSWORD = '__PWRD__';

/** Tests one editor user may run against one node, and in all, per minute: enough for a person, too few for a scan. */
export const TESTS_PER_NODE = 10;
export const TESTS_PER_USER = 30;
const WINDOW_MS = 60_000;

interface Limits {
  perNode: SlidingWindowLimit;
  perUser: SlidingWindowLimit;
}

/** One pair of limits per admin app (one per runtime), shared by every config node type's endpoint. */
const limitsByApp = new WeakMap<object, Limits>();

function limitsOf(RED: RedAPI): Limits {
  let limits = limitsByApp.get(RED.httpAdmin);
  if (!limits) {
    limits = { perNode: new SlidingWindowLimit(TESTS_PER_NODE, WINDOW_MS), perUser: new SlidingWindowLimit(TESTS_PER_USER, WINDOW_MS) };
    limitsByApp.set(RED.httpAdmin, limits);
  }
  return limits;
}

export function connectionTestPath(type: string): string {
  return `/labwire-instruments/${type}/test`;
}

function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** The editor user (with adminAuth) or, without it, the address the request came from. */
function userOf(req: AdminRequest): string {
  const name = req.user?.username;
  return typeof name === 'string' && name !== '' ? `user ${name}` : `ip ${req.ip ?? 'unknown'}`;
}

function addressOf(options: ConnectionTestOptions, config: Record<string, unknown>): string | undefined {
  try {
    return options.address(config);
  } catch {
    return undefined;
  }
}

/** The config of the deployed node `id`, if it is one of `type` (a node of another type keeps its secrets). */
function deployedConfig(RED: RedAPI, type: string, id: string | undefined): NodeDef | undefined {
  if (id === undefined) return undefined;
  let found: NodeDef | undefined;
  RED.nodes.eachNode((def) => {
    if (def.id === id && def.type === type) found = def;
  });
  return found;
}

export interface DialOutRecord {
  type: string;
  id?: string;
  address?: string;
  /** Whether a stored secret was sent. */
  storedSecret?: boolean;
  result: 'ok' | 'failed' | 'limited' | 'secretNotSent';
  reason?: string;
}

/** Node-RED's audit log (settings.js logging: { console: { audit: true } }): who made the runtime dial where. Never a secret. */
export function auditDialOut(RED: RedAPI, req: AdminRequest, record: DialOutRecord): void {
  const { address, ...rest } = record;
  RED.log.audit({ event: 'labwire.connection-test', ...rest, ...(address === undefined ? {} : { address: redactUrl(address) }) }, req);
}

/**
 * Count one request that makes the runtime dial out for an editor user, or refuse it: at most
 * TESTS_PER_NODE per node and TESTS_PER_USER in all per minute. Returns the refusal, localized by its reason.
 */
export function admitDialOut(RED: RedAPI, req: AdminRequest, type: string, id: string | undefined): InstrumentError | undefined {
  const limits = limitsOf(RED);
  const user = userOf(req);
  const node = `${user} ${type} ${id ?? '(new)'}`;
  const waitMs = Math.max(limits.perNode.waitMs(node), limits.perUser.waitMs(user));
  if (waitMs > 0) {
    const seconds = Math.ceil(waitMs / 1000);
    return new InstrumentError('BAD_INPUT', `too many connection tests in a minute: try again in ${seconds} s`, {
      reason: 'testRateLimited',
      seconds,
    });
  }
  limits.perNode.record(node);
  limits.perUser.record(user);
  return undefined;
}

/**
 * The stored credentials the probe may use and the ones the dialog sent. A field the dialog left
 * as the placeholder (or left out) takes the stored value only when the dialog's address is the
 * deployed node's own; otherwise the answer is that the secret must be typed again.
 */
function credentialsFor(
  sent: Record<string, unknown>,
  stored: Record<string, string | undefined>,
  sameAddress: boolean,
): { credentials: Record<string, string>; storedSecret: boolean; withheld: boolean } {
  const credentials: Record<string, string> = {};
  let storedSecret = false;
  let withheld = false;
  for (const key of new Set([...Object.keys(sent), ...Object.keys(stored)])) {
    const value = sent[key];
    const kept = stored[key];
    if (typeof value === 'string' && value !== UNCHANGED_PASSWORD) credentials[key] = value;
    else if (typeof kept === 'string' && kept !== '') {
      if (!sameAddress) withheld = true;
      else {
        credentials[key] = kept;
        storedSecret = true;
      }
    }
  }
  return { credentials, storedSecret, withheld };
}

/**
 * Serve a config node's "Test connection" button: POST {id, config, credentials} and get
 * {ok, message}. Only editors allowed to change that node type may use it, a limited number of
 * times a minute, and every use is audited. Stored secrets fill in fields the dialog left as the
 * unchanged-password placeholder only for the deployed node's own address, and never travel back.
 */
export function registerConnectionTest(RED: RedAPI, type: string, probe: ConnectionProbe, options: ConnectionTestOptions): void {
  const timeoutMs = options.timeoutMs ?? 10_000;
  RED.httpAdmin.post(connectionTestPath(type), RED.auth.needsPermission(`${type}.write`), (req, res) => {
    const body = asRecord(req.body);
    const id = typeof body.id === 'string' ? body.id : undefined;
    const config = asRecord(body.config);
    const address = addressOf(options, config);
    const answer = (ok: boolean, message: string, record: Omit<DialOutRecord, 'type' | 'id' | 'address'>): void => {
      auditDialOut(RED, req, { type, id, address, ...record });
      res.json({ ok, message });
    };
    const limited = admitDialOut(RED, req, type, id);
    if (limited) return answer(false, errorText(RED, limited), { result: 'limited' });

    const deployed = deployedConfig(RED, type, id);
    const storedAddress = deployed && addressOf(options, deployed);
    const sameAddress = address !== undefined && address === storedAddress;
    const stored = (deployed && id ? RED.nodes.getCredentials(id) : undefined) ?? {};
    const { credentials, storedSecret, withheld } = credentialsFor(asRecord(body.credentials), stored, sameAddress);
    if (withheld) {
      const refusal = new InstrumentError(
        'BAD_INPUT',
        'a saved password or passphrase is only sent to the saved address: type it again to test this address',
        { reason: 'testSecretOtherAddress' },
      );
      return answer(false, errorText(RED, refusal), { result: 'secretNotSent' });
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
      (message) => answer(true, message, { storedSecret, result: 'ok' }),
      (err: unknown) => answer(false, scrub(errorText(RED, err), credentials), { storedSecret, result: 'failed', reason: reasonOf(err) }),
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
