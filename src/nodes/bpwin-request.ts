import { BPWIN_SERVER } from '../nodered/config-nodes';
import { errorText } from '../nodered/i18n';
import { msgTimeoutMs } from '../nodered/properties';
import type { NodeDef, NodeStatus, RedAPI, RedNode } from '../nodered/red-types';
import { userNode } from '../nodered/user-node';
import { parseEndpointName } from '../protocols/bpwin/endpoints';
import { errorKind, errorStatusCode } from '../protocols/bpwin/error-kind';
import { request, type BpwinResult } from '../protocols/bpwin/requests';

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

    const failed = (err: unknown): NodeStatus => ({
      fill: 'red',
      shape: 'ring',
      text: user.text(`bpwin-request.errors.${errorKind(err)}`, { status: errorStatusCode(err) ?? '' }),
    });
    /** health answers rather than fails, so its dot reads the answer: green only when BPWin says it is ready. */
    const healthDot = (result: BpwinResult): NodeStatus => {
      if (result.payload.Ready === true) return { fill: 'green', shape: 'dot', text: user.text('bpwin-request.status.ready') };
      if (result.failure) return failed(result.failure);
      const text =
        result.httpStatus === 200
          ? user.text('bpwin-request.status.notReady')
          : user.text('bpwin-request.status.notReadyHttp', { status: result.httpStatus });
      return { fill: 'yellow', shape: 'ring', text };
    };

    user.onInput(async (msg, send) => {
      try {
        const endpoint = parseEndpointName(configured !== '' ? configured : msg.topic);
        // msg.timeout in seconds, like every timeout of the package; else the server's.
        const result = await request(client, endpoint, { timeoutMs: msgTimeoutMs(msg) });
        msg.topic = endpoint;
        // Unreachable: the reason is ours, not BPWin's, so it reads in the runtime's language like the status.
        msg.payload = result.failure ? { ...result.payload, Message: errorText(RED, result.failure) } : result.payload;
        msg.raw = result.raw;
        user.status(endpoint === 'health' ? healthDot(result) : { fill: 'green', shape: 'dot', text: endpoint });
        send(msg);
      } catch (err) {
        // A refusal is already shown on every node of this server.
        if (errorKind(err) !== 'refused') user.status(failed(err));
        throw err;
      }
    });
  }

  RED.nodes.registerType('bpwin-request', BpwinRequest);
};
