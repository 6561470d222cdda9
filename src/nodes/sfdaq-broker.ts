import { ConnectionRegistry } from '../nodered/connection-registry';
import { onClose } from '../nodered/lifecycle';
import { configNumber } from '../nodered/properties';
import type { NodeDef, RedAPI, RedNode } from '../nodered/red-types';
import { SfdaqClient } from '../protocols/sfdaq/client';
import type { SfdaqClientOptions } from '../protocols/sfdaq/client';
import { DEFAULT_TIMEOUT_MS } from '../protocols/sfdaq/routes';

/** What call nodes see of their broker config (they import this type only). */
interface SfdaqBrokerNode extends RedNode {
  /** One client per config node: its per-broker queues are what keep calls from overlapping. */
  clients: ConnectionRegistry<SfdaqClient>;
}

function register(RED: RedAPI): void {
  function SfdaqBroker(this: RedNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this as SfdaqBrokerNode;
    const options: SfdaqClientOptions = {
      fastUrl: String(def.fastUrl ?? '').trim(),
      slowUrl: String(def.slowUrl ?? '').trim() || undefined,
      timeoutMs: configNumber(def.timeout, DEFAULT_TIMEOUT_MS / 1000) * 1000,
      prefer: def.prefer === 'documented' ? 'documented' : 'current',
    };
    node.clients = new ConnectionRegistry<SfdaqClient>({
      open: () => new SfdaqClient(options),
      close: (client) => client.close(),
    });
    onClose(node, () => node.clients.closeAll());
  }

  RED.nodes.registerType('sfdaq-broker', SfdaqBroker);
}

// eslint-disable-next-line @typescript-eslint/no-namespace -- the only way to export a type beside `export =`
declare namespace register {
  export type { SfdaqBrokerNode };
}

export = register;
