import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { MAX_TIMEOUT_SECONDS, MIN_TIMEOUT_SECONDS, secondsOf } from '../../src/protocols/common/timeout';

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

describe('timeout fields of the editor dialogs', () => {
  it('a number field takes what the runtime takes: 0.001 to 86400 s, any fraction', () => {
    const dir = path.join(__dirname, '..', '..', 'nodes');
    const fields: string[] = [];
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.html'))) {
      const html = fs.readFileSync(path.join(dir, file), 'utf8');
      for (const [input] of html.matchAll(/<input type="number" id="node-(?:config-)?input-timeout"[^>]*>/g)) {
        fields.push(file);
        assert.match(input, new RegExp(`min="${MIN_TIMEOUT_SECONDS}"`), `${file}: ${input}`);
        assert.match(input, new RegExp(`max="${MAX_TIMEOUT_SECONDS}"`), `${file}: ${input}`);
        assert.match(input, /step="any"/, `${file}: ${input}`);
      }
    }
    assert.ok(fields.includes('nebv-server.html'), fields.join(', '));
  });
});
