import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { helper, waitFor } from '../helpers/red';
import { Vitals, assertHealthy, describeVitals, fuzzPlan, type FuzzPlan } from '../helpers/fuzz';
import { BPWIN_NODES, credentials, serverNode } from './flow';

type Msg = { topic?: string; payload?: unknown; error?: { message?: unknown; code?: unknown; source?: { id?: string } } };

const PASS = 'fuzz-passphrase';
const ENDPOINTS = ['health', 'version', 'machine-name', 'job-name', 'selected-device', 'job-stats', 'system-info'];

/** How the hostile BPWin answers a REST call (every path but /auth, which answers well unless the case says otherwise). */
const REST_KINDS = [
  'ok',
  'deep',
  'huge',
  'wide',
  'truncated',
  'truncatedHang',
  'invalidUtf8',
  'wrongTypes',
  'trickle',
  'garbage',
  'close',
  'silent',
  'status',
  'forbidden',
  'badAuth',
] as const;
type RestKind = (typeof REST_KINDS)[number];

/** What the hostile BPWin pushes on /ws, and what must come of it. */
const WS_KINDS = [
  'event',
  'deep',
  'hugeEvent',
  'oversize',
  'truncated',
  'invalidUtf8',
  'wrongTypes',
  'notObject',
  'trickle',
  'binary',
  'manyNotes',
  'backslashes',
  'hangUp',
] as const;
type WsKind = (typeof WS_KINDS)[number];

function reply(status: string, body: Buffer | string, extra = ''): Buffer {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  return Buffer.concat([
    Buffer.from(
      `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${bytes.length}\r\nConnection: close\r\n${extra}\r\n`,
      'latin1',
    ),
    bytes,
  ]);
}

function eventText(fields: Record<string, unknown>): string {
  return JSON.stringify({ Category: 'Event', Timestamp: '2023-12-08 17:08:16 -0600', ...fields });
}

/**
 * A BPWin that answers REST calls and pushes /ws frames the way the test says next: well, or as a
 * broken or hostile peer would. Replies go out as raw bytes on the socket, so they can break HTTP too.
 */
