import assert from 'node:assert/strict';
import { registerConnectionTest, connectionTestPath } from '../../src/nodered/connection-test';
import type { NodeDef, RedAPI, RedNode } from '../../src/nodered/red-types';
import { helper } from '../helpers/red';

interface Seen {
  config: Record<string, unknown>;
  credentials: Record<string, string>;
}
const seen: Seen[] = [];

/** A config node type whose probe records what it was given and fails on request. */
function probeConfig(RED: RedAPI): void {
  RED.nodes.registerType(
    'probe-config',
    function (this: RedNode, def: NodeDef) {
      RED.nodes.createNode(this, def);
    },
    { credentials: { secret: { type: 'password' } } },
  );
  registerConnectionTest(
    RED,
    'probe-config',
    (config, credentials) => {
      if (config.host === 'throws') throw new Error('bad options, thrown before any await');
      return probe(config, credentials);
    },
    { address: (config) => String(config.host), timeoutMs: 300 },
  );
}

async function probe(config: Record<string, unknown>, credentials: Record<string, string>): Promise<string> {
  seen.push({ config, credentials });
  if (config.host === 'bad') throw new Error(`refused with secret ${credentials.secret ?? ''}`);
  if (config.host === 'slow') return new Promise<string>(() => undefined);
  return `reached ${String(config.host)}`;
}

type Agent = { post(path: string): { send(body: unknown): Promise<{ status: number; body: { ok: boolean; message: string } }> } };

describe('the "Test connection" admin endpoint', () => {
  before((done) => {
    helper.startServer(done);
  });
  after((done) => {
    helper.stopServer(done);
  });
  afterEach(async () => {
    seen.length = 0;
    await helper.unload();
  });

  const flow = [{ id: 'cfg', type: 'probe-config', host: 'stored' }];

  it('probes with the dialog values and answers ok', async () => {
    await helper.load(probeConfig as never, flow, { cfg: { secret: 'stored-secret' } });
    const res = await (helper.request() as Agent)
      .post(connectionTestPath('probe-config'))
      .send({ id: 'cfg', config: { host: 'typed' }, credentials: { secret: 'typed-secret' } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { ok: true, message: 'reached typed' });
    assert.deepEqual(seen[0]!.credentials, { secret: 'typed-secret' });
  });

  it('uses the stored secret when the dialog sends the unchanged-password placeholder', async () => {
    await helper.load(probeConfig as never, flow, { cfg: { secret: 'stored-secret' } });
    await (helper.request() as Agent)
      .post(connectionTestPath('probe-config'))
      .send({ id: 'cfg', config: { host: 'stored' }, credentials: { secret: '__PWRD__' } });
    assert.deepEqual(seen[0]!.credentials, { secret: 'stored-secret' });
  });

  it('reports failure with the reason and never echoes the secret', async () => {
    await helper.load(probeConfig as never, [{ id: 'cfg', type: 'probe-config', host: 'bad' }], { cfg: { secret: 'stored-secret' } });
    const res = await (helper.request() as Agent)
      .post(connectionTestPath('probe-config'))
      .send({ id: 'cfg', config: { host: 'bad' }, credentials: { secret: '__PWRD__' } });
    assert.equal(res.body.ok, false);
    assert.match(res.body.message, /refused with secret •••/);
    assert.doesNotMatch(res.body.message, /stored-secret/);
  });

  it('uses no stored secret for another address: the user must type it again, and the probe does not run', async () => {
    await helper.load(probeConfig as never, flow, { cfg: { secret: 'stored-secret' } });
    const res = await (helper.request() as Agent)
      .post(connectionTestPath('probe-config'))
      .send({ id: 'cfg', config: { host: 'elsewhere' }, credentials: { secret: '__PWRD__' } });
    assert.deepEqual(res.body, {
      ok: false,
      message: 'a saved password or passphrase is only sent to the saved address: type it again to test this address',
    });
    assert.deepEqual(seen, []);
  });

  it('answers a probe that throws at once like one that rejects', async () => {
    await helper.load(probeConfig as never, flow);
    const res = await (helper.request() as Agent).post(connectionTestPath('probe-config')).send({ config: { host: 'throws' }, credentials: {} });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { ok: false, message: 'bad options, thrown before any await' });
  });

  it('answers within its time limit when the instrument does not', async () => {
    await helper.load(probeConfig as never, flow);
    const res = await (helper.request() as Agent).post(connectionTestPath('probe-config')).send({ config: { host: 'slow' }, credentials: {} });
    assert.deepEqual(res.body, { ok: false, message: 'no answer within 300 ms' });
  });
});
