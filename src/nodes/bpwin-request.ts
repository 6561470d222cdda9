import { onClose, onInput } from '../nodered/lifecycle';
import type { NodeDef, RedAPI, RedNode } from '../nodered/red-types';
import type { BpwinClient } from '../protocols/bpwin/client';
import { parseEndpointName } from '../protocols/bpwin/endpoints';
import { errorKind, errorStatusCode } from '../protocols/bpwin/error-kind';
import { request } from '../protocols/bpwin/requests';
import { InstrumentError } from '../protocols/common/errors';
import type { BpwinServerNode } from './bpwin-server';

export = function (RED: RedAPI): void {
  function BpwinRequest(this: RedNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const server = RED.nodes.getNode(String(def.server ?? '')) as BpwinServerNode | null;
    // '' means "take the request from msg.topic".
    const configured = typeof def.endpoint === 'string' ? def.endpoint : '';
    let client: BpwinClient | undefined;
    let setupError: Error | undefined;
    try {
      if (!server) throw new InstrumentError('BAD_INPUT', 'no BPWin server is configured: choose one in the node');
      if (configured !== '') parseEndpointName(configured);
      client = server.requests.register(node);
    } catch (err) {
      setupError = err instanceof Error ? err : new Error(String(err));
      node.status({ fill: 'red', shape: 'ring', text: RED._('bpwin-request.status.not-configured') });
    }

    // A call may finish after close on a client other nodes still share; a redeployed node with this id owns the status now.
    let closed = false;
    onInput(node, async (msg, send) => {
      if (!client || !server) throw setupError ?? new Error('not configured');
      const endpoint = parseEndpointName(configured !== '' ? configured : msg.topic);
      try {
        const result = await request(client, endpoint);
        msg.topic = endpoint;
        msg.payload = result.payload;
        msg.raw = result.raw;
        if (!closed) node.status({ fill: 'green', shape: 'dot', text: endpoint });
        send(msg);
      } catch (err) {
        // A refusal is already shown on every node of this server.
        const kind = errorKind(err);
        if (kind !== 'refused' && !closed)
          node.status({ fill: 'red', shape: 'ring', text: RED._(`bpwin-request.errors.${kind}`, { status: errorStatusCode(err) ?? '' }) });
        throw err;
      }
    });

    onClose(node, async () => {
      closed = true;
      if (client && server) await server.requests.deregister(node);
    });
  }

  RED.nodes.registerType('bpwin-request', BpwinRequest);
};
