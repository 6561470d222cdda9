import assert from 'node:assert/strict';
import net from 'node:net';
import { JsonFramer } from '../../src/protocols/common/json-framer';
import { helper, waitFor } from '../helpers/red';
import { Vitals, assertHealthy, describeVitals, fuzzPlan } from '../helpers/fuzz';
import serverNode = require('../../src/nodes/nebv-server');
import rpcNode = require('../../src/nodes/nebv-rpc');

type Msg = { payload?: unknown; error?: { message?: unknown; code?: unknown } };

/** How the hostile peer answers one request. */
const KINDS = [
  'ok',
  'deep',
  'deepForeign',
  'huge',
  'truncated',
  'invalidUtf8',
  'wrongTypes',
  'manyIds',
  'trickle',
  'garbage',
  'close',
  'silent',
] as const;
type Kind = (typeof KINDS)[number];

/**
 * A neoEBV peer that answers each request the way the test says next: well, or as a broken or
 * hostile server would (deep nesting, huge, cut off, invalid UTF-8, wrong types, floods of foreign
 * ids, trickled, garbage, hang-ups, silence).
 */
async function hostilePeer(plan: ReturnType<typeof fuzzPlan>): Promise<{ port: number; next: { kind: Kind }; close(): Promise<void> }> {
  const next = { kind: 'ok' as Kind };
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };
  const reply = (id: unknown, result: string): string => `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${result}}`;
  // Built once, before the watch starts: the peer's own work on 17 MB must not count as a stall of the package.
  const huge = [65_536, 2_000_000, 17_000_000].map((size) => Buffer.from(JSON.stringify('x'.repeat(size))));
  const answer = (socket: net.Socket, id: unknown): void => {
    const write = (data: string | Buffer): void => {
      if (!socket.destroyed) socket.write(data);
    };
    switch (next.kind) {
      case 'ok':
        return write(reply(id, '[]'));
      case 'deep': {
        const depth = plan.pick([65, 2500, 6000, 100_000]);
        return write(reply(id, `${'['.repeat(depth)}${']'.repeat(depth)}`));
      }
      case 'deepForeign':
        write(reply(plan.between(1_000_000, 2_000_000), `${'{"a":'.repeat(6000)}1${'}'.repeat(6000)}`));
        return write(reply(id, '[]'));
      case 'huge':
        return write(Buffer.concat([Buffer.from(reply(id, '').slice(0, -1)), plan.pick(huge), Buffer.from('}')]));
      case 'truncated':
        return write(reply(id, '{"key":"Marks@1|Mark 1@1","props":{"Na').slice(0, -2));
      case 'invalidUtf8':
        return write(Buffer.concat([Buffer.from(reply(id, '"a').slice(0, -1)), Buffer.from([0xff, 0xfe, 0xc3, 0x22, 0x7d])]));
      case 'wrongTypes':
        return write(
          plan.pick([
            `{"jsonrpc":"2.0","id":${JSON.stringify(id)}}`,
            `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"error":"boom"}`,
            `{"id":${JSON.stringify(id)},"error":{"code":"x","message":{"deep":[[[1]]]},"data":${'['.repeat(60)}${']'.repeat(60)}}}`,
            `[1,2,3]${reply(id, '{}')}`,
            `{"id":{"x":1},"result":1}${reply(id, 'null')}`,
            'null',
            `{"jsonrpc":"2.0","id":${JSON.stringify(String(id))},"result":"${'é'.repeat(1000)}"}`,
          ]),
        );
      case 'manyIds': {
        const flood: string[] = [];
        for (let i = 0; i < 5000; i += 1) flood.push(reply(3_000_000 + i, '{}'));
        write(flood.join(''));
        return write(reply(id, '[]'));
      }
      case 'trickle': {
        const bytes = Buffer.from(reply(id, '{"slow":true}'));
        let i = 0;
        const step = (): void => {
          if (i >= bytes.length || socket.destroyed) return;
          write(bytes.subarray(i, i + 1));
          i += 1;
          later(2, step);
        };
        return step();
      }
      case 'garbage':
        return write(Buffer.from(Array.from({ length: plan.between(1, 64) }, () => plan.between(0, 255))));
      case 'close':
        socket.destroy();
        return;
      case 'silent':
        return;
    }
  };
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const framer = new JsonFramer({ maxDepth: 1000 });
    socket.on('data', (chunk: Buffer) => {
      for (const text of framer.push(chunk)) answer(socket, (JSON.parse(text) as { id: unknown }).id);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    next,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('nebv fuzz: a hostile neoEBV peer through a real Node-RED', function () {
  const plan = fuzzPlan(30, 400);
  this.timeout(30_000 + plan.cases * 3_000);

  it(`every call ends with a result or a clear error; Node-RED lives, never stalls, heap bounded (seed ${plan.seed})`, async () => {
    const peer = await hostilePeer(plan);
    helper.settings({ nebvServerReconnectTime: 20 });
    const watch = new Vitals();
    try {
      await helper.load([serverNode, rpcNode] as never[], [
        { id: 'f1', type: 'tab', label: 'fuzz' },
        { id: 'srv', type: 'nebv-server', transport: 'tcp', host: '127.0.0.1', port: String(peer.port), timeout: 1, maxReply: 16384, newline: false },
        {
          id: 'rpc',
          type: 'nebv-rpc',
          z: 'f1',
          server: 'srv',
          method: 'MarkList.items',
          params: '{}',
          paramsFrom: 'field',
          timeout: '',
          wires: [['out', 'out2']],
        },
        { id: 'out', type: 'helper', z: 'f1' },
        { id: 'out2', type: 'helper', z: 'f1' },
        { id: 'catcher', type: 'catch', z: 'f1', scope: null, uncaught: false, wires: [['caught']] },
        { id: 'caught', type: 'helper', z: 'f1' },
      ]);
      const results: Msg[] = [];
      const errors: Msg[] = [];
      let copies = 0;
      helper.getNode('out').on('input', (msg: Msg) => results.push(msg));
      helper.getNode('out2').on('input', () => (copies += 1));
      helper.getNode('caught').on('input', (msg: Msg) => errors.push(msg));
      const seen: Record<string, number> = {};
      for (let i = 0; i < plan.cases; i += 1) {
        const kind = plan.pick(KINDS);
        seen[kind] = (seen[kind] ?? 0) + 1;
        peer.next.kind = kind;
        const ended = results.length + errors.length;
        helper.getNode('rpc').receive({ payload: i });
        await waitFor(() => results.length + errors.length > ended, 10_000, `case ${i} (${kind}) to end`);
      }
      await waitFor(() => copies === results.length, 3000, 'the second output to get every result');
      assert.equal(results.length + errors.length, plan.cases);
      for (const { error } of errors) {
        assert.equal(typeof error?.message, 'string');
        assert.ok(String(error!.message).length > 10 && !String(error!.message).startsWith('Error: '), String(error!.message));
        assert.notEqual(error!.code, undefined, String(error!.message));
      }
      const counts = { calls: plan.cases, results: results.length, errors: errors.length, kinds: Object.keys(seen).length };
      // The msgs this test kept to check them are its memory, not the package's.
      for (const kept of [results, errors]) kept.length = 0;
      const report = await watch.stopSettled();
      console.log(describeVitals(`neoEBV fuzz (seed ${plan.seed}${plan.large ? ', large' : ''})`, report, counts));
      assertHealthy(report, { maxPeakGrowthMb: 512 });
      assert.ok(Object.keys(seen).length >= Math.min(8, KINDS.length), `kinds tried: ${JSON.stringify(seen)}`);
    } finally {
      watch.stop();
      helper.settings({});
      await helper.unload();
      await peer.close();
    }
  });
});
