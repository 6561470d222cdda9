import assert from 'node:assert/strict';
import net from 'node:net';
import { freePort } from '../../src/cli/node-red-process';
import { TESTS_PER_NODE } from '../../src/nodered/connection-test';
import { helper, setRuntimeLanguage, testConnection, waitFor } from '../helpers/red';
import bpwinServer = require('../../src/nodes/bpwin-server');
import nebvServer = require('../../src/nodes/nebv-server');
import propellerLauncher = require('../../src/nodes/propeller-launcher');
import propellerSerial = require('../../src/nodes/propeller-serial');
import semiateTester = require('../../src/nodes/semiate-tester');
import sfdaqBroker = require('../../src/nodes/sfdaq-broker');

const PASSPHRASE = 'Auth-txt-of-the-line-4711';
const MQTT_PASSWORD = 'broker-login-0815';
const MODULES = [bpwinServer, nebvServer, propellerLauncher, propellerSerial, semiateTester, sfdaqBroker] as never[];

/**
 * A server the caller controls: it records every byte anyone sends it and answers each chunk like
 * BPWin's /auth (an HTTP reply that closes), so an HTTP client goes on to its next request and any
 * other client fails quickly.
 */
async function listeningCaller(): Promise<{ port: number; received(): string; connections(): number; close(): Promise<void> }> {
  const chunks: Buffer[] = [];
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const body = '{ "Number" : 7241978785468376164 }';
      socket.end(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    received: () => Buffer.concat(chunks).toString('latin1'),
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

interface AuditEntry {
  level: number;
  event?: string;
  type?: string;
  id?: string;
  address?: string;
  result?: string;
  storedSecret?: boolean;
}

/** What Node-RED's audit log received since the flow was loaded (RED.log.audit ends in log.log with level 98). */
function audited(): AuditEntry[] {
  const spy = helper.log() as { args: unknown[][] };
  return spy.args.map((args) => args[0] as AuditEntry).filter((entry) => entry.level === 98 && entry.event === 'labwire.connection-test');
}

/** The dialog of a BPWin server as the editor sends it, pointed at `port`. */
function bpwinDialog(port: number, host = '127.0.0.1'): Record<string, unknown> {
  return { name: '', host, port: String(port), timeout: '1000', reconnectMin: '', reconnectMax: '' };
}

function mqttDialog(port: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: '', transport: 'mqtt', url: '', broker: `mqtt://127.0.0.1:${port}`, deviceId: 'line-1', tls: false, tlsInsecure: false, ...extra };
}

describe('"Test connection": stored secrets, audit, port ranges and rate limits', function () {
  this.timeout(20_000);
  let caller: Awaited<ReturnType<typeof listeningCaller>>;
  let stored: Awaited<ReturnType<typeof listeningCaller>>;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    caller = await listeningCaller();
    stored = await listeningCaller();
  });
  afterEach(async () => {
    await helper.unload();
    await Promise.all([caller.close(), stored.close()]);
  });

  /** A deployed BPWin server and Semi-ATE MQTT tester with their secrets, both pointed at the `stored` server. */
  async function deployWithSecrets(): Promise<void> {
    await helper.load(
      MODULES,
      [
        { id: 'bp', type: 'bpwin-server', host: '127.0.0.1', port: stored.port, timeout: 1000 },
        { id: 'mq', type: 'semiate-tester', transport: 'mqtt', broker: `mqtt://127.0.0.1:${stored.port}`, deviceId: 'line-1', tls: false },
      ],
      { bp: { passphrase: PASSPHRASE }, mq: { username: 'handler', password: MQTT_PASSWORD } },
    );
  }

  it('the stored BPWin passphrase goes to the stored address only; another host:port gets nothing and the user is told to type it', async function () {
    await deployWithSecrets();
    // Control: at its own address the stored passphrase is used (the recording server sees it).
    await testConnection('bpwin-server', bpwinDialog(stored.port), { passphrase: '__PWRD__' }, 'bp');
    await waitFor(() => stored.received().includes(PASSPHRASE), 3000, 'the passphrase at the stored address');

    for (const credentials of [{ passphrase: '__PWRD__' }, {}] as Array<Record<string, string>>) {
      const answer = await testConnection('bpwin-server', bpwinDialog(caller.port), credentials, 'bp');
      assert.deepEqual(answer, {
        ok: false,
        message: 'a saved password or passphrase is only sent to the saved address: type it again to test this address',
      });
    }
    // Same port, another spelling of the host: still not the saved address.
    await testConnection('bpwin-server', bpwinDialog(stored.port, 'localhost'), { passphrase: '__PWRD__' }, 'bp');
    // The id of a node of another type lends none of its secrets.
    await testConnection('bpwin-server', { ...bpwinDialog(stored.port) }, { passphrase: '__PWRD__' }, 'mq');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(caller.connections(), 0, 'the caller-controlled server was not even dialled');
    assert.ok(!caller.received().includes(PASSPHRASE));
    const storedHits = stored.received().split(PASSPHRASE).length - 1;
    assert.ok(storedHits >= 1 && storedHits <= 2, `the passphrase reached the stored address only for its own test (${storedHits})`);

    // Typed again, it is the user's own choice to send it there.
    await testConnection('bpwin-server', bpwinDialog(caller.port), { passphrase: 'typed-by-the-user' }, 'bp');
    await waitFor(() => caller.received().includes('typed-by-the-user'), 3000, 'the typed passphrase');
  });

  it('the stored MQTT password goes to the stored broker only, and not over TLS the dialog no longer verifies', async function () {
    await deployWithSecrets();
    await testConnection('semiate-tester', mqttDialog(stored.port), { username: 'handler', password: '__PWRD__' }, 'mq');
    await waitFor(() => stored.received().includes(MQTT_PASSWORD), 3000, 'the password at the stored broker');

    const refused = await testConnection('semiate-tester', mqttDialog(caller.port), { username: 'handler', password: '__PWRD__' }, 'mq');
    assert.equal(refused.ok, false);
    assert.match(refused.message, /only sent to the saved address/);
    const insecure = await testConnection(
      'semiate-tester',
      mqttDialog(stored.port, { tls: true, tlsInsecure: true }),
      { username: 'handler', password: '__PWRD__' },
      'mq',
    );
    assert.match(insecure.message, /only sent to the saved address/);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(caller.connections(), 0);
    assert.ok(!caller.received().includes(MQTT_PASSWORD));
  });

  it('says it in the runtime language', async function () {
    await deployWithSecrets();
    await setRuntimeLanguage('de');
    try {
      const answer = await testConnection('bpwin-server', bpwinDialog(caller.port), { passphrase: '__PWRD__' }, 'bp');
      assert.match(answer.message, /nur an die gespeicherte Adresse gesendet/);
    } finally {
      await setRuntimeLanguage('en-US');
    }
  });

  it('every test goes to the audit log: type, node, address (without a URL password), outcome, never a secret', async function () {
    await helper.load(
      MODULES,
      [
        { id: 'bp', type: 'bpwin-server', host: '127.0.0.1', port: stored.port, timeout: 1000 },
        { id: 'sf', type: 'sfdaq-broker', fastUrl: `http://127.0.0.1:${caller.port}`, timeout: 1 },
      ],
      { bp: { passphrase: PASSPHRASE } },
    );
    await testConnection('bpwin-server', bpwinDialog(stored.port), { passphrase: '__PWRD__' }, 'bp');
    await testConnection('bpwin-server', bpwinDialog(caller.port), { passphrase: '__PWRD__' }, 'bp');
    await testConnection('sfdaq-broker', { fastUrl: `http://operator:url-secret@127.0.0.1:${caller.port}`, slowUrl: '', timeout: '1' }, {}, 'sf');
    const entries = audited();
    assert.deepEqual(
      entries.map((e) => [e.type, e.id, e.address, e.result, e.storedSecret]),
      [
        ['bpwin-server', 'bp', `127.0.0.1:${stored.port}`, 'failed', true],
        ['bpwin-server', 'bp', `127.0.0.1:${caller.port}`, 'secretNotSent', undefined],
        ['sfdaq-broker', 'sf', `http://operator@127.0.0.1:${caller.port}`, 'ok', false],
      ],
    );
    const text = JSON.stringify(entries);
    for (const secret of [PASSPHRASE, 'url-secret']) assert.ok(!text.includes(secret), `${secret} in the audit log`);
  });

  it('a port range wider than a Test connection tries is refused before anything is dialled', async function () {
    await helper.load(MODULES, [{ id: 'nb', type: 'nebv-server', transport: 'tcp', host: '127.0.0.1', port: '5000', timeout: 2 }]);
    const first = Math.min(caller.port, 65535 - 999);
    const wide = await testConnection(
      'nebv-server',
      { transport: 'tcp', host: '127.0.0.1', port: `${first}-${first + 999}`, timeout: '2' },
      {},
      'nb',
    );
    assert.deepEqual(wide, { ok: false, message: 'Test connection tries at most 16 ports, not 1000: narrow the port range' });
    assert.equal(caller.connections(), 0);
    const narrow = await testConnection(
      'nebv-server',
      { transport: 'tcp', host: '127.0.0.1', port: `${caller.port}-${caller.port + 15}`, timeout: '2' },
      {},
      'nb',
    );
    assert.equal(narrow.ok, true, narrow.message);
    assert.equal(caller.connections(), 1);
  });

  it(`answers at most ${TESTS_PER_NODE} tests per node and minute for one user, then says when to try again without dialling`, async function () {
    await helper.load(MODULES, [{ id: 'nb', type: 'nebv-server', transport: 'tcp', host: '127.0.0.1', port: '5000', timeout: 2 }]);
    const dialog = { transport: 'tcp', host: '127.0.0.1', port: String(caller.port), timeout: '2' };
    for (let i = 0; i < TESTS_PER_NODE; i += 1) assert.equal((await testConnection('nebv-server', dialog, {}, 'nb')).ok, true);
    await waitFor(() => caller.connections() === TESTS_PER_NODE, 3000, 'every allowed test');
    const limited = await testConnection('nebv-server', dialog, {}, 'nb');
    assert.equal(limited.ok, false);
    assert.match(limited.message, /^too many connection tests in a minute: try again in [1-9]\d? s$/);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(caller.connections(), TESTS_PER_NODE, 'the limited test dialled nothing');
    assert.equal(audited().at(-1)!.result, 'limited');
    // Another node of the same user still has its own allowance.
    const other = await testConnection('nebv-server', dialog, {}, 'another');
    assert.equal(other.ok, true, other.message);
  });

  it("the Launcher's port listing for a URL the request names is limited and audited the same way", async function () {
    await helper.load(MODULES, []);
    type Agent = { post(path: string): { send(body: unknown): Promise<{ status: number; body: { error?: string } }> } };
    const list = (): Promise<{ status: number; body: { error?: string } }> =>
      (helper.request() as Agent).post('/propeller-launcher/ports').send({ url: `ws://127.0.0.1:${caller.port}` });
    for (let i = 0; i < TESTS_PER_NODE; i += 1) assert.equal((await list()).status, 502);
    const limited = await list();
    assert.equal(limited.status, 429);
    assert.match(String(limited.body.error), /^too many connection tests in a minute/);
    assert.equal(caller.connections(), TESTS_PER_NODE);
    assert.deepEqual(
      audited().map((e) => e.result),
      [...new Array<string>(TESTS_PER_NODE).fill('failed'), 'limited'],
    );
  });

  it('every config node type refuses a stored secret for another address and audits it', async function () {
    const serial = `/tmp/labwire-no-such-port-${process.pid}`;
    const port = await freePort();
    const cases: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
      ['bpwin-server', { host: '127.0.0.1', port: String(port) }, { host: '127.0.0.1', port: String(caller.port) }],
      [
        'nebv-server',
        { transport: 'tcp', host: '127.0.0.1', port: String(port) },
        { transport: 'tcp', host: '127.0.0.1', port: String(caller.port) },
      ],
      ['propeller-launcher', { url: `ws://127.0.0.1:${port}` }, { url: `ws://127.0.0.1:${caller.port}` }],
      ['propeller-serial', { port: serial }, { port: `${serial}-other` }],
      [
        'semiate-tester',
        { transport: 'websocket', url: `ws://127.0.0.1:${port}/ws` },
        { transport: 'websocket', url: `ws://127.0.0.1:${caller.port}/ws` },
      ],
      ['sfdaq-broker', { fastUrl: `http://127.0.0.1:${port}` }, { fastUrl: `http://127.0.0.1:${caller.port}` }],
    ];
    await helper.load(
      MODULES,
      cases.map(([type, config]) => ({ id: `${type}-1`, type, ...config })),
      Object.fromEntries(cases.map(([type]) => [`${type}-1`, { secret: 'stored-for-this-node' }])),
    );
    for (const [type, , other] of cases) {
      const answer = await testConnection(type, other, { secret: '__PWRD__' }, `${type}-1`);
      assert.match(answer.message, /only sent to the saved address/, type);
    }
    assert.deepEqual(
      audited().map((e) => [e.type, e.result]),
      cases.map(([type]) => [type, 'secretNotSent']),
    );
    assert.equal(caller.connections(), 0);
  });
});
