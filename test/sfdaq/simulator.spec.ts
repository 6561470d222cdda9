import assert from 'node:assert/strict';
import { simulator, SfdaqSimulator } from '../../src/simulators/sfdaq';
import { rawExchange, rawRequest } from './fixtures';

describe('sf-daq simulator (what the real broker does on its own)', () => {
  let sim: SfdaqSimulator;
  beforeEach(async () => {
    sim = await SfdaqSimulator.start({ mode: 'current' });
  });
  afterEach(() => sim.close());

  it('takes the beamline from X-Forwarded-For when present, as bottle does', async () => {
    const local = JSON.parse((await rawRequest(`${sim.fastUrl}/get_allowed_detectors`, 'GET')).text) as { detectors: string[] };
    assert.deepEqual(local.detectors, ['JF02T09V03', 'JF06T08V04']);
    const bernina = JSON.parse(
      (await rawRequest(`${sim.fastUrl}/get_allowed_detectors`, 'GET', undefined, { 'X-Forwarded-For': '129.129.242.10, 127.0.0.1' })).text,
    ) as { detectors: string[] };
    assert.deepEqual(bernina.detectors, ['JF01T03V01', 'JF03T01V02']);
    const unknown = JSON.parse(
      (await rawRequest(`${sim.fastUrl}/get_allowed_detectors`, 'GET', undefined, { 'X-Forwarded-For': '10.1.2.3' })).text,
    ) as Record<string, string>;
    assert.deepEqual(unknown, { status: 'error', message: 'can not determine from which console request came, rejected', exception: 'RuntimeError' });
    assert.equal(sim.requests[1]!.remoteAddress, '129.129.242.10');
    const furka = JSON.parse(
      (await rawRequest(`${sim.fastUrl}/get_allowed_detectors`, 'GET', undefined, { 'X-Forwarded-For': '129.129.246.10' })).text,
    ) as Record<string, string>;
    assert.equal(furka.message, 'request is made from beamline which doesnt have detectors');
  });

  it('answers HTTP/1.0 and closes the connection', async () => {
    const reply = await rawExchange(sim.fastUrl, 'GET /get_pvlist HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    assert.match(reply, /^HTTP\/1\.0 200 OK\r\n/);
    assert.match(reply, /\r\nContent-Type: application\/json\r\n/);
    assert.match(reply, /"pv_list":\["ELCOMAT:X","ELCOMAT:Y"\]/);
  });

  it('reads the JSON body only with Content-Type application/json', async () => {
    const text = (await rawRequest(`${sim.fastUrl}/get_current_run_number`, 'GET', '{"pgroup":"p17502"}', { 'Content-Type': 'text/plain' })).text;
    assert.deepEqual(JSON.parse(text), { status: 'error', message: 'request parameters are empty', exception: 'RuntimeError' });
  });

  it('refuses bodies over 102,400 bytes with 413', async () => {
    const body = JSON.stringify({ pv_list: ['x'.repeat(102_400)] });
    const reply = await rawRequest(`${sim.fastUrl}/set_pvlist`, 'POST', body);
    assert.equal(reply.status, 413);
    assert.deepEqual(sim.pvLists.get('alvra'), ['ELCOMAT:X', 'ELCOMAT:Y'], 'nothing changed');
  });

  it('answers unknown routes with a 404 and wrong methods with a 405 page and Allow', async () => {
    const missing = await rawRequest(`${sim.fastUrl}/get_dap_settings`, 'GET');
    assert.equal(missing.status, 404);
    assert.match(missing.text, /Not found: '\/get_dap_settings'/);
    const wrong = await rawRequest(`${sim.fastUrl}/advance_run_number`, 'GET', '{"pgroup":"p17502"}');
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.allow, 'POST');
    assert.match(String(wrong.headers['content-type']), /text\/html/);
  });

  it('serves one request at a time: parallel raw requests queue up and are counted as overlaps', async () => {
    sim.delays.set('get_pvlist', 30);
    const replies = await Promise.all([1, 2, 3].map(() => rawRequest(`${sim.fastUrl}/get_pvlist`, 'GET')));
    assert.deepEqual(
      replies.map((r) => r.status),
      [200, 200, 200],
    );
    assert.equal(sim.overlaps, 2, 'two requests arrived while the first was being served');
  });

  it('consumes a new run number even when retrieve_from_buffers then fails (closed pgroup)', async () => {
    sim.pgroup('alvra', 'p17502')!.closed = true;
    const reply = JSON.parse(
      (
        await rawRequest(
          `${sim.fastUrl}/retrieve_from_buffers`,
          'POST',
          JSON.stringify({ pgroup: 'p17502', start_pulseid: 1, stop_pulseid: 2, pv_list: ['X'] }),
        )
      ).text,
    ) as Record<string, string>;
    assert.equal(reply.status, 'error');
    assert.match(reply.message!, /is closed for writing/);
    assert.equal(sim.pgroup('alvra', 'p17502')!.lastRun, 1);
  });

  it('says "pass" when nothing is to be written, and refuses run numbers it did not generate', async () => {
    const post = async (body: unknown): Promise<Record<string, string>> =>
      JSON.parse((await rawRequest(`${sim.fastUrl}/retrieve_from_buffers`, 'POST', JSON.stringify(body))).text) as Record<string, string>;
    assert.equal((await post({ pgroup: 'p17502', start_pulseid: 1, stop_pulseid: 2 })).status, 'pass');
    assert.match(
      (await post({ pgroup: 'p17502', start_pulseid: 1, stop_pulseid: 2, run_number: 9, pv_list: ['X'] })).message!,
      /requested run_number9 generated not by sf-daq/,
    );
  });

  it('labwire-sim definition: ports N and N+1 by default and configure() points a broker config at itself', async () => {
    const running = await simulator.start({ port: 0, options: { mode: 'documented' } });
    try {
      assert.equal(running.endpoints.length, 2);
      assert.match(running.endpoints[0]!, /fast broker, documented mode/);
      const node = { id: 'b', type: 'sfdaq-broker', fastUrl: 'http://sf-daq:10002' };
      assert.deepEqual(running.configure(node), {});
      assert.match(String((node as Record<string, unknown>).fastUrl), /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(running.configure({ id: 'x', type: 'bpwin-server' }), undefined);
    } finally {
      await running.close();
    }
  });
});
