import { strict as assert } from 'node:assert';
import { INBOX_LIMIT, ReplyInbox } from '../../src/protocols/propeller/serial-reply-inbox';

describe('propeller serial reply inbox', () => {
  it('a device that floods the line during a load holds at most INBOX_LIMIT bytes, the newest', () => {
    const inbox = new ReplyInbox();
    const chunk = Buffer.alloc(4096);
    for (let i = 0; i < 2560; i++) inbox.push(chunk.fill(i & 0xff));
    assert.equal(inbox.bytes.length, INBOX_LIMIT);
    assert.equal(inbox.bytes.at(-1), 2559 & 0xff);
    inbox.push(Buffer.alloc(INBOX_LIMIT * 3, 7));
    assert.equal(inbox.bytes.length, INBOX_LIMIT);
    assert.ok(inbox.bytes.every((b) => b === 7));
  });

  it('keeps every byte of ordinary answers', () => {
    const inbox = new ReplyInbox();
    inbox.push(Buffer.from([1, 2]));
    inbox.push(Buffer.from([3]));
    assert.deepEqual([...inbox.bytes], [1, 2, 3]);
    assert.equal(inbox.shift(), 1);
    assert.deepEqual([...inbox.bytes], [2, 3]);
  });
});
