import assert from 'node:assert/strict';
import { freePort } from '../../src/cli/node-red-process';
import { BpwinSimulator } from '../../src/simulators/bpwin';
import { closeAndWatch, collect, helper, nextMessage, setRuntimeLanguage, waitFor } from '../helpers/red';
import { BPWIN_NODES, CATCH, SERVER_ID, TAB, credentials, lastStatus, placed, runtimeWithSimulator, serverNode, statusesOf } from './flow';

const PASS = 'tr0ub4dor&3';

interface Msg {
  topic?: string;
  payload: Record<string, unknown>;
  raw?: Record<string, unknown>;
  error?: { message: string; source?: { id: string } };
}

describe('BPWin nodes on a Node-RED runtime', function () {
  let sim: BpwinSimulator;

  runtimeWithSimulator({ passphrase: PASS }, (started) => (sim = started));

  function requestFlow(endpoint: string, port = sim.port): Array<Record<string, unknown>> {
    return [
      TAB,
      serverNode(port),
      { id: 'req', type: 'bpwin-request', z: 'f1', server: 'srv', endpoint, wires: [['out']] },
      { id: 'out', type: 'helper', z: 'f1' },
      ...CATCH,
    ];
  }

  describe('bpwin-request', function () {
    it('answers each request chosen in the dialog with a typed payload, the raw reply and the topic', async function () {
      sim.loadJob();
      sim.beginJob(5);
      sim.programDevice('2C', 0);
      const expectations: Record<string, (m: Msg) => void> = {
        health: (m) => assert.equal(m.payload.Ready, true),
        version: (m) => assert.deepEqual(m.payload, { API_Version: '1.0', BPWin_Version: 'V8.0.1' }),
        'machine-name': (m) => assert.equal(m.payload.Type, 'APS'),
        'job-name': (m) => assert.equal(m.payload.BP_FileName, 'C:\\APITestFile\\APITestBp.bp'),
        'selected-device': (m) => assert.equal(m.payload.Manufacturer, 'Winbond'),
        'job-stats': (m) => {
          assert.equal(m.payload.Green_Light_On, true);
          assert.equal(m.raw!.Green_Light_On, 'true');
          assert.equal(m.payload.Passed_Device, 1);
        },
        'system-info': (m) =>
          assert.equal(((m.payload.Programmer as Record<string, Record<string, unknown[]>>).SiteInfo!.Site as unknown[]).length, 4),
      };
      for (const [endpoint, check] of Object.entries(expectations)) {
        await helper.load(BPWIN_NODES, placed(requestFlow(endpoint)), credentials(PASS));
        const reply = nextMessage<Msg>(helper.getNode('out'), 3000, endpoint);
        helper.getNode('req').receive({ payload: 'go' });
        const msg = await reply;
        assert.equal(msg.topic, endpoint);
        check(msg);
        assert.deepEqual(lastStatus('req'), { fill: 'green', shape: 'dot', text: endpoint === 'health' ? 'ready' : endpoint });
        await helper.unload();
      }
    });

    it('takes the request from msg.topic when the dialog says so', async function () {
      await helper.load(BPWIN_NODES, placed(requestFlow('')), credentials(PASS));
      const reply = nextMessage<Msg>(helper.getNode('out'));
      helper.getNode('req').receive({ topic: '/data/machine-name' });
      assert.equal((await reply).payload.Description, '4000 APS');
    });

    it('refuses an unknown msg.topic before calling BPWin; a Catch node sees it', async function () {
      await helper.load(BPWIN_NODES, placed(requestFlow('')), credentials(PASS));
      const caught = nextMessage<Msg>(helper.getNode('caught'));
      helper.getNode('req').receive({ topic: 'format-c' });
      const msg = await caught;
      assert.match(msg.error!.message, /"format-c" is not a BPWin request/);
      assert.equal(sim.hitCount('/auth'), 0);
      assert.deepEqual(lastStatus('req'), { fill: 'red', shape: 'ring', text: 'bad request' });
    });

    it('health: the dot tells the truth when BPWin is unreachable or not ready, and the answer still goes out', async function () {
      const port = await freePort();
      await helper.load(BPWIN_NODES, placed(requestFlow('health', port)), credentials(PASS));
      let reply = nextMessage<Msg>(helper.getNode('out'));
      helper.getNode('req').receive({});
      assert.equal((await reply).payload.Ready, false);
      assert.deepEqual(lastStatus('req'), { fill: 'red', shape: 'ring', text: 'unreachable' });
      await helper.unload();
      sim.setFault('/health', 'http500');
      await helper.load(BPWIN_NODES, placed(requestFlow('health')), credentials(PASS));
      reply = nextMessage<Msg>(helper.getNode('out'));
      helper.getNode('req').receive({});
      assert.equal((await reply).payload.Ready, false);
      assert.deepEqual(lastStatus('req'), { fill: 'yellow', shape: 'ring', text: 'not ready (HTTP 500)' });
      sim.clearFaults();
      reply = nextMessage<Msg>(helper.getNode('out'));
      helper.getNode('req').receive({});
      assert.equal((await reply).payload.Ready, true);
      assert.deepEqual(lastStatus('req'), { fill: 'green', shape: 'dot', text: 'ready' });
    });

    it('health in German: an unreachable BPWin says so in payload.Message and the status', async function () {
      const port = await freePort();
      await setRuntimeLanguage('de');
      try {
        await helper.load(BPWIN_NODES, placed(requestFlow('health', port)), credentials(PASS));
        const reply = nextMessage<Msg>(helper.getNode('out'));
        helper.getNode('req').receive({});
        const payload = (await reply).payload;
        assert.equal(payload.Ready, false);
        assert.match(String(payload.Message), /^BPWin GET \/auth: Verbindung abgelehnt/);
        assert.doesNotMatch(String(payload.Message), /connection refused/);
        assert.deepEqual(lastStatus('req'), { fill: 'red', shape: 'ring', text: 'nicht erreichbar' });
      } finally {
        await setRuntimeLanguage('en-US');
      }
    });

    it('returns a clear "no job session" for job-stats outside a session', async function () {
      await helper.load(BPWIN_NODES, placed(requestFlow('job-stats')), credentials(PASS));
      const reply = nextMessage<Msg>(helper.getNode('out'));
      helper.getNode('req').receive({});
      const msg = await reply;
      assert.equal(msg.payload.Session, false);
      assert.match(String(msg.payload.Message), /job session/);
    });

    const failures: Array<[string, (s: BpwinSimulator) => void, RegExp, string]> = [
      ['HTTP 500', (s) => s.setFault('/version', 'http500'), /HTTP 500/, 'HTTP 500'],
      ['malformed JSON', (s) => s.setFault('/version', 'malformed'), /not valid JSON/, 'bad reply'],
      ['a timeout', (s) => s.setFault('/version', 'hang'), /no reply within 1 s/, 'timeout'],
    ];
    for (const [what, inject, message, status] of failures) {
      it(`reports ${what} to a Catch node and on the status`, async function () {
        inject(sim);
        await helper.load(BPWIN_NODES, placed(requestFlow('version')), credentials(PASS));
        const caught = nextMessage<Msg>(helper.getNode('caught'), 4000);
        helper.getNode('req').receive({});
        const msg = await caught;
        assert.match(msg.error!.message, message);
        assert.equal(msg.error!.source!.id, 'req');
        assert.equal(lastStatus('req')!.text, status);
      });
    }

    it('keeps the timeout of a server saved in milliseconds (no config version): 1000 is one second', async function () {
      sim.setFault('/version', 'hang');
      const old: Record<string, unknown> = { ...serverNode(sim.port), timeout: 1000 };
      delete old.version;
      const flow = requestFlow('version').map((node) => (node.id === SERVER_ID ? old : node));
      await helper.load(BPWIN_NODES, placed(flow), credentials(PASS));
      const caught = nextMessage<Msg>(helper.getNode('caught'), 4000, 'the timeout of the call');
      helper.getNode('req').receive({});
      // Read as seconds unmigrated, 1000 would wait 16 minutes; as milliseconds still, the message would say "1000 ms".
      assert.match((await caught).error!.message, /^BPWin GET \/version: no reply within 1 s$/);
    });

    it('takes msg.timeout in seconds for one request', async function () {
      sim.setFault('/version', 'hang');
      await helper.load(BPWIN_NODES, placed(requestFlow('version').map((n) => (n.id === SERVER_ID ? { ...n, timeout: 60 } : n))), credentials(PASS));
      const caught = nextMessage<Msg>(helper.getNode('caught'), 4000, 'the timeout of the call');
      helper.getNode('req').receive({ timeout: 0.3 });
      assert.match((await caught).error!.message, /no reply within 0\.3 s$/);
      assert.equal(lastStatus('req')!.text, 'timeout');
    });

    it('refuses a msg.timeout that is not a number of seconds in range, naming it, before anything is sent', async function () {
      await helper.load(BPWIN_NODES, placed(requestFlow('version')), credentials(PASS));
      for (const timeout of [1e12, Number.POSITIVE_INFINITY, Number.NaN, -2, '3', { s: 3 }]) {
        const caught = nextMessage<Msg>(helper.getNode('caught'), 3000, String(timeout));
        helper.getNode('req').receive({ timeout });
        assert.match((await caught).error!.message, /^msg\.timeout must be a number of seconds from 0\.001 to 86400/, String(timeout));
      }
      assert.equal(sim.hitCount('/version'), 0);
      assert.equal(lastStatus('req')!.text, 'bad request');
    });

    it('refuses a server timeout that is not a number of seconds, with the reason on every user', async function () {
      const flow = requestFlow('version').map((n) => (n.id === SERVER_ID ? { ...n, timeout: 'soon' } : n));
      await helper.load(BPWIN_NODES, placed(flow), credentials(PASS));
      const caught = nextMessage<Msg>(helper.getNode('caught'), 3000);
      helper.getNode('req').receive({});
      assert.match((await caught).error!.message, /^the BPWin server timeout must be a number of seconds/);
      assert.equal(sim.hitCount('/auth'), 0);
    });

    it('reports connection refused to a Catch node', async function () {
      const port = await freePort();
      await helper.load(BPWIN_NODES, placed(requestFlow('version', port)), credentials(PASS));
      const caught = nextMessage<Msg>(helper.getNode('caught'));
      helper.getNode('req').receive({});
      assert.match((await caught).error!.message, /connection refused/);
      assert.equal(lastStatus('req')!.text, 'unreachable');
    });

    it('turns a {"Success":0} reply into a catchable error with BPWin\'s message', async function () {
      const { default: http } = await import('node:http');
      const server = http.createServer((req, res) => {
        res.setHeader('Content-Type', 'application/json');
        res.end(req.url === '/auth' ? '{ "Number" : 9007199254740993 }' : '{"Success":0,"Message":"BPWin is still initializing."}');
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      const port = (server.address() as { port: number }).port;
      await helper.load(BPWIN_NODES, placed(requestFlow('selected-device', port)), credentials(PASS));
      const caught = nextMessage<Msg>(helper.getNode('caught'));
      helper.getNode('req').receive({});
      assert.match((await caught).error!.message, /BPWin could not answer selected-device: BPWin is still initializing\./);
      await helper.unload();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });

    it('sets no status once closed, even when a call it sent fails later on the shared client', async function () {
      sim.setFault('/version', 'hang');
      const flow = [...requestFlow('version'), { id: 'req2', type: 'bpwin-request', z: 'f1', server: 'srv', endpoint: 'health', wires: [['out']] }];
      await helper.load(BPWIN_NODES, placed(flow), credentials(PASS));
      const caught = nextMessage<Msg>(helper.getNode('caught'), 4000, 'the timeout of the call');
      const req = helper.getNode('req');
      req.receive({});
      await waitFor(() => sim.hitCount('/version') === 1, 3000, 'the call to reach BPWin');
      const before = statusesOf('req').length;
      // req2 still holds the client, so the call runs on until its timeout.
      await (req as unknown as { close(removed: boolean): Promise<void> }).close(true);
      assert.match((await caught).error!.message, /no reply within 1 s/);
      assert.deepEqual(statusesOf('req').slice(before), [], 'no status from a closed node');
    });

    it('after a BPWin restart carries on with a new challenge, no error', async function () {
      await helper.load(BPWIN_NODES, placed(requestFlow('version')), credentials(PASS));
      const errors = collect<Msg>(helper.getNode('caught'));
      const out = helper.getNode('out');
      let reply = nextMessage<Msg>(out);
      helper.getNode('req').receive({});
      await reply;
      await sim.restart();
      reply = nextMessage<Msg>(out);
      helper.getNode('req').receive({});
      assert.equal((await reply).payload.API_Version, '1.0');
      assert.equal(errors.length, 0);
      assert.equal(sim.hitCount('/auth'), 2, 'one challenge before and one after the restart');
    });
  });

  describe('bpwin-server', function () {
    it('takes the first reconnect delay from settings.js (bpwinReconnectTime) when its field is empty', async function () {
      helper.settings({ bpwinReconnectTime: 1234 });
      try {
        await helper.load(BPWIN_NODES, placed([TAB, serverNode(sim.port, { reconnectMin: '', reconnectMax: '' })]), credentials(PASS));
        assert.deepEqual((helper.getNode('srv') as unknown as { backoff: unknown }).backoff, { initialMs: 1234, maxMs: 30_000 });
        await helper.unload();
        await helper.load(BPWIN_NODES, placed([TAB, serverNode(sim.port, { reconnectMin: 40 })]), credentials(PASS));
        assert.deepEqual((helper.getNode('srv') as unknown as { backoff: unknown }).backoff, { initialMs: 40, maxMs: 100 });
      } finally {
        helper.settings({ bpwinReconnectTime: undefined });
      }
    });

    it('hands the settings.js reconnect delay to the event stream, which waits that long after a failure', async function () {
      helper.settings({ bpwinReconnectTime: 8000 });
      try {
        const port = await freePort();
        const flow = [
          TAB,
          serverNode(port, { reconnectMin: '', reconnectMax: '' }),
          { id: 'ev', type: 'bpwin-events', z: 'f1', server: 'srv', wires: [[]] },
        ];
        await helper.load(BPWIN_NODES, placed(flow), credentials(PASS));
        await waitFor(() => /^reconnecting in/.test(lastStatus('ev')?.text ?? ''), 3000, 'the first failed connect');
        // 8 s less up to 25 % jitter; the 500 ms default would say "1 s".
        assert.match(lastStatus('ev')!.text!, /^reconnecting in [678] s$/);
      } finally {
        helper.settings({ bpwinReconnectTime: undefined });
      }
    });
  });

  describe('wrong passphrase', function () {
    it('shows "passphrase refused" on every user node, reports the error once per call, and does not loop', async function () {
      const flow = [
        ...requestFlow('version'),
        { id: 'stats', type: 'bpwin-job-stats', z: 'f1', server: 'srv', interval: 100, emit: 'change', wires: [['statsOut']] },
        { id: 'statsOut', type: 'helper', z: 'f1' },
        { id: 'events', type: 'bpwin-events', z: 'f1', server: 'srv', wires: [['eventsOut']] },
        { id: 'eventsOut', type: 'helper', z: 'f1' },
      ];
      await helper.load(BPWIN_NODES, placed(flow), credentials('not-it'));
      const errors = collect<Msg>(helper.getNode('caught'));
      helper.getNode('req').receive({});
      await waitFor(() => errors.some((e) => e.error!.source!.id === 'req'), 3000, 'the request error');
      await waitFor(() => ['req', 'stats', 'events'].every((id) => lastStatus(id)?.text === 'passphrase refused (403)'), 3000, 'refused everywhere');
      for (const id of ['req', 'stats', 'events']) assert.equal(lastStatus(id)!.fill, 'red');
      assert.match(errors.find((e) => e.error!.source!.id === 'req')!.error!.message, /BPWin refused the passphrase \(HTTP 403\)/);
      assert.ok(
        errors.some((e) => e.error!.source!.id === 'stats'),
        'the poller reports it too',
      );
      // The stream gives up after its own second 403, a moment after the REST calls.
      await waitFor(() => sim.hitCount('/ws') === 2 && sim.refusals() === 6, 3000, 'the stream to be refused twice');
      const hits = sim.hitCount('/data/job-stats') + sim.hitCount('/ws') + sim.hitCount('/auth');
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(sim.hitCount('/data/job-stats') + sim.hitCount('/ws') + sim.hitCount('/auth'), hits, 'nothing retries by itself');
      assert.equal(sim.hitCount('/data/job-stats'), 2);
      assert.equal(sim.hitCount('/ws'), 2);
    });
  });

  describe('passphrase fixed after a refusal', function () {
    it('a request accepted again reopens the stream at once, without waiting for the re-check', async function () {
      const flow = [
        ...requestFlow('version'),
        { id: 'events', type: 'bpwin-events', z: 'f1', server: 'srv', wires: [['eventsOut']] },
        { id: 'eventsOut', type: 'helper', z: 'f1' },
      ];
      await helper.load(BPWIN_NODES, placed(flow), credentials('changed on this side'));
      await waitFor(() => lastStatus('events')?.text === 'passphrase refused (403)', 3000, 'the refused stream');
      await waitFor(() => sim.hitCount('/ws') === 2, 3000, 'the second refused upgrade');
      // Auth.txt now holds what the node sends; BPWin reads it when it starts.
      sim.writeAuthFile('changed on this side');
      await sim.restart();
      const answer = nextMessage<Msg>(helper.getNode('out'));
      helper.getNode('req').receive({});
      assert.equal((await answer).topic, 'version');
      await waitFor(() => lastStatus('events')?.text === 'connected', 3000, 'the event node to stop saying "refused"');
      assert.equal(lastStatus('events')!.fill, 'green');
      assert.equal(sim.wsClients, 1);
    });
  });

  describe('bpwin-job-stats', function () {
    function statsFlow(extra: Record<string, unknown> = {}, port = sim.port): Array<Record<string, unknown>> {
      return [
        TAB,
        serverNode(port),
        { id: 'stats', type: 'bpwin-job-stats', z: 'f1', server: 'srv', interval: 100, emit: 'change', wires: [['out']], ...extra },
        { id: 'out', type: 'helper', z: 'f1' },
        ...CATCH,
      ];
    }

    it('sets no status once closed, even when its poll in flight fails later on the shared client', async function () {
      sim.beginJob(10);
      const flow = [...statsFlow(), { id: 'req', type: 'bpwin-request', z: 'f1', server: 'srv', endpoint: 'health', wires: [[]] }];
      await helper.load(BPWIN_NODES, placed(flow), credentials(PASS));
      await nextMessage<Msg>(helper.getNode('out'));
      sim.setFault('/data/job-stats', 'hang');
      const hits = sim.hitCount('/data/job-stats');
      await waitFor(() => sim.hitCount('/data/job-stats') > hits, 3000, 'a poll to hang');
      const sockets = sim.openConnections;
      const after = await closeAndWatch('stats');
      // The request node keeps the client; the hanging poll times out after 1000 ms and drops its socket.
      await waitFor(() => sim.openConnections < sockets, 3000, 'the hanging poll to time out');
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(after, [], 'no status from a closed node');
    });

    it('shows idle without a session and emits the no-session state once', async function () {
      await helper.load(BPWIN_NODES, placed(statsFlow()), credentials(PASS));
      const seen = collect<Msg>(helper.getNode('out'));
      await waitFor(() => sim.hitCount('/data/job-stats') >= 4, 3000, 'four polls');
      assert.equal(seen.length, 1);
      assert.equal(seen[0]!.payload.Session, false);
      assert.deepEqual(lastStatus('stats'), { fill: 'grey', shape: 'ring', text: 'idle (no job session)' });
    });

    it('emits only on change, with machine state and light tower on the status', async function () {
      sim.beginJob(10);
      // Freeze the clocks: a paused-then-active session still ticks Elapsed_Time each second, so use 'counts'.
      await helper.load(BPWIN_NODES, placed(statsFlow({ emit: 'counts' })), credentials(PASS));
      const seen = collect<Msg>(helper.getNode('out'));
      await waitFor(() => seen.length === 1, 3000, 'the first reading');
      assert.deepEqual(lastStatus('stats'), { fill: 'green', shape: 'dot', text: 'Active · green' });
      const polls = sim.hitCount('/data/job-stats');
      await waitFor(() => sim.hitCount('/data/job-stats') >= polls + 3, 3000, 'more polls');
      assert.equal(seen.length, 1, 'nothing changed, nothing sent');
      sim.programDevice('1A', 15);
      await waitFor(() => seen.length === 2, 3000, 'the change');
      assert.equal(seen[1]!.payload.Failed_Device, 1);
      sim.setMachineStatus('Error');
      await waitFor(() => seen.length === 3, 3000, 'the error state');
      assert.equal(seen[2]!.payload.Light_Tower, 'red');
      assert.deepEqual(lastStatus('stats'), { fill: 'red', shape: 'dot', text: 'Error · red' });
      sim.setMachineStatus('Paused');
      await waitFor(() => lastStatus('stats')?.fill === 'yellow', 3000, 'amber');
    });

    it("emits every poll with 'always'", async function () {
      await helper.load(BPWIN_NODES, placed(statsFlow({ emit: 'always' })), credentials(PASS));
      const seen = collect<Msg>(helper.getNode('out'));
      await waitFor(() => seen.length >= 3, 3000, 'three readings');
      assert.ok(seen.every((m) => m.payload.Session === false));
    });

    it('knows manual mode', async function () {
      sim.mode = 'manual';
      sim.beginJob(10);
      sim.programDevice('1A', 0);
      await helper.load(BPWIN_NODES, placed(statsFlow()), credentials(PASS));
      const msg = await nextMessage<Msg>(helper.getNode('out'));
      assert.equal(msg.payload.Mode, 'Manual');
      assert.equal(lastStatus('stats')!.text, 'Manual · 1 pass, 0 fail');
    });

    it('reads now on any input', async function () {
      await helper.load(BPWIN_NODES, placed(statsFlow({ interval: 60_000 })), credentials(PASS));
      const out = helper.getNode('out');
      await nextMessage<Msg>(out);
      const again = nextMessage<Msg>(out);
      helper.getNode('stats').receive({ payload: 'now' });
      assert.equal((await again).topic, 'job-stats');
    });

    it('shows disconnected while BPWin is down, reports it once, and recovers by itself', async function () {
      sim.beginJob(10);
      await helper.load(BPWIN_NODES, placed(statsFlow()), credentials(PASS));
      const out = helper.getNode('out');
      const errors = collect<Msg>(helper.getNode('caught'));
      await nextMessage<Msg>(out);
      await sim.stop();
      await waitFor(() => statusesOf('stats').filter((s) => /^disconnected, retry in \d+ s$/.test(s.text ?? '')).length >= 3, 3000, 'retries');
      assert.equal(lastStatus('stats')!.fill, 'red');
      assert.equal(errors.length, 1, 'one error, not one per retry');
      assert.match(errors[0]!.error!.message, /connection refused/);
      await sim.restart();
      sim.beginJob(10);
      await waitFor(() => lastStatus('stats')?.fill === 'green', 3000, 'recovery');
    });

    it('clears "disconnected" as soon as a read on input succeeds, without waiting for the next retry', async function () {
      sim.beginJob(10);
      const flow = [TAB, serverNode(sim.port, { reconnectMin: 60_000, reconnectMax: 60_000 }), ...statsFlow().slice(2)];
      await helper.load(BPWIN_NODES, placed(flow), credentials(PASS));
      const out = helper.getNode('out');
      await nextMessage<Msg>(out);
      await sim.stop();
      await waitFor(() => /^disconnected, retry in/.test(lastStatus('stats')?.text ?? ''), 3000, 'disconnected');
      await sim.restart();
      sim.beginJob(10);
      const answer = nextMessage<Msg>(out);
      helper.getNode('stats').receive({});
      assert.equal((await answer).payload.Session, true);
      await waitFor(() => lastStatus('stats')?.fill === 'green', 1000, 'the status to follow the successful read');
      assert.doesNotMatch(lastStatus('stats')!.text!, /disconnected/);
    });

    it('keeps polling through a restart (new challenge) without a passphrase error', async function () {
      sim.beginJob(10);
      await helper.load(BPWIN_NODES, placed(statsFlow({ emit: 'always' })), credentials(PASS));
      const seen = collect<Msg>(helper.getNode('out'));
      const errors = collect<Msg>(helper.getNode('caught'));
      await waitFor(() => seen.length >= 2, 3000, 'readings');
      await sim.restart();
      sim.beginJob(10);
      const before = seen.length;
      await waitFor(() => seen.length >= before + 3 && seen.at(-1)!.payload.Session === true, 3000, 'readings after the restart');
      assert.ok(
        errors.every((e) => !/refused/.test(e.error!.message)),
        'a restart is not a refusal',
      );
    });
  });

  describe('bpwin-events', function () {
    function eventsFlow(extra: Record<string, unknown> = {}, outputs = 1): Array<Record<string, unknown>> {
      const wires = Array.from({ length: outputs }, (_, i) => [`out${i}`]);
      const helpers = Array.from({ length: outputs }, (_, i) => ({ id: `out${i}`, type: 'helper', z: 'f1' }));
      return [TAB, serverNode(sim.port), { id: 'ev', type: 'bpwin-events', z: 'f1', server: 'srv', wires, ...extra }, ...helpers, ...CATCH];
    }

    it('sets no status once closed, whatever the shared event stream does next', async function () {
      const flow = [...eventsFlow(), { id: 'ev2', type: 'bpwin-events', z: 'f1', server: 'srv', wires: [[]] }];
      await helper.load(BPWIN_NODES, placed(flow), credentials(PASS));
      await waitFor(() => lastStatus('ev2')?.text === 'connected', 3000, 'connected');
      const after = await closeAndWatch('ev');
      await sim.stop();
      await waitFor(() => /reconnecting/.test(lastStatus('ev2')?.text ?? ''), 3000, 'the open node to see the drop');
      await sim.restart();
      await waitFor(() => lastStatus('ev2')?.text === 'connected', 3000, 'the open node to reconnect');
      assert.deepEqual(after, [], 'no status from a closed node');
    });

    it('decodes every event of a job and shows connected', async function () {
      await helper.load(BPWIN_NODES, placed(eventsFlow()), credentials(PASS));
      const seen = collect<Msg>(helper.getNode('out0'));
      await waitFor(() => sim.wsClients === 1, 3000, 'the websocket');
      await waitFor(() => lastStatus('ev')?.text === 'connected', 3000, 'connected status');
      sim.loadJob();
      sim.beginJob(2);
      sim.programDevice('3A', 0);
      sim.programDevice('3B', 56);
      sim.completeJob(1001);
      await waitFor(() => seen.length === 9, 3000, 'nine events');
      const fail = seen.find((m) => m.payload.status === 'Fail')!;
      assert.equal(fail.topic, 'SocketStatus');
      assert.equal(fail.payload.site, 3);
      assert.equal(fail.payload.socket, 2);
      assert.equal(fail.payload.socketLetter, 'B');
      assert.equal(fail.payload.resultCode, 56);
      assert.equal(fail.payload.description, 'Some device pins are shorted together.');
      assert.equal(typeof fail.payload.time, 'number');
      assert.match(String(fail.payload.timestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
      assert.equal((fail.payload.raw as Record<string, string>).Site_Socket, '3B');
      assert.equal(seen.at(-1)!.payload.outcome, 'hard-abort');
    });

    it('gives a flow saved before the Note checkboxes (no version) every Note, as it always did; a current one only the ticked', async function () {
      const ALL = { version: 1, noteDataPattern: true, noteJobFile: true, noteJob: true, noteSocketStatus: true, noteOther: true };
      const jobEvents = async (extra: Record<string, unknown>): Promise<{ topics: string[]; all: string[] }> => {
        const flow = [
          ...eventsFlow(extra),
          { id: 'evAll', type: 'bpwin-events', z: 'f1', server: 'srv', wires: [['all']], ...ALL },
          { id: 'all', type: 'helper', z: 'f1' },
        ];
        await helper.load(BPWIN_NODES, placed(flow), credentials(PASS));
        const seen = collect<Msg>(helper.getNode('out0'));
        const all = collect<Msg>(helper.getNode('all'));
        await waitFor(() => lastStatus('evAll')?.text === 'connected', 3000, 'the websocket');
        sim.loadJob();
        sim.beginJob(2);
        sim.programDevice('3A', 0);
        sim.completeJob(1001);
        // Both nodes hear the same stream in order: once the complete-all node has the last event, so has the other.
        await waitFor(() => all.some((m) => m.payload.outcome !== undefined), 3000, 'the end of the job');
        await helper.unload();
        const topics = (msgs: Msg[]): string[] => [...new Set(msgs.map((m) => String(m.topic)))].sort();
        return { topics: topics(seen), all: topics(all) };
      };
      const old = await jobEvents({});
      assert.ok(old.all.length >= 3, `the job has several Notes (${old.all.join(', ')})`);
      assert.deepEqual(old.topics, old.all, 'every Note, as before the checkboxes existed');
      const current = await jobEvents({
        version: 1,
        noteSocketStatus: true,
        noteJob: false,
        noteJobFile: false,
        noteDataPattern: false,
        noteOther: false,
      });
      assert.deepEqual(current.topics, ['SocketStatus']);
      const leftOut = await jobEvents({ version: 1, noteSocketStatus: true });
      assert.deepEqual(leftOut.topics, ['SocketStatus'], 'in a current flow a Note field left out is not ticked');
    });

    it('filters by Note and Status', async function () {
      await helper.load(
        BPWIN_NODES,
        placed(eventsFlow({ noteDataPattern: false, noteJobFile: false, noteJob: false, noteOther: false, statuses: 'Fail' })),
        credentials(PASS),
      );
      const seen = collect<Msg>(helper.getNode('out0'));
      await waitFor(() => sim.wsClients === 1, 3000, 'the websocket');
      sim.loadJob();
      sim.beginJob(3);
      sim.programDevice('1A', 0);
      sim.programDevice('1B', 14);
      sim.completeJob(0);
      sim.programDevice('1C', 23);
      await waitFor(() => seen.length === 2, 3000, 'two failures');
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(
        seen.map((m) => m.payload.resultCode),
        [14, 23],
      );
    });

    it('gives one output per Note', async function () {
      await helper.load(BPWIN_NODES, placed(eventsFlow({ split: true }, 5)), credentials(PASS));
      const outs = [0, 1, 2, 3, 4].map((i) => collect<Msg>(helper.getNode(`out${i}`)));
      await waitFor(() => sim.wsClients === 1, 3000, 'the websocket');
      sim.loadJob();
      sim.beginJob(1);
      sim.programDevice('1A', 0);
      sim.broadcast('{"Category":"Event","Note":"Calibration","Status":"Done"}');
      await waitFor(() => outs[4]!.length === 1, 3000, 'the unknown Note');
      assert.deepEqual(
        outs.map((o) => o.length),
        [1, 2, 1, 2, 1],
      );
      assert.equal(outs[1]![0]!.payload.fileName, 'APITestBp.bp');
    });

    it('shares one /ws connection between the event nodes of a server', async function () {
      const flow = [
        ...eventsFlow(),
        { id: 'ev2', type: 'bpwin-events', z: 'f1', server: 'srv', wires: [['second']] },
        { id: 'second', type: 'helper', z: 'f1' },
      ];
      await helper.load(BPWIN_NODES, placed(flow), credentials(PASS));
      const a = collect<Msg>(helper.getNode('out0'));
      const b = collect<Msg>(helper.getNode('second'));
      await waitFor(() => sim.wsClients === 1, 3000, 'the websocket');
      sim.programDevice('2A', 0);
      await waitFor(() => a.length === 2 && b.length === 2, 3000, 'both nodes');
      assert.equal(sim.hitCount('/ws'), 1);
      assert.notEqual(a[0]!.payload, b[0]!.payload, 'each node gets its own copy');
    });

    it('reports a text that is not JSON to a Catch node and keeps going', async function () {
      await helper.load(BPWIN_NODES, placed(eventsFlow()), credentials(PASS));
      const seen = collect<Msg>(helper.getNode('out0'));
      await waitFor(() => sim.wsClients === 1, 3000, 'the websocket');
      const caught = nextMessage<Msg>(helper.getNode('caught'));
      sim.broadcast('{"Category":"Event", "Note": ');
      assert.match((await caught).error!.message, /BPWin event: not valid JSON/);
      sim.programDevice('1A', 0);
      await waitFor(() => seen.length === 2, 3000, 'later events');
    });

    it('shows reconnecting while BPWin is closed, and events flow again after', async function () {
      await helper.load(BPWIN_NODES, placed(eventsFlow()), credentials(PASS));
      const seen = collect<Msg>(helper.getNode('out0'));
      await waitFor(() => sim.wsClients === 1, 3000, 'the websocket');
      await sim.stop();
      await waitFor(() => /^reconnecting/.test(lastStatus('ev')?.text ?? ''), 3000, 'reconnecting status');
      assert.equal(lastStatus('ev')!.fill, 'yellow');
      await sim.restart();
      await waitFor(() => sim.wsClients === 1, 3000, 'the websocket again');
      await waitFor(() => lastStatus('ev')?.text === 'connected', 3000, 'connected status');
      sim.programDevice('4D', 0);
      await waitFor(() => seen.length === 2, 3000, 'events after the restart');
    });
  });
});
