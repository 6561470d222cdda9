import { InstrumentError } from '../protocols/common/errors';
import { canonicalCommand, type CommandRequest } from '../protocols/semiate';
import { SEMIATE_TESTER } from '../nodered/config-nodes';
import { configNumber, evaluateProperty } from '../nodered/properties';
import type { NodeDef, RedAPI, RedNode } from '../nodered/red-types';
import { userNode } from '../nodered/user-node';

/** msg properties that override a command's parameters (same names as the request's fields). */
const MSG_FIELDS = ['options', 'level', 'sBin', 'hBin', 'layout'] as const;

export = function (RED: RedAPI) {
  function SemiAteCommandNode(this: RedNode, def: NodeDef): void {
    const node = this;
    const user = userNode(RED, node, def);
    const link = user.use(SEMIATE_TESTER, def.tester, (config) => config.registry);
    if (!link) return;
    const tester = link.connection;

    user.onInput(async (msg, send) => {
      const command = typeof msg.command === 'string' && msg.command !== '' ? msg.command : String(def.command ?? '');
      if (command === '') throw new InstrumentError('BAD_INPUT', user.text('semiate-command.errors.no-command'));
      const request: CommandRequest = { command };
      // The client's own alias table (start → next …), so both agree on which parameters apply.
      const name = canonicalCommand(command, tester.kind);
      if (name === 'load') {
        request.lotNumber =
          msg.lotNumber !== undefined ? msg.lotNumber : await evaluateProperty(RED, node, msg, def.lotNumber, String(def.lotNumberType ?? 'msg'));
      }
      if (name === 'next') {
        request.sites =
          msg.sites !== undefined
            ? msg.sites
            : def.sites
              ? await evaluateProperty(RED, node, msg, def.sites, String(def.sitesType ?? 'json'))
              : undefined;
      }
      for (const field of MSG_FIELDS) if (msg[field] !== undefined) request[field] = msg[field];
      if (name === 'usersettings' && request.options === undefined) request.options = msg.payload;
      const waitUntilDone = typeof msg.waitUntilDone === 'boolean' ? msg.waitUntilDone : def.waitUntilDone === true;
      const timeoutS = configNumber(msg.timeout, configNumber(def.timeout, 0));
      const outcome = await tester.execute(request, { waitUntilDone, timeoutMs: timeoutS > 0 ? timeoutS * 1000 : undefined });
      msg.topic = outcome.command;
      msg.payload = outcome;
      msg.state = outcome.state;
      send(msg);
    });
  }
  RED.nodes.registerType('semiate-command', SemiAteCommandNode);
};
