import type { PartResult, StdfRecord } from '../protocols/semiate';
import { SEMIATE_TESTER } from '../nodered/config-nodes';
import type { NodeDef, NodeMessage, RedAPI, RedNode } from '../nodered/red-types';
import { userNode } from '../nodered/user-node';

export = function (RED: RedAPI) {
  function SemiAteResultsNode(this: RedNode, def: NodeDef): void {
    const user = userNode(RED, this, def, { noInput: true });
    const link = user.use(SEMIATE_TESTER, def.tester, (config) => config.registry);
    if (!link) return;
    const tester = link.connection;
    const includeRecords = def.includeRecords === true;
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
    user.onClose(() => {
      tester.off('part', onPart);
    });
  }
  RED.nodes.registerType('semiate-results', SemiAteResultsNode);
};
