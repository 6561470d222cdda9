import assert from 'node:assert/strict';
import { secondsOf } from '../../src/protocols/common/timeout';

describe('secondsOf: a time limit as the seconds a message says', () => {
  it('says a limit as the user gave it, fractions too', () => {
    assert.equal(secondsOf(500), 0.5);
    assert.equal(secondsOf(2000), 2);
    assert.equal(secondsOf(2500), 2.5);
    assert.equal(secondsOf(86_400_000), 86_400);
  });

  it('keeps milliseconds below a tenth of a second', () => {
    assert.equal(secondsOf(1), 0.001);
    assert.equal(secondsOf(50), 0.05);
  });

  it('reads the remainder of a limit (a millisecond short) as the limit', () => {
    assert.equal(secondsOf(1999), 2);
    assert.equal(secondsOf(499), 0.5);
  });
});
