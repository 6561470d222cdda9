import assert from 'node:assert/strict';
import { InstrumentError } from '../../src/protocols/common/errors';
import { SfdaqClient } from '../../src/protocols/sfdaq/client';
import { ALLOWED_RATE_MULTIPLICATORS, ROUTES, findRoute } from '../../src/protocols/sfdaq/routes';
import type { RouteSpec } from '../../src/protocols/sfdaq/routes';
import { validateParams } from '../../src/protocols/sfdaq/validate';
import type { Params } from '../../src/protocols/sfdaq/validate';
import { SfdaqSimulator } from '../../src/simulators/sfdaq';
import { SAMPLE } from './fixtures';

function route(operation: string): RouteSpec {
  const found = findRoute(operation);
  assert.ok(found, operation);
  return found;
}

function refused(operation: string, params: Params, pattern: RegExp, confirm?: unknown): void {
  assert.throws(
    () => validateParams(route(operation), params, confirm),
    (err: unknown) => err instanceof InstrumentError && err.code === 'BAD_INPUT' && pattern.test(err.message),
  );
}

const RETRIEVE = { pgroup: 'p17502', start_pulseid: 1000, stop_pulseid: 2000 };

describe('sf-daq validation (refused before sending)', () => {
  describe('route table', () => {
    it('has the 15 documented operations and the current extras, each once', () => {
      const documented = ROUTES.filter((r) => r.documentedMethod !== null).map((r) => r.operation);
      assert.equal(documented.length, 15);
      assert.deepEqual(
        ROUTES.filter((r) => r.documentedMethod === null)
          .map((r) => r.operation)
          .sort(),
        [
          'get_detector_pings',
          'get_detector_status',
          'get_detector_temperatures',
          'get_jfctrl_monitor',
          'power_off_modules',
          'power_on_modules',
          'upload_custom_dap_script',
        ],
      );
      assert.equal(new Set(ROUTES.map((r) => r.operation)).size, ROUTES.length);
    });

    it('records the method drift of the current broker', () => {
      const drift = ROUTES.filter((r) => r.documentedMethod !== null && r.documentedMethod !== r.currentMethod).map(
        (r) => `${r.operation} ${r.documentedMethod}->${r.currentMethod}`,
      );
      assert.deepEqual(drift, ['advance_run_number GET->POST', 'get_detector_settings POST->GET', 'get_dap_settings POST->GET']);
    });
  });

  describe('every required parameter of every route', () => {
    for (const r of ROUTES) {
      for (const missing of r.params.filter((p) => p.required)) {
        it(`${r.operation} without ${missing.name}`, () => {
          const params = Object.fromEntries(r.params.filter((p) => p.required && p !== missing).map((p) => [p.name, SAMPLE[p.type]]));
          refused(r.operation, params, new RegExp(`^${missing.name} is required for ${r.operation}$`));
        });
      }
    }
  });

  describe('types', () => {
    it('refuses a value of the wrong type, naming the parameter and the type', () => {
      refused(
        'retrieve_from_buffers',
        { ...RETRIEVE, start_pulseid: 'soon' },
        /start_pulseid for retrieve_from_buffers must be an integer, got "soon"/,
      );
      refused('retrieve_from_buffers', { ...RETRIEVE, run_number: 1.5 }, /run_number .* must be an integer, got 1\.5/);
      refused('retrieve_from_buffers', { ...RETRIEVE, pv_list: 'ELCOMAT:X' }, /pv_list .* must be a list of strings/);
      refused('retrieve_from_buffers', { ...RETRIEVE, append_user_tag_to_data_dir: 'yes' }, /append_user_tag_to_data_dir .* must be true or false/);
      refused('retrieve_from_buffers', { ...RETRIEVE, scan_info: [1] }, /scan_info .* must be an object/);
      refused('retrieve_from_buffers', { ...RETRIEVE, selected_pulse_ids: [1, 'x'] }, /selected_pulse_ids .* must be a list of integers/);
      refused(
        'set_detector_settings',
        { detector_name: 'JF02T09V03', parameters: 'delay=1' },
        /parameters for set_detector_settings must be an object/,
      );
      refused('power_on_detector', { detector_name: '' }, /detector_name for power_on_detector must be a non-empty string/);
      refused('copy_user_files', { pgroup: 'p1', run_number: '3a', files: [] }, /run_number for copy_user_files must be an integer/);
    });

    it('converts digits given as text and "true"/"false" (typed inputs deliver text)', () => {
      const out = validateParams(route('retrieve_from_buffers'), {
        pgroup: 'p17502',
        start_pulseid: '1000',
        stop_pulseid: ' 2000 ',
        run_number: '12',
        append_user_tag_to_data_dir: 'true',
      });
      assert.deepEqual(out, { pgroup: 'p17502', start_pulseid: 1000, stop_pulseid: 2000, run_number: 12, append_user_tag_to_data_dir: true });
    });

    it('detectors must be a dict for retrieve_from_buffers; take_pedestal also takes a list', () => {
      refused('retrieve_from_buffers', { ...RETRIEVE, detectors: ['JF02T09V03'] }, /detectors .* must be a dict of detector name → options/);
      refused('retrieve_from_buffers', { ...RETRIEVE, detectors: { JF02T09V03: true } }, /must be a dict/);
      refused(
        'take_pedestal',
        { pgroup: 'p1', detectors: [] },
        /detectors for take_pedestal must be a non-empty dict .* or a list of detector names/,
      );
      refused('take_pedestal', { pgroup: 'p1', detectors: {} }, /must be a non-empty dict/);
      assert.deepEqual(validateParams(route('retrieve_from_buffers'), { ...RETRIEVE, detectors: {} }).detectors, {});
      assert.deepEqual(validateParams(route('take_pedestal'), { pgroup: 'p1', detectors: ['A', 'B'] }).detectors, { A: {}, B: {} });
    });
  });

  describe("the broker's own rules", () => {
    it('stop_pulseid - start_pulseid from 0 to 60001', () => {
      refused('retrieve_from_buffers', { ...RETRIEVE, stop_pulseid: 999 }, /stop_pulseid \(999\) is before start_pulseid \(1000\)/);
      refused('retrieve_from_buffers', { ...RETRIEVE, stop_pulseid: 1000 + 60002 }, /at most 60001 pulses; stop_pulseid - start_pulseid is 60002/);
      assert.equal(validateParams(route('retrieve_from_buffers'), { ...RETRIEVE, stop_pulseid: 1000 + 60001 }).stop_pulseid, 61001);
      assert.equal(validateParams(route('retrieve_from_buffers'), { ...RETRIEVE, stop_pulseid: 1000 }).stop_pulseid, 1000);
    });

    it('rate_multiplicator from its set', () => {
      for (const rate of ALLOWED_RATE_MULTIPLICATORS)
        assert.equal(
          validateParams(route('take_pedestal'), { pgroup: 'p1', detectors: { A: {} }, rate_multiplicator: rate }).rate_multiplicator,
          rate,
        );
      refused(
        'retrieve_from_buffers',
        { ...RETRIEVE, rate_multiplicator: 3 },
        /rate_multiplicator must be one of 1, 2, 4, 8, 10, 20, 40, 50, 100, got 3/,
      );
      refused('take_pedestal', { pgroup: 'p1', detectors: { A: {} }, rate_multiplicator: 0 }, /rate_multiplicator must be one of/);
    });

    it('user_tag: letters, digits, _ - + . only', () => {
      assert.equal(validateParams(route('retrieve_from_buffers'), { ...RETRIEVE, user_tag: 'scan_1+a.b-C' }).user_tag, 'scan_1+a.b-C');
      for (const tag of ['two words', 'a/b', 'x:y', 'ü', 'a#1'])
        refused('retrieve_from_buffers', { ...RETRIEVE, user_tag: tag }, /user_tag may contain only letters, digits, "_", "-", "\+" and "\."/);
    });

    it('run_number must not be negative', () => {
      refused('copy_user_files', { pgroup: 'p1', run_number: -1, files: [] }, /run_number must not be negative/);
    });

    it('unknown parameters are refused, except extras of retrieve_from_buffers (kept as metadata)', () => {
      refused('get_pvlist', { pgroup: 'p1' }, /get_pvlist takes no parameters, got "pgroup"/);
      refused(
        'take_pedestal',
        { pgroup: 'p1', detectors: { A: {} }, rate_multiplier: 2 },
        /take_pedestal has no parameter "rate_multiplier" \(it takes pgroup, detectors, rate_multiplicator\)/,
      );
      assert.equal(validateParams(route('retrieve_from_buffers'), { ...RETRIEVE, operator: 'Ada' }).operator, 'Ada');
    });

    it('close_pgroup_writing needs a confirmation equal to the pgroup', () => {
      refused(
        'close_pgroup_writing',
        { pgroup: 'p17502' },
        /close_pgroup_writing is irreversible: set the confirmation \(msg.confirm\) to the pgroup "p17502"/,
      );
      refused('close_pgroup_writing', { pgroup: 'p17502' }, /irreversible/, 'p12345');
      refused('close_pgroup_writing', { pgroup: 'p17502' }, /irreversible/, true);
      // Only the string itself: String() coercion would accept these.
      refused('close_pgroup_writing', { pgroup: 'p17502' }, /irreversible/, ['p17502']);
      refused('close_pgroup_writing', { pgroup: 'p17502' }, /irreversible/, { toString: () => 'p17502' });
      assert.deepEqual(validateParams(route('close_pgroup_writing'), { pgroup: 'p17502' }, 'p17502'), { pgroup: 'p17502' });
    });

    it('a body over 102,400 bytes is refused', () => {
      refused(
        'set_pvlist',
        { pv_list: Array.from({ length: 10_000 }, (_, i) => `SARES20-CAMS142-M5:CH${i}`) },
        /bytes; the broker refuses bodies over 102400 bytes/,
      );
    });
  });

  it('the client sends nothing when validation fails', async () => {
    const sim = await SfdaqSimulator.start({ mode: 'current' });
    const client = new SfdaqClient({ fastUrl: sim.fastUrl });
    try {
      await assert.rejects(client.call('retrieve_from_buffers', { ...RETRIEVE, rate_multiplicator: 3 }), /rate_multiplicator/);
      await assert.rejects(client.call('close_pgroup_writing', { pgroup: 'p17502' }), /irreversible/);
      await assert.rejects(client.call('no_such_operation'), /unknown sf-daq operation "no_such_operation"; use one of retrieve_from_buffers, /);
      await assert.rejects(client.call('get_pvlist', [] as unknown as Params), /parameters for get_pvlist must be an object/);
      assert.equal(sim.requests.length, 0);
      assert.equal(sim.pgroup('alvra', 'p17502')!.closed, false);
    } finally {
      client.close();
      await sim.close();
    }
  });
});
