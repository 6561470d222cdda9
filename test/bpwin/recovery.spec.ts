import assert from 'node:assert/strict';
import { BpwinSimulator } from '../../src/simulators/bpwin';
import { collect, helper, waitFor } from '../helpers/red';
import { BPWIN_NODES, CATCH, TAB, credentials, lastStatus, placed, serverNode } from './flow';

const RIGHT = 'the Auth.txt of the line';
const WRONG = 'what the flow was given';
/** Shortened for the test through settings.js; the default is a minute. */
const RECHECK_MS = 1000;
const USERS = ['req', 'stats', 'events'];

interface Msg {
  topic?: string;
  payload: Record<string, unknown>;
}

/** Every node green, the poller showing the running job. */
function allGreen(): boolean {
  return USERS.every((id) => lastStatus(id)?.fill === 'green') && /^Active/.test(lastStatus('stats')?.text ?? '');
}

describe('BPWin recovers by itself once BPWin accepts the passphrase again', function () {
  this.timeout(30_000);

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(() => helper.settings({ bpwinRecheckTime: RECHECK_MS }));
  afterEach(async () => {
    helper.settings({ bpwinRecheckTime: undefined });
    await helper.unload();
  });

  for (const wsAuth of [true, false]) {
    it(`wrong passphrase: red, a slow re-check instead of a 403 loop; Auth.txt fixed and BPWin restarted: green and events flow, no redeploy, no input (/ws ${wsAuth ? 'guarded' : 'open'})`, async function () {
      const sim = new BpwinSimulator({ passphrase: RIGHT, wsAuth });
      await sim.start();
      try {
        sim.beginJob(1000);
        const flow = placed([
          TAB,
          serverNode(sim.port),
          { id: 'req', type: 'bpwin-request', z: 'f1', server: 'srv', endpoint: 'version', wires: [['out']] },
          { id: 'stats', type: 'bpwin-job-stats', z: 'f1', server: 'srv', interval: 100, emit: 'always', wires: [['statsOut']] },
          { id: 'statsOut', type: 'helper', z: 'f1' },
          { id: 'events', type: 'bpwin-events', z: 'f1', server: 'srv', wires: [['eventsOut']] },
          { id: 'eventsOut', type: 'helper', z: 'f1' },
          { id: 'out', type: 'helper', z: 'f1' },
          ...CATCH,
        ]);
        await helper.load(BPWIN_NODES, flow, credentials(WRONG));
        const events = collect<Msg>(helper.getNode('eventsOut'));

        // Refused: the REST users say so; the event node too unless BPWin lets /ws in without the passphrase.
        await waitFor(() => ['req', 'stats'].every((id) => lastStatus(id)?.text === 'passphrase refused (403)'), 5000, 'the refusal');
        if (wsAuth) {
          await waitFor(() => sim.hitCount('/ws') === 2, 3000, 'the stream refused twice');
          assert.deepEqual(lastStatus('events'), { fill: 'red', shape: 'dot', text: 'passphrase refused (403)' });
        } else {
          await waitFor(() => lastStatus('events')?.text === 'connected', 3000, 'the open stream');
        }
        for (const id of ['req', 'stats']) assert.equal(lastStatus(id)!.fill, 'red');

        // Three re-check intervals: one /auth and one call each, never a loop of 403s.
        const watchFrom = Date.now();
        const upgrades = sim.hitCount('/ws');
        await new Promise((r) => setTimeout(r, RECHECK_MS * 3.5));
        const window = sim.requests.filter((r) => r.at >= watchFrom);
        const refusals = sim.refusals(watchFrom);
        assert.ok(refusals >= 2 && refusals <= 4, `403s in 3.5 re-check intervals: ${refusals} (${JSON.stringify(window)})`);
        assert.ok(window.length <= 8, `requests in 3.5 re-check intervals: ${window.length}`);
        assert.equal(sim.hitCount('/ws'), upgrades, 'the refused stream waits for the re-check');
        const rechecks = window.filter((r) => r.status === 403).map((r) => r.at);
        for (let i = 1; i < rechecks.length; i += 1)
          assert.ok(rechecks[i]! - rechecks[i - 1]! >= RECHECK_MS * 0.9, `re-checks ${rechecks[i]! - rechecks[i - 1]!} ms apart`);
        for (const id of ['req', 'stats']) assert.equal(lastStatus(id)!.text, 'passphrase refused (403)');

        // The operator corrects Auth.txt and restarts BPWin. Nothing is done in Node-RED.
        sim.writeAuthFile(WRONG);
        assert.equal(sim.passphrase, RIGHT, 'BPWin reads Auth.txt only when it starts');
        await sim.restart();
        sim.beginJob(1000);
        const restarted = Date.now();
        await waitFor(allGreen, RECHECK_MS * 2 + 3000, `every status green (${JSON.stringify(USERS.map(lastStatus))})`);
        const recovered = Date.now() - restarted;
        assert.ok(recovered < RECHECK_MS * 2 + 3000, `recovered ${recovered} ms after the restart`);
        assert.equal(lastStatus('req')!.text, 'connected');
        assert.equal(lastStatus('events')!.text, 'connected');
        await waitFor(() => sim.wsClients === 1, 3000, 'the stream');
        const before = events.length;
        sim.programDevice('2B', 0);
        await waitFor(() => events.length >= before + 2, 3000, 'events after the recovery');
        assert.equal(events.at(-1)!.payload.siteSocket, '2B');
        assert.equal(sim.refusals(restarted), 0, 'nothing refused once BPWin accepts');
      } finally {
        await helper.unload();
        await sim.close();
      }
    });
  }
});