async function hostileBpwin(plan: FuzzPlan) {
  const next = { rest: 'ok' as RestKind };
  const sockets = new Set<net.Socket>();
  const clients = new Set<WebSocket>();
  let upgrades = 0;
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };
  const ok = (body: string): Buffer => reply('200 OK', body);
  // Built before the watch starts: the peer's own work on megabytes is not a stall of the package.
  const huge = [200_000, 900_000, 3_000_000, 9_000_000].map((size) =>
    ok(`{"API_Version":"1.0","BPWin_Version":${JSON.stringify('V'.repeat(size))}}`),
  );
  const site = { Ordinal: '1', SerialNumber: '43191', SocketModule: { Odometer: '1', TripOdometer: '1', Socket: [{ Ordinal: '1', Odometer: '2' }] } };
  const wide = [1_000, 30_000].map((count) =>
    ok(JSON.stringify({ BpWinVersion: '8.0.1', Programmer: { SiteInfo: { Site: new Array(count).fill(site) } } })),
  );
  const wideEvent = eventText({ Note: 'SocketStatus', Status: 'Fail', Site_Socket: '1A', ResultCode: '26', Socket_SN: 'x'.repeat(600_000) });
  const oversize = eventText({ Note: 'SocketStatus', Status: 'Fail', Socket_SN: 'x'.repeat(1_200_000) });
  const backslashes = `{"Category":"Event","Note":"JobFile","Directory":"C:${'\\'.repeat(400_001)}x.abp","Status":"Complete"}`;

  const answerRest = (socket: net.Socket, path: string): void => {
    const end = (data: Buffer): void => {
      if (!socket.destroyed) socket.end(data);
    };
    if (path === '/auth') {
      if (next.rest !== 'badAuth') return end(ok('{ "Number" : 7241978785468376164 }'));
      return end(ok(plan.pick(['{"Number":null}', '{"Number":"x"}', '[]', `{"Number":${'9'.repeat(100_000)}}`, `${'['.repeat(3000)}`, 'not json'])));
    }
    switch (next.rest) {
      case 'ok':
      case 'badAuth':
        return end(
          ok(path === '/health' ? '{"Success":1,"Message":"BPWin is ready."}' : '{"API_Version":"1.0","BPWin_Version":"V8.0.1","Passed_Device":"3"}'),
        );
      case 'deep': {
        const depth = plan.pick([65, 2500, 100_000]);
        return end(ok(`{"Programmer":${'['.repeat(depth)}${']'.repeat(depth)}}`));
      }
      case 'huge':
        return end(plan.pick(huge));
      case 'wide':
        return end(plan.pick(wide));
      case 'truncated': {
        const whole = ok('{"API_Version":"1.0","BPWin_Version":"V8.0.1"}');
        return end(whole.subarray(0, whole.length - 12));
      }
      case 'truncatedHang': {
        const whole = ok('{"API_Version":"1.0","BPWin_Version":"V8.0.1"}');
        if (!socket.destroyed) socket.write(whole.subarray(0, whole.length - 12));
        return;
      }
      case 'invalidUtf8':
        return end(
          reply('200 OK', Buffer.concat([Buffer.from('{"Type":"APS","Description":"'), Buffer.from([0xff, 0xc3, 0xfe, 0xed]), Buffer.from('"}')])),
        );
      case 'wrongTypes':
        return end(
          ok(
            plan.pick([
              '[1,2,3]',
              '"ready"',
              '42',
              'null',
              '{}',
              '{"Success":0}',
              '{"Success":"0","Message":{"text":["not a string"]}}',
              `{"Success":0,"Message":"${'m'.repeat(200_000)}"}`,
              '{"Success":1,"Message":7}',
              '{"Machine_Status":{"a":[1,2]},"Red_Light_On":["true"],"Job_Yield":"1e400","Elapsed_Time":"99:99:99","Passed_Device":"-0"}',
              '{"Programmer":{"SiteInfo":{"Site":"one","MasterSite":{"x":1}}},"OperatorMode":42}',
              '{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}},"Type":"APS"}',
              '{"API_Version":"1.0"',
            ]),
          ),
        );
      case 'trickle': {
        const bytes = ok('{"API_Version":"1.0","BPWin_Version":"V8.0.1 trickled"}');
        let i = 0;
        const step = (): void => {
          if (socket.destroyed) return;
          if (i >= bytes.length) return void socket.end();
          socket.write(bytes.subarray(i, i + 5));
          i += 5;
          later(3, step);
        };
        return step();
      }
      case 'garbage':
        return end(Buffer.from(Array.from({ length: plan.between(1, 300) }, () => plan.between(0, 255))));
      case 'close':
        socket.destroy();
        return;
      case 'silent':
        return;
      case 'status':
        return end(
          reply(
            plan.pick(['500 Internal Server Error', '404 Not Found', '503 Service Unavailable', '418 Teapot']),
            plan.pick(['', '<html>', '{"Message":"busy"}']),
          ),
        );
      case 'forbidden':
        return end(reply('403 Forbidden', '{"Success":0,"Message":"Authentication failed."}'));
    }
  };

  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  // Raw bytes on the socket instead of a response: the reply may break HTTP itself.
  const server = http.createServer((req) => answerRest(req.socket, (req.url ?? '/').split('?')[0]!));
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  server.on('upgrade', (req, socket, head) => {
    upgrades += 1;
    wss.handleUpgrade(req, socket as net.Socket, head, (ws) => {
      clients.add(ws);
      ws.on('close', () => clients.delete(ws));
      ws.on('error', () => undefined);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  /** Push one case on every open /ws. */
  const push = (kind: WsKind, serial: number): void => {
    const valid = eventText({ Note: 'SocketStatus', Status: 'Pass', Site_Socket: '1A', ResultCode: '0', Socket_SN: `case-${serial}` });
    for (const ws of clients) {
      switch (kind) {
        case 'event':
          ws.send(valid);
          break;
        case 'deep':
          {
            const depth = plan.pick([65, 5000, 200_000]);
            ws.send(`{"Note":${'['.repeat(depth)}${']'.repeat(depth)}}`);
          }
          break;
        case 'hugeEvent':
          ws.send(wideEvent);
          break;
        case 'oversize':
          ws.send(oversize);
          break;
        case 'truncated':
          ws.send(valid.slice(0, plan.between(1, valid.length - 1)));
          break;
        case 'invalidUtf8':
          ws.send(Buffer.concat([Buffer.from('{"Note":"Job","Status":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]), { binary: false });
          break;
        case 'wrongTypes':
          ws.send(
            plan.pick([
              '{"Note":5,"Status":null,"Site_Socket":{"a":[1]},"ResultCode":"1e400","Timestamp":"9999-99-99 99:99:99 +9999"}',
              '{"Note":"SocketStatus","Status":"Fail","Site_Socket":"99999999999999999999Z","ResultCode":[26]}',
              '{"Note":"Job","Status":"Complete","Code":{"toString":1}}',
              '{"Note":"JobFile","Directory":["C:","x"],"Status":true,"__proto__":{"polluted":1}}',
              `{"Note":"DataPattern","Progress":"${'9'.repeat(400)}","Status":"Complete"}`,
            ]),
          );
          break;
        case 'notObject':
          ws.send(plan.pick(['[]', '"Event"', '17', 'null', 'true', '']));
          break;
        case 'trickle': {
          // One text message in many fragments, a few ms apart.
          const parts = valid.match(/[\s\S]{1,7}/g) ?? [valid];
          parts.forEach((part, i) => later(i * 2, () => ws.readyState === ws.OPEN && ws.send(part, { fin: i === parts.length - 1 })));
          break;
        }
        case 'binary':
          ws.send(Buffer.from(valid), { binary: true });
          ws.send(valid);
          break;
        case 'manyNotes':
          for (let i = 0; i < 200; i += 1) ws.send(eventText({ Note: `Note${serial}-${i}`, Status: 'x' }));
          break;
        case 'backslashes':
          ws.send(backslashes);
          break;
        case 'hangUp':
          ws.terminate();
          break;
      }
    }
  };

  return {
    port: (server.address() as net.AddressInfo).port,
    next,
    push,
    get clients(): number {
      return clients.size;
    },
    get upgrades(): number {
      return upgrades;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        for (const ws of clients) ws.terminate();
        for (const socket of sockets) socket.destroy();
        wss.close();
        server.close(() => resolve());
      }),
  };
}

describe('BPWin fuzz: a hostile BPWin through a real Node-RED', function () {
  const plan = fuzzPlan(40, 500);
  this.timeout(30_000 + plan.cases * 3_000);

  it(`every call and every frame ends with a result or a clear error; Node-RED lives, never stalls, heap bounded (seed ${plan.seed})`, async () => {
    const bpwin = await hostileBpwin(plan);
    // Started once the flow runs: Node-RED's own start is not the package's doing.
    let watch: Vitals | undefined;
    try {
      await helper.load(
        BPWIN_NODES,
        [
          { id: 'tab', type: 'tab', label: 'fuzz' },
          serverNode(bpwin.port, { timeout: 1, reconnectMin: 10, reconnectMax: 50 }),
          { id: 'req', z: 'tab', type: 'bpwin-request', server: 'srv', endpoint: '', wires: [['out', 'out2']] },
          { id: 'ev', z: 'tab', type: 'bpwin-events', server: 'srv', wires: [['evOut', 'evOut2']] },
          { id: 'out', z: 'tab', type: 'helper' },
          { id: 'out2', z: 'tab', type: 'helper' },
          { id: 'evOut', z: 'tab', type: 'helper' },
          { id: 'evOut2', z: 'tab', type: 'helper' },
          { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
          { id: 'caught', z: 'tab', type: 'helper' },
        ],
        credentials(PASS),
      );
      watch = new Vitals();
      const results: Msg[] = [];
      const events: Msg[] = [];
      const callErrors: Msg[] = [];
      const frameErrors: Msg[] = [];
      let copies = 0;
      let eventCopies = 0;
      helper.getNode('out').on('input', (msg: Msg) => results.push(msg));
      helper.getNode('out2').on('input', () => (copies += 1));
      helper.getNode('evOut').on('input', (msg: Msg) => events.push(msg));
      helper.getNode('evOut2').on('input', () => (eventCopies += 1));
      helper.getNode('caught').on('input', (msg: Msg) => (msg.error?.source?.id === 'req' ? callErrors : frameErrors).push(msg));
      const seen: Record<string, number> = {};
      let calls = 0;
      for (let i = 0; i < plan.cases; i += 1) {
        if (plan.random() < 0.5) {
          const kind = plan.pick(REST_KINDS);
          seen[`rest:${kind}`] = (seen[`rest:${kind}`] ?? 0) + 1;
          bpwin.next.rest = kind;
          const ended = results.length + callErrors.length;
          calls += 1;
          helper.getNode('req').receive({ topic: plan.pick(ENDPOINTS), payload: i });
          await waitFor(() => results.length + callErrors.length > ended, 10_000, `call ${i} (${kind}) to end`);
          bpwin.next.rest = 'ok';
        } else {
          const kind = plan.pick(WS_KINDS);
          seen[`ws:${kind}`] = (seen[`ws:${kind}`] ?? 0) + 1;
          await waitFor(() => bpwin.clients === 1, 10_000, `the stream before frame ${i} (${kind})`);
          const before = { events: events.length, errors: frameErrors.length, upgrades: bpwin.upgrades };
          bpwin.push(kind, i);
          const outcome: Record<WsKind, () => boolean> = {
            event: () => events.length === before.events + 1,
            trickle: () => events.length === before.events + 1,
            binary: () => events.length === before.events + 1,
            hugeEvent: () => events.length === before.events + 1,
            wrongTypes: () => events.length === before.events + 1,
            backslashes: () => events.length === before.events + 1,
            manyNotes: () => events.length === before.events + 200,
            deep: () => frameErrors.length === before.errors + 1,
            truncated: () => frameErrors.length === before.errors + 1,
            notObject: () => frameErrors.length === before.errors + 1,
            // The socket refuses these whole: the stream reconnects.
            oversize: () => bpwin.upgrades > before.upgrades && bpwin.clients === 1,
            invalidUtf8: () => bpwin.upgrades > before.upgrades && bpwin.clients === 1,
            hangUp: () => bpwin.upgrades > before.upgrades && bpwin.clients === 1,
          };
          await waitFor(outcome[kind], 10_000, `frame ${i} (${kind}) to end`);
        }
      }
      await waitFor(() => copies === results.length && eventCopies === events.length, 5000, 'the second outputs to get every msg');
      assert.equal(results.length + callErrors.length, calls);
      for (const { error } of [...callErrors, ...frameErrors]) {
        assert.equal(typeof error?.message, 'string');
        const message = String(error!.message);
        assert.ok(message.length > 10 && message.length < 1500 && !message.startsWith('Error: '), message.slice(0, 300));
        assert.notEqual(error!.code, undefined, message.slice(0, 300));
      }
      for (const { payload } of frameErrors) assert.ok(String(payload).length <= 1001, 'the text of an unreadable frame is cut');
      const counts = {
        calls,
        results: results.length,
        'call errors': callErrors.length,
        events: events.length,
        'frame errors': frameErrors.length,
        kinds: Object.keys(seen).length,
      };
      // The msgs this test kept to check them are its memory, not the package's.
      for (const kept of [results, events, callErrors, frameErrors]) kept.length = 0;
      const report = await watch.stopSettled();
      console.log(describeVitals(`BPWin fuzz (seed ${plan.seed}${plan.large ? ', large' : ''})`, report, counts));
      assertHealthy(report, { maxPeakGrowthMb: 512 });
      assert.ok(Object.keys(seen).length >= 12, `kinds tried: ${JSON.stringify(seen)}`);
    } finally {
      watch?.stop();
      await helper.unload();
      await bpwin.close();
    }
  });
});
