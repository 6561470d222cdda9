import assert from 'node:assert/strict';
import { mock } from 'node:test';
import { BpwinClient } from '../../src/protocols/bpwin/client';
import { JobStatsPoller, MIN_POLL_MS } from '../../src/protocols/bpwin/job-stats-poller';
import type { HttpJsonResponse } from '../../src/protocols/common/http-json';

/** BPWin with no job session, answering at once: the poller's timing is all that is left to see. */
class IdleBpwin extends BpwinClient {
  polls = 0;

  constructor() {
    super({ host: '127.0.0.1' });
  }

  override async get(): Promise<HttpJsonResponse> {
    this.polls += 1;
    const text = '{"Success":0,"Message":"No job session"}';
    return { status: 200, headers: {}, text, json: JSON.parse(text) as unknown, isJson: true };
  }
}

/** Let the poll that a timer started finish (its reply is a resolved promise, not a timer). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('the BPWin job-stats poller on a fake clock', function () {
  let poller: JobStatsPoller | undefined;

  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => {
    poller?.stop();
    mock.timers.reset();
  });

  it('polls at least 100 ms apart even when asked for less, and exactly on time', async function () {
    const client = new IdleBpwin();
    poller = new JobStatsPoller({ client, intervalMs: 1 });
    assert.equal(poller.intervalMs, MIN_POLL_MS);
    poller.start();
    mock.timers.tick(0);
    await settle();
    assert.equal(client.polls, 1, 'the first poll at once');
    for (let poll = 2; poll <= 5; poll += 1) {
      mock.timers.tick(MIN_POLL_MS - 1);
      await settle();
      assert.equal(client.polls, poll - 1, `no poll ${poll} before ${MIN_POLL_MS} ms`);
      mock.timers.tick(1);
      await settle();
      assert.equal(client.polls, poll, `poll ${poll} at ${MIN_POLL_MS} ms`);
    }
  });

  it('keeps the interval it was given above the minimum, and stops polling when stopped', async function () {
    const client = new IdleBpwin();
    poller = new JobStatsPoller({ client, intervalMs: 2500 });
    poller.start();
    mock.timers.tick(0);
    await settle();
    mock.timers.tick(2499);
    await settle();
    assert.equal(client.polls, 1);
    mock.timers.tick(1);
    await settle();
    assert.equal(client.polls, 2);
    poller.stop();
    mock.timers.tick(60_000);
    await settle();
    assert.equal(client.polls, 2, 'nothing after stop()');
  });
});
