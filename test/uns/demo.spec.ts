import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { startDemo, type RunningDemo } from '../../src/cli/demo';
import { freePort, getJson } from '../../src/cli/node-red-process';
import { EmbeddedMqttBroker } from '../../src/simulators/mqtt';

const root = path.resolve(__dirname, '..', '..');

/** Wait until a subscriber to `url` has a message on every topic named, and return their payloads. */
async function published(url: string, topics: string[], ms: number): Promise<Map<string, string>> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  const seen = new Map<string, string>();
  try {
    client.on('message', (topic, payload) => seen.set(topic, payload.toString()));
    await client.subscribeAsync('#', { qos: 1 });
    const deadline = Date.now() + ms;
    while (!topics.every((t) => seen.has(t))) {
      if (Date.now() > deadline) throw new Error(`no message on ${topics.filter((t) => !seen.has(t)).join(', ')} within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return seen;
  } finally {
    await client.endAsync();
  }
}

const LINE = 'labwire/lab/floor-1/line-1';
/** One topic of each UNS example, and the edge's birth. */
const TOPICS = [
  `${LINE}/bpwin-1/state`,
  `${LINE}/semiate-1/info`,
  `${LINE}/propeller-launcher-1/metric/ports`,
  `${LINE}/propeller-serial-1/state`,
  `${LINE}/sfdaq-1/state`,
  `${LINE}/nebv-1/metric/marks`,
  'labwire/lab/_edge/edge-1/status',
];

describe('npm start with the Unified Namespace examples', function () {
  this.timeout(180_000);
  let demo: RunningDemo | undefined;
  let userDir: string;

  before(() => {
    execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs'), '--if-needed'], { stdio: 'inherit' });
  });
  beforeEach(() => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'labwire-uns-demo-'));
  });
  afterEach(async () => {
    await demo?.stop();
    demo = undefined;
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('runs an embedded broker on a free loopback port and the examples publish into it', async () => {
    demo = await startDemo({ packageRoot: root, userDir, port: await freePort(), quiet: true });
    const entry = demo.simulators.find((s) => s.name === 'mqtt');
    assert.ok(entry, 'the demo started the embedded broker');
    const url = /mqtt:\/\/127\.0\.0\.1:\d+/.exec(entry.running.endpoints[0] ?? '')?.[0];
    assert.ok(url && !url.endsWith(':1883'), `a free port, not 1883: ${entry.running.endpoints.join()}`);
    const seen = await published(url, TOPICS, 30_000);
    assert.equal(seen.get('labwire/lab/_edge/edge-1/status'), 'online');
    const flows = JSON.parse((await getJson(`${demo.url}/flows`, 10_000)).body) as Array<{
      type: string;
      id: string;
      name?: string;
      clientid?: string;
    }>;
    const brokers = flows.filter((n) => n.type === 'mqtt-broker');
    assert.deepEqual(
      brokers.map((n) => [n.id, n.name, n.clientid]),
      [['labwire-uns-broker', `UNS broker on ${url.slice('mqtt://'.length)}`, 'labwire-uns/labwire/lab/edge-1']],
      'one broker node for all UNS examples, named after where it points, with the client id of this edge',
    );
  });

  it('with MQTT_URL, publishes to that broker instead and starts no embedded one', async () => {
    const site = new EmbeddedMqttBroker();
    await site.start();
    try {
      demo = await startDemo({ packageRoot: root, userDir, port: await freePort(), quiet: true, mqttUrl: site.url });
      assert.deepEqual(
        demo.simulators.filter((s) => s.name === 'mqtt').map((s) => s.running.endpoints[0]),
        [`${site.url} (MQTT broker from MQTT_URL)`],
      );
      await published(site.url, TOPICS, 30_000);
    } finally {
      await demo?.stop();
      demo = undefined;
      await site.stop();
    }
  });
});
