import assert from 'node:assert/strict';
import { freePort } from '../../src/cli/node-red-process';
import { SfdaqSimulator } from '../../src/simulators/sfdaq';
import { helper, testConnection } from '../helpers/red';
import sfdaqBroker = require('../../src/nodes/sfdaq-broker');

/** The dialog's values as the editor sends them: text inputs are strings. */
function dialog(fastUrl: string, slowUrl = ''): Record<string, unknown> {
  return { name: '', fastUrl, slowUrl, timeout: '2', prefer: 'current' };
}

describe('sfdaq-broker "Test connection"', function () {
  let sim: SfdaqSimulator;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    sim = await SfdaqSimulator.start({ mode: 'current' });
    await helper.load([sfdaqBroker] as never[], [
      { id: 'broker', type: 'sfdaq-broker', fastUrl: sim.fastUrl, slowUrl: sim.slowUrl, timeout: 10, prefer: 'current' },
    ]);
  });
  afterEach(async () => {
    await helper.unload();
    await sim.close();
  });

  it('lists the detectors get_allowed_detectors names for this beamline', async function () {
    const answer = await testConnection('sfdaq-broker', dialog(sim.fastUrl, sim.slowUrl), {}, 'broker');
    assert.equal(answer.ok, true, answer.message);
    const [request] = sim.requests;
    assert.equal(sim.requests.length, 1, 'one read-only call');
    assert.match(request!.path, /get_allowed_detectors/);
    assert.equal(answer.message, `${sim.fastUrl}: 2 detectors allowed: JF02T09V03 (Alvra 4.5M detector), JF06T08V04 (Alvra 4M detector, 8 modules)`);
  });

  it('says nothing answers on a wrong port', async function () {
    const port = await freePort();
    const answer = await testConnection('sfdaq-broker', dialog(`http://127.0.0.1:${port}`), {}, 'broker');
    assert.equal(answer.ok, false);
    assert.match(answer.message, /connection refused/);
    assert.match(answer.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
    assert.equal(answer.message.split(String(port)).length, 2, `the address once: ${answer.message}`);
  });

  it('refuses a URL that is not one before sending anything', async function () {
    const answer = await testConnection('sfdaq-broker', dialog('sf-daq:10002'), {}, 'broker');
    assert.deepEqual(answer, { ok: false, message: 'the fast broker URL must start with http:// or https://' });
  });
});
