import assert from 'node:assert/strict';
import fs from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort, prepareUserDir, requestJson, startNodeRed, type NodeRedProcess } from '../../src/cli/node-red-process';
import { waitFor } from '../helpers/wait-for';

const root = path.resolve(__dirname, '..', '..');
/** mqtt.js gives up waiting for CONNACK after the tester's connect timeout (10 s); its timer must find a listener. */
const CONNACK_DEADLINE_MS = 10_000;
const REDEPLOYS = 100;

/**
 * A broker that accepts the TCP connection and reads CONNECT, then answers CONNACK only after
 * `delayMs` (never when undefined): a slow or stuck broker. Nothing after CONNACK is answered.
 */
async function slowBroker(delayMs: number | undefined): Promise<{ url: string; connections: () => number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.once('data', () => {
      if (delayMs === undefined) return;
      const timer = setTimeout(() => {
        if (!socket.destroyed) socket.write(Buffer.from([0x20, 0x02, 0x00, 0x00]));
      }, delayMs);
      socket.once('close', () => clearTimeout(timer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Every Semi-ATE node on one MQTT tester; `generation` renames the tester so each deploy is a change. */
function flow(broker: string, generation: number): Array<Record<string, unknown>> {
  return [
    { id: 'rd-tab', type: 'tab', label: 'redeploys' },
    { id: 'rd-tester', type: 'semiate-tester', name: `slow broker ${generation}`, transport: 'mqtt', broker, deviceId: 'SLOW-1', tls: false },
    { id: 'rd-status', type: 'semiate-status', z: 'rd-tab', tester: 'rd-tester', x: 150, y: 60, wires: [[]] },
    { id: 'rd-results', type: 'semiate-results', z: 'rd-tab', tester: 'rd-tester', x: 150, y: 120, wires: [[]] },
    { id: 'rd-command', type: 'semiate-command', z: 'rd-tab', tester: 'rd-tester', command: 'get-state', version: 1, x: 150, y: 180, wires: [[]] },
  ];
}

/**
 * Redeploying a Semi-ATE MQTT tester while its broker is slow: each deploy stops a client whose
 * CONNACK timer still runs. Node-RED as a user runs it (its own process, deploys through the
 * admin API) must live through them, with no uncaught error in its log.
 */
describe('Semi-ATE MQTT tester redeployed against a slow broker (a real Node-RED process)', function () {
  this.timeout(180_000);
  let userDir: string;
  let nodeRed: NodeRedProcess | undefined;

  beforeEach(async () => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'semiate-redeploy-'));
    prepareUserDir(userDir, root, { semiateTesterReconnectTime: 200 });
    nodeRed = await startNodeRed(userDir, await freePort(), { quiet: true });
  });

  afterEach(async () => {
    await nodeRed?.stop();
    nodeRed = undefined;
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  for (const [label, delayMs] of [
    ['that never answers CONNACK', undefined],
    ['that answers CONNACK late (0.3 s)', 300],
  ] as const) {
    it(`${REDEPLOYS} redeploys, broker ${label}: Node-RED lives, no uncaught error`, async () => {
      const broker = await slowBroker(delayMs);
      const running = nodeRed!;
      try {
        for (let i = 0; i < REDEPLOYS; i += 1) {
          const before = broker.connections();
          const deployed = await requestJson('POST', `${running.url}/flows`, flow(broker.url, i), { 'Node-RED-Deployment-Type': 'full' });
          assert.equal(deployed.status, 204, `deploy ${i + 1}: HTTP ${deployed.status} ${deployed.body}`);
          // Every few deploys, stop only once this deployment's client is at the broker (its CONNACK timer running).
          if (i % 5 === 0) await waitFor(() => broker.connections() > before, 10_000, `the client of deploy ${i + 1} at the broker`);
          assert.equal(running.child.exitCode, null, `Node-RED exited during deploy ${i + 1}:\n${running.output().slice(-3000)}`);
        }
        // Past every CONNACK deadline of the stopped clients.
        const lastDeploy = Date.now();
        await waitFor(() => Date.now() - lastDeploy > CONNACK_DEADLINE_MS + 2000, CONNACK_DEADLINE_MS + 5000, 'every CONNACK deadline to pass');
        assert.equal(running.child.exitCode, null, `Node-RED exited:\n${running.output().slice(-3000)}`);
        const answer = await requestJson('POST', `${running.url}/flows`, flow(broker.url, REDEPLOYS), { 'Node-RED-Deployment-Type': 'full' });
        assert.equal(answer.status, 204, 'Node-RED still deploys');
        const uncaught = running
          .output()
          .split('\n')
          .filter((line) => /uncaught|unhandled/i.test(line));
        assert.deepEqual(uncaught, [], 'no uncaught error in the log');
      } finally {
        await broker.close();
      }
    });
  }
});
