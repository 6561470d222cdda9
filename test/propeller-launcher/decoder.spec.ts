import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_PIECES_PER_PUSH, TerminalDecoder, unescapeDelimiter } from '../../src/protocols/propeller/terminal-decoder';
import { parseProgress } from '../../src/protocols/propeller/launcher-messages';
import { PacketCounter } from '../../src/protocols/propeller/launcher-terminal';

function feed(decoder: TerminalDecoder, chunks: Buffer[]): Array<string | Buffer> {
  return chunks.flatMap((c) => decoder.push(c));
}

describe('propeller terminal decoding', function () {
  it('splits lines across packets and drops the CR before LF', function () {
    const d = new TerminalDecoder({ split: 'line', output: 'utf8' });
    assert.deepEqual(feed(d, [Buffer.from('ab\r'), Buffer.from('\ncd\n\nef')]), ['ab', 'cd', '']);
    assert.deepEqual(d.push(Buffer.from('\r\n')), ['ef']);
  });

  it('ends a line at a lone CR too (the Parallax Serial Terminal newline), at once, and a CR LF cut between packets once', function () {
    const d = new TerminalDecoder({ split: 'line', output: 'utf8' });
    assert.deepEqual(d.push(Buffer.from('count = 1\r')), ['count = 1'], 'a CR-ended line is not held for the next packet');
    assert.deepEqual(d.push(Buffer.from('\ncount = 2\rcount = 3\r\r')), ['count = 2', 'count = 3', '']);
    assert.deepEqual(d.push(Buffer.from('20,98\rProgram restarted\r\n')), ['20,98', 'Program restarted']);
    assert.deepEqual(d.push(Buffer.from('\n')), [''], 'an LF after a whole CR LF is a line of its own');
  });

  it('keeps a UTF-8 character split across packets whole', function () {
    const bytes = Buffer.from('grüße €');
    const d = new TerminalDecoder({ split: 'none', output: 'utf8' });
    const out = feed(d, [bytes.subarray(0, 3), bytes.subarray(3, 9), bytes.subarray(9)]);
    assert.equal(out.join(''), 'grüße €');
    assert.ok(out.every((s) => typeof s === 'string' && !s.includes('\ufffd')));
  });

  it('splits on an escaped delimiter and emits Buffers', function () {
    assert.equal(unescapeDelimiter('\\r\\n\\t\\x41\\\\'), '\r\n\tA\\');
    const d = new TerminalDecoder({ split: 'delimiter', delimiter: '\\r', output: 'buffer' });
    const out = feed(d, [Buffer.from('1,2\r3'), Buffer.from(',4\r')]);
    assert.deepEqual(out, [Buffer.from('1,2'), Buffer.from('3,4')]);
  });

  it('emits a piece that outgrows the limit without a delimiter', function () {
    const d = new TerminalDecoder({ split: 'line', output: 'latin1', maxPiece: 8 });
    assert.deepEqual(d.push(Buffer.from('0123456789')), ['0123456789']);
    assert.deepEqual(d.push(Buffer.from('ab\n')), ['ab']);
  });

  it('never turns one push into more than MAX_PIECES_PER_PUSH msgs: the rest leave together, nothing lost', function () {
    const lines = Array.from({ length: 1000 }, (_v, i) => `line ${i}`);
    const d = new TerminalDecoder({ split: 'line', output: 'utf8' });
    const out = d.push(Buffer.from(`${lines.join('\r\n')}\r\ntail`)) as string[];
    assert.equal(out.length, MAX_PIECES_PER_PUSH);
    assert.deepEqual(out.slice(0, MAX_PIECES_PER_PUSH - 1), lines.slice(0, MAX_PIECES_PER_PUSH - 1));
    assert.equal(out.at(-1), lines.slice(MAX_PIECES_PER_PUSH - 1).join('\r\n'));
    assert.deepEqual(d.push(Buffer.from('\n')), ['tail']);
    const crlf = new TerminalDecoder({ split: 'delimiter', delimiter: '\r\n', output: 'buffer', maxPieces: 2 });
    assert.deepEqual(crlf.push(Buffer.from('a\r\nb\r\nc\r\nd')), [Buffer.from('a'), Buffer.from('b\r\nc')]);
  });

  it('gives the same pieces however the stream is cut into packets', function () {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(300), { maxLength: 10 }), (bytes, cuts) => {
        const data = Buffer.from(bytes.map((b) => (b % 7 === 0 ? 0x0a : b % 11 === 0 ? 0x0d : b)));
        const whole = new TerminalDecoder({ split: 'line', output: 'buffer' }).push(data);
        const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
        const chunks: Buffer[] = [];
        let at = 0;
        for (const p of points) {
          chunks.push(data.subarray(at, p));
          at = p;
        }
        chunks.push(data.subarray(at));
        assert.deepEqual(feed(new TerminalDecoder({ split: 'line', output: 'buffer' }), chunks), whole);
      }),
      { numRuns: 300 },
    );
  });

  it('reports packetID jumps only, from the first packet seen', function () {
    const counter = new PacketCounter();
    assert.equal(counter.next(41), undefined);
    assert.equal(counter.next(42), undefined);
    assert.deepEqual(counter.next(45), { expected: 43, received: 45 });
    assert.equal(counter.next(46), undefined);
    counter.reset();
    assert.equal(counter.next(90), undefined);
  });

  it('reads progress texts: ids, the activity tick, id-less errors and milestones', function () {
    assert.equal(parseProgress('.'), undefined);
    assert.equal(parseProgress('\r'), undefined);
    assert.deepEqual(parseProgress('\r012-Programming and verifying EEPROM'), {
      id: 12,
      text: 'Programming and verifying EEPROM',
      stage: 'programming-eeprom',
      withoutId: false,
    });
    assert.deepEqual(parseProgress('\r124-Error: Found Propeller version 2 - expected version 1'), {
      id: 124,
      text: 'Error: Found Propeller version 2 - expected version 1',
      stage: 'error',
      withoutId: false,
    });
    assert.deepEqual(parseProgress('\rError: Invalid checksum in .binary or .eeprom data'), {
      id: -1,
      text: 'Error: Invalid checksum in .binary or .eeprom data',
      stage: 'error',
      withoutId: true,
    });
    assert.deepEqual(parseProgress('\rLaunching'), { id: 0, text: 'Launching', stage: 'launching', withoutId: true });
  });
});
