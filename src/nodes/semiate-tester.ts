import type { ConnectionStatus } from '../protocols/common/reconnecting-connection';
import { SemiAteTester, FAILURE_STATES, type TesterOptions } from '../protocols/semiate';
import { ConnectionRegistry } from '../nodered/connection-registry';
import { registerConnectionTest } from '../nodered/connection-test';
import { onClose } from '../nodered/lifecycle';
import { settingsNumber } from '../nodered/properties';
import type { TesterConfigNode } from '../nodered/config-nodes';
import type { NodeDef, NodeStatus, RedAPI, RedNode } from '../nodered/red-types';
import { connectionDot, shortText } from '../nodered/status';
import { InstrumentError } from '../protocols/common/errors';

/** Busy states show a ring, failures red, everything else settled (ready, initialized) a green dot; states are the tester's own words. */
function stateDot(RED: RedAPI, connection: ConnectionStatus, state: string | undefined): NodeStatus {
  if (connection.state !== 'connected' || state === undefined) return connectionDot(RED, connection);
  if (FAILURE_STATES.includes(state)) return { fill: 'red', shape: 'dot', text: state };
  if (state === 'ready' || state === 'initialized') return { fill: 'green', shape: 'dot', text: state };
  if (state === 'testing') return { fill: 'blue', shape: 'dot', text: state };
  return { fill: 'yellow', shape: 'ring', text: state };
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

/** What a probe reports when the connection gives up: the websocket's errors already start with its URL; the MQTT client's do not. */
function failureAt(endpoint: string, url: string, status: ConnectionStatus): Error {
  const text = status.error ?? '';
  if (text.startsWith(url)) return status.failure ?? new Error(text);
  return new InstrumentError(
    'CONNECT_FAILED',
    `${endpoint}: ${text}`,
    { reason: 'endpointFailed', where: endpoint },
    { cause: status.failure ?? new Error(text) },
  );
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
      if (gaveUp && status.error) reject(failureAt(tester.endpoint, options.url, status));
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
        const show = (): void => registry.setStatus(stateDot(RED, tester.status, tester.state));
        tester.on('status', show);
        tester.on('state', show);
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
  registerConnectionTest(RED, 'semiate-tester', async (config, credentials) =>
    probeTester(RED, testerOptionsOf(config, credentials, settingsNumber(RED, 'semiateTesterReconnectTime', 2000))),
  );
};
