import { BPWIN_SERVER } from '../nodered/config-nodes';
import type { Migration } from '../nodered/migrations';
import type { NodeDef, NodeMessage, RedAPI, RedNode } from '../nodered/red-types';
import { userNode } from '../nodered/user-node';
import { createEventFilter, noteOutput, parseStatusList } from '../protocols/bpwin/event-filter';
import { EVENT_NOTES, type BpwinEvent } from '../protocols/bpwin/events';
import type { InstrumentError } from '../protocols/common/errors';

const OUTPUTS = EVENT_NOTES.length + 1;
const NOTE_FIELDS = [...EVENT_NOTES.map((note) => `note${note}`), 'noteOther'];

/** Version 1: one checkbox per Note. Flows saved before the checkboxes existed got every Note: tick the ones they lack. */
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    up: (config) => ({ ...config, ...Object.fromEntries(NOTE_FIELDS.filter((field) => config[field] === undefined).map((field) => [field, true])) }),
  },
];

export = function (RED: RedAPI): void {
  function BpwinEvents(this: RedNode, config: NodeDef): void {
    const node = this;
    const user = userNode(RED, node, config, { migrations: MIGRATIONS, noInput: true });
    const def = user.def;
    const notes = EVENT_NOTES.filter((note) => def[`note${note}`] === true);
    const filter = createEventFilter({ notes, otherNotes: def.noteOther === true, statuses: parseStatusList(def.statuses) });
    const split = def.split === true;

    const link = user.use(BPWIN_SERVER, def.server, (server) => server.events);
    if (!link) return;
    const stream = link.connection;
    const onEvent = (event: BpwinEvent): void => {
      if (!filter(event)) return;
      // Several event nodes get the same decoded object: give each its own copy to change.
      const payload = stream.listenerCount('event') > 1 ? { ...event, raw: { ...event.raw } } : event;
      const msg: NodeMessage = { topic: event.note, payload };
      if (!split) {
        node.send(msg);
        return;
      }
      const out: Array<NodeMessage | null> = new Array<NodeMessage | null>(OUTPUTS).fill(null);
      out[noteOutput(event.note)] = msg;
      node.send(out);
    };
    const onInvalid = (err: InstrumentError, text: string): void => user.error(err, { topic: 'invalid', payload: text });
    stream.on('event', onEvent);
    stream.on('invalid', onInvalid);
    user.onClose(() => {
      stream.off('event', onEvent);
      stream.off('invalid', onInvalid);
    });
  }

  RED.nodes.registerType('bpwin-events', BpwinEvents);
};
