import { onClose, onInput } from '../nodered/lifecycle';
import { acquirePropellerConnection } from '../nodered/propeller-config';
import type { NodeDef, RedAPI, RedNode } from '../nodered/red-types';

export = function (RED: RedAPI) {
  function PropellerPortsNode(this: RedNode, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const acquired = acquirePropellerConnection(RED, node, def);
    if (!acquired) return;
    const { config, connection } = acquired;
    let unwatch: (() => void) | undefined;
    if (def.watch === true || def.watch === 'true') {
      if (connection.watchPorts) {
        unwatch = connection.watchPorts((ports) => node.send({ topic: 'ports', payload: ports, changed: true }));
      } else {
        node.warn(`this ${connection.kind} connection cannot report port changes; the node answers on input only`);
      }
    }

    onInput(node, async (msg, send) => {
      msg.payload = await connection.listPorts();
      msg.topic = 'ports';
      send(msg);
    });

    onClose(node, async () => {
      unwatch?.();
      await config.release(node);
    });
  }

  RED.nodes.registerType('propeller-ports', PropellerPortsNode);
};
