import type { ConnectionStatus } from '../protocols/common/reconnecting-connection';
import { SemiAteTester, FAILURE_STATES, type TesterOptions } from '../protocols/semiate';
import { ConnectionRegistry } from '../nodered/connection-registry';
import { registerConnectionTest } from '../nodered/connection-test';
import { onClose } from '../nodered/lifecycle';
import { settingsNumber } from '../nodered/properties';
import type { TesterConfigNode } from '../nodered/config-nodes';
import type { NodeDef, NodeStatus, RedAPI, RedNode } from '../nodered/red-types';
import { errorText } from '../nodered/i18n';
import { connectionDot, errorDot, shortText } from '../nodered/status';
import { InstrumentError, failureAt } from '../protocols/common/errors';

/** Busy states show a ring, failures red, everything else settled (ready, initialized) a green dot; states are the tester's own words. */
function stateDot(RED: RedAPI, tester: SemiAteTester): NodeStatus {
  const connection = tester.status;
  // A refused login or subscription: the short reason in the user's language (the whole sentence goes to the log).
  if (tester.failure) return errorDot(RED, tester.failure, 'dot');
  const state = tester.state;
  if (connection.state !== 'connected' || state === undefined) return connectionDot(RED, connection);
  const text = shortText(state);
  if (FAILURE_STATES.includes(state)) return { fill: 'red', shape: 'dot', text };
  if (state === 'ready' || state === 'initialized') return { fill: 'green', shape: 'dot', text };
  if (state === 'testing') return { fill: 'blue', shape: 'dot', text };
  return { fill: 'yellow', shape: 'ring', text };
}

/** The dialog's fields (strings from the editor, booleans from its checkboxes) and credentials as tester options. */
function testerOptionsOf(config: Record<string, unknown>, credentials: Record<string, string | undefined>, reconnectMs: number): TesterOptions {
  return config.transport === 'mqtt'
    ? {
        transport: 'mqtt',
        url: String(config.broker ?? ''),
        deviceId: String(config.deviceId ?? ''),
        username: credentials.username,
        password: credentials.password,
        tls: config.tls === true || config.tls === 'true',
        tlsInsecure: config.tlsInsecure === true || config.tlsInsecure === 'true',
        reconnectMs,
      }
    : { transport: 'websocket', url: String(config.url ?? ''), reconnectMs };
}

/** Where the login goes: the broker and how far TLS is trusted (a password sent over unverified TLS could be read), or the websocket. */
function testerAddress(options: TesterOptions): string {
  return options.transport === 'mqtt'
    ? `mqtt ${options.url.trim()} tls=${options.tls} insecure=${options.tlsInsecure}`
    : `websocket ${options.url.trim()}`;
}

/** A short text for the master's answer to identify (the simulator names its device id). */
function identity(response: unknown): string {
  if (response && typeof response === 'object' && typeof (response as { name?: unknown }).name === 'string')
    return (response as { name: string }).name;
  return shortText(JSON.stringify(response) ?? 'no payload', 80);
}

/**
 * The "Test connection" button: connect, learn the master's state and, over MQTT, ask it to
 * identify itself. The client retries by itself, so the first failed attempt is the answer here.
 */
async function probeTester(RED: RedAPI, options: TesterOptions): Promise<string> {
  const tester = new SemiAteTester({ ...options, reconnectMs: options.transport === 'mqtt' ? 0 : options.reconnectMs, connectTimeoutMs: 5000 });
  let onStatus: (status: ConnectionStatus) => void = () => undefined;
  const failed = new Promise<never>((_resolve, reject) => {
    onStatus = (status) => {
      const gaveUp = status.state === 'failed' || status.state === 'closed' || status.state === 'reconnecting';
      // The failure names the address once, whether it came with one (websocket) or not (the MQTT client's).
      if (gaveUp && status.error) reject(failureAt('CONNECT_FAILED', tester.endpoint, status.failure ?? new Error(status.error)));
    };
    tester.on('status', onStatus);
  });
  failed.catch(() => undefined);
  try {
    const state = await Promise.race([tester.ready(5000), failed]).catch((err: unknown) => {
      // Over MQTT the broker may accept us while no master listens under this device id.
      if (tester.kind === 'mqtt' && tester.status.state === 'connected') {
        throw new InstrumentError(
          'TIMEOUT',
          `the broker ${tester.endpoint} accepted the login, but no Semi-ATE master answered for that device id; check the device id`,
          { reason: 'semiateNoMaster', where: tester.endpoint },
        );
      }
      throw err;
    });
    if (tester.kind !== 'mqtt') return RED._('semiate-tester.test.state', { state });
    try {
      const outcome = await Promise.race([tester.execute({ command: 'identify' }, { timeoutMs: 2000, connectTimeoutMs: 1000 }), failed]);
      return RED._('semiate-tester.test.identifies', { state, name: identity(outcome.response) });
    } catch {
      return RED._('semiate-tester.test.noIdentity', { state });
    }
  } finally {
    tester.off('status', onStatus);
    await tester.stop();
    tester.removeAllListeners();
  }
}

export = function (RED: RedAPI): void {
  function SemiAteTesterNode(this: RedNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this as TesterConfigNode;
    const credentials = this.credentials ?? {};
    const reconnectMs = settingsNumber(RED, 'semiateTesterReconnectTime', 2000);
    const options = testerOptionsOf(def, credentials, reconnectMs);
    node.transport = options.transport;
    const registry = new ConnectionRegistry<SemiAteTester>({
      open: () => {
        const tester = new SemiAteTester(options);
        const show = (): void => registry.setStatus(stateDot(RED, tester));
        tester.on('status', show);
        tester.on('state', show);
        // The status has room for a few words; the whole reason goes to the log.
        tester.on('status', (status) => {
          if (status.state === 'failed') node.error(tester.failure ? errorText(RED, tester.failure) : (status.error ?? 'failed'));
        });
        tester.on('warning', (warning) => node.warn(errorText(RED, warning)));
        tester.start();
        return tester;
      },
      close: async (tester) => {
        await tester.stop();
        tester.removeAllListeners();
      },
    });
    node.registry = registry;
    onClose(this, () => registry.closeAll(), { RED });
  }
  RED.nodes.registerType('semiate-tester', SemiAteTesterNode, {
    credentials: { username: { type: 'text' }, password: { type: 'password' } },
    settings: { semiateTesterReconnectTime: { value: 2000, exportable: false } },
  });
  registerConnectionTest(
    RED,
    'semiate-tester',
    async (config, credentials) => probeTester(RED, testerOptionsOf(config, credentials, settingsNumber(RED, 'semiateTesterReconnectTime', 2000))),
    { address: (config) => testerAddress(testerOptionsOf(config, {}, 0)) },
  );
};
