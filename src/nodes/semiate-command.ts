import { InstrumentError } from '../protocols/common/errors';
import { timeoutSecondsToMs } from '../protocols/common/timeout';
import { canonicalCommand, commandOf, type CommandRequest, type ExecuteOptions } from '../protocols/semiate';
import { SEMIATE_TESTER } from '../nodered/config-nodes';
import type { Migration } from '../nodered/migrations';
import { evaluateProperty, msgTimeoutMs } from '../nodered/properties';
import type { NodeDef, NodeMessage, RedAPI, RedNode } from '../nodered/red-types';
import { errorDot } from '../nodered/status';
import { StatusOverlay } from '../nodered/status-overlay';
import { userNode } from '../nodered/user-node';

/** msg properties that override a command's parameters (same names as the request's fields). */
const MSG_FIELDS = ['options', 'level', 'sBin', 'hBin', 'layout'] as const;

/**
 * Version 1: the Sites field's default is msg.sites (what the node always read first) instead of an
 * empty JSON value, which the editor rejects as invalid JSON as soon as the dialog is closed. An
 * empty JSON field meant "every known site", as an absent msg.sites does.
 */
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    up: (config) =>
      (config.sitesType ?? 'json') === 'json' && (config.sites ?? '') === '' ? { ...config, sites: 'sites', sitesType: 'msg' } : config,
  },
];

/** The dialog's timeout: empty (or 0, what older dialogs saved for "default") means the command's own default. */
function configuredTimeoutMs(value: unknown): number | undefined {
  if (value === 0 || (typeof value === 'string' && value.trim() === '0')) return undefined;
  return timeoutSecondsToMs(value, 'timeout');
}

export = function (RED: RedAPI) {
  function SemiAteCommandNode(this: RedNode, def: NodeDef): void {
    const node = this;
    const user = userNode(RED, node, def, { migrations: MIGRATIONS });
    const config = user.def;
    let defaultTimeoutMs: number | undefined;
    try {
      defaultTimeoutMs = configuredTimeoutMs(config.timeout);
    } catch (err) {
      user.refuse(err, 'status.invalidConfig');
      return;
    }
    // The tester's state shows here, except after a command failed: its refusal stays until a
    // command succeeds, so a flow never looks fine after the tester refused or ignored what it sent.
    const status = new StatusOverlay('outcome', (s) => user.status(s));
    const link = user.use(SEMIATE_TESTER, config.tester, (found) => found.registry, status.target(node.id));
    if (!link) return;
    const tester = link.connection;
    // A tester in alarm is red and a testing one blue while connected: only the connection says whether it is up.
    status.upWhen(() => tester.status.state === 'connected');

    /** The msg as a request and its options; bad input is refused here, before anything is sent. */
    async function requestOf(msg: NodeMessage): Promise<{ request: CommandRequest; options: ExecuteOptions }> {
      const command = commandOf(msg.command, String(config.command ?? ''));
      if (command === '') throw new InstrumentError('BAD_INPUT', user.text('semiate-command.errors.no-command'));
      // Seconds, like every timeout of the package.
      const timeoutMs = msgTimeoutMs(msg) ?? defaultTimeoutMs;
      const request: CommandRequest = { command };
      // The client's own alias table (start → next …), so both agree on which parameters apply.
      const name = canonicalCommand(command, tester.kind);
      if (name === 'load') {
        request.lotNumber =
          msg.lotNumber !== undefined
            ? msg.lotNumber
            : await evaluateProperty(RED, node, msg, config.lotNumber, String(config.lotNumberType ?? 'msg'));
      }
      if (name === 'next') {
        request.sites =
          msg.sites !== undefined
            ? msg.sites
            : config.sites
              ? await evaluateProperty(RED, node, msg, config.sites, String(config.sitesType ?? 'json'))
              : undefined;
      }
      for (const field of MSG_FIELDS) if (msg[field] !== undefined) request[field] = msg[field];
      if (name === 'usersettings' && request.options === undefined) request.options = msg.payload;
      const waitUntilDone = typeof msg.waitUntilDone === 'boolean' ? msg.waitUntilDone : config.waitUntilDone === true;
      return { request, options: { waitUntilDone, timeoutMs } };
    }

    // Commands join the tester's queue in the order their msgs arrived: reading a property can take
    // a tick, and an unload must not overtake the next sent just before it.
    let intake: Promise<unknown> = Promise.resolve();

    user.onInput(async (msg, send) => {
      try {
        const queued = intake.then(async () => {
          const { request, options } = await requestOf(msg);
          // Wrapped, so that waiting for the intake does not wait for the outcome.
          return { outcome: tester.execute(request, options) };
        });
        intake = queued.catch(() => undefined);
        const outcome = await (await queued).outcome;
        msg.topic = outcome.command;
        msg.payload = outcome;
        msg.state = outcome.state;
        status.clear();
        send(msg);
      } catch (err) {
        status.set(errorDot(RED, err));
        throw err;
      }
    });
  }
  RED.nodes.registerType('semiate-command', SemiAteCommandNode);
};
