import assert from 'node:assert/strict';
import { describeReply, type NebvClient } from '../../src/protocols/nebv/client';
import { NebvSimulator } from '../../src/simulators/nebv';
import { waitFor } from '../helpers/red';
import { quickClient, rejectionOf } from './fixtures';

type Details = { details: Record<string, unknown> };

/** A reply whose result is nested `depth` arrays deep. */
function deepReply(id: unknown, depth: number): string {
  return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${'['.repeat(depth)}${']'.repeat(depth)}}`;
}

describe('nebv client against a broken or hostile peer', function () {
  let sim: NebvSimulator;
  let client: NebvClient | undefined;

  beforeEach(async () => {
    sim = await NebvSimulator.start({ seed: 11 });
  });
  afterEach(async () => {
    await client?.close();
    client = undefined;
    await sim.close();
  });

  it('resynchronises after a call times out with a reply cut off part-way, and says so', async () => {
    client = quickClient(`127.0.0.1:${sim.port}`, { backoff: { initialMs: 20, maxMs: 50 } });
    const streamErrors: Error[] = [];
    client.on('streamError', (err) => streamErrors.push(err));
    await client.call('MarkList.items');
    // The next reply stops half-way and the peer stays silent on that connection.
    sim.rawReply = ({ id }) => {
      sim.rawReply = undefined;
      return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":{"key":"Marks@1|Mark 1@1","pro`;
    };
    const err = await rejectionOf(client.call('MarkList.add', { point: [1, 2] }, { timeoutMs: 300 }));
    assert.equal(err.code, 'TIMEOUT');
    assert.match(err.message, /an unfinished reply \(\d+ bytes\) was pending, so the connection was reset to resynchronise/);
    assert.equal((err as unknown as Details).details.reason, 'timeoutReplyCutOff');
    assert.equal(streamErrors.length, 1);
    assert.match(streamErrors[0]!.message, /stopped part-way/);
    // Before the reset every later call timed out behind the unfinished reply.
    const mark = (await client.call('MarkList.add', { point: [3, 4] }, { timeoutMs: 3000 })) as { props: { Location: string } };
    assert.equal(mark.props.Location, '3.0,4.0');
  });

  it('refuses a reply nested thousands deep before parsing it, resets and carries on', async () => {
    client = quickClient(`127.0.0.1:${sim.port}`);
    sim.rawReply = ({ id }) => {
      sim.rawReply = undefined;
      return deepReply(id, 6000);
    };
    const err = await rejectionOf(client.call('MarkList.items'));
    assert.equal(err.code, 'TOO_LARGE');
    assert.equal((err as unknown as Details).details.reason, 'streamTooDeep');
    assert.match(err.message, /nested more than 64 levels deep; it was refused and the connection was reset/);
    assert.deepEqual(await client.call('MarkList.items'), []);
  });

  it('drops a deep reply whose id matches no call without formatting it, and the next call works', async () => {
    client = quickClient(`127.0.0.1:${sim.port}`);
    const unmatched: unknown[] = [];
    const streamErrors: Error[] = [];
    client.on('unmatched', (reply) => unmatched.push(reply));
    client.on('streamError', (err) => streamErrors.push(err));
    await client.call('MarkList.items');
    sim.writeRaw(deepReply(987654, 6000));
    const c = client;
    await waitFor(() => streamErrors.length === 1, 3000, 'the deep reply to be refused');
    assert.equal(unmatched.length, 0);
    await waitFor(() => c.isConnected, 3000, 'the reconnect');
    assert.deepEqual(await client.call('MarkList.items'), []);
  });

  it('keeps a reply within the depth limit, and describes any reply for a log line in 200 characters without throwing', async () => {
    client = quickClient(`127.0.0.1:${sim.port}`);
    sim.rawReply = ({ id }) => {
      sim.rawReply = undefined;
      return deepReply(id, 60);
    };
    const result = await client.call('MarkList.items');
    let depth = 0;
    for (let v = result; Array.isArray(v); v = v[0] as unknown) depth += 1;
    assert.equal(depth, 60);
    let deep: unknown = 'bottom';
    for (let i = 0; i < 20_000; i += 1) deep = [deep];
    const text = describeReply({ id: 1, result: deep, huge: 'x'.repeat(1_000_000) });
    assert.ok(text.length <= 200, `${text.length} characters`);
    assert.match(text, /^\{"id":1,"result":\[\[\[\[…\]\]\]\]/);
  });

  it('refuses NaN, Infinity, undefined, a Buffer and class instances in params, naming the property, and sends nothing', async () => {
    client = quickClient(`127.0.0.1:${sim.port}`);
    await client.call('MarkList.items');
    const before = sim.requestCount;
    const bad: Array<[unknown, RegExp]> = [
      [{ point: [Number.NaN, 0] }, /^params\.point\[0\] is NaN: it must be a finite number; nothing was sent$/],
      [{ point: [Number.POSITIVE_INFINITY, 0] }, /^params\.point\[0\] is Infinity: it must be a finite number/],
      [{ point: [1, 2], name: undefined }, /^params\.name is undefined: it must be a value \(or leave the property out\)/],
      [{ point: [1, undefined] }, /^params\.point\[1\] is undefined/],
      [{ opts: { when: new Date(0) } }, /^params\.opts\.when is a Date: it must be a plain JSON value/],
      [{ data: Buffer.from([0, 1]) }, /^params\.data is a Buffer/],
      [{ 'odd key': Number.NaN }, /^params\["odd key"\] is NaN/],
      [Buffer.from('{"point":[1,2]}'), /^params must be a JSON object of named arguments .* not a Buffer$/],
    ];
    for (const [params, message] of bad) {
      const err = await rejectionOf(client.call('MarkList.add', params as Record<string, unknown>));
      assert.equal(err.code, 'BAD_INPUT');
      assert.match(err.message, message);
    }
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(sim.requestCount, before, 'nothing reached neoEBV');
  });
});
