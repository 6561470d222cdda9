import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import type { NebvClient } from '../../src/protocols/nebv/client';
import { NebvRpcError } from '../../src/protocols/nebv/rpc-error';
import { NebvSimulator } from '../../src/simulators/nebv';
import { freePortBlock, quickClient, rawServer, rejectionOf, requestsIn } from './fixtures';
import { waitFor } from '../helpers/wait-for';

type Item = { key: string; klass: string; props: Record<string, string> };

describe('nebv client', function () {
  let sim: NebvSimulator;
  let client: NebvClient | undefined;

  beforeEach(async () => {
    sim = await NebvSimulator.start({ seed: 7 });
  });
  afterEach(async () => {
    await client?.close();
    client = undefined;
    await sim.close();
  });

  it('frames replies cut at any byte, coalesced, with multi-byte UTF-8 and whitespace, matched out of order', async () => {
    const names = ['größe', 'µm', '日本語', 'plain', 'e\\"scaped}{'];
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 60 }), fc.boolean(), async (cuts, spaced) => {
        const count = names.length;
        let seen = Buffer.alloc(0);
        const server = await rawServer((socket, chunk) => {
          seen = Buffer.concat([seen, chunk]);
          const requests = requestsIn(seen);
          if (requests.length < count) return;
          // Answer in reverse order, ids as strings for every other one, all in one stream cut at `cuts`.
          const stream = Buffer.from(
            requests
              .reverse()
              .map(
                (r, i) =>
                  JSON.stringify({ jsonrpc: '2.0', id: i % 2 ? String(r.id) : r.id, result: { echo: r.params.name } }) + (spaced ? ' \r\n\t' : ''),
              )
              .join(''),
            'utf8',
          );
          const pieces: Buffer[] = [];
          let offset = 0;
          for (let i = 0; offset < stream.length; i += 1) {
            const size = cuts[i % cuts.length]!;
            pieces.push(stream.subarray(offset, offset + size));
            offset += size;
          }
          const writeNext = (): void => {
            const piece = pieces.shift();
            if (piece && !socket.destroyed) {
              socket.write(piece);
              setImmediate(writeNext);
            }
          };
          writeNext();
        });
        const c = quickClient(`127.0.0.1:${server.port}`);
        try {
          const results = await Promise.all(names.map((name) => c.call('Echo.say', { name })));
          assert.deepEqual(
            results,
            names.map((name) => ({ echo: name })),
          );
          assert.equal(c.inFlight, 0);
        } finally {
          await c.close();
          await server.close();
        }
      }),
      { numRuns: 25 },
    );
  });

  it('keeps 1000 calls in flight on one socket and matches every reply to its call', async () => {
    client = quickClient(`127.0.0.1:${sim.port}`, { timeoutMs: 20000 });
    const calls = Array.from({ length: 1000 }, (_, i) => client!.call('pynebv.MarkList.add', { point: [i, -i], name: `m${i}` }));
    assert.equal(client.inFlight, 1000);
    const marks = (await Promise.all(calls)) as Item[];
    marks.forEach((mark, i) => {
      assert.equal(mark.props.Name, `m${i}`);
      assert.equal(mark.props.Location, `${i}.0,${i === 0 ? '0.0' : `-${i}.0`}`);
    });
    assert.equal(sim.requestCount, 1000);
    assert.equal(sim.connectionCount, 1);
    assert.equal(client.inFlight, 0);
  });

  it('matches a reply whose id comes back as a string, and turns a JSON-RPC error into NebvRpcError', async () => {
    client = quickClient(`127.0.0.1:${sim.port}`);
    const err = await rejectionOf(client.call('pynebv.test', { filePath: '/x.oas' }));
    assert.ok(err instanceof NebvRpcError);
    assert.equal(err.rpcCode, -32601);
    assert.equal(err.code, 'REMOTE');
    assert.match(err.message, /pynebv\.test.*Method not found \(code -32601\)/);
  });

  it('fails every call in flight with a clear error when the socket dies, then reconnects', async () => {
    client = quickClient(`127.0.0.1:${sim.port}`);
    await client.call('MarkList.items');
    sim.silent = true;
    const calls = [1, 2, 3].map((x) => rejectionOf(client!.call('MarkList.add', { point: [x, x] })));
    await waitFor(() => sim.requestCount >= 4, 3000, 'the four calls to reach neoEBV');
    sim.dropConnections();
    for (const err of await Promise.all(calls)) {
      assert.equal(err.code, 'DISCONNECTED');
      assert.match(err.message, /closed with 3 call\(s\) in flight/);
    }
    sim.silent = false;
    assert.deepEqual(await client.call('MarkList.items'), []);
    assert.equal(sim.connectionCount, 1);
  });

  it('gives each call its own timeout; a late reply is reported as unmatched', async () => {
    let seen = Buffer.alloc(0);
    const server = await rawServer((socket, chunk) => {
      seen = Buffer.concat([seen, chunk]);
      const requests = requestsIn(seen);
      if (requests.length === 2)
        setTimeout(() => socket.write(requests.map((r) => JSON.stringify({ jsonrpc: '2.0', id: r.id, result: { id: r.id } })).join('')), 800);
    });
    client = quickClient(`127.0.0.1:${server.port}`);
    const unmatched: unknown[] = [];
    client.on('unmatched', (reply) => unmatched.push(reply));
    try {
      const fast = rejectionOf(client.call('A.fast', {}, { timeoutMs: 100 }));
      const slow = client.call('A.slow', {}, { timeoutMs: 5000 });
      const err = await fast;
      assert.equal(err.code, 'TIMEOUT');
      assert.match(err.message, /pynebv\.A\.fast \(id \d+\) to 127\.0\.0\.1:\d+: no reply within 0\.1 s/);
      assert.deepEqual(await slow, { id: 2 });
      assert.equal(unmatched.length, 1);
      assert.deepEqual((unmatched[0] as { id: number }).id, 1);
    } finally {
      await client.close();
      client = undefined;
      await server.close();
    }
  });

  it('connects over a Unix socket', async () => {
    const socketPath = path.join(os.tmpdir(), `nebv-test-${process.pid}-${Date.now()}.sock`);
    const unixSim = await NebvSimulator.start({ unixPath: socketPath, seed: 3 });
    const c = quickClient(socketPath);
    try {
      const file = (await c.call('FileList.open', { filePath: '/data/chip.oas' })) as Item;
      assert.equal(file.key, 'chip.oas@1');
      assert.equal(c.endpoint, `unix:${socketPath}`);
      assert.deepEqual(await c.call('File.close', { item: file }), {});
    } finally {
      await c.close();
      await unixSim.close();
    }
    assert.equal(fs.existsSync(socketPath), false);
  });

  it('tries the ports of a range in order and settles on the one that accepts', async () => {
    const base = await freePortBlock(4);
    const rangeSim = await NebvSimulator.start({ portRange: [base, base + 3], portIndex: 2 });
    const c = quickClient(`127.0.0.1:${base}-${base + 3}`);
    try {
      assert.deepEqual(await c.call('MarkList.items'), []);
      assert.equal(c.connectedPort, base + 2);
      assert.equal(c.endpoint, `127.0.0.1:${base + 2}`);
    } finally {
      await c.close();
      await rangeSim.close();
    }
  });

  it('fails a call at once with NOT_CONNECTED when neoEBV is not running, naming the address once', async () => {
    const port = await freePortBlock(1);
    client = quickClient(`127.0.0.1:${port}`, { backoff: { initialMs: 60_000, maxMs: 60_000 } });
    // A timeout far beyond the test's own: waiting it out would fail the test.
    const err = await rejectionOf(client.call('MarkList.items', {}, { timeoutMs: 60_000 }));
    assert.equal(err.code, 'NOT_CONNECTED');
    assert.match(
      err.message,
      new RegExp(`^pynebv\\.MarkList\\.items was not sent, neoEBV is not connected: 127\\.0\\.0\\.1:${port}: connection refused`),
    );
    assert.equal(err.message.split(String(port)).length, 2, `the port appears once: ${err.message}`);
    assert.doesNotMatch(err.message, /127\.0\.0\.1 \d+:/);
    assert.equal((err as unknown as { details: Record<string, unknown> }).details.reason, 'nebvNotConnectedRetry');
    // While the link stays down, later calls fail at once too, and nothing waits in the client.
    assert.equal((await rejectionOf(client.call('MarkList.items', {}, { timeoutMs: 60_000 }))).code, 'NOT_CONNECTED');
    assert.equal(client.inFlight, 0);
  });

  it('after NOT_CONNECTED, calls go through again once the retry finds neoEBV up', async () => {
    const port = await freePortBlock(1);
    client = quickClient(`127.0.0.1:${port}`, { backoff: { initialMs: 50, maxMs: 100 } });
    assert.equal((await rejectionOf(client.call('MarkList.items'))).code, 'NOT_CONNECTED');
    const late = await NebvSimulator.start({ port });
    try {
      const c = client;
      await waitFor(() => c.isConnected, 5000, 'the retry to connect');
      assert.deepEqual(await client.call('MarkList.items'), []);
    } finally {
      await client.close();
      client = undefined;
      await late.close();
    }
  });

  it('waits for the connection being dialled, and for the redial after a drop, within the call timeout', async () => {
    client = quickClient(`127.0.0.1:${sim.port}`, { backoff: { initialMs: 300, maxMs: 300 } });
    // The first call finds the client idle: it waits for the dial instead of failing.
    assert.deepEqual(await client.call('MarkList.items'), []);
    sim.dropConnections();
    const c = client;
    await waitFor(() => !c.isConnected, 2000, 'the drop to be noticed');
    assert.deepEqual(await client.call('MarkList.items', {}, { timeoutMs: 5000 }), []);
  });

  it('a call waiting for a redial that does not come in time fails with TIMEOUT, said in seconds', async () => {
    client = quickClient(`127.0.0.1:${sim.port}`, { backoff: { initialMs: 60_000, maxMs: 60_000 } });
    assert.deepEqual(await client.call('MarkList.items'), []);
    sim.dropConnections();
    const c = client;
    await waitFor(() => !c.isConnected, 2000, 'the drop to be noticed');
    const err = await rejectionOf(client.call('MarkList.items', {}, { timeoutMs: 250 }));
    assert.equal(err.code, 'TIMEOUT');
    assert.match(err.message, /^pynebv\.MarkList\.items: no connection (to 127\.0\.0\.1:\d+ )?within 0\.25 s/);
    assert.match(String((err as unknown as { details: Record<string, unknown> }).details.reason), /^nebvNoConnection/);
  });

  it('fails a call still waiting for the connection with CLOSED when the client is closed', async () => {
    client = quickClient(`127.0.0.1:${sim.port}`, { backoff: { initialMs: 10_000, maxMs: 10_000 } });
    await client.call('MarkList.items');
    sim.dropConnections();
    const c = client;
    await waitFor(() => !c.isConnected, 2000, 'the drop to be noticed');
    const waiting = rejectionOf(client.call('MarkList.items', {}, { timeoutMs: 5000 }));
    await waitFor(() => c.inFlight === 1, 2000, 'the call to wait for the redial');
    await client.close();
    const err = await waiting;
    assert.equal(err.code, 'CLOSED');
    assert.match(err.message, /pynebv\.MarkList\.items: the neoEBV client for 127\.0\.0\.1:\d+ was closed while the call waited for the connection/);
    assert.equal(client.inFlight, 0);
  });

  it('names each port of a range once when none accepts', async () => {
    const base = await freePortBlock(3);
    client = quickClient(`127.0.0.1:${base}-${base + 2}`);
    const err = await rejectionOf(client.call('MarkList.items'));
    assert.equal(err.code, 'NOT_CONNECTED');
    assert.match(err.message, new RegExp(`no port in 127\\.0\\.0\\.1:${base}-${base + 2} accepted \\(${base}: connection refused`));
    assert.doesNotMatch(err.message, /127\.0\.0\.1 no port|127\.0\.0\.1:\d+: 127/);
  });

  it('refuses bad params and method names before anything is sent', async () => {
    client = quickClient(`127.0.0.1:${sim.port}`);
    await client.call('MarkList.items');
    const before = sim.requestCount;
    const bad: Array<[string, unknown, RegExp]> = [
      ['MarkList.add', [10, 0], /params must be a JSON object .* not an array/],
      ['MarkList.add', 'point', /not a string/],
      ['Mark.props', { item: { name: 'Mark 1' } }, /params\.item must be an EbvItem/],
      ['Mark.delete', { itemList: [{ key: 'k' }] }, /params\.itemList must be an array of EbvItems/],
      ['Mark props', {}, /"Mark props" is not a pynebv method name/],
      ['', {}, /a method is required/],
    ];
    for (const [method, params, message] of bad) {
      const err = await rejectionOf(client.call(method, params as Record<string, unknown>));
      assert.equal(err.code, 'BAD_INPUT', method);
      assert.match(err.message, message);
    }
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    assert.match((await rejectionOf(client.call('MarkList.add', circular))).message, /params\.self is a reference to itself/);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(sim.requestCount, before);
  });

  it('refuses a reply larger than the maximum, resets the connection and carries on', async () => {
    client = quickClient(`127.0.0.1:${sim.port}`, { maxReplyBytes: 2000 });
    await Promise.all([1, 2, 3, 4, 5, 6].map((x) => client!.call('MarkList.add', { point: [x, 0] })));
    const err = await rejectionOf(client.call('MarkList.items'));
    assert.equal(err.code, 'TOO_LARGE');
    assert.match(err.message, /exceeded the 2000-byte limit; the connection was reset/);
    const mark = (await client.call('MarkList.add', { point: [7, 0] })) as Item;
    assert.equal(mark.props.Location, '7.0,0.0');
  });

  it('fails calls in flight when the stream carries bytes that are not JSON', async () => {
    client = quickClient(`127.0.0.1:${sim.port}`);
    const streamErrors: Error[] = [];
    client.on('streamError', (e) => streamErrors.push(e));
    await client.call('MarkList.items');
    sim.silent = true;
    const call = rejectionOf(client.call('MarkList.items'));
    await waitFor(() => sim.requestCount >= 2, 3000, 'the call to reach neoEBV');
    sim.writeRaw('OK\r\n');
    const err = await call;
    assert.equal(err.code, 'PROTOCOL');
    assert.match(err.message, /unexpected byte 0x4f between JSON values/);
    assert.equal(streamErrors.length, 1);
  });

  it('drops the connection when a framed reply is not valid JSON, failing the calls in flight with the text', async () => {
    client = quickClient(`127.0.0.1:${sim.port}`);
    await client.call('MarkList.items');
    sim.silent = true;
    const call = rejectionOf(client.call('MarkList.items'));
    await waitFor(() => sim.requestCount >= 2, 3000, 'the call to reach neoEBV');
    sim.writeRaw('{"jsonrpc":"2.0","id":2,result:[]}');
    const err = await call;
    assert.equal(err.code, 'PROTOCOL');
    assert.match(err.message, /not valid JSON .*: \{"jsonrpc":"2\.0","id":2,result:\[\]\}/);
    sim.silent = false;
    assert.deepEqual(await client.call('MarkList.items'), []);
  });

  it('reports a broken stream once and ignores the rest of the chunk it came in', async () => {
    client = quickClient(`127.0.0.1:${sim.port}`);
    const streamErrors: Error[] = [];
    const unmatched: unknown[] = [];
    client.on('streamError', (e) => streamErrors.push(e));
    client.on('unmatched', (reply) => unmatched.push(reply));
    await client.call('MarkList.items');
    sim.silent = true;
    const call = rejectionOf(client.call('MarkList.items'));
    await waitFor(() => sim.requestCount >= 2, 3000, 'the call to reach neoEBV');
    sim.writeRaw('{"id":2,result:[]}{also:bad}{"jsonrpc":"2.0","id":99,"result":[]}');
    const err = await call;
    assert.equal(err.code, 'PROTOCOL');
    assert.match(err.message, /not valid JSON .*: \{"id":2,result:\[\]\}/);
    sim.silent = false;
    assert.deepEqual(await client.call('MarkList.items'), []);
    assert.equal(streamErrors.length, 1);
    assert.deepEqual(unmatched, []);
  });

  it('appends "\\n" to each request only when asked', async () => {
    const server = await rawServer((socket, chunk) => {
      for (const r of requestsIn(chunk)) socket.write(JSON.stringify({ jsonrpc: '2.0', id: r.id, result: {} }));
    });
    const plain = quickClient(`127.0.0.1:${server.port}`);
    const lined = quickClient(`127.0.0.1:${server.port}`, { newline: true });
    try {
      await plain.call('A.b');
      const plainBytes = Buffer.concat(server.received).toString();
      assert.equal(plainBytes, '{"jsonrpc":"2.0","method":"pynebv.A.b","id":1,"params":{}}');
      server.received.length = 0;
      await lined.call('A.b');
      assert.equal(Buffer.concat(server.received).toString(), '{"jsonrpc":"2.0","method":"pynebv.A.b","id":1,"params":{}}\n');
    } finally {
      await plain.close();
      await lined.close();
      await server.close();
    }
  });

  it('fails calls in flight on close, refuses calls afterwards and leaves no socket open', async () => {
    client = quickClient(`127.0.0.1:${sim.port}`);
    await client.call('MarkList.items');
    sim.silent = true;
    const pending = rejectionOf(client.call('MarkList.items'));
    await waitFor(() => sim.requestCount >= 2, 3000, 'the call to reach neoEBV');
    await client.close();
    const err = await pending;
    assert.equal(err.code, 'CLOSED');
    assert.equal((await rejectionOf(client.call('MarkList.items'))).code, 'CLOSED');
    await waitFor(() => sim.connectionCount === 0, 3000, 'the client to disconnect');
    assert.equal(client.status.state, 'closed');
  });
});
