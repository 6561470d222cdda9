import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { freePort, prepareUserDir, startNodeRed, type NodeRedProcess } from '../../src/cli/node-red-process';
import { waitFor } from '../helpers/red';

const root = path.resolve(__dirname, '..', '..');

interface Seen {
  statuses: Map<string, string>;
  debug: string[];
}

/** What the editor sees: node statuses and debug messages over Node-RED's /comms websocket. */
function watch(url: string): { seen: Seen; close(): void } {
  const seen: Seen = { statuses: new Map(), debug: [] };
  const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/comms`);
  socket.on('open', () => {
    socket.send(JSON.stringify({ subscribe: 'status/#' }));
    socket.send(JSON.stringify({ subscribe: 'debug' }));
  });
  socket.on('message', (data) => {
    const parsed = JSON.parse(data.toString()) as unknown;
    for (const item of (Array.isArray(parsed) ? parsed : [parsed]) as Array<{ topic: string; data: Record<string, unknown> }>) {
      if (item.topic.startsWith('status/') && typeof item.data.text === 'string') seen.statuses.set(item.topic.slice(7), item.data.text);
      if (item.topic === 'debug') seen.debug.push(String(item.data.msg));
    }
  });
  return { seen, close: () => socket.close() };
}

/**
 * Each text from another catalog: a user node without its config (shared texts, looked up by full
 * namespace in another type's catalog), a connection that cannot connect (Node-RED's own status
 * words), and a request error (the node type's own catalog).
 */
function flow(deadPort: number): Array<Record<string, unknown>> {
  return [
    { id: 'tab', type: 'tab', label: 'languages' },
    { id: 'srv', type: 'bpwin-server', host: '127.0.0.1', port: String(deadPort), timeout: 500, reconnectMin: 60_000, reconnectMax: 60_000 },
    { id: 'ports', type: 'propeller-ports', z: 'tab', x: 300, y: 100, connectionType: 'launcher', launcher: '', wires: [[]] },
    { id: 'events', type: 'bpwin-events', z: 'tab', x: 300, y: 200, server: 'srv', wires: [[]] },
    { id: 'req', type: 'bpwin-request', z: 'tab', x: 300, y: 300, server: 'srv', endpoint: 'version', wires: [[]] },
    { id: 'go', type: 'inject', z: 'tab', x: 100, y: 100, once: true, onceDelay: 0.5, repeat: '', wires: [['ports', 'req']] },
    { id: 'catch', type: 'catch', z: 'tab', x: 100, y: 400, scope: null, uncaught: false, wires: [['debug']] },
    { id: 'debug', type: 'debug', z: 'tab', x: 300, y: 400, active: true, tosidebar: true, complete: 'error.message', targetType: 'msg' },
  ];
}

describe('runtime texts in a real Node-RED, in the runtime’s language', function () {
  this.timeout(120_000);
  let userDir: string;
  let nodeRed: NodeRedProcess | undefined;

  before(() => {
    execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs'), '--if-needed'], { stdio: 'inherit' });
  });

  afterEach(async () => {
    await nodeRed?.stop();
    nodeRed = undefined;
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  async function run(locale: string): Promise<Seen> {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'labwire-lang-'));
    prepareUserDir(userDir, root);
    fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flow(await freePort())));
    nodeRed = await startNodeRed(userDir, await freePort(), { quiet: true, env: { LC_ALL: locale, LC_MESSAGES: locale, LANG: locale } });
    const comms = watch(nodeRed.url);
    try {
      const { seen } = comms;
      await waitFor(
        () => seen.statuses.size >= 3 && seen.debug.length >= 2,
        20_000,
        `statuses and caught errors (${JSON.stringify([...seen.statuses])})`,
      );
      return seen;
    } finally {
      comms.close();
    }
  }

  it('German (LANG=de_DE.UTF-8): shared, Node-RED and own texts', async () => {
    const seen = await run('de_DE.UTF-8');
    assert.equal(seen.statuses.get('ports'), 'nicht konfiguriert');
    assert.match(seen.statuses.get('events')!, /^(Verbindung wird hergestellt|neuer Versuch in \d+ s)$/);
    await waitFor(() => seen.statuses.get('req') === 'nicht erreichbar', 10_000, 'the request status');
    assert.ok(
      seen.debug.some((text) => text.includes('keine propeller-launcher-Konfiguration gewählt')),
      seen.debug.join('\n'),
    );
    assert.ok(
      seen.debug.some((text) => text.includes('Verbindung abgelehnt')),
      seen.debug.join('\n'),
    );
  });

  it('English (LANG=en_US.UTF-8): the same nodes in en-US', async () => {
    const seen = await run('en_US.UTF-8');
    assert.equal(seen.statuses.get('ports'), 'not configured');
    assert.match(seen.statuses.get('events')!, /^(connecting|reconnecting in \d+ s)$/);
    await waitFor(() => seen.statuses.get('req') === 'unreachable', 10_000, 'the request status');
    assert.ok(
      seen.debug.some((text) => text.includes('no propeller-launcher configuration is chosen')),
      seen.debug.join('\n'),
    );
    assert.ok(
      seen.debug.some((text) => text.includes('connection refused')),
      seen.debug.join('\n'),
    );
  });
});
