import { ConnectionRegistry } from '../nodered/connection-registry';
import { registerConnectionTest } from '../nodered/connection-test';
import type { AdminRequest, AdminResponse } from '../nodered/express-types';
import { onClose } from '../nodered/lifecycle';
import type { PropellerConfigNode } from '../nodered/config-nodes';
import { lookup } from '../nodered/i18n';
import { configNumber, settingsNumber } from '../nodered/properties';
import type { NodeDef, NodeStatus, RedAPI, RedNode } from '../nodered/red-types';
import { shortText } from '../nodered/status';
import { SerialPropellerConnection, type SerialConnectionOptions, type SerialConnectionStatus } from '../protocols/propeller/serial-connection';
import { RESET_MODES, type ResetMode } from '../protocols/propeller/serial-loader';
import { inspectSerialPort, listSerialPorts } from '../protocols/propeller/serial-port-handle';

type SerialConfigNode = PropellerConfigNode & { port: string; baudRate: number; resetMode: ResetMode };

/** Status texts from the message catalog; a reason without its own entry is shown as it is. */
function dotFor(RED: RedAPI, status: SerialConnectionStatus, port: string): NodeStatus {
  const text = (key: string, fallback: string): string => shortText(lookup(RED, `propeller-serial.status.${key}`) ?? fallback);
  switch (status.state) {
    case 'opening':
      return { fill: 'yellow', shape: 'ring', text: text('opening', 'opening') };
    case 'open':
      return { fill: 'green', shape: 'dot', text: status.text === 'loaded' ? text('loaded', 'loaded') : shortText(port) };
    case 'loading':
      return { fill: 'blue', shape: 'ring', text: text('loading', 'loading') };
    case 'error':
      return { fill: 'red', shape: 'ring', text: text(`reason.${status.text}`, status.text) };
    default:
      return { fill: 'grey', shape: 'ring', text: text('closed', 'closed') };
  }
}

/** The dialog's fields (strings from the editor, numbers from a flow file) as connection options. */
function serialOptionsOf(config: Record<string, unknown>): Pick<SerialConnectionOptions, 'path' | 'baudRate' | 'resetMode'> {
  return {
    path: String(config.port ?? '').trim(),
    baudRate: configNumber(config.baudRate, 115200),
    resetMode: (RESET_MODES as readonly unknown[]).includes(config.resetMode) ? (config.resetMode as ResetMode) : 'dtr',
  };
}

export = function (RED: RedAPI) {
  function PropellerSerialNode(this: RedNode, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const node = this as SerialConfigNode;
    const options = serialOptionsOf(def);
    node.port = options.path;
    node.baudRate = options.baudRate;
    node.resetMode = options.resetMode;
    const registry = new ConnectionRegistry<SerialPropellerConnection>({
      open: () => {
        const connection = new SerialPropellerConnection({
          ...options,
          loadTimeoutMs: settingsNumber(RED, 'propellerSerialLoadTimeout', 120_000),
        });
        connection.on('status', (status: SerialConnectionStatus) => registry.setStatus(dotFor(RED, status, node.port)));
        // The port itself opens on the first load or terminal, not at deploy.
        registry.setStatus(
          node.port
            ? { fill: 'grey', shape: 'ring', text: shortText(node.port) }
            : { fill: 'red', shape: 'ring', text: RED._('propeller-serial.status.noPort') },
        );
        return connection;
      },
      close: (connection) => connection.close(),
    });
    node.acquire = (user) => registry.register(user);
    node.release = (user) => registry.deregister(user);
    onClose(node, () => registry.closeAll(), { RED });
  }

  RED.nodes.registerType('propeller-serial', PropellerSerialNode);
  registerConnectionTest(RED, 'propeller-serial', async (config) => {
    const path = serialOptionsOf(config).path;
    return RED._(`propeller-serial.test.${await inspectSerialPort(path)}`, { path });
  });

  // The editor's port picker. A system that cannot list ports (no udev) says so; a typed path still works.
  RED.httpAdmin.get('/propeller-serial/ports', RED.auth.needsPermission('propeller-serial.read'), (_req: AdminRequest, res: AdminResponse) => {
    void listSerialPorts().then((listing) => res.json(listing));
  });
};
