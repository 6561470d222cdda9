import { ConnectionRegistry } from '../nodered/connection-registry';
import { registerConnectionTest } from '../nodered/connection-test';
import { onClose } from '../nodered/lifecycle';
import { configTimeoutMs } from '../nodered/properties';
import type { SfdaqBrokerNode } from '../nodered/config-nodes';
import type { NodeDef, RedAPI, RedNode } from '../nodered/red-types';
import { SfdaqClient } from '../protocols/sfdaq/client';
import type { SfdaqClientOptions } from '../protocols/sfdaq/client';
import { DEFAULT_TIMEOUT_MS } from '../protocols/sfdaq/routes';

/** The dialog's fields (strings from the editor, numbers from a flow file) as client options; the dialog says seconds. */
function clientOptionsOf(config: Record<string, unknown>): SfdaqClientOptions {
  return {
    fastUrl: String(config.fastUrl ?? '').trim(),
    slowUrl: String(config.slowUrl ?? '').trim() || undefined,
    timeoutMs: configTimeoutMs(config.timeout, DEFAULT_TIMEOUT_MS, 'the broker timeout'),
    prefer: config.prefer === 'documented' ? 'documented' : 'current',
  };
}

/** The "Test connection" button: ask the fast broker which detectors this beamline has (read-only). */
async function probeSfdaq(RED: RedAPI, options: SfdaqClientOptions): Promise<string> {
  // Leave room in the button's 10 s for a 405 retry with the other method.
  const client = new SfdaqClient({ ...options, timeoutMs: Math.min(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 4000) });
  try {
    const { result } = await client.call('get_allowed_detectors');
    const detectors = Array.isArray(result.detectors) ? result.detectors.map(String) : [];
    const names = Array.isArray(result.names) ? result.names.map(String) : [];
    const listed = detectors.map((id, i) => (names[i] && names[i] !== id ? `${id} (${names[i]})` : id));
    const url = client.fastUrl;
    return listed.length
      ? RED._('sfdaq-broker.test.detectors', { url, count: listed.length, list: listed.join(', ') })
      : RED._('sfdaq-broker.test.noDetectors', { url });
  } finally {
    client.close();
  }
}

export = function (RED: RedAPI): void {
  function SfdaqBroker(this: RedNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this as SfdaqBrokerNode;
    node.clients = new ConnectionRegistry<SfdaqClient>({
      // A field the client refuses (a bad URL or timeout) is refused on the user nodes, with the reason.
      open: () => new SfdaqClient(clientOptionsOf(def)),
      close: (client) => client.close(),
    });
    onClose(node, () => node.clients.closeAll(), { RED });
  }

  RED.nodes.registerType('sfdaq-broker', SfdaqBroker);
  registerConnectionTest(RED, 'sfdaq-broker', async (config) => probeSfdaq(RED, clientOptionsOf(config)), {
    address: (config) =>
      [config.fastUrl, config.slowUrl]
        .map((url) => String(url ?? '').trim())
        .filter(Boolean)
        .join(' '),
  });
};
