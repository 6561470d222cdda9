import { PROPELLER_CONNECTION_KIND, usePropellerConnection } from '../nodered/propeller-config';
import type { NodeDef, RedAPI, RedNode } from '../nodered/red-types';
import { userNode } from '../nodered/user-node';

export = function (RED: RedAPI) {
  function PropellerPortsNode(this: RedNode, def: NodeDef) {
    const user = userNode(RED, this, def, { migrations: [PROPELLER_CONNECTION_KIND] });
    const link = usePropellerConnection(user);
    if (!link) return;
    const { connection } = link;
    if (user.def.watch === true || user.def.watch === 'true') {
      if (connection.watchPorts) {
        const unwatch = connection.watchPorts((ports) => this.send({ topic: 'ports', payload: ports, changed: true }));
        user.onClose(unwatch);
      } else {
        this.warn(user.text('propeller-ports.warn.cannotWatch', { kind: connection.kind }));
      }
    }

    user.onInput(async (msg, send) => {
      msg.payload = await connection.listPorts();
      msg.topic = 'ports';
      send(msg);
    });
  }

  RED.nodes.registerType('propeller-ports', PropellerPortsNode);
};
