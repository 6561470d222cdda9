import { SFDAQ_BROKER } from '../nodered/config-nodes';
import { evaluateProperty, msgTimeoutMs } from '../nodered/properties';
import type { NodeDef, NodeMessage, NodeStatus, RedAPI, RedNode } from '../nodered/red-types';
import { errorDot, shortText } from '../nodered/status';
import { userNode } from '../nodered/user-node';
import { InstrumentError } from '../protocols/common/errors';
import { markReply, planCall } from '../protocols/sfdaq/call-input';
import { ROUTES, isIrreversible } from '../protocols/sfdaq/routes';
import { isPlainObject } from '../protocols/sfdaq/validate';
import type { Params } from '../protocols/sfdaq/validate';

/** A dialog parameter: a typed input (str/num/bool/json/msg/flow/global/env). */
interface ParamProperty {
  value: unknown;
  type: string;
}

const LITERAL_TYPES = new Set(['str', 'num', 'json', 'bool']);
const BUSY_STATUS_AFTER_MS = 250;

/**
 * A text built once for the last key it was asked for: RED._ costs tens of microseconds a call
 * (i18next resolves the language every time), more than the rest of the node, and calls in a row
 * mostly ask for the same run or operation.
 */
function lastTextFor<K>(make: (key: K) => string): (key: K) => string {
  let last: { key: K; text: string } | undefined;
  return (key) => {
    if (last?.key !== key) last = { key, text: make(key) };
    return last.text;
  };
}

export = function (RED: RedAPI): void {
  // The editor builds its operation list and parameter rows from the same table the client validates with.
  RED.httpAdmin.get('/sfdaq/routes', RED.auth.needsPermission('sfdaq-call.read'), (_req, res) => {
    res.json(ROUTES);
  });

  function SfdaqCall(this: RedNode, def: NodeDef): void {
    const node = this;
    const user = userNode(RED, node, def);
    const link = user.use(SFDAQ_BROKER, def.broker, (broker) => broker.clients);
    if (!link) return;
    const client = link.connection;
    const configured = typeof def.operation === 'string' ? def.operation : '';
    const properties: Record<string, ParamProperty> = isPlainObject(def.params) ? (def.params as Record<string, ParamProperty>) : {};

    const hasDialogParams = Object.keys(properties).length > 0;

    async function dialogParams(msg: NodeMessage): Promise<Params> {
      const params: Params = {};
      for (const [name, property] of Object.entries(properties)) {
        // An empty literal means "not set"; msg/flow/global/env are looked up even when short.
        if (LITERAL_TYPES.has(property.type) && (property.value === '' || property.value === undefined)) continue;
        const value = await evaluateProperty(RED, node, msg, property.value, property.type);
        if (value !== undefined) params[name] = value;
      }
      return params;
    }

    // Status changes only when its text does: a scan's hundred identical "run 12" updates would
    // each travel to every open editor.
    let shown = '';
    const show = (status: NodeStatus): void => {
      const key = `${status.fill}|${status.shape}|${status.text}`;
      if (key === shown) return;
      shown = key;
      user.status(status);
    };
    const runStatusText = lastTextFor((run: number) => user.text('sfdaq-call.status.run', { run }));
    const replyNoteText = lastTextFor((operation: string) => user.text('sfdaq-call.debug.payloadWasReply', { operation }));

    user.onInput(async (msg, send) => {
      const operation = configured || (typeof msg.operation === 'string' ? msg.operation : '');
      if (!operation) throw new InstrumentError('BAD_INPUT', user.text('sfdaq-call.errors.noOperation'));
      // What cannot be undone (closing a pgroup) is chosen in the dialog, never by a msg property alone.
      if (!configured && isIrreversible(operation)) {
        throw new InstrumentError('BAD_INPUT', user.text('sfdaq-call.errors.irreversibleFromMsg', { operation }), {
          parameter: 'operation',
        });
      }
      // msg.timeout in seconds, like every timeout of the package; a bad one is refused before anything is sent.
      const timeoutMs = msgTimeoutMs(msg);
      // The rule (fields, then msg.payload unless it is an earlier reply) lives in planCall.
      const { params, payloadWasReply } = planCall({ fields: hasDialogParams ? await dialogParams(msg) : {}, payload: msg.payload });
      // Chaining calls is the ordinary case, not a mistake, so it is no warning; but a user wondering
      // why the payload's keys were not sent (a function node's unchanged copy keeps the mark) finds it at debug level.
      if (payloadWasReply) node.debug(replyNoteText(operation));
      // A call that answers quickly never shows "busy"; a slow one (a pedestal) does; a call waiting for the broker shows "queued".
      const busy = { fill: 'blue', shape: 'dot', text: operation } as const;
      let slow: NodeJS.Timeout | undefined;
      try {
        const reply = await client.call(operation, params, {
          confirm: msg.confirm,
          timeoutMs,
          onQueued: (ahead) => show({ fill: 'yellow', shape: 'ring', text: user.text('sfdaq-call.status.queued', { count: ahead }) }),
          onSending: () => (slow = setTimeout(() => show(busy), BUSY_STATUS_AFTER_MS)),
        });
        msg.payload = markReply(reply.result);
        msg.raw = reply.raw;
        msg.topic = operation;
        msg.sfdaq = { operation, broker: reply.broker, method: reply.method, url: reply.url };
        const run = reply.result.run_number;
        show({ fill: 'green', shape: 'dot', text: typeof run === 'number' ? runStatusText(run) : shortText(operation) });
        send(msg);
      } catch (err) {
        // Partial results (copy_user_files) stay with the msg a Catch node receives.
        if (err instanceof InstrumentError && err.details.result !== undefined) {
          msg.payload = markReply(err.details.result as object);
          msg.raw = err.details.reply;
          msg.topic = operation;
        }
        show(errorDot(RED, err));
        throw err;
      } finally {
        clearTimeout(slow);
      }
    });
  }

  RED.nodes.registerType('sfdaq-call', SfdaqCall);
};
