import { InstrumentError } from '../protocols/common/errors';
import { canonicalCommand, commandOf, type CommandRequest, type SemiAteTester } from '../protocols/semiate';
import { onClose, onInput } from '../nodered/lifecycle';
import { configNumber, evaluateProperty } from '../nodered/properties';
import type { NodeDef, RedAPI, RedNode } from '../nodered/red-types';
import type { TesterConfigNode } from './semiate-tester';

/** msg properties that override a command's parameters (same names as the request's fields). */
const MSG_FIELDS = ['options', 'level', 'sBin', 'hBin', 'layout'] as const;

export = function (RED: RedAPI) {
  function SemiAteCommandNode(this: RedNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const config = RED.nodes.getNode(String(def.tester ?? '')) as TesterConfigNode | null;
    if (!config?.registry) {
      node.status({ fill: 'red', shape: 'ring', text: RED._('semiate-command.status.no-tester') });
      onInput(node, () => {
        throw new InstrumentError('BAD_INPUT', RED._('semiate-command.errors.no-tester'));
      });
      return;
    }
    const tester: SemiAteTester = config.registry.register(node);

    onInput(node, async (msg, send) => {
      const command = commandOf(msg.command, String(def.command ?? ''));
      if (command === '') throw new InstrumentError('BAD_INPUT', RED._('semiate-command.errors.no-command'));
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

    onClose(node, () => config.registry.deregister(node));
  }
  RED.nodes.registerType('semiate-command', SemiAteCommandNode);
};
