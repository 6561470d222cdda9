import { ConnectionRegistry } from '../nodered/connection-registry';
import { registerConnectionTest } from '../nodered/connection-test';
import { onClose } from '../nodered/lifecycle';
import { configNumber, settingsNumber } from '../nodered/properties';
import type { BpwinServerNode } from '../nodered/config-nodes';
import type { NodeDef, NodeStatus, RedAPI, RedNode } from '../nodered/red-types';
import { connectionDot } from '../nodered/status';
import { BpwinClient, DEFAULT_PORT, DEFAULT_TIMEOUT_MS, type BpwinClientOptions } from '../protocols/bpwin/client';
import { BpwinEventStream } from '../protocols/bpwin/event-stream';
import { request } from '../protocols/bpwin/requests';
import { InstrumentError } from '../protocols/common/errors';

/** The dialog's fields (strings from the editor, numbers from a flow file) and credentials as client options. */
function clientOptionsOf(config: Record<string, unknown>, credentials: Record<string, string | undefined> | undefined): BpwinClientOptions {
  return {
    host: String(config.host ?? ''),
    port: configNumber(config.port, DEFAULT_PORT),
    passphrase: credentials?.passphrase ?? '',
    timeoutMs: configNumber(config.timeout, DEFAULT_TIMEOUT_MS),
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
    const clientOptions = clientOptionsOf(def, node.credentials);
    node.backoff = {
      initialMs: configNumber(def.reconnectMin, settingsNumber(RED, 'bpwinReconnectTime', 500)),
      maxMs: configNumber(def.reconnectMax, 30_000),
    };
    const refusedDot = (): NodeStatus => ({ fill: 'red', shape: 'dot', text: RED._('bpwin-server.status.refused') });
    // A refusal seen by REST or /ws is shown on every user node of this server.
    const refused = (): void => {
      node.requests.setStatus(refusedDot());
      node.events.setStatus(refusedDot());
    };

    node.requests = new ConnectionRegistry<BpwinClient>({
      open: () => {
        const client = new BpwinClient(clientOptions);
        client.on('refused', refused);
        client.on('authenticated', () => {
          node.requests.setStatus({});
          // The refusal was also put on the event nodes: give them back their stream's own state.
          const stream = node.events.current;
          if (stream && !stream.client.isRefused) node.events.setStatus(connectionDot(RED, stream.status));
        });
        return client;
      },
      close: (client) => client.close(),
    });

    node.events = new ConnectionRegistry<BpwinEventStream>({
      open: () => {
        const client = new BpwinClient(clientOptions);
        client.on('refused', refused);
        const stream = new BpwinEventStream({ client, backoff: node.backoff, connectTimeoutMs: clientOptions.timeoutMs });
        stream.on('status', (status) => {
          if (status.state === 'failed' && client.isRefused) return;
          node.events.setStatus(connectionDot(RED, status));
        });
        stream.start();
        return stream;
      },
      close: async (stream) => {
        await stream.stop();
        stream.client.close();
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
  registerConnectionTest(RED, 'bpwin-server', async (config, credentials) => probeBpwin(RED, clientOptionsOf(config, credentials)));
};
