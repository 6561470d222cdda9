import { onClose } from '../nodered/lifecycle';
import type { NodeDef, NodeMessage, RedAPI, RedNode } from '../nodered/red-types';
import type { BpwinEventStream } from '../protocols/bpwin/event-stream';
import { createEventFilter, noteOutput, parseStatusList } from '../protocols/bpwin/event-filter';
import { EVENT_NOTES, type BpwinEvent } from '../protocols/bpwin/events';
import type { InstrumentError } from '../protocols/common/errors';
import type { BpwinServerNode } from './bpwin-server';

const OUTPUTS = EVENT_NOTES.length + 1;

export = function (RED: RedAPI): void {
  function BpwinEvents(this: RedNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const server = RED.nodes.getNode(String(def.server ?? '')) as BpwinServerNode | null;
    // A Note is on unless unticked (def[`note<Name>`] === false), so older flows get every Note.
    const notes = EVENT_NOTES.filter((note) => def[`note${note}`] !== false);
    const filter = createEventFilter({ notes, otherNotes: def.noteOther !== false, statuses: parseStatusList(def.statuses) });
    const split = def.split === true;

    const onEvent = (event: BpwinEvent): void => {
      if (!filter(event)) return;
      // Several event nodes get the same decoded object: give each its own copy to change.
      const payload = stream && stream.listenerCount('event') > 1 ? { ...event, raw: { ...event.raw } } : event;
      const msg: NodeMessage = { topic: event.note, payload };
      if (!split) {
        node.send(msg);
        return;
      }
      const out: Array<NodeMessage | null> = new Array<NodeMessage | null>(OUTPUTS).fill(null);
      out[noteOutput(event.note)] = msg;
      node.send(out);
    };
    const onInvalid = (err: InstrumentError, text: string): void => node.error(err, { topic: 'invalid', payload: text });

    let stream: BpwinEventStream | undefined;
    if (!server) {
      node.status({ fill: 'red', shape: 'ring', text: RED._('bpwin-events.status.not-configured') });
      node.error('no BPWin server is configured: choose one in the node');
    } else {
      try {
        stream = server.events.register(node);
        stream.on('event', onEvent);
        stream.on('invalid', onInvalid);
      } catch (err) {
        node.status({ fill: 'red', shape: 'ring', text: RED._('bpwin-events.status.not-configured') });
        node.error(err);
      }
    }

    onClose(node, async () => {
      stream?.off('event', onEvent);
      stream?.off('invalid', onInvalid);
      if (stream && server) await server.events.deregister(node);
    });
  }

  RED.nodes.registerType('bpwin-events', BpwinEvents);
};
