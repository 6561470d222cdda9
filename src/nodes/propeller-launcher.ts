import { ConnectionRegistry } from '../nodered/connection-registry';
import { registerConnectionTest } from '../nodered/connection-test';
import { onClose } from '../nodered/lifecycle';
import type { PropellerConfigNode } from '../nodered/propeller-config';
import { settingsNumber } from '../nodered/properties';
import type { NodeDef, NodeStatus, RedAPI, RedNode } from '../nodered/red-types';
import { connectionDot, shortText } from '../nodered/status';
import type { AdminRequest, AdminResponse } from '../nodered/express-types';
import type { ConnectionStatus } from '../protocols/common/reconnecting-connection';
import { errorMessage } from '../protocols/common/errors';
import { DEFAULT_LAUNCHER_URL, LauncherClient } from '../protocols/propeller/launcher-client';

type LauncherConfigNode = PropellerConfigNode & { url: string; client(): LauncherClient | undefined };

/** ws:// or wss:// only; anything else would fail later with a less helpful message. */
function launcherUrl(value: unknown): string {
  const text = typeof value === 'string' && value.trim() !== '' ? value.trim() : DEFAULT_LAUNCHER_URL;
  return /^wss?:\/\//i.test(text) ? text : `ws://${text}`;
}

/** Connect once (no retries), say hello, read the port list, hang up. */
async function probeLauncher(url: unknown): Promise<{ version: string; ports: string[] }> {
  const client = new LauncherClient({
    url: launcherUrl(url),
    reconnect: false,
    connectTimeoutMs: 4000,
    handshakeTimeoutMs: 4000,
    connectWaitMs: 8000,
    portWaitMs: 4000,
  });
  try {
    const ports = await client.listPorts();
    return { version: client.info?.version ?? '?', ports };
  } finally {
    await client.stop();
  }
}

function statusFor(status: ConnectionStatus, client: LauncherClient): NodeStatus {
  if (status.state === 'connected') {
    const ports = client.ports;
    return { fill: 'green', shape: 'dot', text: ports ? `connected (${ports.length} port${ports.length === 1 ? '' : 's'})` : 'connected' };
  }
  if (status.state === 'failed' && /too old/.test(status.error ?? '')) return { fill: 'red', shape: 'dot', text: 'Launcher too old' };
  return connectionDot(status);
}

export = function (RED: RedAPI) {
  function PropellerLauncherNode(this: RedNode, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const node = this as LauncherConfigNode;
    node.url = launcherUrl(def.url);
    const maxRetryMs = settingsNumber(RED, 'propellerLauncherReconnectTime', 30_000);
    const registry = new ConnectionRegistry<LauncherClient>({
      open: () => {
        const client = new LauncherClient({ url: node.url, backoff: { initialMs: Math.min(500, maxRetryMs), maxMs: maxRetryMs } });
        const refresh = (): void => registry.setStatus(statusFor(client.status, client));
        client.on('status', (status) => {
          refresh();
          if (status.state === 'failed') node.error(`${node.url}: ${status.error ?? 'connection failed'}`);
        });
        client.on('ports', refresh);
        client.start();
        return client;
      },
      close: (client) => client.stop(),
    });
    node.acquire = (user) => registry.register(user);
    node.release = (user) => registry.deregister(user);
    node.client = () => registry.current;
    onClose(node, () => registry.closeAll());
  }

  RED.nodes.registerType('propeller-launcher', PropellerLauncherNode);

  // The load dialog's port picker: the deployed node's list, or a one-off look at a Launcher URL
  // (write permission, as the Test connection button: it makes the runtime dial out).
  RED.httpAdmin.post('/propeller-launcher/ports', RED.auth.needsPermission('propeller-launcher.write'), (req: AdminRequest, res: AdminResponse) => {
    const body = (req.body ?? {}) as { id?: unknown; url?: unknown };
    const deployed = typeof body.id === 'string' ? (RED.nodes.getNode(body.id) as LauncherConfigNode | null) : null;
    const live = deployed?.client?.()?.ports;
    if (live) {
      res.json({ ports: live });
      return;
    }
    probeLauncher(body.url ?? deployed?.url).then(
      ({ ports }) => res.json({ ports }),
      (err: unknown) => res.status(502).json({ error: shortText(errorMessage(err), 300) }),
    );
  });

  registerConnectionTest(RED, 'propeller-launcher', async (config) => {
    const { version, ports } = await probeLauncher(config.url);
    return `BlocklyProp Launcher ${version}; ports: ${ports.length ? ports.join(', ') : 'none yet'}`;
  });
};
