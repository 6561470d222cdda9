import { onClose, onInput } from '../nodered/lifecycle';
import { configNumber } from '../nodered/properties';
import type { NodeDef, NodeMessage, NodeStatus, RedAPI, RedNode } from '../nodered/red-types';
import { errorDot } from '../nodered/status';
import { InstrumentError, errorMessage } from '../protocols/common/errors';
import type { NebvClient } from '../protocols/nebv/client';
import { buildParams, normalizeMethod, parseParamsField, type ParamsSource } from '../protocols/nebv/params';
import { CaughtRpcError, NebvRpcError } from '../protocols/nebv/rpc-error';
import type { NebvServerNode } from './nebv-server';

/** How often the "N in flight" status may change: a burst of 1000 calls should not mean 2000 editor updates. */
const STATUS_INTERVAL_MS = 100;

function register(RED: RedAPI): void {
  function NebvRpc(this: RedNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const server = RED.nodes.getNode(String(def.server ?? '')) as NebvServerNode | null;
    const configuredMethod = typeof def.method === 'string' ? def.method.trim() : '';
    const source: ParamsSource = def.paramsFrom === 'payload' || def.paramsFrom === 'both' ? def.paramsFrom : 'field';
    const errorOutput = def.errorOutput === true;
    // The dialog says seconds; empty leaves the server's default, which the client already holds.
    const timeoutSeconds = configNumber(def.timeout, Number.NaN);
    const callOptions = { timeoutMs: Number.isNaN(timeoutSeconds) ? undefined : Math.round(timeoutSeconds * 1000) };
    let client: NebvClient | undefined;
    let setupError: Error | undefined;
    let field: Record<string, unknown> = {};
    let inFlight = 0;
    let lastError: string | undefined;
    let connection: NodeStatus = {};
    let statusTimer: NodeJS.Timeout | undefined;
    let closed = false;

    const showStatus = (): void => {
      clearTimeout(statusTimer);
      statusTimer = undefined;
      // A call may finish after close on a connection other nodes still share; a redeployed node with this id owns the status now.
      if (closed) return;
      if (inFlight > 0) {
        const text = RED._('nebv-rpc.status.inflight', { count: inFlight });
        node.status({
          fill: connection.fill === 'green' ? 'blue' : 'yellow',
          shape: 'dot',
          text: text === 'nebv-rpc.status.inflight' ? `${inFlight} in flight` : text,
        });
      } else if (lastError !== undefined) node.status(errorDot(lastError));
      else node.status(connection);
    };
    const statusSoon = (): void => {
      if (!closed) statusTimer ??= setTimeout(showStatus, STATUS_INTERVAL_MS);
    };
    const statusTarget = {
      id: node.id,
      status: (status: NodeStatus | Record<string, never>) => {
        // News about the connection is fresher than the last failed call (often the drop it reports).
        connection = status;
        lastError = undefined;
        showStatus();
      },
    };

    try {
      field = parseParamsField(def.params);
      if (!server) throw new InstrumentError('BAD_INPUT', RED._('nebv-rpc.errors.noServer'));
      client = server.clients.register(statusTarget);
    } catch (err) {
      setupError = err instanceof Error ? err : new Error(String(err));
      node.status(errorDot(setupError.message));
    }

    /** Method from the dialog, else msg.method, else msg.topic. */
    const methodOf = (msg: NodeMessage): string => normalizeMethod(configuredMethod || (msg.method ?? msg.topic));

    onInput(node, async (msg, send) => {
      if (!client || !server) throw setupError ?? new Error(RED._('nebv-rpc.errors.noServer'));
      const method = methodOf(msg);
      const params = buildParams({ source, field, payload: msg.payload, item: msg.item, itemList: msg.itemList });
      inFlight += 1;
      if (inFlight === 1) showStatus();
      else statusSoon();
      try {
        msg.payload = await client.call(method, params, callOptions);
        msg.rpc = { method };
        lastError = undefined;
        send(errorOutput ? [msg, null] : msg);
      } catch (err) {
        lastError = errorMessage(err);
        if (!(err instanceof NebvRpcError)) throw err;
        msg.rpcError = { code: err.rpcCode, message: err.rpcMessage, data: err.rpcData, method };
        if (errorOutput) {
          send([null, msg]);
          return;
        }
        // msg.error.code is the JSON-RPC code; the message has no "Error: " in front.
        throw new CaughtRpcError(err);
      } finally {
        inFlight -= 1;
        if (inFlight === 0) showStatus();
        else statusSoon();
      }
    });

    onClose(node, async () => {
      closed = true;
      clearTimeout(statusTimer);
      await server?.clients.deregister(statusTarget);
    });
  }

  RED.nodes.registerType('nebv-rpc', NebvRpc);
}

export = register;
