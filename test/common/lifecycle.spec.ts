import assert from 'node:assert/strict';
import { InstrumentError } from '../../src/protocols/common/errors';
import { onClose, onInput } from '../../src/nodered/lifecycle';
import type { RedAPI, RedNode, NodeDef } from '../../src/nodered/red-types';
import { helper, nextMessage } from '../helpers/red';

/** A node built only from the lifecycle helpers, to test them inside a real Node-RED runtime. */
function probeNode(RED: RedAPI): void {
  RED.nodes.registerType('lifecycle-probe', function (this: RedNode, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    onInput(node, async (msg, send) => {
      if (msg.payload === 'throw') throw new Error('thrown synchronously');
      await new Promise((r) => setTimeout(r, 5));
      if (msg.payload === 'reject') throw new Error('rejected later');
      if (msg.payload === 'string') return Promise.reject('a bare string');
      if (msg.payload === 'instrument') throw new InstrumentError('BAD_INPUT', 'pgroup is required for retrieve_from_buffers');
      send({ ...msg, payload: `ok:${String(msg.payload)}` });
    });
    onClose(node, () => (def.hang ? new Promise<void>(() => undefined) : undefined), 100);
  });
}

describe('lifecycle helpers on a real Node-RED runtime', () => {
  afterEach(async () => {
    await helper.unload();
  });

  const flow = (hang = false): Array<Record<string, unknown>> => [
    { id: 'tab', type: 'tab' },
    { id: 'p', z: 'tab', type: 'lifecycle-probe', hang, wires: [['out']] },
    { id: 'out', z: 'tab', type: 'helper' },
    { id: 'c', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
  ];

  it('passes results through send and ends with done()', async () => {
    await helper.load(probeNode as never, flow());
    const out = nextMessage(helper.getNode('out'));
    helper.getNode('p').receive({ payload: 'x' });
    assert.equal((await out).payload, 'ok:x');
  });

  for (const [payload, text] of [
    ['throw', 'thrown synchronously'],
    ['reject', 'rejected later'],
    ['string', 'a bare string'],
  ]) {
    it(`lets a Catch node see an error (${payload})`, async () => {
      await helper.load(probeNode as never, flow());
      const caught = nextMessage<{ error: { message: string }; payload: string }>(helper.getNode('caught'));
      helper.getNode('p').receive({ payload });
      const msg = await caught;
      assert.match(msg.error.message, new RegExp(text));
      assert.equal(msg.payload, payload, 'the failing msg reaches the Catch node');
    });
  }

  it('gives a Catch node the sentence of an InstrumentError, without the class name', async () => {
    await helper.load(probeNode as never, flow());
    const caught = nextMessage<{ error: { message: string } }>(helper.getNode('caught'));
    helper.getNode('p').receive({ payload: 'instrument' });
    assert.equal((await caught).error.message, 'pgroup is required for retrieve_from_buffers');
  });

  it('calls done on close even when the work hangs', async () => {
    await helper.load(probeNode as never, flow(true));
    const started = Date.now();
    await helper.unload();
    assert.ok(Date.now() - started < 3000, 'unload finished within the close budget');
  });
});
