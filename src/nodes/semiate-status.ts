import type { SemiAteTester, TesterEvent } from '../protocols/semiate';
import { onClose } from '../nodered/lifecycle';
import type { NodeDef, NodeMessage, RedAPI, RedNode } from '../nodered/red-types';
import type { TesterConfigNode } from './semiate-tester';

/** Optional outputs, by the config checkbox that enables them. */
const OPTIONAL = ['logs', 'yield', 'bintable', 'lotdata', 'usersettings', 'sitestatus'] as const;

export = function (RED: RedAPI) {
  function SemiAteStatusNode(this: RedNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const config = RED.nodes.getNode(String(def.tester ?? '')) as TesterConfigNode | null;
    if (!config?.registry) {
      node.status({ fill: 'red', shape: 'ring', text: RED._('semiate-status.status.no-tester') });
      node.error(RED._('semiate-status.errors.no-tester'));
      return;
    }
    const wanted = new Set<string>(OPTIONAL.filter((name) => def[name] === true));
    const tester: SemiAteTester = config.registry.register(node);
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
    onClose(node, async () => {
      for (const done of withdraw) done();
      tester.off('state', onState);
      tester.off('event', onEvent);
      await config.registry.deregister(node);
    });
  }
  RED.nodes.registerType('semiate-status', SemiAteStatusNode);
};
