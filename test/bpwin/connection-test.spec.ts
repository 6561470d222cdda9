import assert from 'node:assert/strict';
import { freePort } from '../../src/cli/node-red-process';
import type { BpwinSimulator } from '../../src/simulators/bpwin';
import { helper, testConnection } from '../helpers/red';
import { BPWIN_NODES, SERVER_ID, credentials, runtimeWithSimulator, serverNode } from './flow';

const PASS = 'tr0ub4dor&3';

describe('bpwin-server "Test connection"', function () {
  let sim: BpwinSimulator;

  runtimeWithSimulator({ passphrase: PASS }, (started) => (sim = started));

  /** The dialog's values as the editor sends them: text inputs are strings. */
  const dialog = (port = sim.port): Record<string, unknown> => ({
    name: '',
    host: '127.0.0.1',
    port: String(port),
    timeout: '1',
    reconnectMin: '',
    reconnectMax: '30000',
  });

  it('asks /health with the challenge and the stored passphrase, and names the versions', async function () {
    await helper.load(BPWIN_NODES, [serverNode(sim.port)], credentials(PASS));
    const answer = await testConnection('bpwin-server', dialog(), { passphrase: '__PWRD__' }, SERVER_ID);
    assert.deepEqual(answer, { ok: true, message: 'BPWin is ready (API 1.0, BPWin V8.0.1)' });
  });

  it('takes a passphrase typed into the dialog over the stored one', async function () {
    await helper.load(BPWIN_NODES, [serverNode(sim.port)], credentials('stale-passphrase'));
    const answer = await testConnection('bpwin-server', dialog(), { passphrase: PASS }, SERVER_ID);
    assert.equal(answer.ok, true, answer.message);
  });

  it('says the passphrase was refused, without repeating it', async function () {
    await helper.load(BPWIN_NODES, [serverNode(sim.port)], credentials(PASS));
    const answer = await testConnection('bpwin-server', dialog(), { passphrase: 'wrong-passphrase' }, SERVER_ID);
    assert.equal(answer.ok, false);
    assert.match(answer.message, /BPWin refused the passphrase \(HTTP 403\): check the passphrase/);
    assert.doesNotMatch(answer.message, /wrong-passphrase|tr0ub4dor/);
  });

  it('says nothing answers on a wrong port', async function () {
    await helper.load(BPWIN_NODES, [serverNode(sim.port)], credentials(PASS));
    const port = await freePort();
    const answer = await testConnection('bpwin-server', dialog(port), { passphrase: PASS }, SERVER_ID);
    assert.equal(answer.ok, false);
    assert.match(answer.message, new RegExp(`BPWin at http://127\\.0\\.0\\.1:${port} is not ready: .*connection refused`));
    assert.equal(answer.message.split(String(port)).length, 2, `the address once: ${answer.message}`);
  });

  it('keeps the stored passphrase for the stored address: on another port it asks for it again', async function () {
    await helper.load(BPWIN_NODES, [serverNode(sim.port)], credentials(PASS));
    const port = await freePort();
    const answer = await testConnection('bpwin-server', dialog(port), { passphrase: '__PWRD__' }, SERVER_ID);
    assert.deepEqual(answer, {
      ok: false,
      message: 'a saved password or passphrase is only sent to the saved address: type it again to test this address',
    });
  });
});
