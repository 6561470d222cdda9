import assert from 'node:assert/strict';
import fc from 'fast-check';
import { jsonTextTooDeep } from '../../src/protocols/common/json-limits';

/** The depth of a parsed value, counted as jsonTextTooDeep counts it (the outermost object or array is 1). */
function depthOf(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  const items: unknown[] = Array.isArray(value) ? value : Object.values(value);
  return 1 + items.reduce<number>((deepest, item) => Math.max(deepest, depthOf(item)), 0);
}

describe('jsonTextTooDeep', () => {
  it('refuses one level past the limit and accepts the limit itself', () => {
    assert.equal(jsonTextTooDeep(`${'['.repeat(64)}${']'.repeat(64)}`), false);
    assert.equal(jsonTextTooDeep(`${'['.repeat(65)}${']'.repeat(65)}`), true);
    assert.equal(jsonTextTooDeep(`{"a":${'{"b":'.repeat(64)}1${'}'.repeat(65)}`), true);
  });

  it('accepts many brackets side by side: their count passes the limit, their depth does not', () => {
    assert.equal(jsonTextTooDeep(`[${Array.from({ length: 500 }, () => '{"a":[1]}').join(',')}]`), false);
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    assert.equal(jsonTextTooDeep(`{"a":"${'['.repeat(100)}"}`), false);
    assert.equal(jsonTextTooDeep(`{"a":"\\"${'{'.repeat(100)}"}`), false);
    assert.equal(jsonTextTooDeep(`{"a":"\\"","b":${'['.repeat(100)}${']'.repeat(100)}}`), true);
  });

  it('agrees with the depth of the parsed value for any JSON and any limit', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 0, max: 9 }), (value, limit) => {
        const text = JSON.stringify(value);
        assert.equal(jsonTextTooDeep(text, limit), depthOf(value) > limit, text);
      }),
      { numRuns: 500 },
    );
  });
});
