import { onClose, onInput } from '../nodered/lifecycle';
import { findPropellerConfig } from '../nodered/propeller-config';
import type { NodeDef, RedAPI, RedNode } from '../nodered/red-types';
import { errorDot } from '../nodered/status';
import { InstrumentError } from '../protocols/common/errors';

export = function (RED: RedAPI) {
  function PropellerPortsNode(this: RedNode, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const lookup = findPropellerConfig(RED, def);
    if ('error' in lookup) {
      node.status(errorDot('no connection'));
      onInput(node, () => {
        throw new InstrumentError('BAD_INPUT', lookup.error);
      });
      return;
    }
    const config = lookup.config;
    const connection = config.acquire(node);
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
