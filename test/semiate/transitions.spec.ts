import assert from 'node:assert/strict';
import { SemiAteTester, type TesterOptions } from '../../src/protocols/semiate';
import type { InstrumentError } from '../../src/protocols/common/errors';
import { SemiAteSimulator, type SemiAteSimulatorOptions } from '../../src/simulators/semiate';
import { waitFor } from '../helpers/red';
import { FAST } from './fixtures';

/**
 * The client's picture of the tester includes what it just sent: the real master reports its
 * state only now and then (websocket: about once a second) and silently ignores a command that
 * its state does not allow.
 */
for (const transport of ['websocket', 'mqtt'] as const) {
  describe(`semiate commands follow the master's transitions over ${transport}`, function () {
    this.timeout(20000);
    let sim: SemiAteSimulator;
    let tester: SemiAteTester;

    async function setup(options: SemiAteSimulatorOptions = {}): Promise<void> {
      sim = new SemiAteSimulator({ ...FAST, sites: 2, ...options });
      await sim.start();
      const connect: TesterOptions =
        transport === 'websocket'
          ? { transport, url: sim.wsUrl, reconnectMs: 50 }
          : { transport, url: sim.mqttUrl, deviceId: sim.options.deviceId, reconnectMs: 50 };
      tester = new SemiAteTester(connect);
      tester.start();
      await waitFor(() => tester.state === 'initialized', 5000, 'initialized');
    }

    afterEach(async () => {
      await tester?.stop();
      await sim?.close();
    });

    it('a double click on next tests twice, and each outcome carries only its own parts', async () => {
      await setup({ testMs: 150 });
      await tester.execute({ command: 'load', lotNumber: 'L1' }, { waitUntilDone: true });
      const [first, second] = await Promise.all([
        tester.execute({ command: 'next' }, { waitUntilDone: true }),
        tester.execute({ command: 'next' }, { waitUntilDone: true }),
      ]);
      const ids = (parts: Array<{ partId: string }> | undefined): string[] => (parts ?? []).map((p) => p.partId).sort();
      assert.equal(first.parts!.length, 2);
      assert.equal(second.parts!.length, 2);
      assert.equal(
        ids(first.parts).filter((id) => ids(second.parts).includes(id)).length,
        0,
        `no part reported twice: ${ids(first.parts).join(',')} / ${ids(second.parts).join(',')}`,
      );
      assert.deepEqual(sim.ignored, [], 'the master acted on both');
      assert.equal(sim.parts.size, 4);
      assert.equal(tester.yieldTracker.overall().tested, 4);
    });

    it('unload right after a next that was not waited for waits for the results, then unloads', async () => {
      await setup({ testMs: 200 });
      await tester.execute({ command: 'load', lotNumber: 'L1' }, { waitUntilDone: true });
      const started = await tester.execute({ command: 'next' });
      assert.equal(started.waited, false);
      const unloaded = await tester.execute({ command: 'unload' }, { waitUntilDone: true });
      assert.equal(unloaded.state, 'initialized');
      assert.deepEqual(sim.ignored, [], 'the master never saw unload while testing');
      assert.equal(sim.lotNumber, '', 'the lot is unloaded');
      assert.equal(sim.parts.size, 2, 'the test ran to its end before the unload');
    });

    it('a command sent without waiting is reported only once the master acted on it', async () => {
      await setup({ loadMs: 400 });
      const sent = await tester.execute({ command: 'load', lotNumber: 'L1' });
      assert.equal(sent.waited, false);
      assert.ok(['loading', 'ready'].includes(sent.state), `the outcome shows the master acting, not ${sent.state}`);
      assert.equal(sim.lotNumber, 'L1');
    });

    it('a command the master ignored becomes a clear error (another client started a test)', async () => {
      await setup({ testMs: 400 });
      await tester.execute({ command: 'load', lotNumber: 'L1' }, { waitUntilDone: true });
      // The tester's own UI starts a test; in the same tick this client, still seeing "ready", unloads.
      sim.press('next');
      const unload = tester.execute({ command: 'unload' }, { waitUntilDone: true });
      await assert.rejects(unload, (err: InstrumentError) => {
        assert.equal(err.code, 'REMOTE');
        assert.match(err.message, /^the tester ignored unload: it was testing/);
        assert.equal(err.details.reason, 'commandIgnored');
        assert.equal(err.details.state, 'testing');
        return true;
      });
      assert.deepEqual(sim.ignored, ['unload@testing']);
      assert.equal(sim.lotNumber, 'L1', 'the lot is still loaded');
      // The client's picture recovers: once the test is over, unload works.
      await waitFor(() => tester.state === 'ready', 5000, 'ready again');
      assert.equal((await tester.execute({ command: 'unload' }, { waitUntilDone: true })).state, 'initialized');
    });

    it('a queued command with its own time limit counts it from when it was queued, and is never sent late', async () => {
      await setup({ loadMs: 1000 });
      await tester.execute({ command: 'load', lotNumber: 'L1' });
      await assert.rejects(tester.execute({ command: 'next' }, { waitUntilDone: true, timeoutMs: 200 }), (err: InstrumentError) => {
        assert.equal(err.code, 'TIMEOUT');
        assert.equal(err.details.reason, 'testerQueuedTooLong');
        assert.match(err.message, /^next was not sent: the tester was still busy with load after 0.2 s/);
        return true;
      });
      await waitFor(() => sim.state === 'ready', 5000, 'the load to finish');
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(sim.parts.size, 0, 'the timed-out next was never sent');
      assert.deepEqual(sim.ignored, []);
    });

    it('refuses to queue without bound', async () => {
      await setup({ loadMs: 1500 });
      await tester.execute({ command: 'load', lotNumber: 'L1' });
      const queued = Array.from({ length: 40 }, () => tester.execute({ command: 'next' }, { timeoutMs: 100 }).catch((err: InstrumentError) => err));
      const results = await Promise.all(queued);
      const reasons = results.map((r) => (r instanceof Error ? String((r as InstrumentError).details.reason) : 'sent'));
      assert.ok(reasons.includes('queueFull'), reasons.join(','));
      assert.ok(
        reasons.every((r) => r === 'queueFull' || r === 'testerQueuedTooLong'),
        reasons.join(','),
      );
      assert.equal(sim.parts.size, 0);
    });
  });
}
