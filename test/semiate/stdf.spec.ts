import assert from 'node:assert/strict';
import { partsFromRecords, stdfNumber, YieldTracker, prepareCommand, checkState, canonicalCommand, nextSites } from '../../src/protocols/semiate';
import { seededRandom } from '../../src/protocols/common/seeded-random';
import { generatePart, DEFAULT_BINS, DEFAULT_TESTS } from '../../src/protocols/semiate/part-generator';
import { trimLogs, parseMqttLog, mqttStatusState } from '../../src/protocols/semiate/wire';
import type { PartResult } from '../../src/protocols/semiate';
import { SemiAteMqtt } from '../../src/protocols/semiate/mqtt-transport';
import { SemiAteSimulator, configureTester } from '../../src/simulators/semiate';

const ptr = (extra: Record<string, unknown>) => ({
  type: 'PTR',
  REC_LEN: null,
  TEST_NUM: 1,
  SITE_NUM: 0,
  TEST_FLG: 0,
  RESULT: 1.5,
  TEST_TXT: 'vdd ',
  LO_LIMIT: 1,
  HI_LIMIT: 2,
  UNITS: 'V ',
  ...extra,
});
const prr = (extra: Record<string, unknown>) => ({
  type: 'PRR',
  SITE_NUM: 0,
  PART_FLG: 0,
  HARD_BIN: 1,
  SOFT_BIN: 1,
  TEST_T: 12,
  PART_ID: '7',
  X_COORD: -32768,
  Y_COORD: -32768,
  ...extra,
});

describe('semiate STDF parsing', () => {
  it('reads numbers, "inf"/"-inf", numeric strings and rejects junk', () => {
    assert.equal(stdfNumber('inf'), Infinity);
    assert.equal(stdfNumber('-inf'), -Infinity);
    assert.equal(stdfNumber(' +INF '), Infinity);
    assert.equal(stdfNumber('1e-3'), 0.001);
    assert.equal(stdfNumber(4), 4);
    assert.ok(Number.isNaN(stdfNumber('nan')));
    assert.equal(stdfNumber(''), null);
    assert.equal(stdfNumber('volts'), null);
    assert.equal(stdfNumber(null), null);
    assert.equal(stdfNumber({}), null);
  });

  it('turns PIR, PTR, FTR, MPR, PRR into one part with typed tests', () => {
    const [part, ...rest] = partsFromRecords([
      { type: 'PIR', HEAD_NUM: 1, SITE_NUM: 3 },
      ptr({ SITE_NUM: 3, LO_LIMIT: '-inf', HI_LIMIT: 'inf' }),
      { type: 'FTR', TEST_NUM: 2, SITE_NUM: 3, TEST_FLG: 1, TEST_TXT: 'func' },
      { type: 'MPR', TEST_NUM: 3, SITE_NUM: 3, TEST_FLG: 128, RTN_RSLT: [1, '2', 'inf'], LO_LIMIT: 0, HI_LIMIT: 1, UNITS: 'A', TEST_TXT: 'multi' },
      prr({ SITE_NUM: 3, PART_FLG: 8, HARD_BIN: 2, SOFT_BIN: '20', PART_ID: ' 42 ', TEST_T: '15.5', X_COORD: 4, Y_COORD: 5 }),
    ]);
    assert.equal(rest.length, 0);
    assert.deepEqual(
      { ...part, tests: undefined },
      { site: '3', partId: '42', pass: false, hardBin: 2, softBin: 20, testTime: 15.5, x: 4, y: 5, tests: undefined },
    );
    assert.deepEqual(part.tests[0], { number: 1, text: 'vdd', result: 1.5, low: -Infinity, high: Infinity, units: 'V', pass: true, kind: 'PTR' });
    assert.deepEqual(
      part.tests[1],
      { number: 2, text: 'func', result: null, low: null, high: null, units: '', pass: false, kind: 'FTR' },
      'FTR exception bit means not passed',
    );
    assert.deepEqual(part.tests[2], {
      number: 3,
      text: 'multi',
      result: 1,
      low: 0,
      high: 1,
      units: 'A',
      pass: false,
      kind: 'MPR',
      results: [1, 2, Infinity],
    });
  });

  it('splits several parts, falls back to the topic site, and ignores stray records', () => {
    const parts = partsFromRecords(
      [
        'junk',
        { noType: true },
        { type: 'MIR', LOT_ID: 'x' },
        { type: 'PIR' },
        ptr({ SITE_NUM: undefined }),
        prr({ SITE_NUM: undefined, PART_ID: 'a' }),
        { type: 'PIR', SITE_NUM: 1 },
        prr({ SITE_NUM: 1, PART_ID: 'b', PART_FLG: 16 }),
        prr({ SITE_NUM: 2, PART_ID: 'c' }),
      ],
      '5',
    );
    assert.deepEqual(
      parts.map((p) => [p.site, p.partId, p.pass, p.tests.length]),
      [
        ['5', 'a', true, 1],
        ['1', 'b', false, 0],
        ['2', 'c', true, 0],
      ],
    );
  });

  it('yields nothing for a part without PRR or an empty list', () => {
    assert.deepEqual(partsFromRecords([{ type: 'PIR', SITE_NUM: 0 }, ptr({})]), []);
    assert.deepEqual(partsFromRecords([]), []);
  });

  it('parses what the simulator generates: inf limits and failing tests agree with the bin', () => {
    const random = seededRandom(7);
    for (let i = 0; i < 50; i++) {
      const generated = generatePart({
        site: i % 4,
        partId: String(i),
        tests: DEFAULT_TESTS,
        bins: DEFAULT_BINS,
        passRate: 0.5,
        random,
        testTimeMs: 3,
      });
      const [part] = partsFromRecords(JSON.parse(JSON.stringify(generated.records)) as unknown[]);
      assert.equal(part.pass, generated.pass);
      assert.equal(
        part.tests.every((t) => t.pass),
        generated.pass,
        `part ${i}: tests pass iff part passes`,
      );
      assert.equal(part.hardBin, generated.bin.hBin);
      assert.equal(part.tests[2].low, -Infinity);
    }
  });
});

