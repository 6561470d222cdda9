import { ConnectionRegistry } from '../nodered/connection-registry';
import { registerConnectionTest } from '../nodered/connection-test';
import { onClose } from '../nodered/lifecycle';
import { configNumber } from '../nodered/properties';
import type { NodeDef, RedAPI, RedNode } from '../nodered/red-types';
import { SfdaqClient } from '../protocols/sfdaq/client';
import type { SfdaqClientOptions } from '../protocols/sfdaq/client';
import { DEFAULT_TIMEOUT_MS } from '../protocols/sfdaq/routes';

/** What call nodes see of their broker config (they import this type only). */
interface SfdaqBrokerNode extends RedNode {
  /** One client per config node; calls take turns through the client's queue per broker address (shared by all clients in the process). */
  clients: ConnectionRegistry<SfdaqClient>;
}

/** The dialog's fields (strings from the editor, numbers from a flow file) as client options; the dialog says seconds. */
function clientOptionsOf(config: Record<string, unknown>): SfdaqClientOptions {
  return {
    fastUrl: String(config.fastUrl ?? '').trim(),
    slowUrl: String(config.slowUrl ?? '').trim() || undefined,
    timeoutMs: configNumber(config.timeout, DEFAULT_TIMEOUT_MS / 1000) * 1000,
    prefer: config.prefer === 'documented' ? 'documented' : 'current',
  };
}

/** The "Test connection" button: ask the fast broker which detectors this beamline has (read-only). */
async function probeSfdaq(options: SfdaqClientOptions): Promise<string> {
  // Leave room in the button's 10 s for a 405 retry with the other method.
  const client = new SfdaqClient({ ...options, timeoutMs: Math.min(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 4000) });
  try {
    const { result } = await client.call('get_allowed_detectors');
    const detectors = Array.isArray(result.detectors) ? result.detectors.map(String) : [];
    const names = Array.isArray(result.names) ? result.names.map(String) : [];
    const listed = detectors.map((id, i) => (names[i] && names[i] !== id ? `${id} (${names[i]})` : id));
    return `${client.fastUrl}: ${detectors.length} detector${detectors.length === 1 ? '' : 's'} allowed${listed.length ? `: ${listed.join(', ')}` : ''}`;
  } finally {
    client.close();
  }
}

function register(RED: RedAPI): void {
  function SfdaqBroker(this: RedNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this as SfdaqBrokerNode;
    const options = clientOptionsOf(def);
    node.clients = new ConnectionRegistry<SfdaqClient>({
      open: () => new SfdaqClient(options),
      close: (client) => client.close(),
    });
    onClose(node, () => node.clients.closeAll());
  }

  RED.nodes.registerType('sfdaq-broker', SfdaqBroker);
  registerConnectionTest(RED, 'sfdaq-broker', async (config) => probeSfdaq(clientOptionsOf(config)));
}

// eslint-disable-next-line @typescript-eslint/no-namespace -- the only way to export a type beside `export =`
declare namespace register {
  export type { SfdaqBrokerNode };
}

export = register;
