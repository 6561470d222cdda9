import { ConnectionRegistry } from '../nodered/connection-registry';
import { admitDialOut, auditDialOut, registerConnectionTest } from '../nodered/connection-test';
import { onClose } from '../nodered/lifecycle';
import { LAUNCHER_CONFIG, type LauncherConfigNode } from '../nodered/config-nodes';
import { errorText, reasonOf } from '../nodered/i18n';
import { settingsNumber } from '../nodered/properties';
import type { NodeDef, NodeStatus, RedAPI, RedNode } from '../nodered/red-types';
import { connectionDot, errorDot } from '../nodered/status';
import type { AdminRequest, AdminResponse } from '../nodered/express-types';
import type { ConnectionStatus } from '../protocols/common/reconnecting-connection';
import { DEFAULT_LAUNCHER_URL, LauncherClient } from '../protocols/propeller/launcher-client';
import { failureAt } from '../protocols/common/errors';

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

function statusFor(RED: RedAPI, status: ConnectionStatus, client: LauncherClient): NodeStatus {
  const ports = client.ports;
  if (status.state === 'connected' && ports)
    return { fill: 'green', shape: 'dot', text: RED._('propeller-launcher.status.connected', { count: ports.length }) };
  // A Launcher too old stays so until someone installs a newer one: say it on every user node.
  if (status.state === 'failed' && reasonOf(status.failure) === 'launcherTooOld') return errorDot(RED, status.failure, 'dot');
  return connectionDot(RED, status);
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
        const refresh = (): void => registry.setStatus(statusFor(RED, client.status, client));
        client.on('status', (status) => {
          refresh();
          // The log line names the Launcher once: a failure that says its address keeps it as it is.
          if (status.state === 'failed')
            node.error(errorText(RED, failureAt('CONNECT_FAILED', node.url, status.failure ?? new Error(status.error ?? 'failed'))));
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
    onClose(node, () => registry.closeAll(), { RED });
  }

  RED.nodes.registerType('propeller-launcher', PropellerLauncherNode);

  // The load dialog's port picker: the deployed node's list, or a one-off look at a Launcher URL
  // (write permission, as the Test connection button: it makes the runtime dial out).
  RED.httpAdmin.post('/propeller-launcher/ports', RED.auth.needsPermission('propeller-launcher.write'), (req: AdminRequest, res: AdminResponse) => {
    const body = (req.body ?? {}) as { id?: unknown; url?: unknown };
    const found = typeof body.id === 'string' ? RED.nodes.getNode(body.id) : null;
    const deployed = LAUNCHER_CONFIG.is(found) ? found : undefined;
    const live = deployed?.client()?.ports;
    if (live) {
      res.json({ ports: live });
      return;
    }
    // Dialling an address the request names: limited and audited like Test connection.
    const id = typeof body.id === 'string' ? body.id : undefined;
    const url = launcherUrl(body.url ?? deployed?.url);
    const limited = admitDialOut(RED, req, 'propeller-launcher', id);
    if (limited) {
      auditDialOut(RED, req, { type: 'propeller-launcher', id, address: url, result: 'limited' });
      res.status(429).json({ error: errorText(RED, limited) });
      return;
    }
    probeLauncher(url).then(
      ({ ports }) => {
        auditDialOut(RED, req, { type: 'propeller-launcher', id, address: url, result: 'ok' });
        res.json({ ports });
      },
      (err: unknown) => {
        auditDialOut(RED, req, { type: 'propeller-launcher', id, address: url, result: 'failed', reason: reasonOf(err) });
        res.status(502).json({ error: errorText(RED, err) });
      },
    );
  });

  registerConnectionTest(
    RED,
    'propeller-launcher',
    async (config) => {
      const { version, ports } = await probeLauncher(config.url);
      return RED._('propeller-launcher.test.answer', { version, ports: ports.length ? ports.join(', ') : RED._('propeller-launcher.test.noPorts') });
    },
    { address: (config) => launcherUrl(config.url) },
  );
};
