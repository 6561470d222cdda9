import assert from 'node:assert/strict';
import { PendingRequests } from '../../src/protocols/common/pending-requests';

describe('PendingRequests', () => {
  it('matches numeric and string ids by their string form', async () => {
    const pending = new PendingRequests<string>();
    const call = pending.add(1001, 1000, 'call 1001');
    assert.equal(pending.resolve('1001', 'ok'), true);
    assert.equal(await call, 'ok');
    assert.equal(pending.size, 0);
  });

  it('times out one call without touching the others', async () => {
    const pending = new PendingRequests<number>();
    const slow = pending.add('a', 20, 'slow call');
    const other = pending.add('b', 1000, 'other call');
    await assert.rejects(slow, /slow call: no reply within 0.02 s/);
    assert.equal(pending.has('b'), true);
    pending.resolve('b', 2);
    assert.equal(await other, 2);
  });

  it('refuses a duplicate id and ignores unknown replies', async () => {
    const pending = new PendingRequests<number>();
    const first = pending.add(1, 1000, 'x');
    await assert.rejects(pending.add(1, 1000, 'x'), /already in flight/);
    assert.equal(pending.resolve(99, 1), false);
    pending.resolve(1, 5);
    assert.equal(await first, 5);
  });

  it('fails every call at once when the link dies', async () => {
    const pending = new PendingRequests<number>();
    const calls = [1, 2, 3].map((id) => pending.add(id, 1000, `call ${id}`));
    pending.rejectAll(new Error('socket closed'));
    for (const call of calls) await assert.rejects(call, /socket closed/);
    assert.equal(pending.size, 0);
  });
});
