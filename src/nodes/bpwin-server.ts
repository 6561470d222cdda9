import { ConnectionRegistry } from '../nodered/connection-registry';
import { registerConnectionTest } from '../nodered/connection-test';
import { onClose } from '../nodered/lifecycle';
import { migrate, type Migration } from '../nodered/migrations';
import { configNumber, configTimeoutMs, settingsNumber } from '../nodered/properties';
import type { BpwinServerNode } from '../nodered/config-nodes';
import type { NodeDef, NodeStatus, RedAPI, RedNode } from '../nodered/red-types';
import { connectionDot } from '../nodered/status';
import { BpwinClient, DEFAULT_PORT, DEFAULT_RECHECK_MS, DEFAULT_TIMEOUT_MS, type BpwinClientOptions } from '../protocols/bpwin/client';
import { BpwinEventStream } from '../protocols/bpwin/event-stream';
import { request } from '../protocols/bpwin/requests';
import { InstrumentError } from '../protocols/common/errors';

/**
 * Version 1: the timeout in seconds, like every timeout of the package (it was milliseconds, 3000 by
 * default). A number stays the same time (3000 → 3); what was not a number stays as it was, so the
 * reader refuses it by name instead of a migration guessing.
 */
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    up: (config) => {
      const ms = typeof config.timeout === 'string' && config.timeout.trim() !== '' ? Number(config.timeout) : config.timeout;
      return typeof ms === 'number' && Number.isFinite(ms) ? { ...config, timeout: ms / 1000 } : config;
    },
  },
];

/** The dialog's fields (strings from the editor, numbers from a flow file) and credentials as client options; throws on a bad timeout. */
function clientOptionsOf(config: Record<string, unknown>, credentials: Record<string, string | undefined> | undefined): BpwinClientOptions {
  return {
    host: String(config.host ?? ''),
    port: configNumber(config.port, DEFAULT_PORT),
    passphrase: credentials?.passphrase ?? '',
    timeoutMs: configTimeoutMs(config.timeout, DEFAULT_TIMEOUT_MS, 'the BPWin server timeout'),
  };
}

/** The "Test connection" button: GET /health through the challenge handshake, then /version for the answer. */
async function probeBpwin(RED: RedAPI, options: BpwinClientOptions): Promise<string> {
  // Three requests at most (/auth, /health, /version) must fit in the button's 10 s.
  const client = new BpwinClient({ ...options, timeoutMs: Math.min(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 3000) });
  try {
    const health = await request(client, 'health');
    if (health.payload.Ready !== true) {
      const url = client.baseUrl;
      if (health.failure)
        throw new InstrumentError(
          'CONNECT_FAILED',
          `BPWin at ${url} is not ready: ${health.failure.message}`,
          { reason: 'bpwinUnreachable', url },
          { cause: health.failure },
        );
      // BPWin's own words when it gave any.
      const why = typeof health.payload.Message === 'string' && health.payload.Message !== '' ? health.payload.Message : `HTTP ${health.httpStatus}`;
      throw new InstrumentError('REMOTE', `BPWin at ${url} is not ready: ${why}`, { reason: 'bpwinNotReady', url, why });
    }
    let version = '';
    try {
      const { payload } = await request(client, 'version');
      const parts = [
        payload.API_Version !== undefined ? `API ${String(payload.API_Version)}` : '',
        payload.BPWin_Version !== undefined ? `BPWin ${String(payload.BPWin_Version)}` : '',
      ];
      version = parts.filter(Boolean).join(', ');
    } catch {
      // /health answered; an older BPWin without /version is still ready.
    }
    return version ? RED._('bpwin-server.test.readyVersion', { version }) : RED._('bpwin-server.test.ready');
  } finally {
    client.close();
  }
}

export = function (RED: RedAPI): void {
  function BpwinServer(this: RedNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this as BpwinServerNode;
    const config = migrate(def, MIGRATIONS);
    // settings.js, not a dialog field: how often to knock at BPWin with a refused passphrase is the administrator's policy.
    const recheckMs = settingsNumber(RED, 'bpwinRecheckTime', DEFAULT_RECHECK_MS);
    node.backoff = {
      initialMs: configNumber(config.reconnectMin, settingsNumber(RED, 'bpwinReconnectTime', 500)),
      maxMs: configNumber(config.reconnectMax, 30_000),
    };
    const refusedDot = (): NodeStatus => ({ fill: 'red', shape: 'dot', text: RED._('bpwin-server.status.refused') });
    const connected = (): NodeStatus => connectionDot(RED, { state: 'connected' });
    // A refusal is shown on every request user, and on the event users unless their stream is up (BPWin may leave /ws unguarded).
    const refused = (): void => {
      node.requests.setStatus(refusedDot());
      if (!node.events.current?.isConnected) node.events.setStatus(refusedDot());
    };
    // BPWin accepts again; a stream that stopped on the refusal reopens by itself and shows its own states.
    const accepted = (): void => {
      node.requests.setStatus(connected());
      if (node.events.current?.isConnected) node.events.setStatus(connected());
    };

    // One client for REST and /ws: one challenge, one refusal state, one slow re-check.
    // Options are read here, not in the constructor: a field the client refuses (a bad timeout, no host) is refused on the user nodes, with the reason.
    let shared: { client: BpwinClient; timeoutMs: number | undefined; users: number } | undefined;
    const acquire = (): BpwinClient => {
      if (!shared) {
        const options = { ...clientOptionsOf(config, node.credentials), recheckMs };
        const client = new BpwinClient(options);
        client.on('refused', refused);
        client.on('authenticated', accepted);
        shared = { client, timeoutMs: options.timeoutMs, users: 0 };
      }
      shared.users += 1;
      return shared.client;
    };
    const release = (client: BpwinClient): void => {
      if (shared?.client !== client) return;
      shared.users -= 1;
      if (shared.users > 0) return;
      shared = undefined;
      client.close();
    };

    node.requests = new ConnectionRegistry<BpwinClient>({ open: acquire, close: release });

    node.events = new ConnectionRegistry<BpwinEventStream>({
      open: () => {
        const client = acquire();
        const stream = new BpwinEventStream({ client, backoff: node.backoff, connectTimeoutMs: shared?.timeoutMs });
        stream.on('status', (status) => {
          if (status.state === 'failed' && client.isRefused) return;
          node.events.setStatus(connectionDot(RED, status));
        });
        stream.start();
        return stream;
      },
      close: async (stream) => {
        await stream.stop();
        release(stream.client);
      },
    });

    onClose(
      node,
      async () => {
        await Promise.all([node.requests.closeAll(), node.events.closeAll()]);
      },
      { RED },
    );
  }

  RED.nodes.registerType('bpwin-server', BpwinServer, { credentials: { passphrase: { type: 'password' } } });
  registerConnectionTest(RED, 'bpwin-server', async (config, credentials) => probeBpwin(RED, clientOptionsOf(config, credentials)), {
    address: (config) =>
      `${String(config.host ?? '')
        .trim()
        .toLowerCase()}:${configNumber(config.port, DEFAULT_PORT)}`,
  });
};
