import type { TesterEvent } from '../protocols/semiate';
import { SEMIATE_TESTER } from '../nodered/config-nodes';
import type { NodeDef, NodeMessage, RedAPI, RedNode } from '../nodered/red-types';
import { userNode } from '../nodered/user-node';

/** Optional outputs, by the config checkbox that enables them. */
const OPTIONAL = ['logs', 'yield', 'bintable', 'lotdata', 'usersettings', 'sitestatus'] as const;

export = function (RED: RedAPI) {
  function SemiAteStatusNode(this: RedNode, def: NodeDef): void {
    const node = this;
    const user = userNode(RED, node, def, { noInput: true });
    const link = user.use(SEMIATE_TESTER, def.tester, (config) => config.registry);
    if (!link) return;
    const tester = link.connection;
    const wanted = new Set<string>(OPTIONAL.filter((name) => def[name] === true));
    const about = (): Record<string, unknown> => ({
      transport: tester.kind,
      state: tester.state,
      connectionId: tester.connectionId,
      masterConfiguration: tester.masterConfiguration,
      userSettings: tester.userSettings,
      sites: tester.sites,
    });

    const onState = (change: { state: string; previous: string | undefined; message: string }): void => {
      node.send({ topic: 'state', payload: change.state, previous: change.previous, message: change.message, tester: about() });
    };
    const onEvent = (event: TesterEvent): void => {
      let msg: NodeMessage | undefined;
      if (event.kind === 'logs' && wanted.has('logs') && event.entries.length > 0) {
        msg = { topic: 'logs', payload: event.entries };
      } else if (event.kind === 'data' && event.type === 'yield' && wanted.has('yield')) {
        msg = { topic: 'yield', payload: tester.yieldTracker.snapshot(), raw: event.payload };
      } else if (event.kind === 'part' && tester.kind === 'mqtt' && wanted.has('yield')) {
        // MQTT has no yield message: report ours after each part.
        msg = { topic: 'yield', payload: tester.yieldTracker.snapshot() };
      } else if (event.kind === 'data' && wanted.has(event.type)) {
        msg = { topic: event.type, payload: event.payload };
      }
      if (msg) node.send(msg);
    };
    tester.on('state', onState);
    tester.on('event', onEvent);
    const withdraw = [...wanted].map((type) => tester.want(type));
    user.onClose(() => {
      for (const done of withdraw) done();
      tester.off('state', onState);
      tester.off('event', onEvent);
    });
  }
  RED.nodes.registerType('semiate-status', SemiAteStatusNode);
};
