import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { asThisEdge, brokerFromUrl } from '../../src/cli/uns-broker';
import { loadSimulators } from '../../src/simulators';
import { EmbeddedMqttBroker } from '../../src/simulators/mqtt';
import type { FlowConfigNode } from '../../src/simulators/simulator';
import { waitFor } from '../helpers/wait-for';

/** The retained messages a new subscriber gets for `filter`, after a quiet half second. */
async function retained(url: string, filter: string): Promise<Map<string, string>> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  const seen = new Map<string, string>();
  client.on('message', (topic, payload, packet) => {
    if (packet.retain) seen.set(topic, payload.toString());
  });
  await client.subscribeAsync(filter, { qos: 1 });
  await new Promise((r) => setTimeout(r, 500));
  await client.endAsync();
  return seen;
}

const brokerNode = (): FlowConfigNode => ({
  id: 'labwire-uns-broker',
  type: 'mqtt-broker',
  name: 'UNS broker on localhost:1883',
  broker: 'localhost',
  port: 1883,
});

describe('the embedded MQTT broker (labwire-sim mqtt)', function () {
  this.timeout(20_000);
  let broker: EmbeddedMqttBroker;

  beforeEach(async () => {
    broker = new EmbeddedMqttBroker();
    await broker.start();
  });
  afterEach(() => broker.stop());

  it('keeps retained messages across restart(), on the same port', async () => {
    const port = broker.port;
    const client = await mqtt.connectAsync(broker.url);
    await client.publishAsync('site/line/a/state', '{"state":"testing"}', { qos: 1, retain: true });
    await client.endAsync();
    await broker.restart();
    assert.equal(broker.port, port);
    assert.equal((await retained(broker.url, 'site/#')).get('site/line/a/state'), '{"state":"testing"}');
  });

  it('keeps the last will of a client that was connected when it stopped', async () => {
    const client = await mqtt.connectAsync(broker.url, {
      will: { topic: 'site/_edge/e/status', payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    await client.publishAsync('site/_edge/e/status', 'online', { qos: 1, retain: true });
    await broker.restart();
    client.end(true);
    assert.equal((await retained(broker.url, 'site/#')).get('site/_edge/e/status'), 'offline');
  });

  it('forgets everything on restartEmpty(), as a broker without persistence after a crash', async () => {
    const client = await mqtt.connectAsync(broker.url);
    await client.publishAsync('site/line/a/state', 'x', { qos: 1, retain: true });
    await client.endAsync();
    await broker.restartEmpty();
    assert.equal((await retained(broker.url, 'site/#')).size, 0);
  });

  it('lets two edges with their own client ids stay connected side by side, and ends the old connection of one that comes back', async () => {
    const idOf = (edge: string): string => {
      const node = brokerNode();
      asThisEdge(brokerFromUrl(broker.url), { UNS_EDGE: edge }).configure(node);
      return String(node.clientid);
    };
    const connect = (edge: string): Promise<mqtt.MqttClient> => mqtt.connectAsync(broker.url, { clientId: idOf(edge), reconnectPeriod: 0 });
    const [a, b] = await Promise.all([connect('edge-a'), connect('edge-b')]);
    const closed: string[] = [];
    a.on('close', () => closed.push('old edge-a'));
    b.on('close', () => closed.push('edge-b'));
    const again = await connect('edge-a');
    await waitFor(() => closed.length > 0, 5000, 'the broker to end the old connection');
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(closed, ['old edge-a']);
    assert.ok(b.connected && again.connected);
    await Promise.all([b.endAsync(), again.endAsync(), a.endAsync(true)]);
  });

  it('is a simulator entry: `labwire-sim mqtt` and the demo start it and point MQTT broker nodes, only those, at it', async () => {
    const definition = loadSimulators().find((s) => s.name === 'mqtt');
    assert.ok(definition, 'labwire-sim lists mqtt');
    const running = await definition.start({ host: '127.0.0.1', port: 0 });
    try {
      const node = brokerNode();
      assert.deepEqual(running.configure(node), {});
      assert.equal(node.broker, '127.0.0.1');
      assert.ok(Number(node.port) > 0 && node.port !== 1883);
      assert.equal(running.configure({ id: 'x', type: 'semiate-tester', broker: 'mqtt://127.0.0.1:1883' }), undefined);
      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${String(node.port)}`, { reconnectPeriod: 0 });
      await client.endAsync();
    } finally {
      await running.close();
    }
  });
});

describe('MQTT_URL: the demo on a broker of your own', () => {
  it('points the MQTT broker node at the URL, with its user and password in the credentials only', () => {
    const own = brokerFromUrl('mqtt://line%40lab:s3cr%3At@broker.example:1884');
    const node = brokerNode();
    assert.deepEqual(own.configure(node), { credentials: { user: 'line@lab', password: 's3cr:t' } });
    assert.equal(node.broker, 'mqtt://broker.example:1884');
    assert.doesNotMatch(JSON.stringify(node), /s3cr/);
    assert.doesNotMatch(own.endpoints.join(' '), /s3cr|line/);
    assert.equal(own.configure({ id: 'b', type: 'bpwin-server' }), undefined);
  });

  it('keeps a websocket path and gives no credentials when the URL has none', () => {
    const node = brokerNode();
    assert.deepEqual(brokerFromUrl('wss://broker.example/mqtt').configure(node), {});
    assert.equal(node.broker, 'wss://broker.example/mqtt');
  });

  it('refuses what is not a broker URL, saying how to write one and without repeating a password', () => {
    assert.throws(() => brokerFromUrl('broker.example:1883'), /MQTT_URL must start with mqtt:\/\/.*e\.g\. mqtt:\/\/host:1883/);
    assert.throws(
      () => brokerFromUrl('http://broker.example'),
      /must start with mqtt:\/\/, mqtts:\/\/, ws:\/\/ or wss:\/\/ \(it starts with http:\/\/\)/,
    );
    assert.throws(
      () => brokerFromUrl('mqtt://user:hunter2@'),
      (err: Error) => !err.message.includes('hunter2') && /MQTT_URL/.test(err.message),
    );
  });

  it('makes the broker node speak for this edge: birth, close and will topic from UNS_PREFIX and UNS_EDGE', () => {
    const node = brokerNode();
    asThisEdge(brokerFromUrl('mqtt://broker.example'), { UNS_PREFIX: 'acme/plant-2', UNS_EDGE: 'bench-2' }).configure(node);
    assert.deepEqual([node.birthTopic, node.closeTopic, node.willTopic], Array(3).fill('acme/plant-2/_edge/bench-2/status'));
    const plain = brokerNode();
    asThisEdge(brokerFromUrl('mqtt://broker.example'), {}).configure(plain);
    assert.equal(plain.willTopic, 'labwire/lab/_edge/edge-1/status', 'the defaults of the example flows');
  });

  it('gives the broker node a client id of its own per edge: fixed across restarts, different for another edge or site', () => {
    const idOf = (env: NodeJS.ProcessEnv): unknown => {
      const node = brokerNode();
      asThisEdge(brokerFromUrl('mqtt://broker.example'), env).configure(node);
      return node.clientid;
    };
    assert.equal(idOf({}) ?? '', '', 'no fixed id for the default edge: two demos left at it must not take turns on a shared broker');
    assert.equal(idOf({ UNS_PREFIX: 'acme/plant-2', UNS_EDGE: 'bench-2' }), 'labwire-uns/acme/plant-2/bench-2');
    assert.equal(idOf({ UNS_EDGE: 'bench-2' }), idOf({ UNS_EDGE: 'bench-2' }), 'the same after a restart');
    const ids = [{ UNS_EDGE: 'edge-a' }, { UNS_EDGE: 'edge-b' }, { UNS_PREFIX: 'acme/plant-2', UNS_EDGE: 'edge-a' }].map(idOf);
    assert.equal(new Set(ids).size, 3, `distinct ids: ${ids.join(', ')}`);
  });
});
