import assert from 'node:assert/strict';
import vm from 'node:vm';
import { InstrumentError } from '../../src/protocols/common/errors';
import { isPlainRecord } from '../../src/protocols/common/json-limits';
import { configTimeoutMs, msgTimeoutMs } from '../../src/nodered/properties';
import { markReply, planCall } from '../../src/protocols/sfdaq/call-input';
import { SfdaqClient } from '../../src/protocols/sfdaq/client';
import { textOfHtml } from '../../src/protocols/sfdaq/reply-text';
import { findRoute } from '../../src/protocols/sfdaq/routes';
import { validateParams } from '../../src/protocols/sfdaq/validate';
import type { Params } from '../../src/protocols/sfdaq/validate';
import { SfdaqSimulator } from '../../src/simulators/sfdaq';
import { fixedServer } from './fixtures';

const RETRIEVE = { pgroup: 'p17502', start_pulseid: 1000, stop_pulseid: 2000 };

function refusal(operation: string, params: Params): InstrumentError {
  try {
    validateParams(findRoute(operation)!, params);
  } catch (err) {
    assert.ok(err instanceof InstrumentError && err.code === 'BAD_INPUT', String(err));
    return err;
  }
  throw new Error(`${operation} accepted ${String(params)}`);
}

describe('sf-daq: careless values are refused before sending', () => {
  it('NaN, Infinity, undefined and Buffers in extra parameters and in settings, naming the property', () => {
    const cases: Array<[string, Params, RegExp]> = [
      [
        'retrieve_from_buffers',
        { ...RETRIEVE, operator_note: Number.NaN },
        /^operator_note for retrieve_from_buffers is NaN: it must be a finite number; nothing was sent$/,
      ],
      [
        'retrieve_from_buffers',
        { ...RETRIEVE, scan_info: { scan_values: [1, Number.POSITIVE_INFINITY] } },
        /^scan_info\.scan_values\[1\] for retrieve_from_buffers is Infinity/,
      ],
      ['retrieve_from_buffers', { ...RETRIEVE, extra: { a: undefined } }, /^extra\.a for retrieve_from_buffers is undefined/],
      ['retrieve_from_buffers', { ...RETRIEVE, blob: Buffer.from('x') }, /^blob for retrieve_from_buffers is a Buffer/],
      [
        'set_detector_settings',
        { detector_name: 'JF02T09V03', parameters: { delay: Number.NaN } },
        /^parameters\.delay for set_detector_settings is NaN/,
      ],
      ['set_dap_settings', { detector_name: 'JF02T09V03', parameters: { when: new Date(0) } }, /^parameters\.when for set_dap_settings is a Date/],
      ['get_current_run_number', { pgroup: Number.NaN }, /pgroup for get_current_run_number must be a non-empty string, got NaN/],
    ];
    for (const [operation, params, message] of cases) {
      const err = refusal(operation, params);
      assert.match(err.message, message);
    }
    assert.equal(
      refusal('set_detector_settings', { detector_name: 'JF02T09V03', parameters: { delay: Number.NaN } }).details.reason,
      'parameterNotJson',
    );
  });

  it('an own "__proto__" key cannot supply the required parameters (the broker got {})', () => {
    for (const operation of ['retrieve_from_buffers', 'get_current_run_number']) {
      const payload = JSON.parse('{"__proto__": {"pgroup": "p17502", "start_pulseid": 1, "stop_pulseid": 2}}') as Params;
      const { params } = planCall({ fields: {}, payload });
      const err = refusal(operation, params);
      assert.match(err.message, /^"__proto__" is not a parameter name/);
      assert.equal(err.details.reason, 'badParameterName');
    }
  });

  it('objects a function node built (another realm) are plain; class instances are not', () => {
    const foreign = vm.runInNewContext('({ a: 1, list: [1, 2] })') as unknown;
    assert.equal(isPlainRecord(foreign), true);
    assert.equal(isPlainRecord(Object.create(null)), true);
    assert.equal(isPlainRecord(Buffer.from('x')), false);
    assert.equal(isPlainRecord(new Date()), false);
    assert.deepEqual(validateParams(findRoute('retrieve_from_buffers')!, { ...RETRIEVE, scan_info: foreign }).scan_info, foreign);
  });

  describe('timeouts: seconds, in a range', () => {
    const refusedAs = (property: string) => (err: unknown) =>
      err instanceof InstrumentError &&
      err.code === 'BAD_INPUT' &&
      err.details.reason === 'badTimeout' &&
      err.details.property === property &&
      new RegExp(
        `^${property.replace('.', '\\.')} must be a number of seconds from 0\\.001 to 86400 \\(fractions allowed, e\\.g\\. 2\\.5\\), not `,
      ).test(err.message);

    it('msg.timeout (the reader every node shares): a number of seconds with fractions; anything else refused naming the property', () => {
      assert.equal(msgTimeoutMs({ timeout: 2.5 }), 2500);
      assert.equal(msgTimeoutMs({ timeout: 86_400 }), 86_400_000);
      assert.equal(msgTimeoutMs({}), undefined);
      assert.equal(msgTimeoutMs({ timeout: null }), undefined);
      for (const bad of [1e12, 86_401, Number.POSITIVE_INFINITY, Number.NaN, 0, -1, '5', '', '10 s', true, [5], {}]) {
        assert.throws(() => msgTimeoutMs({ timeout: bad }), refusedAs('msg.timeout'), String(bad));
      }
      assert.throws(() => msgTimeoutMs({ timeout: '5' }), /, not "5"$/);
    });

    it('a dialog timeout field: seconds as digits from the editor or a number from a flow file; empty is the default', () => {
      assert.equal(configTimeoutMs('0.25', 10_000, 'the broker timeout'), 250);
      assert.equal(configTimeoutMs(3, 10_000, 'the broker timeout'), 3000);
      assert.equal(configTimeoutMs('', 10_000, 'the broker timeout'), 10_000);
      assert.equal(configTimeoutMs(undefined, 10_000, 'the broker timeout'), 10_000);
      for (const bad of [1e12, Number.NaN, 0, -1, '10 s', true]) {
        assert.throws(() => configTimeoutMs(bad, 10_000, 'the broker timeout'), refusedAs('the broker timeout'), String(bad));
      }
    });

    it('a broker timeout a timer cannot hold is refused when the client is made', () => {
      assert.throws(
        () => new SfdaqClient({ fastUrl: 'http://127.0.0.1:1', timeoutMs: 1e15 }),
        /^the broker timeout must be a number of seconds from 0\.001 to 86400 \(fractions allowed, e\.g\. 2\.5\), not 1000000000000$/,
      );
      const client = new SfdaqClient({ fastUrl: 'http://127.0.0.1:1' });
      return assert.rejects(client.call('get_pvlist', {}, { timeoutMs: Number.POSITIVE_INFINITY }), /the call timeout must be a number of seconds/);
    });
  });

  describe("an earlier call's reply in msg.payload", () => {
    it('is not taken as parameters while unchanged; a changed or new payload is', () => {
      const reply = markReply({ run_number: 7 });
      assert.deepEqual(planCall({ fields: { pgroup: 'p1' }, payload: reply }), {
        params: { pgroup: 'p1' },
        payloadWasReply: true,
      });
      // Node-RED clones a msg sent to two wires: the mark goes along.
      assert.equal(planCall({ fields: {}, payload: structuredCloneKeepingSymbols(reply) }).payloadWasReply, true);
      reply.run_number = 8;
      assert.deepEqual(planCall({ fields: { pgroup: 'p1' }, payload: reply }).params, { pgroup: 'p1', run_number: 8 });
      assert.deepEqual(planCall({ fields: { pgroup: 'p1' }, payload: { run_number: 7 } }).params, {
        pgroup: 'p1',
        run_number: 7,
      });
    });
  });

  describe('the broker as seen in messages', () => {
    let sim: SfdaqSimulator;
    beforeEach(async () => {
      sim = await SfdaqSimulator.start({ mode: 'documented' });
    });
    afterEach(() => sim.close());

    it('never shows a password given in the broker URL (errors, details, results)', async () => {
      const withSecret = (url: string): string => url.replace('http://', 'http://operator:s3cret@');
      const client = new SfdaqClient({ fastUrl: withSecret(sim.fastUrl), slowUrl: withSecret(sim.slowUrl), timeoutMs: 2000 });
      try {
        const ok = await client.call('get_current_run_number', { pgroup: 'p17502' });
        assert.doesNotMatch(JSON.stringify(ok), /s3cret/);
        assert.match(ok.url, /^http:\/\/operator@127\.0\.0\.1:\d+\/get_current_run_number$/);
        // A route only the current broker has: 404, whose message names the URL.
        const notFound = await client.call('get_detector_status', { detector_name: 'JF02T09V03' }).catch((err: InstrumentError) => err);
        assert.ok(notFound instanceof InstrumentError);
        assert.match(notFound.message, /HTTP 404/);
        sim.delays.set('get_pvlist', 500);
        const late = await client.call('get_pvlist', {}, { timeoutMs: 50 }).catch((err: InstrumentError) => err);
        assert.ok(late instanceof InstrumentError && late.code === 'TIMEOUT');
        for (const err of [notFound, late]) {
          assert.doesNotMatch(`${err.message} ${JSON.stringify(err.details)} ${err.stack ?? ''}`, /s3cret/);
        }
      } finally {
        client.close();
      }
      const closed = new SfdaqClient({ fastUrl: 'http://operator:s3cret@127.0.0.1:1' });
      const refused = await closed.call('get_pvlist').catch((err: InstrumentError) => err);
      assert.ok(refused instanceof InstrumentError && refused.code === 'CONNECT_FAILED');
      assert.doesNotMatch(`${refused.message} ${JSON.stringify(refused.details)}`, /s3cret/);
      assert.throws(
        () => new SfdaqClient({ fastUrl: 'http://operator:s3cret@sf-daq:99999' }),
        (err: Error) => !/s3cret/.test(err.message) && /not a URL/.test(err.message),
      );
    });
  });

  describe('HTML error pages', () => {
    it('are read in linear time and cut short, even 8 MB of "<"', async () => {
      assert.equal(textOfHtml('<html><body><h1>Error: 500</h1>\n<p>Internal   error</p></body></html>'), 'Error: 500 Internal error');
      assert.equal(textOfHtml('a < b and nothing closes'), 'a < b and nothing closes');
      assert.equal(textOfHtml('<'.repeat(8_000_000)).length <= 160, true);
      const server = await fixedServer(500, 'text/html', '<'.repeat(8_000_000));
      const client = new SfdaqClient({ fastUrl: server.url, timeoutMs: 10_000 });
      try {
        const err = await client.call('get_pvlist').catch((e: InstrumentError) => e);
        assert.ok(err instanceof InstrumentError && err.code === 'HTTP_STATUS');
        assert.ok(err.message.length < 400, `${err.message.length} characters`);
      } finally {
        client.close();
        await server.close();
      }
    });
  });
});

/** What lodash's cloneDeep (Node-RED's cloneMessage) does to a reply: a deep copy keeping enumerable symbol keys. */
function structuredCloneKeepingSymbols<T extends object>(value: T): T {
  const copy = structuredClone(value);
  for (const symbol of Object.getOwnPropertySymbols(value)) {
    Object.defineProperty(copy, symbol, { value: (value as Record<symbol, unknown>)[symbol], enumerable: true, configurable: true, writable: true });
  }
  return copy;
}
