import assert from 'node:assert/strict';
import { InstrumentError } from '../../src/protocols/common/errors';
import { SfdaqClient, defaultSlowUrl } from '../../src/protocols/sfdaq/client';
import type { CallOptions, CallResult } from '../../src/protocols/sfdaq/client';
import { ROUTES } from '../../src/protocols/sfdaq/routes';
import { SfdaqSimulator } from '../../src/simulators/sfdaq';
import type { SfdaqMode } from '../../src/simulators/sfdaq';
import { fixedServer } from './fixtures';
import { waitFor } from '../helpers/wait-for';

type Check = (
  call: (op: string, params?: Record<string, unknown>, options?: CallOptions) => Promise<CallResult>,
  sim: SfdaqSimulator,
  mode: SfdaqMode,
) => Promise<void>;

const DET = 'JF02T09V03';
const FILE1 = '/sf/alvra/data/p17502/res/test/test1.json';

/** One realistic exchange per operation, asserting the normalised result and the simulator's state. */
const OPERATIONS: Record<string, Check> = {
  async retrieve_from_buffers(call, sim) {
    const { result } = await call('retrieve_from_buffers', {
      pgroup: 'p17502',
      start_pulseid: 1000,
      stop_pulseid: 2000,
      pv_list: ['ELCOMAT:X'],
      detectors: { [DET]: {} },
      scan_info: { scan_name: 's' },
    });
    assert.deepEqual(result, {
      message: 'OK',
      run_number: 1,
      acquisition_number: 1,
      unique_acquisition_number: 1,
      files: ['/sf/alvra/data/p17502/raw/run0001/data/acq0001.PVDATA.h5', `/sf/alvra/data/p17502/raw/run0001/data/acq0001.${DET}.h5`],
    });
    assert.deepEqual(sim.pgroup('alvra', 'p17502')!.runs.get(1)!.scanSteps, [{ scan_name: 's' }]);
  },
  async take_pedestal(call, sim) {
    const { result } = await call('take_pedestal', { pgroup: 'p17502', detectors: [DET], rate_multiplicator: 2 });
    assert.equal(result.wait_seconds, 70);
    assert.match(String(result.message), /wait at least 70\.0 seconds/);
    assert.equal(sim.running.has(`alvra/${DET}`), false, 'the pedestal takes the detector out of the running list');
    assert.deepEqual(
      sim.requests.at(-1)!.body,
      { pgroup: 'p17502', detectors: { [DET]: {} }, rate_multiplicator: 2 },
      'a list of names is sent as a dict',
    );
  },
  async get_allowed_detectors(call) {
    const { result } = await call('get_allowed_detectors');
    assert.deepEqual(result, {
      detectors: [DET, 'JF06T08V04'],
      names: ['Alvra 4.5M detector', 'Alvra 4M detector, 8 modules'],
      visualisation_address: ['sf-daq-alvra:5001', 'sf-daq-alvra:5002'],
    });
  },
  async get_running_detectors(call, _sim, mode) {
    const { result } = await call('get_running_detectors');
    assert.deepEqual(result.detectors, [DET]);
    if (mode === 'current') assert.deepEqual(result.missing_detectors, ['JF06T08V04']);
  },
  async power_on_detector(call, sim) {
    const { result } = await call('power_on_detector', { detector_name: 'JF06T08V04' });
    assert.match(String(result.message), /power on/);
    await waitFor(() => sim.running.has('alvra/JF06T08V04'), 3000, 'the detector to run');
  },
  async advance_run_number(call, sim) {
    assert.deepEqual((await call('advance_run_number', { pgroup: 'p17502' })).result, { run_number: 1 });
    assert.deepEqual((await call('advance_run_number', { pgroup: 'p17502' })).result, { run_number: 2 });
    assert.equal(sim.pgroup('alvra', 'p17502')!.lastRun, 2);
  },
  async get_current_run_number(call, sim) {
    sim.pgroup('alvra', 'p17502')!.lastRun = 41;
    assert.deepEqual((await call('get_current_run_number', { pgroup: 'p17502' })).result, { run_number: 41 });
  },
  async get_pvlist(call) {
    assert.deepEqual((await call('get_pvlist')).result, { pv_list: ['ELCOMAT:X', 'ELCOMAT:Y'] });
  },
  async set_pvlist(call, sim) {
    assert.deepEqual((await call('set_pvlist', { pv_list: ['A:B', 'A:B', 'C:D'] })).result.pv_list, ['A:B', 'C:D']);
    assert.deepEqual(sim.pvLists.get('alvra'), ['A:B', 'C:D']);
  },
  async close_pgroup_writing(call, sim) {
    const { result } = await call('close_pgroup_writing', { pgroup: 'p12345' }, { confirm: 'p12345' });
    assert.equal(result.message, 'p12345 closed for writing');
    assert.equal(sim.pgroup('alvra', 'p12345')!.closed, true);
  },
  async get_detector_settings(call) {
    assert.deepEqual((await call('get_detector_settings', { detector_name: DET })).result, {
      settings: { delay: 0.00089, detector_mode: 'normal', exptime: 5e-6, gain_mode: 'dynamic' },
    });
  },
  async set_detector_settings(call, sim, mode) {
    const { result } = await call('set_detector_settings', { detector_name: DET, parameters: { delay: 0.00088, gain_mode: 'dynamic' } });
    // The documented broker answers only {"status":"ok"}: what changed is unknown, not "nothing".
    if (mode === 'current') assert.deepEqual(result.changed_parameters, { delay: [0.00089, 0.00088] });
    else assert.equal('changed_parameters' in result, false);
    assert.deepEqual(result.requested, { delay: 0.00088, gain_mode: 'dynamic' });
    assert.equal(sim.settings.get(DET)!.delay, 0.00088);
  },
  async copy_user_files(call, sim) {
    await call('retrieve_from_buffers', { pgroup: 'p17502', start_pulseid: 1, stop_pulseid: 2, pv_list: ['X'] });
    const { result } = await call('copy_user_files', { pgroup: 'p17502', run_number: 1, files: [FILE1] });
    // Same fields from both generations (the documented one names only the destination; the source is the file of that name).
    assert.deepEqual(result.copied, [{ source: FILE1, destination: '/sf/alvra/data/p17502/raw/run0001/aux/test1.json' }]);
    assert.deepEqual(result.failed, []);
    assert.deepEqual(sim.pgroup('alvra', 'p17502')!.runs.get(1)!.aux, ['/sf/alvra/data/p17502/raw/run0001/aux/test1.json']);
  },
  async get_dap_settings(call) {
    const { result } = await call('get_dap_settings', { detector_name: DET });
    assert.equal((result.parameters as Record<string, unknown>).detector_distance, 0.092);
  },
  async set_dap_settings(call, sim) {
    const { result } = await call('set_dap_settings', { detector_name: DET, parameters: { detector_distance: 0.091 } });
    assert.deepEqual(result.changed_parameters, { detector_distance: [0.092, 0.091] });
    assert.equal(sim.dap.get(DET)!.detector_distance, 0.091);
  },
  async power_on_modules(call) {
    assert.match(String((await call('power_on_modules', { detector_name: DET, modules: [0, 1] })).result.message), /powered on modules \[0,1\]/);
  },
  async power_off_modules(call) {
    assert.match(String((await call('power_off_modules', { detector_name: DET, modules: [2] })).result.message), /powered off modules \[2\]/);
  },
  async get_detector_status(call) {
    assert.deepEqual((await call('get_detector_status', { detector_name: DET })).result.detector_status, { status: 'running' });
  },
  async get_detector_temperatures(call) {
    assert.equal(Object.keys((await call('get_detector_temperatures', { detector_name: DET })).result.temperatures as object).length, 9);
  },
  async get_detector_pings(call) {
    assert.equal(((await call('get_detector_pings', { detector_name: DET })).result.pings as Record<string, boolean>).M08, true);
  },
  async get_jfctrl_monitor(call) {
    assert.ok('M00' in ((await call('get_jfctrl_monitor', { detector_name: DET })).result.parameters as object));
  },
  async upload_custom_dap_script(call, sim) {
    await call('upload_custom_dap_script', { name: 'roi', code: 'def proc(): pass' });
    assert.equal(sim.uploadedScripts.get('alvra/roi.py'), 'def proc(): pass');
  },
};