describe('semiate yield tracker', () => {
  const part = (site: string, partId: string, pass: boolean): PartResult => ({
    site,
    partId,
    pass,
    hardBin: 1,
    softBin: 1,
    testTime: 1,
    x: null,
    y: null,
    tests: [],
  });

  it('counts per site and in total, and a retest replaces the earlier result', () => {
    const tracker = new YieldTracker();
    tracker.add(part('0', '1', false));
    tracker.add(part('1', '2', true));
    tracker.add(part('0', '3', true));
    tracker.add(part('1', '1', true)); // retest of part 1 on another site
    tracker.add(part('0', '', false)); // no id: always counted
    const snap = tracker.snapshot();
    assert.deepEqual(snap.sites['0'], { site: '0', tested: 2, passed: 1, failed: 1, yield: 50 });
    assert.deepEqual(snap.sites['1'], { site: '1', tested: 2, passed: 2, failed: 0, yield: 100 });
    assert.deepEqual(snap.total, { site: 'all', tested: 4, passed: 3, failed: 1, yield: 75 });
    tracker.reset();
    assert.deepEqual(tracker.snapshot().total, { site: 'all', tested: 0, passed: 0, failed: 0, yield: 0 });
  });
});

describe('semiate commands', () => {
  const context = {
    knownSites: ['0', '1'],
    nextPartId: (() => {
      let n = 0;
      return () => String(++n);
    })(),
  };

  it('accepts the spec\'s "start" as next and refuses unknown or wrong-transport commands', () => {
    assert.equal(canonicalCommand('start', 'websocket'), 'next');
    assert.equal(canonicalCommand('Start ', 'mqtt'), 'next');
    assert.throws(() => canonicalCommand('identify', 'websocket'), /not a Semi-ATE websocket command/);
    assert.throws(() => canonicalCommand('getlogs', 'mqtt'), /not a Semi-ATE MQTT handler command/);
    assert.throws(() => canonicalCommand('fly', 'mqtt'), /use one of load, next/);
  });

  it('builds the wire bodies of both transports', () => {
    assert.deepEqual(prepareCommand('websocket', { command: 'load', lotNumber: 123456.123 }, context).body, { lot_number: 123456.123 });
    assert.deepEqual(prepareCommand('mqtt', { command: 'load', lotNumber: 'L1.2' }, context).body, { payload: { lot_number: 'L1.2' } });
    const next = prepareCommand('mqtt', { command: 'next', sites: ['0', { siteid: 1, partid: 'p9' }] }, context);
    assert.deepEqual(next.body, {
      payload: {
        sites: [
          { siteid: '0', partid: '1', binning: -1, logflag: 0, additionalinfo: 0 },
          { siteid: '1', partid: 'p9', binning: -1, logflag: 0, additionalinfo: 0 },
        ],
      },
    });
    assert.deepEqual(next.sites, ['0', '1']);
    assert.deepEqual(prepareCommand('mqtt', { command: 'next' }, context).sites, ['0', '1'], 'all known sites by default');
    assert.deepEqual(
      prepareCommand('websocket', { command: 'usersettings', options: [{ name: 'stop_on_fail', active: true, value: 0 }] }, context).body,
      { payload: [{ name: 'stop_on_fail', active: true, value: -1 }] },
    );
    assert.deepEqual(prepareCommand('websocket', { command: 'setloglevel', level: 'warning' }, context).body, { level: 30 });
    assert.deepEqual(prepareCommand('websocket', { command: 'binMap', sBin: '20', hBin: 3 }, context).body, { sBin: 20, hBin: 3 });
    assert.deepEqual(
      prepareCommand(
        'mqtt',
        {
          command: 'site-layout',
          layout: [
            [0, 0],
            [1, 0],
          ],
        },
        context,
      ).body,
      {
        payload: {
          sites: [
            [0, 0],
            [1, 0],
          ],
        },
      },
    );
  });

  it('refuses bad parameters before anything is sent', () => {
    assert.throws(() => prepareCommand('websocket', { command: 'load' }, context), /load needs a lot number/);
    assert.throws(() => prepareCommand('websocket', { command: 'load', lotNumber: '  ' }, context), /lot number/);
    assert.throws(() => prepareCommand('websocket', { command: 'usersettings', options: [] }, context), /test options/);
    assert.throws(() => prepareCommand('websocket', { command: 'usersettings', options: [{ active: true }] }, context), /needs a name/);
    assert.throws(() => prepareCommand('websocket', { command: 'setloglevel', level: 15 }, context), /10 \(debug\)/);
    assert.throws(() => prepareCommand('websocket', { command: 'binMap', sBin: -1, hBin: 1 }, context), /sBin/);
    assert.throws(() => prepareCommand('mqtt', { command: 'site-layout', layout: [[0]] }, context), /\[\[x, y\]/);
    assert.throws(() => nextSites(undefined, [], () => '1'), /none are known/);
    assert.throws(() => nextSites([{ partid: '1' }], [], () => '1'), /site id/);
  });

  it('gates commands by the master state like the real master', () => {
    assert.doesNotThrow(() => checkState('load', 'initialized'));
    assert.throws(() => checkState('load', 'ready'), /load is not possible while the tester is ready.*allowed in: initialized/);
    assert.throws(() => checkState('next', 'testing'), /allowed in: ready/);
    assert.throws(() => checkState('reset', 'ready'), /allowed in: softerror/);
    assert.throws(() => checkState('unload', undefined), /while the tester is unknown/);
    assert.doesNotThrow(() => checkState('usersettings', 'ready'));
    assert.doesNotThrow(() => checkState('getlogs', 'loading'));
    assert.doesNotThrow(() => checkState('identify', 'crash'));
  });
});

describe('semiate wire details', () => {
  it('trims the padded log fields and splits MQTT log lines', () => {
    assert.deepEqual(trimLogs([{ source: 'master    ', date: ' 21/11/2026 05:08:16 PM ', type: 'INFO    ', description: ' hi ' }, 'x']), [
      { source: 'master', date: '21/11/2026 05:08:16 PM', type: 'INFO', description: 'hi' },
    ]);
    assert.deepEqual(parseMqttLog('2', { type: 'log', payload: 'control|21/11/2026 17:08:16|ERROR|a|b' }), {
      source: 'control (site 2)',
      date: '21/11/2026 17:08:16',
      type: 'ERROR',
      description: 'a|b',
    });
    assert.equal(parseMqttLog('2', { type: 'log' }), undefined);
  });

  it('reads the state from a Master/status message or from the last will', () => {
    assert.deepEqual(mqttStatusState({ type: 'status', state: 'ready', payload: { state: 'ready', message: null } }), {
      state: 'ready',
      message: '',
    });
    assert.deepEqual(mqttStatusState({ type: 'status', state: 'crash' }), { state: 'crash', message: '' });
  });
});

describe('semiate transport and simulator settings', () => {
  it('TLS turns the broker URL into mqtts:// (or wss://)', () => {
    assert.equal(new SemiAteMqtt({ url: 'mqtt://broker:8883', deviceId: 'T1', tls: true }).endpoint, 'mqtts://broker:8883 (T1)');
    assert.equal(new SemiAteMqtt({ url: 'ws://broker/mqtt', deviceId: 'T1', tls: true }).endpoint, 'wss://broker/mqtt (T1)');
    assert.equal(new SemiAteMqtt({ url: 'mqtt://broker:1883', deviceId: 'T1' }).endpoint, 'mqtt://broker:1883 (T1)');
  });

  it('the simulator points a tester config at itself and hands out its MQTT login', () => {
    const sim = new SemiAteSimulator({ mqttUsername: 'op', mqttPassword: 'pw', deviceId: 'DEV-9' });
    sim.wsUrl = 'ws://127.0.0.1:1/ws';
    sim.mqttUrl = 'mqtt://127.0.0.1:2';
    const node: Record<string, unknown> & { id: string; type: string } = { id: 'a', type: 'semiate-tester', transport: 'mqtt', tls: true };
    assert.deepEqual(configureTester(sim, node), { credentials: { username: 'op', password: 'pw' } });
    assert.deepEqual(node, {
      id: 'a',
      type: 'semiate-tester',
      transport: 'mqtt',
      tls: false,
      url: 'ws://127.0.0.1:1/ws',
      broker: 'mqtt://127.0.0.1:2',
      deviceId: 'DEV-9',
    });
    assert.equal(configureTester(sim, { id: 'b', type: 'nebv-server' }), undefined);
  });
});
