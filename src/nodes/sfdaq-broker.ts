import { ConnectionRegistry } from '../nodered/connection-registry';
import { registerConnectionTest } from '../nodered/connection-test';
import { onClose } from '../nodered/lifecycle';
import { configNumber } from '../nodered/properties';
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
    timeoutMs: configNumber(config.timeout, DEFAULT_TIMEOUT_MS / 1000) * 1000,
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
    const options = clientOptionsOf(def);
    node.clients = new ConnectionRegistry<SfdaqClient>({
      open: () => new SfdaqClient(options),
      close: (client) => client.close(),
    });
    onClose(node, () => node.clients.closeAll(), { RED });
  }

  RED.nodes.registerType('sfdaq-broker', SfdaqBroker);
  registerConnectionTest(RED, 'sfdaq-broker', async (config) => probeSfdaq(RED, clientOptionsOf(config)));
};
