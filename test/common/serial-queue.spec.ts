import assert from 'node:assert/strict';
import { SerialQueue, sharedQueue } from '../../src/protocols/common/serial-queue';

describe('SerialQueue', () => {
  it('runs work one at a time in arrival order, and a failure does not stop the rest', async () => {
    const queue = new SerialQueue();
    const log: string[] = [];
    let running = 0;
    const job =
      (name: string, fail = false) =>
      async (): Promise<string> => {
        running += 1;
        assert.equal(running, 1, 'never two at once');
        log.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, 5));
        running -= 1;
        log.push(`end ${name}`);
        if (fail) throw new Error(`${name} failed`);
        return name;
      };
    const results = [queue.run(job('a')), queue.run(job('b', true)), queue.run(job('c'))];
    assert.equal(queue.length, 3);
    assert.equal(await results[0], 'a');
    await assert.rejects(results[1]!, /b failed/);
    assert.equal(await results[2], 'c');
    assert.deepEqual(log, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    assert.equal(queue.length, 0);
  });

  it('shares one queue per instrument address across the process', () => {
    assert.equal(sharedQueue('x 1'), sharedQueue('x 1'));
    assert.notEqual(sharedQueue('x 1'), sharedQueue('x 2'));
  });
});
