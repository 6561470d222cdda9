import assert from 'node:assert/strict';
import { BpwinSimulator } from '../../src/simulators/bpwin';
import { collect, helper, waitFor } from '../helpers/red';
import { BPWIN_NODES, CATCH, TAB, credentials, placed, serverNode } from './flow';

const SECRET = 'Zq9-very-secret-phrase';

describe('BPWin passphrase stays secret', function () {
  before(async function () {
    await helper.startServer();
  });
  after(async function () {
    await helper.stopServer();
  });

  for (const simPassphrase of [SECRET, 'something-else']) {
    it(`appears in no msg, status, log line or error (${simPassphrase === SECRET ? 'accepted' : 'refused'})`, async function () {
      const sim = new BpwinSimulator({ passphrase: simPassphrase });
      await sim.start();
      const flow = placed([
        TAB,
        serverNode(sim.port),
        { id: 'req', type: 'bpwin-request', z: 'f1', server: 'srv', endpoint: '', wires: [['out']] },
        { id: 'stats', type: 'bpwin-job-stats', z: 'f1', server: 'srv', interval: 100, wires: [['out']] },
        { id: 'ev', type: 'bpwin-events', z: 'f1', server: 'srv', wires: [['out']] },
        { id: 'out', type: 'helper', z: 'f1' },
        ...CATCH,
      ]);
      sim.beginJob(5);
      await helper.load(BPWIN_NODES, flow, credentials(SECRET));
      const out = collect(helper.getNode('out'));
      const caught = collect(helper.getNode('caught'));
      for (const topic of ['health', 'version', 'machine-name', 'job-name', 'selected-device', 'job-stats', 'system-info', 'bogus'])
        helper.getNode('req').receive({ topic });
      sim.programDevice('1A', 26);
      await waitFor(() => out.length + caught.length >= 8, 3000, 'replies and errors');
      await new Promise((r) => setTimeout(r, 200));
      const node = helper.getNode('req');
      const spied = (method: 'status' | 'error' | 'warn' | 'log'): unknown[] =>
        ((node[method] as unknown as { getCalls(): Array<{ args: unknown[] }> }).getCalls() ?? []).map((c) => c.args);
      const logged = (helper.log() as { args: unknown[][] }).args;
      const everything = [out, caught, spied('status'), spied('error'), spied('warn'), spied('log'), logged].map((part) =>
        JSON.stringify(part, (_k, v: unknown) => (v instanceof Error ? `${v.message} ${v.stack}` : v)),
      );
      assert.ok(everything.join('').length > 1000, 'something was actually collected');
      for (const text of everything)
        assert.ok(!text.includes(SECRET), `the passphrase leaked: ${text.slice(text.indexOf(SECRET) - 100, text.indexOf(SECRET) + 50)}`);
      if (simPassphrase !== SECRET) assert.ok(caught.length > 0, 'the refusal was reported');
      await helper.unload();
      await sim.close();
    });
  }
});
