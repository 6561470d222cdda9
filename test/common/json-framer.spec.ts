import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InstrumentError } from '../../src/protocols/common/errors';
import { JsonFramer } from '../../src/protocols/common/json-framer';

function splitAt(buffer: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buffer.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let start = 0;
  for (const p of points) {
    parts.push(buffer.subarray(start, p));
    start = p;
  }
  parts.push(buffer.subarray(start));
  return parts;
}

const jsonValue = fc.oneof(
  fc.dictionary(fc.string({ unit: 'binary' }), fc.jsonValue({ maxDepth: 3 })),
  fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 5 }),
);

describe('JsonFramer', () => {
  it('splits concatenated objects with no delimiter', () => {
    const framer = new JsonFramer();
    const out = framer.push(Buffer.from('{"a":1}{"b":[1,2,{"c":"}"}]}[3]'));
    assert.deepEqual(
      out.map((t) => JSON.parse(t) as unknown),
      [{ a: 1 }, { b: [1, 2, { c: '}' }] }, [3]],
    );
    assert.equal(framer.buffered, 0);
  });

  it('handles escapes, braces inside strings and whitespace between values', () => {
    const framer = new JsonFramer();
    const text = ' \n{"q":"a\\"}{\\\\"}\r\n\t{"x":"\\\\"}  ';
    const out = framer.push(Buffer.from(text));
    assert.deepEqual(
      out.map((t) => JSON.parse(t) as unknown),
      [{ q: 'a"}{\\' }, { x: '\\' }],
    );
  });

  it('reassembles a value split inside a multi-byte UTF-8 character', () => {
    const bytes = Buffer.from('{"name":"Prüfling ✓ 日本"}');
    const cut = bytes.indexOf(0xe2) + 1;
    const framer = new JsonFramer();
    assert.deepEqual(framer.push(bytes.subarray(0, cut)), []);
    const out = framer.push(bytes.subarray(cut));
    assert.deepEqual(JSON.parse(out[0]!), { name: 'Prüfling ✓ 日本' });
  });

  it('refuses bytes that cannot start a value and resets', () => {
    const framer = new JsonFramer();
    assert.throws(() => framer.push(Buffer.from('{"a":1} x')), /unexpected byte 0x78/);
    assert.deepEqual(
      framer.push(Buffer.from('{"ok":true}')).map((t) => JSON.parse(t) as unknown),
      [{ ok: true }],
    );
  });

  it('enforces the maximum value size', () => {
    const framer = new JsonFramer({ maxBytes: 32 });
    assert.throws(() => framer.push(Buffer.from(`{"a":"${'x'.repeat(100)}`)), /grew past 32 bytes/);
    assert.equal(framer.buffered, 0);
    assert.throws(() => new JsonFramer({ maxBytes: 8 }).push(Buffer.from('{"abcdefgh":1}')), /exceeds 8/);
  });

  it('yields the same values however the stream is split (property)', () => {
    fc.assert(
      fc.property(
        fc.array(jsonValue, { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.array(fc.constantFrom('', ' ', '\n', '\r\n', '\t '), { minLength: 7, maxLength: 7 }),
        (values, cuts, gaps) => {
          const text = values.map((v, i) => gaps[i] + JSON.stringify(v)).join('') + gaps[6];
          const framer = new JsonFramer();
          const out: unknown[] = [];
          for (const part of splitAt(Buffer.from(text, 'utf8'), cuts)) out.push(...framer.push(part).map((t) => JSON.parse(t) as unknown));
          assert.deepEqual(out, JSON.parse(JSON.stringify(values)));
          assert.equal(framer.buffered, 0);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('handles byte-at-a-time delivery', () => {
    const values = [{ a: 'ü"\\' }, [1, { b: null }], { c: '✓' }];
    const bytes = Buffer.from(values.map((v) => JSON.stringify(v)).join(''));
    const framer = new JsonFramer();
    const out: unknown[] = [];
    for (let i = 0; i < bytes.length; i += 1) out.push(...framer.push(bytes.subarray(i, i + 1)).map((t) => JSON.parse(t) as unknown));
    assert.deepEqual(out, values);
  });

  it('refuses a value nested deeper than maxDepth as soon as it gets there, then frames on', () => {
    const framer = new JsonFramer({ maxDepth: 3 });
    assert.deepEqual(framer.push(Buffer.from('[[["[[[[["]]]')), ['[[["[[[[["]]]'], 'brackets inside strings do not count');
    assert.throws(
      () => framer.push(Buffer.from('{"a":[[[')),
      (err: unknown) =>
        err instanceof InstrumentError && err.code === 'TOO_LARGE' && err.details.reason === 'tooDeep' && /more than 3 levels/.test(err.message),
    );
    assert.equal(framer.midValue, false);
    assert.deepEqual(framer.push(Buffer.from('{"b":1}')), ['{"b":1}']);
  });

  it('says whether a value is under way (a reply cut off part-way)', () => {
    const framer = new JsonFramer();
    framer.push(Buffer.from('{"id":1,"result":{"a"'));
    assert.equal(framer.midValue, true);
    framer.push(Buffer.from(':1}}'));
    assert.equal(framer.midValue, false);
  });
});
