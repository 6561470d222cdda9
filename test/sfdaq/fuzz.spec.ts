import assert from 'node:assert/strict';
import net from 'node:net';
import { helper, waitFor } from '../helpers/red';
import { Vitals, assertHealthy, describeVitals, fuzzPlan } from '../helpers/fuzz';
import sfdaqBroker = require('../../src/nodes/sfdaq-broker');
import sfdaqCall = require('../../src/nodes/sfdaq-call');

type Msg = { payload?: unknown; error?: { message?: unknown; code?: unknown } };

/** How the hostile broker answers one request. */
const KINDS = [
  'ok',
  'deep',
  'huge',
  'truncated',
  'truncatedHang',
  'invalidUtf8',
  'wrongTypes',
  'html',
  'trickle',
  'garbage',
  'close',
  'silent',
  'methodRefused',
] as const;
type Kind = (typeof KINDS)[number];

function response(status: string, type: string, body: Buffer | string, extra = ''): Buffer {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  return Buffer.concat([
    Buffer.from(`HTTP/1.0 ${status}\r\nContent-Type: ${type}\r\nContent-Length: ${bytes.length}\r\n${extra}\r\n`, 'latin1'),
    bytes,
  ]);
}

/**
 * An sf-daq broker (HTTP/1.0, one reply per connection) that answers each request the way the test
 * says next: well, or as a broken or hostile server would.
 */
async function hostileBroker(plan: ReturnType<typeof fuzzPlan>): Promise<{ url: string; next: { kind: Kind }; close(): Promise<void> }> {
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
  const json = (body: string): Buffer => response('200 OK', 'application/json', body);
  // Built once, before the watch starts: the broker's own work on megabytes must not count as a stall of the package.
  const huge = [100_000, 3_000_000, 9_000_000].map((size) => json(`{"status":"ok","pv_list":[${JSON.stringify('x'.repeat(size))}]}`));
  const html = [1000, 2_000_000].map((size) => response('500 Internal Server Error', 'text/html', '<'.repeat(size)));
  const answer = (socket: net.Socket): void => {
    const end = (data: Buffer): void => {
      if (!socket.destroyed) socket.end(data);
    };
    switch (next.kind) {
      case 'ok':
        return end(json('{"status":"ok","message":"successfully retrieved list of PVs","pv_list":["ELCOMAT:X"]}'));
      case 'deep': {
        const depth = plan.pick([65, 2500, 100_000]);
        return end(json(`{"status":"ok","pv_list":${'['.repeat(depth)}${']'.repeat(depth)}}`));
      }
      case 'huge':
        return end(plan.pick(huge));
      case 'truncated': {
        const whole = json('{"status":"ok","pv_list":["ELCOMAT:X","ELCOMAT:Y"]}');
        return end(whole.subarray(0, whole.length - 10));
      }
      case 'truncatedHang': {
        const whole = json('{"status":"ok","pv_list":["ELCOMAT:X","ELCOMAT:Y"]}');
        if (!socket.destroyed) socket.write(whole.subarray(0, whole.length - 10));
        return;
      }
      case 'invalidUtf8':
        return end(
          response(
            '200 OK',
            'application/json',
            Buffer.concat([Buffer.from('{"status":"ok","pv_list":["'), Buffer.from([0xff, 0xc3, 0xfe]), Buffer.from('"]}')]),
          ),
        );
      case 'wrongTypes':
        return end(
          json(
            plan.pick([
              '[1,2,3]',
              '"ok"',
              '42',
              'null',
              '{"status":{"nested":[1]}}',
              '{"status":"error","message":{"text":"not a string"},"exception":7}',
              `{"status":"error","message":"${'m'.repeat(100_000)}","exception":"${'E'.repeat(10_000)}"}`,
              '{"status":"ok","pv_list":"not a list"}',
              '{"status":"ok","pv_list":[null,1,{"a":[]}]}',
              '{"status":"ok"',
            ]),
          ),
        );
      case 'html':
        return end(plan.pick(html));
      case 'trickle': {
        const bytes = json('{"status":"ok","pv_list":["SLOW"]}');
        let i = 0;
        const step = (): void => {
          if (socket.destroyed) return;
          if (i >= bytes.length) return void socket.end();
          socket.write(bytes.subarray(i, i + 4));
          i += 4;
          later(3, step);
        };
        return step();
      }
      case 'garbage':
        return end(Buffer.from(Array.from({ length: plan.between(1, 200) }, () => plan.between(0, 255))));
      case 'close':
        socket.destroy();
        return;
      case 'silent':
        return;
      case 'methodRefused':
        return end(response('405 Method Not Allowed', 'text/html', '<html>Method not allowed.</html>', 'Allow: PUT\r\n'));
    }
  };
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      if (head.includes('\r\n\r\n')) return;
      head += chunk.toString('latin1');
      // The requests of this test are small: the whole request is in once the head has ended.
      if (head.includes('\r\n\r\n')) answer(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    next,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('sf-daq fuzz: a hostile broker through a real Node-RED', function () {
  const plan = fuzzPlan(30, 400);
  this.timeout(30_000 + plan.cases * 3_000);

  it(`every call ends with a result or a clear error; Node-RED lives, never stalls, heap bounded (seed ${plan.seed})`, async () => {
    const broker = await hostileBroker(plan);
    const watch = new Vitals();
    try {
      await helper.load([sfdaqBroker, sfdaqCall] as never[], [
        { id: 'tab', type: 'tab', label: 'fuzz' },
        { id: 'broker', type: 'sfdaq-broker', fastUrl: broker.url, slowUrl: '', timeout: 1, prefer: 'current' },
        { id: 'call', z: 'tab', type: 'sfdaq-call', broker: 'broker', operation: 'get_pvlist', params: {}, wires: [['out', 'out2']] },
        { id: 'out', z: 'tab', type: 'helper' },
        { id: 'out2', z: 'tab', type: 'helper' },
        { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
        { id: 'caught', z: 'tab', type: 'helper' },
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
        broker.next.kind = kind;
        const ended = results.length + errors.length;
        helper.getNode('call').receive({ payload: i });
        await waitFor(() => results.length + errors.length > ended, 10_000, `case ${i} (${kind}) to end`);
      }
      await waitFor(() => copies === results.length, 3000, 'the second output to get every result');
      assert.equal(results.length + errors.length, plan.cases);
      for (const { error } of errors) {
        assert.equal(typeof error?.message, 'string');
        const message = String(error!.message);
        assert.ok(message.length > 10 && message.length < 1500 && !message.startsWith('Error: '), message.slice(0, 300));
        assert.notEqual(error!.code, undefined, message.slice(0, 300));
      }
      const counts = { calls: plan.cases, results: results.length, errors: errors.length, kinds: Object.keys(seen).length };
      // The msgs this test kept to check them are its memory, not the package's.
      for (const kept of [results, errors]) kept.length = 0;
      const report = await watch.stopSettled();
      console.log(describeVitals(`sf-daq fuzz (seed ${plan.seed}${plan.large ? ', large' : ''})`, report, counts));
      assertHealthy(report, { maxPeakGrowthMb: 512 });
      assert.ok(Object.keys(seen).length >= Math.min(8, KINDS.length), `kinds tried: ${JSON.stringify(seen)}`);
    } finally {
      watch.stop();
      await helper.unload();
      await broker.close();
    }
  });
});
