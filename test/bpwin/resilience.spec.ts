import assert from 'node:assert/strict';
import { BpwinSimulator } from '../../src/simulators/bpwin';
import { collect, helper, waitFor } from '../helpers/red';
import { BPWIN_NODES, CATCH, TAB, credentials, placed, runtimeWithSimulator, serverNode } from './flow';

const PASS = 'p4ss phrase';

interface Msg {
  payload: Record<string, unknown>;
  error?: { message: string };
}

function resourceCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

describe('BPWin resilience', function () {
  this.timeout(60_000);
  let sim: BpwinSimulator;

  runtimeWithSimulator({ passphrase: PASS }, (started) => (sim = started));

  it('survives 50 kill/restart cycles of BPWin while events stream; events flow again after each', async function () {
    const flow = placed([
      TAB,
      serverNode(sim.port, { reconnectMin: 5, reconnectMax: 20 }),
      { id: 'ev', type: 'bpwin-events', z: 'f1', server: 'srv', wires: [['out']] },
      { id: 'out', type: 'helper', z: 'f1' },
      ...CATCH,
    ]);
    await helper.load(BPWIN_NODES, flow, credentials(PASS));
    const seen = collect<Msg>(helper.getNode('out'));
    const errors = collect<Msg>(helper.getNode('caught'));
    // A steady stream in the background: whatever lands while BPWin is up is delivered.
    const streaming = setInterval(() => {
      if (sim.running) sim.programDevice();
    }, 2);
    try {
      for (let cycle = 0; cycle < 50; cycle += 1) {
        const challenge = sim.challenge;
        await sim.stop();
        if (cycle % 5 === 0) await new Promise((r) => setTimeout(r, 30)); // sometimes stay down for a few retries
        await sim.restart();
        assert.notEqual(sim.challenge, challenge);
        await waitFor(() => sim.wsClients === 1, 5000, `reconnection in cycle ${cycle}`);
        const before = seen.length;
        await waitFor(() => seen.length > before, 5000, `events after restart ${cycle}`);
      }
    } finally {
      clearInterval(streaming);
    }
    assert.equal(errors.length, 0, errors.map((e) => e.error?.message).join('; '));
    assert.ok(seen.every((m) => m.payload.note === 'SocketStatus'));
    assert.equal(sim.wsClients, 1);
  });

  it('leaks no sockets or timers over 100 redeploys', async function () {
    const flow = placed([
      TAB,
      serverNode(sim.port),
      { id: 'req', type: 'bpwin-request', z: 'f1', server: 'srv', endpoint: 'version', wires: [['out']] },
      { id: 'stats', type: 'bpwin-job-stats', z: 'f1', server: 'srv', interval: 100, wires: [['out']] },
      { id: 'ev1', type: 'bpwin-events', z: 'f1', server: 'srv', wires: [['out']] },
      { id: 'ev2', type: 'bpwin-events', z: 'f1', server: 'srv', split: true, wires: [['out'], ['out'], ['out'], ['out'], ['out']] },
      { id: 'out', type: 'helper', z: 'f1' },
      ...CATCH,
    ]);
    sim.beginJob(1000);
    await helper.load(BPWIN_NODES, [], {});
    await helper.unload();
    await new Promise((r) => setTimeout(r, 50));
    const baseline = resourceCounts();
    await helper.load(BPWIN_NODES, flow, credentials(PASS));
    for (let i = 0; i < 100; i += 1) {
      await helper.setFlows(flow, 'full', credentials(PASS));
      helper.getNode('req').receive({});
      if (i % 10 === 0)
        await waitFor(
          () => sim.wsClients === 1,
          3000,
          `the websocket (clients ${sim.wsClients}, ws hits ${sim.hitCount('/ws')}, ` +
            `auth ${sim.hitCount('/auth')}, ${JSON.stringify(helper.getNode('srv').credentials)})`,
        );
    }
    await waitFor(() => sim.wsClients === 1, 3000, 'one websocket for the last deployment');
    // One deployment holds the websocket, the stream's kept-alive /auth socket and up to two REST sockets.
    await waitFor(() => sim.openConnections <= 4, 3000, `connections of one deployment (have ${sim.openConnections})`);
    await helper.unload();
    await waitFor(() => sim.openConnections === 0, 3000, `every connection closed (have ${sim.openConnections})`);
    await new Promise((r) => setTimeout(r, 100));
    const after = resourceCounts();
    for (const kind of ['TCPSocketWrap', 'Timeout']) {
      assert.ok((after[kind] ?? 0) <= (baseline[kind] ?? 0) + 1, `${kind}: ${baseline[kind] ?? 0} before, ${after[kind] ?? 0} after 100 redeploys`);
    }
  });
});
