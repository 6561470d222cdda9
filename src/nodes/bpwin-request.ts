import { BPWIN_SERVER } from '../nodered/config-nodes';
import type { NodeDef, RedAPI, RedNode } from '../nodered/red-types';
import { userNode } from '../nodered/user-node';
import { parseEndpointName } from '../protocols/bpwin/endpoints';
import { errorKind, errorStatusCode } from '../protocols/bpwin/error-kind';
import { request } from '../protocols/bpwin/requests';

export = function (RED: RedAPI): void {
  function BpwinRequest(this: RedNode, def: NodeDef): void {
    const user = userNode(RED, this, def);
    // '' means "take the request from msg.topic".
    const configured = typeof def.endpoint === 'string' ? def.endpoint : '';
    try {
      if (configured !== '') parseEndpointName(configured);
    } catch (err) {
      user.refuse(err, 'status.invalidConfig');
      return;
    }
    const link = user.use(BPWIN_SERVER, def.server, (server) => server.requests);
    if (!link) return;
    const client = link.connection;

    user.onInput(async (msg, send) => {
      const endpoint = parseEndpointName(configured !== '' ? configured : msg.topic);
      try {
        const result = await request(client, endpoint);
        msg.topic = endpoint;
        msg.payload = result.payload;
        msg.raw = result.raw;
        user.status({ fill: 'green', shape: 'dot', text: endpoint });
        send(msg);
      } catch (err) {
        // A refusal is already shown on every node of this server.
        const kind = errorKind(err);
        if (kind !== 'refused')
          user.status({ fill: 'red', shape: 'ring', text: user.text(`bpwin-request.errors.${kind}`, { status: errorStatusCode(err) ?? '' }) });
        throw err;
      }
    });
  }

  RED.nodes.registerType('bpwin-request', BpwinRequest);
};
