import assert from 'node:assert/strict';
import { freePort } from '../../src/cli/node-red-process';
import { SemiAteSimulator } from '../../src/simulators/semiate';
import { helper, testConnection, waitFor } from '../helpers/red';
import { FAST } from './fixtures';
import testerNode = require('../../src/nodes/semiate-tester');

/** The dialog's values as the editor sends them: strings for text inputs, booleans for checkboxes. */
function dialog(fields: Record<string, unknown>): Record<string, unknown> {
  return { name: '', transport: 'websocket', url: '', broker: '', deviceId: '', tls: false, tlsInsecure: false, ...fields };
}

describe('semiate-tester "Test connection"', function () {
  this.timeout(15_000);
  let sim: SemiAteSimulator;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    await helper.unload();
    await sim.close();
  });

  async function start(options: ConstructorParameters<typeof SemiAteSimulator>[0] = {}): Promise<void> {
    sim = new SemiAteSimulator({ ...FAST, ...options });
    await sim.start();
    await waitFor(() => sim.state === 'initialized', 5000, 'the simulator to initialize');
    await helper.load([testerNode] as never[], [{ id: 'tester', type: 'semiate-tester', transport: 'websocket', url: sim.wsUrl }]);
  }

  it('websocket: reports the master state and hangs up', async function () {
    await start();
    const answer = await testConnection('semiate-tester', dialog({ url: sim.wsUrl }), {}, 'tester');
    assert.deepEqual(answer, { ok: true, message: 'tester state: initialized' });
    await waitFor(() => sim.openConnections === 0, 2000, 'the probe to close its websocket');
  });

  it('MQTT: reports the master state and what identify answers, logging in with the dialog credentials', async function () {
    await start({ mqttUsername: 'handler', mqttPassword: 'pa55-w0rd' });
    const config = dialog({ transport: 'mqtt', broker: sim.mqttUrl, deviceId: sim.options.deviceId });
    const answer = await testConnection('semiate-tester', config, { username: 'handler', password: 'pa55-w0rd' }, 'tester');
    assert.deepEqual(answer, { ok: true, message: `tester state: initialized; identifies as ${sim.options.deviceId}` });
    await waitFor(() => sim.openConnections === 0, 2000, 'the probe to leave the broker');
  });

  it('MQTT: a refused login says so without the password', async function () {
    await start({ mqttUsername: 'handler', mqttPassword: 'pa55-w0rd' });
    const config = dialog({ transport: 'mqtt', broker: sim.mqttUrl, deviceId: sim.options.deviceId });
    const answer = await testConnection('semiate-tester', config, { username: 'handler', password: 'not-the-password' }, 'tester');
    assert.equal(answer.ok, false);
    assert.match(answer.message, /refused the login .*check username and password/);
    assert.doesNotMatch(answer.message, /not-the-password|pa55-w0rd/);
  });

  it('websocket: a wrong port fails at the first attempt with the reason', async function () {
    await start();
    const port = await freePort();
    const started = Date.now();
    const answer = await testConnection('semiate-tester', dialog({ url: `ws://127.0.0.1:${port}/ws` }), {}, 'tester');
    assert.equal(answer.ok, false);
    assert.match(answer.message, new RegExp(`ws://127\\.0\\.0\\.1:${port}/ws: .*connection refused`));
    assert.ok(Date.now() - started < 3000, 'no waiting for retries');
  });
});
