import { NEBV_SERVER } from '../nodered/config-nodes';
import { localizedError } from '../nodered/i18n';
import { configTimeoutMs, msgTimeoutMs } from '../nodered/properties';
import type { NodeDef, NodeMessage, NodeStatus, RedAPI, RedNode } from '../nodered/red-types';
import { errorDot } from '../nodered/status';
import { userNode } from '../nodered/user-node';
import { buildParams, normalizeMethod, parseParamsField, type ParamsSource } from '../protocols/nebv/params';
import { CaughtRpcError, NebvRpcError } from '../protocols/nebv/rpc-error';

/** How often the "N in flight" status may change: a burst of 1000 calls should not mean 2000 editor updates. */
const STATUS_INTERVAL_MS = 100;

export = function (RED: RedAPI): void {
  function NebvRpc(this: RedNode, def: NodeDef): void {
    const user = userNode(RED, this, def);
    const configuredMethod = typeof def.method === 'string' ? def.method.trim() : '';
    const source: ParamsSource = def.paramsFrom === 'payload' || def.paramsFrom === 'both' ? def.paramsFrom : 'field';
    const errorOutput = def.errorOutput === true;
    let nodeTimeoutMs: number | undefined;
    let field: Record<string, unknown> = {};
    let inFlight = 0;
    let lastError: unknown;
    let connection: NodeStatus = {};
    let statusTimer: NodeJS.Timeout | undefined;

    const showStatus = (): void => {
      clearTimeout(statusTimer);
      statusTimer = undefined;
      if (inFlight > 0) {
        user.status({
          fill: connection.fill === 'green' ? 'blue' : 'yellow',
          shape: 'dot',
          text: user.text('nebv-rpc.status.inflight', { count: inFlight }),
        });
      } else if (lastError !== undefined) user.status(errorDot(RED, lastError));
      else user.status(connection);
    };
    const statusSoon = (): void => {
      if (!user.closed) statusTimer ??= setTimeout(showStatus, STATUS_INTERVAL_MS);
    };
    const statusTarget = {
      id: this.id,
      status: (status: NodeStatus | Record<string, never>) => {
        // News about the connection is fresher than the last failed call (often the drop it reports).
        connection = status;
        lastError = undefined;
        showStatus();
      },
    };

    try {
      field = parseParamsField(def.params);
      // The dialog says seconds; empty leaves the server's default, which the client already holds.
      nodeTimeoutMs = configTimeoutMs(def.timeout, undefined, 'the timeout of the node');
    } catch (err) {
      user.refuse(err, 'status.invalidConfig');
      return;
    }
    const link = user.use(NEBV_SERVER, def.server, (server) => server.clients, statusTarget);
    if (!link) return;
    const client = link.connection;
    user.onClose(() => clearTimeout(statusTimer));

    /** Method from the dialog, else msg.method, else msg.topic. */
    const methodOf = (msg: NodeMessage): string => normalizeMethod(configuredMethod || (msg.method ?? msg.topic));

    user.onInput(async (msg, send) => {
      const method = methodOf(msg);
      const params = buildParams({ source, field, payload: msg.payload, item: msg.item, itemList: msg.itemList });
      // msg.timeout (seconds) wins over the node's, which wins over the server's.
      const callOptions = { timeoutMs: msgTimeoutMs(msg) ?? nodeTimeoutMs };
      inFlight += 1;
      if (inFlight === 1) showStatus();
      else statusSoon();
      try {
        msg.payload = await client.call(method, params, callOptions);
        msg.rpc = { method };
        lastError = undefined;
        send(errorOutput ? [msg, null] : msg);
      } catch (err) {
        lastError = err;
        if (!(err instanceof NebvRpcError)) throw err;
        msg.rpcError = { code: err.rpcCode, message: err.rpcMessage, data: err.rpcData, method };
        if (errorOutput) {
          send([null, msg]);
          return;
        }
        // msg.error.code is the JSON-RPC code; the message has no "Error: " in front.
        throw new CaughtRpcError(err, localizedError(RED, err).message);
      } finally {
        inFlight -= 1;
        if (inFlight === 0) showStatus();
        else statusSoon();
      }
    });
  }

  RED.nodes.registerType('nebv-rpc', NebvRpc);
};
