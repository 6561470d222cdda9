import assert from 'node:assert/strict';
import type { NodeStatus } from '../../src/nodered/red-types';
import { StatusOverlay, type OverlayMode } from '../../src/nodered/status-overlay';

type Shown = NodeStatus | Record<string, never>;

const CONNECTED: NodeStatus = { fill: 'green', shape: 'dot', text: 'connected (2 ports)' };
const RECONNECTING: NodeStatus = { fill: 'yellow', shape: 'ring', text: 'reconnecting in 1 s' };
const LOADING: NodeStatus = { fill: 'yellow', shape: 'ring', text: 'loading' };
const PORT_OPEN: NodeStatus = { fill: 'green', shape: 'dot', text: 'term COM3 @ 115200' };
const PORT_MISSING: NodeStatus = { fill: 'red', shape: 'ring', text: 'port COM4 not found' };
const REFUSED: NodeStatus = { fill: 'red', shape: 'ring', text: 'unload refused: initialized' };
const READY: NodeStatus = { fill: 'green', shape: 'dot', text: 'ready' };
const TESTING: NodeStatus = { fill: 'blue', shape: 'dot', text: 'testing' };

/** An overlay, its connection side (what a config node pushes) and everything it showed. */
function overlay(mode: OverlayMode): { status: StatusOverlay; push: (s: Shown) => void; shown: Shown[] } {
  const shown: Shown[] = [];
  const status = new StatusOverlay(mode, (s) => shown.push(s));
  const target = status.target('n1');
  assert.equal(target.id, 'n1');
  return { status, push: (s) => target.status(s), shown };
}

describe('StatusOverlay', function () {
  describe("'state' (a terminal's port)", function () {
    it('shows its own port while the connection is up, never the connection’s green', () => {
      const { status, push, shown } = overlay('state');
      push(CONNECTED);
      status.set(PORT_OPEN);
      push({ ...CONNECTED, text: 'connected (3 ports)' });
      assert.deepEqual(shown, [CONNECTED, PORT_OPEN, PORT_OPEN]);
    });

    it('shows the connection while it is down (or busy), and its own port again once it is back', () => {
      const { status, push, shown } = overlay('state');
      status.set(PORT_OPEN);
      push(RECONNECTING);
      push(LOADING);
      push(CONNECTED);
      assert.deepEqual(shown, [PORT_OPEN, RECONNECTING, LOADING, PORT_OPEN]);
    });

    it('keeps its own fault through the connection’s reports (no flash back to green at a retry)', () => {
      const { status, push, shown } = overlay('state');
      push(CONNECTED);
      status.set(PORT_MISSING);
      push(CONNECTED);
      status.set(PORT_MISSING);
      assert.deepEqual(shown.slice(1), [PORT_MISSING, PORT_MISSING, PORT_MISSING]);
    });

    it('an own state set while the connection is down waits until it is up', () => {
      const { status, push, shown } = overlay('state');
      push(RECONNECTING);
      status.set(PORT_OPEN);
      assert.deepEqual(shown, [RECONNECTING, RECONNECTING]);
      push(CONNECTED);
      assert.deepEqual(shown.at(-1), PORT_OPEN);
    });
  });

  describe("'outcome' (a command's refusal)", function () {
    it('keeps a refusal over the connection’s reports until clear(), then shows the latest of them', () => {
      const { status, push, shown } = overlay('outcome');
      push(READY);
      status.set(REFUSED);
      push({ ...READY, text: 'initialized' });
      assert.deepEqual(shown.at(-1), REFUSED);
      status.clear();
      assert.deepEqual(shown.at(-1), { ...READY, text: 'initialized' });
      const count = shown.length;
      status.clear();
      assert.equal(shown.length, count, 'a clear with nothing to clear shows nothing new');
    });

    it('a lost connection replaces the refusal for good: it does not come back when the connection does', () => {
      const { status, push, shown } = overlay('outcome');
      push(READY);
      status.set(REFUSED);
      push(RECONNECTING);
      assert.deepEqual(shown.at(-1), RECONNECTING);
      push(READY);
      assert.deepEqual(shown.at(-1), READY);
      assert.ok(!shown.slice(shown.indexOf(RECONNECTING)).includes(REFUSED), JSON.stringify(shown));
    });

    it('asks upWhen() whether the connection is up: a blue "testing" or a red alarm does not drop the refusal', () => {
      const { status, push, shown } = overlay('outcome');
      let up = true;
      status.upWhen(() => up);
      push(READY);
      status.set(REFUSED);
      push(TESTING);
      push({ fill: 'red', shape: 'dot', text: 'alarm' });
      assert.deepEqual(shown.at(-1), REFUSED);
      up = false;
      push({ fill: 'red', shape: 'dot', text: 'connection lost' });
      up = true;
      push(READY);
      assert.deepEqual(shown.at(-1), READY);
    });

    it('{} from the connection clears the dot when there is no refusal', () => {
      const { push, shown } = overlay('outcome');
      push(READY);
      push({});
      assert.deepEqual(shown, [READY, {}]);
    });
  });
});
