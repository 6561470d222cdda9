import assert from 'node:assert/strict';
import { Backoff } from '../../src/protocols/common/backoff';

describe('Backoff', () => {
  it('grows exponentially up to the cap without jitter', () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 1000, factor: 2, jitter: 0 });
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map(() => backoff.next()),
      [100, 200, 400, 800, 1000, 1000],
    );
    assert.equal(backoff.attempts, 6);
  });

  it('starts again after reset', () => {
    const backoff = new Backoff({ initialMs: 50, maxMs: 1000, jitter: 0 });
    backoff.next();
    backoff.next();
    backoff.reset();
    assert.equal(backoff.next(), 50);
  });

  it('keeps jittered delays within [base*(1-jitter), base]', () => {
    for (const r of [0, 0.5, 0.999]) {
      const backoff = new Backoff({ initialMs: 1000, maxMs: 1000, jitter: 0.5, random: () => r });
      const value = backoff.next();
      assert.ok(value >= 500 && value <= 1000, `jittered ${value} for random ${r}`);
    }
    const low = new Backoff({ initialMs: 1000, jitter: 0.5, random: () => 0 }).next();
    const high = new Backoff({ initialMs: 1000, jitter: 0.5, random: () => 0.999 }).next();
    assert.ok(high - low > 400, 'jitter spreads the delays');
  });

  it('clamps nonsense options', () => {
    const backoff = new Backoff({ initialMs: -5, maxMs: 0, factor: 0.1, jitter: 7, random: () => 1 });
    assert.ok(backoff.next() >= 1);
  });
});
