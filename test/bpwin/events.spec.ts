import assert from 'node:assert/strict';
import { BpwinClient } from '../../src/protocols/bpwin/client';
import { createEventFilter, noteOutput, parseStatusList } from '../../src/protocols/bpwin/event-filter';
import { BpwinEventStream } from '../../src/protocols/bpwin/event-stream';
import { decodeEventText, describeResultCode, parseSiteSocket, parseTimestamp, type BpwinEvent } from '../../src/protocols/bpwin/events';
import { repairBackslashes } from '../../src/protocols/bpwin/lenient-json';
import { RESULT_CODES } from '../../src/protocols/bpwin/result-codes';
import { ConnectionStatus } from '../../src/protocols/common/reconnecting-connection';
import { BpwinSimulator } from '../../src/simulators/bpwin';
import { waitFor } from '../helpers/red';

const VENDOR_JOBFILE = `{
"Category" : "Event",
"Note" : "JobFile" ,
"Directory": "C:\\APITestFile\\APITestAbp.abp",
"Operation": "Load",
"Status": "Complete",
"Timestamp": "2023-01-25 13:15:46 -0600"
}`;

const VENDOR_FAIL = `{
"APS Serial Number": "H3911910180556",
"Category": "Event",
"DP Checksum": "F402D078h",
"Note": "SocketStatus",
"ResultCode": "26",
"Site_SN": "43196",
"Site_Socket": "3A",
"Socket_PartNumber": "FVE4ASM08MLPA",
"Socket_SN": "A002CAB5",
"Status": "Fail",
"Timestamp": "2023-12-08 17:09:12 -0600"
}`;

