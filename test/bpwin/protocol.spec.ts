import assert from 'node:assert/strict';
import { BpwinClient, REFUSED_MESSAGE } from '../../src/protocols/bpwin/client';
import { extractChallenge } from '../../src/protocols/bpwin/challenge';
import { parseEndpointName } from '../../src/protocols/bpwin/endpoints';
import { request } from '../../src/protocols/bpwin/requests';
import { InstrumentError } from '../../src/protocols/common/errors';
import { BpwinSimulator } from '../../src/simulators/bpwin';
import { freePort } from '../../src/cli/node-red-process';
import { waitFor } from '../helpers/red';

const PASS = 'correct horse';

async function rejectsWith(work: Promise<unknown>, code: string, text: RegExp): Promise<InstrumentError> {
  try {
    await work;
  } catch (err) {
    assert.ok(err instanceof InstrumentError, `expected an InstrumentError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, text);
    return err;
  }
  assert.fail('expected a rejection');
}

describe('BPWin client against the simulator', function () {
  let sim: BpwinSimulator;
  let client: BpwinClient;

  beforeEach(async function () {
    sim = new BpwinSimulator({ passphrase: PASS });
    await sim.start();
    client = new BpwinClient({ host: '127.0.0.1', port: sim.port, passphrase: PASS, timeoutMs: 1000 });
  });

  afterEach(async function () {
    client.close();
    await sim.close();
  });

  it('keeps the challenge digits exactly, beyond 2^53', async function () {
    await request(client, 'version');
    assert.ok(BigInt(sim.challenge) > 2n ** 53n);
    assert.equal(client.currentChallenge, sim.challenge);
    // JSON.parse would have rounded it, and the simulator would then have answered 403.
    assert.notEqual(String(JSON.parse(`{"n":${sim.challenge}}`).n), sim.challenge);
  });

  it('reads a challenge from the raw /auth text in either spacing, and a quoted one', function () {
    assert.equal(extractChallenge('{ "Number" : 7241978785468376164 }'), '7241978785468376164');
    assert.equal(extractChallenge('{"Number":"18446744073709551615"}'), '18446744073709551615');
    assert.equal(extractChallenge('{"Other":1}'), undefined);
  });

  it('sends the challenge and passphrase on every call, asking /auth only once', async function () {
    for (const endpoint of ['health', 'version', 'machine-name', 'job-name', 'selected-device', 'system-info'] as const)
      await request(client, endpoint);
    assert.equal(sim.hitCount('/auth'), 1);
    assert.equal(sim.hitCount('/data/system-info'), 1);
  });

  it('after a BPWin restart fetches one new challenge and retries once', async function () {
    await request(client, 'version');
    const old = client.currentChallenge;
    await sim.restart();
    const result = await request(client, 'version');
    assert.equal(result.payload.API_Version, '1.0');
    assert.notEqual(client.currentChallenge, old);
    assert.equal(client.currentChallenge, sim.challenge);
    assert.equal(sim.hitCount('/auth'), 2);
    assert.equal(sim.hitCount('/version'), 3);
  });

  it('a wrong passphrase is refused after exactly one retry, with no loop', async function () {
    const wrong = new BpwinClient({ host: '127.0.0.1', port: sim.port, passphrase: 'wrong', timeoutMs: 1000 });
    const refused: InstrumentError[] = [];
    wrong.on('refused', (err) => refused.push(err));
    const err = await rejectsWith(request(wrong, 'version'), 'AUTH_FAILED', new RegExp(REFUSED_MESSAGE.replace(/[()]/g, '\\$&')));
    assert.ok(!err.message.includes('wrong'), 'the passphrase must not appear in the error');
    assert.equal(sim.hitCount('/version'), 2);
    assert.equal(sim.hitCount('/auth'), 2);
    assert.equal(refused.length, 1);
    assert.equal(wrong.isRefused, true);
    wrong.close();
  });

  it('recovers when the passphrase becomes right (Auth.txt fixed) and says so', async function () {
    sim.passphrase = 'other';
    await rejectsWith(request(client, 'version'), 'AUTH_FAILED', /refused/);
    let authenticated = 0;
    client.on('authenticated', () => (authenticated += 1));
    sim.passphrase = PASS;
    await request(client, 'version');
    assert.equal(authenticated, 1);
    assert.equal(client.isRefused, false);
  });

  it('after a refusal asks again once per re-check interval (/auth and one call), and says when BPWin accepts', async function () {
    this.timeout(10_000);
    const wrong = new BpwinClient({ host: '127.0.0.1', port: sim.port, passphrase: 'wrong', timeoutMs: 1000, recheckMs: 1000 });
    let authenticated = 0;
    wrong.on('authenticated', () => (authenticated += 1));
    try {
      await rejectsWith(request(wrong, 'version'), 'AUTH_FAILED', /refused/);
      const refusedAfter = sim.requests.length;
      await new Promise((r) => setTimeout(r, 2500));
      const rechecks = sim.requests.slice(refusedAfter);
      assert.deepEqual(
        rechecks.map((r) => `${r.path} ${r.status}`),
        ['/auth 200', '/data/machine-name 403', '/auth 200', '/data/machine-name 403'],
      );
      assert.ok(rechecks[2]!.at - rechecks[0]!.at >= 900, 'a second apart');
      assert.equal(authenticated, 0);
      sim.writeAuthFile('wrong');
      await sim.restart();
      await waitFor(() => authenticated === 1, 3000, 'BPWin to accept');
      assert.equal(wrong.isRefused, false);
      assert.equal(wrong.currentChallenge, sim.challenge, 'the re-check left a good challenge for the next call');
    } finally {
      wrong.close();
    }
  });

  it('a closed client leaves no re-check behind; a re-check interval below a second is raised to one', async function () {
    const timers = (): number => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const wrong = new BpwinClient({ host: '127.0.0.1', port: sim.port, passphrase: 'wrong', timeoutMs: 1000, recheckMs: 1 });
    await rejectsWith(request(wrong, 'version'), 'AUTH_FAILED', /refused/);
    const refusedAfter = sim.requests.length;
    const pending = timers();
    wrong.close();
    assert.equal(timers(), pending - 1, 'the re-check timer is gone');
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(sim.requests.length, refusedAfter, 'no re-check after close');
  });

  it('works with an open API (empty Auth.txt) and no passphrase', async function () {
    const openSim = new BpwinSimulator();
    await openSim.start();
    const open = new BpwinClient({ host: '127.0.0.1', port: openSim.port });
    assert.equal((await request(open, 'health')).payload.Ready, true);
    open.close();
    await openSim.close();
  });

  it('without /auth: an open API carries on without a challenge, a protected one says what is wrong', async function () {
    const { default: http } = await import('node:http');
    const seen: Array<string | undefined> = [];
    const server = http.createServer((req, res) => {
      seen.push(req.headers['random-challenge'] as string | undefined);
      res.statusCode = req.url === '/auth' ? 404 : 200;
      res.end(req.url === '/auth' ? 'not found' : '{"API_Version":"1.0","BPWin_Version":"V8.0.1"}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const open = new BpwinClient({ host: '127.0.0.1', port });
    assert.equal((await request(open, 'version')).payload.BPWin_Version, 'V8.0.1');
    assert.equal(seen.at(-1), undefined, 'no challenge header without a challenge');
    const locked = new BpwinClient({ host: '127.0.0.1', port, passphrase: 'x' });
    await rejectsWith(request(locked, 'version'), 'PROTOCOL', /GET \/auth answered with HTTP 404; is the REST API enabled/);
    open.close();
    locked.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('types the job-stats of an autohandler session', async function () {
    sim.beginJob(10);
    sim.programDevice('1A', 0);
    sim.programDevice('1B', 26);
    const { payload, raw } = await request(client, 'job-stats');
    assert.equal(payload.Session, true);
    assert.equal(payload.Mode, 'Autohandler');
    assert.equal(payload.Green_Light_On, true);
    assert.equal(payload.Red_Light_On, false);
    assert.equal(payload.Light_Tower, 'green');
    assert.equal(payload.Passed_Device, 1);
    assert.equal(payload.Failed_Device, 1);
    assert.equal(payload.Remaining_Device, 8);
    assert.equal(payload.Job_Yield, 50);
    assert.equal(typeof payload.Elapsed_Seconds, 'number');
    assert.match(String(payload.Elapsed_Time), /^\d\d:\d\d:\d\d$/);
    assert.equal((raw as Record<string, unknown>).Green_Light_On, 'true');
    sim.setMachineStatus('Paused');
    const paused = await request(client, 'job-stats');
    assert.equal(paused.payload.Light_Tower, 'amber');
    assert.equal(paused.payload.Machine_Status, 'Paused');
  });

  it('types the manual-mode job-stats and machine name', async function () {
    sim.mode = 'manual';
    sim.beginJob(20);
    sim.programDevice('1A', 0);
    const { payload } = await request(client, 'job-stats');
    assert.equal(payload.Mode, 'Manual');
    assert.equal(payload.Machine_Status, undefined);
    assert.equal(payload.Light_Tower, undefined);
    assert.equal(payload.Passed_Device, 1);
    const machine = await request(client, 'machine-name');
    assert.deepEqual(machine.payload, { Type: 'Manual', Description: null, Serial_Number: null });
  });

  it('returns "no job session" for job-stats outside a session, not an error', async function () {
    const { payload } = await request(client, 'job-stats');
    assert.equal(payload.Session, false);
    assert.match(String(payload.Message), /only available when job session is in progress/);
  });

  it('turns "--:--:--" into null seconds and keeps the text', async function () {
    sim.beginJob(10);
    const { payload } = await request(client, 'job-stats');
    assert.equal(payload.Remaining_Time, '--:--:--');
    assert.equal(payload.Remaining_Seconds, null);
  });

  it('gives system-info sites and sockets as arrays, even a single one', async function () {
    const one = new BpwinSimulator({ passphrase: PASS, sites: 1, socketsPerSite: 1 });
    await one.start();
    const c = new BpwinClient({ host: '127.0.0.1', port: one.port, passphrase: PASS });
    const { payload, raw } = await request(c, 'system-info');
    const siteInfo = (
      payload.Programmer as {
        SiteInfo: {
          Site: Array<{ Ordinal: number; SerialNumber: string; SocketModule: { Socket: Array<{ Ordinal: number; Odometer: number }> } }>;
          MasterSite: number;
        };
      }
    ).SiteInfo;
    assert.ok(Array.isArray(siteInfo.Site));
    assert.equal(siteInfo.Site.length, 1);
    assert.equal(siteInfo.Site[0]!.Ordinal, 1);
    assert.equal(siteInfo.Site[0]!.SerialNumber, '43191');
    assert.ok(Array.isArray(siteInfo.Site[0]!.SocketModule.Socket));
    assert.equal(typeof siteInfo.Site[0]!.SocketModule.Socket[0]!.Odometer, 'number');
    assert.equal(payload.OperatorMode, false);
    assert.ok(!Array.isArray((raw as { Programmer: { SiteInfo: { Site: unknown } } }).Programmer.SiteInfo.Site));
    c.close();
    await one.close();
  });

  it('reports HTTP 500 with the status', async function () {
    sim.setFault('/version', 'http500');
    const err = await rejectsWith(request(client, 'version'), 'HTTP_STATUS', /HTTP 500/);
    assert.equal(err.details.statusCode, 500);
  });

  it('reports malformed JSON as a protocol error with a snippet', async function () {
    sim.setFault('/data/job-name', 'malformed');
    await rejectsWith(request(client, 'job-name'), 'PROTOCOL', /not valid JSON.*API_Version/);
  });

  it('times out a request BPWin never answers', async function () {
    sim.setFault('/version', 'hang');
    await rejectsWith(request(client, 'version'), 'TIMEOUT', /no reply within 1 s/);
  });

  it('reports connection refused in words', async function () {
    const port = await freePort();
    const c = new BpwinClient({ host: '127.0.0.1', port, timeoutMs: 1000 });
    await rejectsWith(request(c, 'version'), 'CONNECT_FAILED', /connection refused/);
    const health = await request(c, 'health');
    assert.equal(health.payload.Ready, false);
    assert.match(String(health.payload.Message), /connection refused/);
    c.close();
  });

  it('health reports Ready false for an HTTP error instead of throwing', async function () {
    sim.setFault('/health', 'http500');
    const { payload } = await request(client, 'health');
    assert.equal(payload.Ready, false);
    assert.equal(payload.HTTP_Status, 500);
  });

  it('refuses bad input before anything is sent', function () {
    assert.throws(() => parseEndpointName('reboot'), /"reboot" is not a BPWin request/);
    assert.throws(() => parseEndpointName(undefined), /choose a BPWin request/);
    assert.equal(parseEndpointName('/data/Job-Stats'), 'job-stats');
    assert.throws(() => new BpwinClient({ host: '', port: 1 }), /host is required/);
    assert.throws(() => new BpwinClient({ host: 'x', port: 70000 }), /port must be/);
    for (const host of ['http://192.168.0.121:8080', '192.168.0.121:8080', 'bpwin pc', '[fe80::1]:8080']) {
      assert.throws(() => new BpwinClient({ host }), /the BPWin host must be only the address of the PC, e\.g\. 192\.168\.0\.121, not "/, host);
    }
    // An IPv6 address is a host of its own (several colons), bracketed in the URL.
    assert.equal(new BpwinClient({ host: 'fe80::1' }).baseUrl, 'http://[fe80::1]:8080');
    assert.throws(() => new BpwinClient({ host: 'x', passphrase: 'bad\nvalue' }), /printable ASCII/);
  });
});