async function rejects(work: Promise<unknown>, code: string, pattern: RegExp): Promise<InstrumentError> {
  try {
    await work;
  } catch (err) {
    assert.ok(err instanceof InstrumentError, `expected an InstrumentError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, pattern);
    return err;
  }
  throw new Error(`expected a ${code} error`);
}

describe('sf-daq client against the simulator', () => {
  let sim: SfdaqSimulator;
  let client: SfdaqClient;

  afterEach(async () => {
    client?.close();
    await sim?.close();
  });

  it('has a check for every operation of the route table', () => {
    assert.deepEqual(Object.keys(OPERATIONS).sort(), ROUTES.map((r) => r.operation).sort());
  });

  for (const mode of ['documented', 'current'] as const) {
    describe(`${mode} broker`, () => {
      beforeEach(async () => {
        sim = await SfdaqSimulator.start({ mode, powerOnMs: 20 });
        client = new SfdaqClient({ fastUrl: sim.fastUrl, slowUrl: sim.slowUrl });
      });

      for (const route of ROUTES) {
        if (mode === 'documented' && route.documentedMethod === null) {
          it(`${route.operation} is not there: a clear 404 error`, async () => {
            const params = Object.fromEntries(route.params.filter((p) => p.required).map((p) => [p.name, p.type === 'integer[]' ? [0] : 'x']));
            await rejects(
              client.call(route.operation, params),
              'HTTP_STATUS',
              /has no such route \(HTTP 404\) \(this operation exists only on current broker versions\)/,
            );
          });
          continue;
        }
        it(`${route.operation} (${route.broker} broker)`, async () => {
          await OPERATIONS[route.operation]!((op, params, options) => client.call(op, params, options), sim, mode);
          const methods = sim.requests.filter((r) => r.path === `/${route.operation}`).map((r) => r.method);
          assert.equal(methods.at(-1), mode === 'documented' ? route.documentedMethod : route.currentMethod);
          assert.ok(
            sim.requests.every((r) => r.broker === ROUTES.find((x) => `/${x.operation}` === r.path)!.broker),
            'each call went to its broker',
          );
        });
      }

      it(`a failure reply is an error with the broker's message (status "${mode === 'documented' ? 'failed' : 'error'}")`, async () => {
        const err = await rejects(
          client.call('power_on_detector', { detector_name: 'JF01T03V01' }),
          'REMOTE',
          /^power_on_detector failed: JF01T03V01 not belongs to the alvra/,
        );
        assert.equal(err.details.status, mode === 'documented' ? 'failed' : 'error');
        assert.equal(err.details.message, 'JF01T03V01 not belongs to the alvra');
        assert.equal(err.details.exception, mode === 'documented' ? undefined : 'RuntimeError');
        if (mode === 'current') assert.match(err.message, /\(RuntimeError\)$/);
      });

      it('get_pvlist without an EPICS configuration fails in either shape', async () => {
        sim.pvLists.delete('alvra');
        const err = await rejects(client.call('get_pvlist'), 'REMOTE', /epics .*config file .*not exist .*alvra/);
        if (mode === 'documented') assert.match(String(err.details.status), /^failure, epics config file not exist/);
      });

      it('copy_user_files: a partial copy is the same error with the same fields on either generation', async () => {
        await client.call('retrieve_from_buffers', { pgroup: 'p17502', start_pulseid: 1, stop_pulseid: 2, pv_list: ['X'] });
        const call = client.call('copy_user_files', { pgroup: 'p17502', run_number: 1, files: [FILE1, '/nowhere/x.json'] });
        // The current broker says "error", the documented one "ok" with error_files: both are this error.
        const err = await rejects(call, 'REMOTE', /^copy_user_files failed for 1 of 2 file\(s\): \/nowhere\/x\.json/);
        const { message, ...result } = err.details.result as Record<string, unknown>;
        assert.equal(typeof message, 'string');
        assert.deepEqual(result, {
          copied: [{ source: FILE1, destination: '/sf/alvra/data/p17502/raw/run0001/aux/test1.json' }],
          // The documented broker gives no reason.
          failed: [{ file: '/nowhere/x.json', reason: mode === 'current' ? 'file "/nowhere/x.json" does not exist' : null }],
        });
        assert.equal(err.details.reason, 'filesNotCopied');
        assert.equal(err.details.failedCount, 1);
        assert.equal(err.details.copiedCount, 1);
        assert.deepEqual(Object.keys(err.details).sort(), [
          'copiedCount',
          'failedCount',
          'firstFailed',
          'httpStatus',
          'operation',
          'reason',
          'reply',
          'result',
          'total',
          'url',
        ]);
      });
    });
  }

  describe('methods', () => {
    it('retries a 405 once with the other method and remembers it (documented broker, current methods first)', async () => {
      sim = await SfdaqSimulator.start({ mode: 'documented' });
      client = new SfdaqClient({ fastUrl: sim.fastUrl });
      assert.equal((await client.call('advance_run_number', { pgroup: 'p17502' })).result.run_number, 1);
      assert.equal((await client.call('advance_run_number', { pgroup: 'p17502' })).method, 'GET');
      assert.deepEqual(
        sim.requests.map((r) => r.method),
        ['POST', 'GET', 'GET'],
        'one 405, then the remembered method',
      );
      assert.equal(sim.pgroup('alvra', 'p17502')!.lastRun, 2, 'the refused request changed nothing');
    });

    it('retries the other way round (current broker, documented methods first)', async () => {
      sim = await SfdaqSimulator.start({ mode: 'current' });
      client = new SfdaqClient({ fastUrl: sim.fastUrl, slowUrl: sim.slowUrl, prefer: 'documented' });
      await client.call('get_detector_settings', { detector_name: DET });
      await client.call('get_detector_settings', { detector_name: DET });
      assert.deepEqual(
        sim.requests.map((r) => `${r.method} ${r.path}`),
        ['POST /get_detector_settings', 'GET /get_detector_settings', 'GET /get_detector_settings'],
      );
    });

    it('a server refusing both methods gives a clear error naming Allow', async () => {
      const server = await fixedServer(405, 'text/html', '<h1>Error: 405 Method Not Allowed</h1>', { Allow: 'PUT' });
      try {
        client = new SfdaqClient({ fastUrl: server.url });
        await rejects(client.call('get_pvlist'), 'HTTP_STATUS', /refused both GET and POST \(HTTP 405, Allow: PUT\)/);
      } finally {
        await server.close();
      }
    });

    it('sends JSON with Content-Type application/json on GET, and no body where the route takes none', async () => {
      sim = await SfdaqSimulator.start({ mode: 'current' });
      client = new SfdaqClient({ fastUrl: sim.fastUrl });
      await client.call('get_current_run_number', { pgroup: 'p17502' });
      await client.call('get_pvlist');
      const [withBody, withoutBody] = sim.requests;
      assert.equal(withBody!.method, 'GET');
      assert.equal(withBody!.headers['content-type'], 'application/json');
      assert.deepEqual(withBody!.body, { pgroup: 'p17502' });
      assert.equal(withoutBody!.headers['content-length'] ?? '0', '0');
    });
  });

  describe('transport', () => {
    it('never sends X-Forwarded-For, which the broker would take the beamline from', async () => {
      sim = await SfdaqSimulator.start({ mode: 'current' });
      client = new SfdaqClient({ fastUrl: sim.fastUrl });
      await client.call('get_allowed_detectors');
      await client.call('advance_run_number', { pgroup: 'p17502' });
      assert.equal(sim.requests.length, 2);
      for (const request of sim.requests) {
        assert.equal(request.headers['x-forwarded-for'], undefined);
        assert.equal(request.beamline, 'alvra');
      }
    });

    it('times out a call that gets no reply, and later calls still run', async () => {
      sim = await SfdaqSimulator.start({ mode: 'current' });
      client = new SfdaqClient({ fastUrl: sim.fastUrl, timeoutMs: 100 });
      sim.delays.set('get_pvlist', 400);
      await rejects(
        client.call('get_pvlist'),
        'TIMEOUT',
        /^get_pvlist: no reply from the fast broker at http:\/\/127\.0\.0\.1:\d+\/get_pvlist within 0\.1 s$/,
      );
      sim.delays.clear();
      // The single-threaded broker is still busy with the abandoned request; the next call waits its turn.
      assert.deepEqual((await client.call('get_allowed_detectors', {}, { timeoutMs: 3000 })).result.detectors, [DET, 'JF06T08V04']);
    });

    it('gives take_pedestal its longer minimum timeout, and msg-style overrides win', async () => {
      sim = await SfdaqSimulator.start({ mode: 'current' });
      client = new SfdaqClient({ fastUrl: sim.fastUrl, timeoutMs: 100 });
      sim.delays.set('take_pedestal', 300);
      assert.equal((await client.call('take_pedestal', { pgroup: 'p17502', detectors: { [DET]: {} } })).result.wait_seconds, 40);
      await rejects(client.call('take_pedestal', { pgroup: 'p17502', detectors: { [DET]: {} } }, { timeoutMs: 50 }), 'TIMEOUT', /within 0\.05 s/);
    });

    it("counts a queued call's timeout from when it was queued: it fails unsent, and the client says how many wait", async () => {
      sim = await SfdaqSimulator.start({ mode: 'current' });
      client = new SfdaqClient({ fastUrl: sim.fastUrl });
      sim.delays.set('take_pedestal', 1500);
      const c = client;
      const busy = c.call('take_pedestal', { pgroup: 'p17502', detectors: { [DET]: {} } }, { timeoutMs: 5000 });
      const ahead: number[] = [];
      const queued = [1, 2, 3].map(() =>
        c.call('get_pvlist', {}, { timeoutMs: 300, onQueued: (n) => ahead.push(n) }).then(
          () => undefined,
          (err: InstrumentError) => err,
        ),
      );
      assert.deepEqual(ahead, [1, 2, 3]);
      await new Promise((r) => setImmediate(r));
      assert.equal(c.queued('fast'), 3, 'the pedestal is sent, three calls wait');
      for (const err of await Promise.all(queued)) {
        assert.ok(err instanceof InstrumentError, 'a queued call that waited its whole timeout fails');
        assert.equal(err.code, 'TIMEOUT');
        assert.equal(err.details.reason, 'queuedTooLong');
        assert.match(err.message, /^get_pvlist was not sent: it waited its whole timeout \(0\.3 s\) for the fast broker, busy with earlier calls$/);
      }
      assert.equal(c.queued('fast'), 0);
      await busy;
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(
        sim.requests.map((r) => r.path),
        ['/take_pedestal'],
        'the expired calls never reached the broker',
      );
      assert.deepEqual((await c.call('get_pvlist')).result.pv_list, ['ELCOMAT:X', 'ELCOMAT:Y']);
    });

    it('queues concurrent calls: one at a time per broker, in order', async () => {
      sim = await SfdaqSimulator.start({ mode: 'current' });
      client = new SfdaqClient({ fastUrl: sim.fastUrl, slowUrl: sim.slowUrl });
      sim.delays.set('advance_run_number', 15);
      sim.delays.set('get_detector_settings', 15);
      const runs = Array.from({ length: 8 }, () => client.call('advance_run_number', { pgroup: 'p17502' }));
      const settings = Array.from({ length: 3 }, () => client.call('get_detector_settings', { detector_name: DET }));
      assert.equal(client.pending('fast'), 8);
      const results = await Promise.all(runs);
      await Promise.all(settings);
      assert.deepEqual(
        results.map((r) => r.result.run_number),
        [1, 2, 3, 4, 5, 6, 7, 8],
      );
      assert.equal(sim.overlaps, 0, 'no request reached a broker while it was busy');
      assert.equal(client.pending('fast'), 0);
    });

    it('a failed call does not stop the queue behind it', async () => {
      sim = await SfdaqSimulator.start({ mode: 'current' });
      client = new SfdaqClient({ fastUrl: sim.fastUrl });
      sim.failNext('advance_run_number', 'disk full', 'OSError');
      const [first, second] = await Promise.allSettled([
        client.call('advance_run_number', { pgroup: 'p17502' }),
        client.call('advance_run_number', { pgroup: 'p17502' }),
      ]);
      assert.equal(first.status, 'rejected');
      assert.match(String((first as PromiseRejectedResult).reason.message), /disk full \(OSError\)/);
      assert.equal(second.status === 'fulfilled' && second.value.result.run_number, 1);
    });

    it('404 from the wrong broker names the broker URL to check', async () => {
      sim = await SfdaqSimulator.start({ mode: 'current' });
      client = new SfdaqClient({ fastUrl: sim.fastUrl, slowUrl: sim.fastUrl });
      await rejects(
        client.call('get_dap_settings', { detector_name: DET }),
        'HTTP_STATUS',
        /get_dap_settings: the slow broker at http:\/\/127\.0\.0\.1:\d+\/get_dap_settings has no such route \(HTTP 404\); check the slow broker URL/,
      );
    });

    it('a reply that is not JSON, or another HTTP error, is a clear error', async () => {
      const html = await fixedServer(200, 'text/html', '<html><body>proxy login</body></html>');
      const broken = await fixedServer(500, 'text/html', '<h1>Internal Server Error</h1>');
      try {
        await rejects(new SfdaqClient({ fastUrl: html.url }).call('get_pvlist'), 'PROTOCOL', /not a JSON object: proxy login/);
        await rejects(new SfdaqClient({ fastUrl: broken.url }).call('get_pvlist'), 'HTTP_STATUS', /HTTP 500 .*Internal Server Error/);
      } finally {
        await html.close();
        await broken.close();
      }
    });

    it('refuses to send after close, and leaves no connection open', async () => {
      sim = await SfdaqSimulator.start({ mode: 'current' });
      client = new SfdaqClient({ fastUrl: sim.fastUrl });
      await client.call('get_pvlist');
      client.close();
      await rejects(client.call('get_pvlist'), 'CLOSED', /closed/);
      await waitFor(() => sim.openConnections === 0, 3000, 'every broker connection to close');
    });

    it('connection refused is reported with the URL', async () => {
      sim = await SfdaqSimulator.start({ mode: 'current' });
      const url = sim.fastUrl;
      await sim.close();
      client = new SfdaqClient({ fastUrl: url });
      const err = await rejects(client.call('get_pvlist'), 'CONNECT_FAILED', /connection refused/);
      assert.equal(err.message.split(url.replace('http://', '')).length, 2, `the address once: ${err.message}`);
    });
  });

  it('the slow broker defaults to the fast port + 1, and bad URLs are refused', () => {
    assert.equal(defaultSlowUrl('http://sf-daq:10002'), 'http://sf-daq:10003');
    assert.equal(defaultSlowUrl('http://sf-daq'), 'http://sf-daq:81');
    assert.equal(new SfdaqClient({ fastUrl: 'http://sf-daq:10002/' }).slowUrl, 'http://sf-daq:10003');
    assert.throws(() => new SfdaqClient({ fastUrl: 'sf-daq:10002' }), /must start with http/);
    assert.throws(() => new SfdaqClient({ fastUrl: 'not a url' }), /is not a URL/);
  });
});

describe('sf-daq clients sharing a broker', () => {
  it('two clients of the same broker take turns (one queue per broker address)', async () => {
    const sim = await SfdaqSimulator.start({ mode: 'current' });
    const first = new SfdaqClient({ fastUrl: sim.fastUrl });
    const second = new SfdaqClient({ fastUrl: `${sim.fastUrl}/` });
    try {
      sim.delays.set('advance_run_number', 10);
      const calls = [first, second, first, second].map((c) => c.call('advance_run_number', { pgroup: 'p17502' }));
      assert.deepEqual(
        (await Promise.all(calls)).map((r) => r.result.run_number),
        [1, 2, 3, 4],
      );
      assert.equal(sim.overlaps, 0);
    } finally {
      first.close();
      second.close();
      await sim.close();
    }
  });
});
