import type { PartResult, SemiAteTester, StdfRecord } from '../protocols/semiate';
import { onClose } from '../nodered/lifecycle';
import type { NodeDef, NodeMessage, RedAPI, RedNode } from '../nodered/red-types';
import type { TesterConfigNode } from './semiate-tester';

export = function (RED: RedAPI) {
  function SemiAteResultsNode(this: RedNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const config = RED.nodes.getNode(String(def.tester ?? '')) as TesterConfigNode | null;
    if (!config?.registry) {
      this.status({ fill: 'red', shape: 'ring', text: RED._('semiate-results.status.no-tester') });
      this.error(RED._('semiate-results.errors.no-tester'));
      return;
    }
    const includeRecords = def.includeRecords === true;
    const tester: SemiAteTester = config.registry.register(this);
    const onPart = (part: PartResult, records: StdfRecord[]): void => {
      const msg: NodeMessage = {
        topic: `site${part.site}`,
        payload: part,
        yield: { site: tester.yieldTracker.site(part.site), total: tester.yieldTracker.overall() },
        lot: tester.lotNumber,
      };
      if (includeRecords) msg.records = records;
      this.send(msg);
    };
    tester.on('part', onPart);
    onClose(this, async () => {
      tester.off('part', onPart);
      await config.registry.deregister(this);
    });
  }
  RED.nodes.registerType('semiate-results', SemiAteResultsNode);
};
