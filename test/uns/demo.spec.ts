import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { startDemo, type RunningDemo } from '../../src/cli/demo';
import { freePort, getJson, requestJson } from '../../src/cli/node-red-process';
import { EmbeddedMqttBroker } from '../../src/simulators/mqtt';
import { waitFor } from '../helpers/wait-for';
import { flowContext } from './edges';

const root = path.resolve(__dirname, '..', '..');

/**
 * Wait until a subscriber to `url` has a message on every topic named, and return their payloads.
 * `then` runs once it subscribed (to cause a message that is not retained).
 */
async function published(url: string, topics: string[], ms: number, then?: () => Promise<void>): Promise<Map<string, string>> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  const seen = new Map<string, string>();
  try {
    client.on('message', (topic, payload) => seen.set(topic, payload.toString()));
    await client.subscribeAsync('#', { qos: 1 });
    await then?.();
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
/** Every instrument the demo's UNS examples publish. */
const INSTRUMENTS = ['bpwin-1', 'semiate-1', 'propeller-launcher-1', 'propeller-serial-1', 'sfdaq-1', 'nebv-1'];
interface OverviewRow {
  line: string;
  instrument: string;
  online: boolean | null;
  event: string;
}
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
      label?: string;
      clientid?: string;
    }>;
    const brokers = flows.filter((n) => n.type === 'mqtt-broker');
    assert.deepEqual(
      brokers.map((n) => [n.id, n.name, n.clientid]),
      [['labwire-uns-broker', `UNS broker on ${url.slice('mqtt://'.length)}`, '']],
      'one broker node for all UNS examples, named after where it points (no fixed client id unless UNS_EDGE is set)',
    );

    // One view: the line overview lists every instrument of the demo, its edge online.
    const overview = flows.find((n) => n.type === 'tab' && n.label === 'UNS: line overview');
    assert.ok(overview, 'the line overview tab');
    let rows: OverviewRow[] = [];
    const lookAtOverview = async (): Promise<OverviewRow[]> => {
      rows = ((await flowContext(demo!.url, overview.id, 'line')) as OverviewRow[] | undefined) ?? [];
      return rows;
    };
    await waitFor(
      async () => {
        const now = await lookAtOverview();
        return INSTRUMENTS.every((name) => now.some((r) => r.instrument === name && r.online === true));
      },
      30_000,
      'all six instruments online in the overview',
    ).catch((err: Error) => assert.fail(`${err.message}; it shows ${JSON.stringify(rows.map((r) => [r.instrument, r.online]))}`));
    assert.deepEqual(rows.map((r) => `${r.line}/${r.instrument}`).sort(), INSTRUMENTS.map((name) => `floor-1/line-1/${name}`).sort());

    // A load in the demo reaches the tree, and the overview.
    const press = flows.find((n) => n.type === 'inject' && n.name === 'load both boards');
    assert.ok(press, 'the load button of UNS example 03');
    const loads = [`${LINE}/propeller-launcher-1/event/load`, `${LINE}/propeller-serial-1/event/load`];
    const loaded = await published(url, loads, 30_000, async () => {
      assert.equal((await requestJson('POST', `${demo!.url}/inject/${press.id}`, {})).status, 200);
    });
    for (const topic of loads) assert.equal((JSON.parse(loaded.get(topic)!) as { outcome: string }).outcome, 'ok', `${topic}: ${loaded.get(topic)}`);
    await waitFor(
      async () => (await lookAtOverview()).filter((r) => r.event === 'load ok').length === 2,
      10_000,
      'both boards with the load as their last event in the overview',
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