describe('BPWin event decoding', function () {
  it("reads the vendor's JobFile example with unescaped backslashes instead of dropping it", function () {
    assert.throws(() => JSON.parse(VENDOR_JOBFILE));
    const event = decodeEventText(VENDOR_JOBFILE);
    assert.equal(event.note, 'JobFile');
    assert.equal(event.directory, 'C:\\APITestFile\\APITestAbp.abp');
    assert.equal(event.fileName, 'APITestAbp.abp');
    assert.equal(event.repaired, true);
  });

  it('takes backslashes literally even where they look like escapes (\\n, \\t) but keeps real ones', function () {
    assert.equal(JSON.parse(repairBackslashes('{"d":"C:\\new\\table.bp"}')).d, 'C:\\new\\table.bp');
    assert.equal(JSON.parse(repairBackslashes('{"d":"C:\\\\ok\\\\x.bp","q":"say \\"hi\\"","u":"\\u00e9"}')).d, 'C:\\ok\\x.bp');
    assert.equal(JSON.parse(repairBackslashes('{"q":"say \\"hi\\""}')).q, 'say "hi"');
    assert.equal(JSON.parse(repairBackslashes('{"u":"\\u00e9"}')).u, 'é');
  });

  it('decodes a failed socket: site, socket number and letter, result code and its description', function () {
    const event = decodeEventText(VENDOR_FAIL);
    assert.equal(event.site, 3);
    assert.equal(event.socket, 1);
    assert.equal(event.socketLetter, 'A');
    assert.equal(event.resultCode, 26);
    assert.equal(event.passed, false);
    assert.equal(event.description, 'Device is not blank.');
    assert.equal(event.apsSerialNumber, 'H3911910180556');
    assert.equal(event.socketSerialNumber, 'A002CAB5');
    assert.equal(event.raw['APS Serial Number'], 'H3911910180556');
  });

  it('converts timestamps to ISO with the offset and epoch ms', function () {
    const event = decodeEventText(VENDOR_FAIL);
    assert.equal(event.timestamp, '2023-12-08T17:09:12-06:00');
    assert.equal(event.time, Date.UTC(2023, 11, 8, 23, 9, 12));
    assert.equal(event.raw.Timestamp, '2023-12-08 17:09:12 -0600');
    assert.equal(parseTimestamp('yesterday'), undefined);
  });

  it('reads each timestamp afresh when consecutive events alternate between two (the last one is remembered)', function () {
    const first = parseTimestamp('2023-12-08 17:09:12 -0600');
    const second = parseTimestamp('2023-12-08 17:09:13 +0130');
    assert.deepEqual(first, { iso: '2023-12-08T17:09:12-06:00', time: Date.UTC(2023, 11, 8, 23, 9, 12) });
    assert.deepEqual(second, { iso: '2023-12-08T17:09:13+01:30', time: Date.UTC(2023, 11, 8, 15, 39, 13) });
    assert.deepEqual(parseTimestamp('2023-12-08 17:09:12 -0600'), first);
    assert.equal(parseTimestamp('2023-12-08 17:09:12 -0600'), parseTimestamp('2023-12-08 17:09:12 -0600'));
    // The remembered result is shared, so no caller can change what the next one gets.
    assert.throws(() => Object.assign(parseTimestamp('2023-12-08 17:09:12 -0600')!, { time: 0 }), TypeError);
    assert.equal(parseTimestamp('2023-12-08 17:09:12 -0600')!.time, Date.UTC(2023, 11, 8, 23, 9, 12));
    assert.equal(parseTimestamp('yesterday'), undefined);
    assert.equal(parseTimestamp('yesterday'), undefined);
  });

  it('parses site/socket labels 1-based', function () {
    assert.deepEqual(parseSiteSocket('3A'), { site: 3, socket: 1, letter: 'A' });
    assert.deepEqual(parseSiteSocket('12d'), { site: 12, socket: 4, letter: 'D' });
    assert.equal(parseSiteSocket('A3'), undefined);
  });

  it('reads a site/socket label the same every time, past the number it remembers, and longer ones too', function () {
    for (let round = 0; round < 2; round += 1) {
      for (let site = 1; site <= 600; site += 1) {
        assert.deepEqual(parseSiteSocket(`${site}c`), { site, socket: 3, letter: 'C' });
      }
    }
    assert.deepEqual(parseSiteSocket('  123456789H  '), { site: 123456789, socket: 8, letter: 'H' });
    assert.deepEqual(parseSiteSocket(' 7b'), { site: 7, socket: 2, letter: 'B' });
    assert.equal(parseSiteSocket('7'), undefined);
    assert.equal(parseSiteSocket('7'), undefined);
    // The remembered result is shared, so no event can change what the next one gets.
    assert.throws(() => Object.assign(parseSiteSocket('3A')!, { site: 9 }), TypeError);
    assert.equal(parseSiteSocket('3A')!.site, 3);
  });

  it('knows every Appendix B code and names unknown ones', function () {
    assert.equal(Object.keys(RESULT_CODES).length, 48);
    assert.equal(describeResultCode(0), 'Pass');
    assert.match(describeResultCode(-1), /blackbox\.log/);
    assert.equal(describeResultCode(154), 'The quantity number should be between 1 and 65535.');
    assert.match(describeResultCode(999), /999 is not in BPWin's table/);
  });

  it('decodes job codes 0, 1000 and 1001 and a job begin', function () {
    const job = (code?: string): BpwinEvent =>
      decodeEventText(
        JSON.stringify({
          Category: 'Event',
          Note: 'Job',
          ...(code === undefined ? { Status: 'Begin' } : { Code: code, Status: 'Complete' }),
          Timestamp: '2023-01-26 09:52:02 -0600',
        }),
      );
    assert.equal(job().outcome, 'begin');
    assert.equal(job('0').outcome, 'complete');
    assert.equal(job('1000').outcome, 'soft-abort');
    assert.equal(job('1001').outcome, 'hard-abort');
    assert.equal(job('1001').code, 1001);
    assert.equal(job('7').outcome, 'unknown');
  });

  it('decodes data pattern progress as a number', function () {
    const event = decodeEventText(
      '{"Category":"Event","Note":"DataPattern","Operation":"Load","Progress":"100","Status":"Complete","Timestamp":"2023-01-25 13:13:43 -0600"}',
    );
    assert.equal(event.progress, 100);
    assert.equal(event.operation, 'Load');
  });

  it('rejects text that is not a JSON object', function () {
    assert.throws(() => decodeEventText('hello'), /not valid JSON/);
    assert.throws(() => decodeEventText('[1,2]'), /not a JSON object/);
  });

  it('filters by Note and Status and routes outputs per Note', function () {
    const fail = decodeEventText(VENDOR_FAIL);
    const jobFile = decodeEventText(VENDOR_JOBFILE);
    const future = decodeEventText('{"Category":"Event","Note":"Calibration","Status":"Done"}');
    const sockets = createEventFilter({ notes: ['SocketStatus'], otherNotes: false, statuses: parseStatusList('fail, pass') });
    assert.equal(sockets(fail), true);
    assert.equal(sockets(jobFile), false);
    assert.equal(sockets(future), false);
    const all = createEventFilter({ notes: ['DataPattern', 'JobFile', 'Job', 'SocketStatus'], otherNotes: true, statuses: [] });
    assert.equal(all(future), true);
    assert.equal(all(fail), true);
    const allButJobs = createEventFilter({ notes: ['DataPattern', 'JobFile', 'SocketStatus'], otherNotes: true, statuses: [] });
    assert.equal(allButJobs({ ...fail, note: 'Job' }), false);
    assert.equal(allButJobs(future), true);
    const knownOnly = createEventFilter({ notes: ['DataPattern', 'JobFile', 'Job', 'SocketStatus'], otherNotes: false, statuses: [] });
    assert.equal(knownOnly(future), false);
    assert.equal(knownOnly(fail), true);
    const allPassing = createEventFilter({ notes: ['DataPattern', 'JobFile', 'Job', 'SocketStatus'], otherNotes: true, statuses: ['pass'] });
    assert.equal(allPassing(fail), false);
    const onlyComplete = createEventFilter({ notes: ['JobFile', 'SocketStatus'], otherNotes: true, statuses: ['Complete'] });
    assert.equal(onlyComplete(fail), false);
    assert.equal(onlyComplete(jobFile), true);
    assert.deepEqual(['DataPattern', 'JobFile', 'Job', 'SocketStatus', 'X'].map(noteOutput), [0, 1, 2, 3, 4]);
  });
});

describe('BPWin /ws event stream against the simulator', function () {
  let sim: BpwinSimulator;
  let stream: BpwinEventStream | undefined;

  afterEach(async function () {
    await stream?.stop();
    stream?.client.close();
    stream = undefined;
    await sim.close();
  });

  async function open(passphrase: string, simPassphrase = 'pw', recheckMs?: number): Promise<{ events: BpwinEvent[]; statuses: ConnectionStatus[] }> {
    sim = new BpwinSimulator({ passphrase: simPassphrase });
    await sim.start();
    const client = new BpwinClient({ host: '127.0.0.1', port: sim.port, passphrase, timeoutMs: 1000, recheckMs });
    stream = new BpwinEventStream({ client, backoff: { initialMs: 10, maxMs: 50 } });
    const events: BpwinEvent[] = [];
    const statuses: ConnectionStatus[] = [];
    stream.on('event', (e) => events.push(e));
    stream.on('status', (s) => statuses.push(s));
    stream.start();
    return { events, statuses };
  }

  it('sends the challenge headers on the upgrade and delivers every event of a job', async function () {
    const { events } = await open('pw');
    await stream!.whenConnected(2000);
    sim.loadJob();
    sim.beginJob(2);
    sim.programDevice('1A', 0);
    sim.programDevice('1B', 28);
    sim.completeJob(0);
    await waitFor(() => events.length === 9, 2000, 'nine events');
    assert.deepEqual(
      events.map((e) => `${e.note}:${e.status}`),
      [
        'DataPattern:Complete',
        'JobFile:Complete',
        'JobFile:Complete',
        'Job:Begin',
        'SocketStatus:Active',
        'SocketStatus:Pass',
        'SocketStatus:Active',
        'SocketStatus:Fail',
        'Job:Complete',
      ],
    );
    assert.equal(events[7]!.description, 'Data in chip does not match buffer.');
    assert.equal(events[1]!.directory, 'C:\\APITestFile\\APITestBp.bp');
  });

  it('reconnects with a new challenge after a restart', async function () {
    const { events } = await open('pw');
    await stream!.whenConnected(2000);
    const first = sim.challenge;
    await sim.restart();
    await waitFor(() => sim.wsClients === 1, 3000, 'the stream to reconnect');
    assert.notEqual(sim.challenge, first);
    assert.equal(stream!.client.currentChallenge, sim.challenge);
    sim.completeJob(1000);
    await waitFor(() => events.some((e) => e.outcome === 'soft-abort'), 2000, 'the soft abort');
  });

  it('stops for good after a second 403 on the upgrade (wrong passphrase)', async function () {
    const { statuses } = await open('wrong');
    await waitFor(() => statuses.some((s) => s.state === 'failed'), 3000, 'failure');
    const upgrades = sim.hitCount('/ws');
    assert.equal(upgrades, 2);
    assert.match(String(statuses.at(-1)!.error), /BPWin refused the passphrase \(HTTP 403\)/);
    assert.ok(!JSON.stringify(statuses).includes('wrong'));
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(sim.hitCount('/ws'), upgrades, 'no retry loop');
  });

  it('opens again by itself once the re-check finds BPWin accepting (Auth.txt fixed, BPWin restarted)', async function () {
    const { events, statuses } = await open('wrong', 'pw', 1000);
    await waitFor(() => statuses.some((s) => s.state === 'failed'), 3000, 'failure');
    sim.writeAuthFile('wrong');
    await sim.restart();
    await waitFor(() => stream!.isConnected, 4000, 'the stream to open again');
    assert.equal(sim.hitCount('/ws'), 3, 'two refused upgrades, then one that BPWin accepts');
    sim.completeJob(0);
    await waitFor(() => events.some((e) => e.outcome === 'complete'), 2000, 'an event');
  });

  it('passes on an unreadable frame with its error, its text cut, and stays connected', async function () {
    const invalid: Array<[string, string]> = [];
    await open('pw');
    stream!.on('invalid', (err, text) => invalid.push([err.message, text]));
    await stream!.whenConnected(2000);
    sim.broadcast(`{"Note":${'['.repeat(5000)}${']'.repeat(5000)}}`);
    sim.broadcast(`{"Note":"${'x'.repeat(200_000)}`);
    await waitFor(() => invalid.length === 2, 2000, 'two invalid frames');
    assert.match(invalid[0]![0], /BPWin event: nested more than 64 levels deep; refused/);
    assert.match(invalid[1]![0], /BPWin event: not valid JSON/);
    assert.ok(invalid.every(([message, text]) => text.length <= 1001 && message.length < 400));
    assert.equal(stream!.isConnected, true);
  });

  it('leaves no websocket behind when stopped while it waits for the challenge', async function () {
    await open('pw');
    // start() is fetching /auth right now; the upgrade would follow once it answers.
    await stream!.stop();
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(sim.hitCount('/auth'), 1, 'the challenge was being fetched');
    assert.equal(sim.wsClients, 0);
    assert.equal(stream!.status.state, 'closed');
  });

  it('keeps trying while BPWin is down and recovers', async function () {
    const { statuses } = await open('pw');
    await stream!.whenConnected(2000);
    await sim.stop();
    await waitFor(() => statuses.filter((s) => s.state === 'reconnecting').length >= 3, 3000, 'several retries');
    await sim.start();
    await waitFor(() => stream!.isConnected, 3000, 'reconnection');
  });
});
