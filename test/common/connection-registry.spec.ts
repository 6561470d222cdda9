import assert from 'node:assert/strict';
import { ConnectionRegistry, type StatusTarget } from '../../src/nodered/connection-registry';
import type { NodeStatus } from '../../src/nodered/red-types';

class User implements StatusTarget {
  seen: NodeStatus[] = [];
  constructor(readonly id: string) {}
  status(status: NodeStatus): void {
    this.seen.push(status);
  }
}

function makeRegistry(): { registry: ConnectionRegistry<{ n: number }>; opened: number[]; closed: number[] } {
  const opened: number[] = [];
  const closed: number[] = [];
  let n = 0;
  const registry = new ConnectionRegistry<{ n: number }>({
    open: () => {
      n += 1;
      opened.push(n);
      return { n };
    },
    close: (c) => {
      closed.push(c.n);
    },
  });
  return { registry, opened, closed };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('ConnectionRegistry', () => {
  it('opens lazily on the first user and shares one connection', () => {
    const { registry, opened } = makeRegistry();
    assert.equal(registry.current, undefined);
    const a = registry.register(new User('a'));
    const b = registry.register(new User('b'));
    assert.equal(a, b);
    assert.deepEqual(opened, [1]);
    assert.equal(registry.userCount, 2);
  });

  it('closes when the last user leaves, and reopens for a new user', async () => {
    const { registry, opened, closed } = makeRegistry();
    const a = new User('a');
    const b = new User('b');
    registry.register(a);
    registry.register(b);
    await registry.deregister(a);
    assert.deepEqual(closed, []);
    await registry.deregister(b);
    await registry.deregister(b);
    assert.deepEqual(closed, [1], 'deregister is idempotent');
    registry.register(a);
    assert.deepEqual(opened, [1, 2]);
  });

  it('broadcasts status and replays the last one to a late registrant after setImmediate', async () => {
    const { registry } = makeRegistry();
    const early = new User('early');
    registry.register(early);
    registry.setStatus({ fill: 'green', shape: 'dot', text: 'connected' });
    assert.deepEqual(early.seen, [{ fill: 'green', shape: 'dot', text: 'connected' }]);
    const late = new User('late');
    registry.register(late);
    assert.deepEqual(late.seen, [], 'not during the constructor');
    await tick();
    assert.deepEqual(late.seen, [{ fill: 'green', shape: 'dot', text: 'connected' }]);
  });

  it('does not replay to a user that left before setImmediate, or a stale status', async () => {
    const { registry } = makeRegistry();
    registry.register(new User('keep'));
    registry.setStatus({ text: 'old' });
    const gone = new User('gone');
    registry.register(gone);
    await registry.deregister(gone);
    const stale = new User('stale');
    registry.register(stale);
    registry.setStatus({ text: 'new' });
    await tick();
    assert.deepEqual(gone.seen, []);
    assert.deepEqual(stale.seen, [{ text: 'new' }]);
  });

  it('closeAll closes whatever users remain and refuses new ones', async () => {
    const { registry, closed } = makeRegistry();
    registry.register(new User('a'));
    await registry.closeAll();
    assert.deepEqual(closed, [1]);
    assert.throws(() => registry.register(new User('b')), /configuration node has been closed/);
  });

  it('survives a close function that throws', async () => {
    const registry = new ConnectionRegistry({
      open: () => ({}),
      close: () => {
        throw new Error('boom');
      },
    });
    const user = new User('a');
    registry.register(user);
    await registry.deregister(user);
    assert.equal(registry.current, undefined);
  });
});
