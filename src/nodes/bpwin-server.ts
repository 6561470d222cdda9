import { ConnectionRegistry } from '../nodered/connection-registry';
import { onClose } from '../nodered/lifecycle';
import { configNumber, settingsNumber } from '../nodered/properties';
import type { NodeDef, NodeStatus, RedAPI, RedNode } from '../nodered/red-types';
import { connectionDot } from '../nodered/status';
import { BpwinClient, DEFAULT_PORT, DEFAULT_TIMEOUT_MS, type BpwinClientOptions } from '../protocols/bpwin/client';
import { BpwinEventStream } from '../protocols/bpwin/event-stream';
import type { BackoffOptions } from '../protocols/common/backoff';

/** What user nodes see of their server (they import this type only). */
interface BpwinServerNode extends RedNode {
  /** Request and job-stats nodes share one REST client (one challenge, one keep-alive pool). */
  requests: ConnectionRegistry<BpwinClient>;
  /** Event nodes share one /ws connection. */
  events: ConnectionRegistry<BpwinEventStream>;
  backoff: BackoffOptions;
}

function register(RED: RedAPI): void {
  function BpwinServer(this: RedNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this as BpwinServerNode;
    const clientOptions: BpwinClientOptions = {
      host: String(def.host ?? ''),
      port: configNumber(def.port, DEFAULT_PORT),
      passphrase: node.credentials?.passphrase ?? '',
      timeoutMs: configNumber(def.timeout, DEFAULT_TIMEOUT_MS),
    };
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
        client.on('authenticated', () => node.requests.setStatus({}));
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
          node.events.setStatus(connectionDot(status));
        });
        stream.start();
        return stream;
      },
      close: async (stream) => {
        await stream.stop();
        stream.client.close();
      },
    });

    onClose(node, async () => {
      await Promise.all([node.requests.closeAll(), node.events.closeAll()]);
    });
  }

  RED.nodes.registerType('bpwin-server', BpwinServer, { credentials: { passphrase: { type: 'password' } } });
}

// eslint-disable-next-line @typescript-eslint/no-namespace -- the only way to export a type beside `export =`
declare namespace register {
  export type { BpwinServerNode };
}

export = register;
