import assert from 'node:assert/strict';
import { freePort } from '../../src/cli/node-red-process';
import { NebvSimulator } from '../../src/simulators/nebv';
import { helper, testConnection, waitFor } from '../helpers/red';
import { freePortBlock } from './fixtures';
import serverNode = require('../../src/nodes/nebv-server');

/** The dialog's values as the editor sends them: strings for text inputs, a boolean for the checkbox. */
function dialog(port: string): Record<string, unknown> {
  return { name: '', transport: 'tcp', host: '127.0.0.1', port, path: '', timeout: '2', newline: false, maxReply: '16384' };
}

describe('nebv-server "Test connection"', function () {
  let sim: NebvSimulator | undefined;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(() =>
    helper.load([serverNode] as never[], [
      { id: 'srv', type: 'nebv-server', transport: 'tcp', host: '127.0.0.1', port: '5000', timeout: 10, maxReply: 16384, newline: false },
    ]),
  );
  afterEach(async () => {
    await helper.unload();
    await sim?.close();
    sim = undefined;
  });

  it('names the address that accepted, and hangs up again', async function () {
    const log: string[] = [];
    sim = await NebvSimulator.start({ seed: 5, log: (line) => log.push(line) });
    const answer = await testConnection('nebv-server', dialog(String(sim.port)), {}, 'srv');
    assert.deepEqual(answer, { ok: true, message: `connected to 127.0.0.1:${sim.port}` });
    const open = sim;
    await waitFor(() => log.some((line) => line.startsWith('client disconnected')), 3000, 'the probe to hang up');
    assert.deepEqual(log, ['client connected (1 open)', 'client disconnected (0 open)']);
    assert.equal(open.connectionCount, 0, 'the probe closed its socket');
  });

  it('tries a port range in order and names the port that accepted', async function () {
    const base = await freePortBlock(4);
    sim = await NebvSimulator.start({ portRange: [base, base + 3], portIndex: 2 });
    const answer = await testConnection('nebv-server', dialog(`${base}-${base + 3}`), {}, 'srv');
    assert.deepEqual(answer, { ok: true, message: `connected to 127.0.0.1:${base + 2}` });
  });

  it('says the connection was refused on a wrong port, at once and without retrying', async function () {
    const port = await freePort();
    const started = Date.now();
    const answer = await testConnection('nebv-server', dialog(String(port)), {}, 'srv');
    assert.equal(answer.ok, false);
    assert.match(answer.message, new RegExp(`127\\.0\\.0\\.1.*${port}.*connection refused`));
    assert.equal(answer.message.split(String(port)).length, 2, `the address once: ${answer.message}`);
    assert.ok(Date.now() - started < 1500, 'no retries');
  });

  it('refuses an address that is not one before dialling', async function () {
    const answer = await testConnection('nebv-server', dialog('70000'), {}, 'srv');
    assert.equal(answer.ok, false);
    assert.match(answer.message, /ports must be whole numbers from 1 to 65535/);
  });
});
