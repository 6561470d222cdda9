import assert from 'node:assert/strict';
import net, { type AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import type { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { createAedes } from '../../src/simulators/mqtt';
import { covers } from '../../src/simulators/mqtt-retained-order';
import { waitFor } from '../helpers/wait-for';

interface RetainedStore {
  createRetainedStreamCombi(patterns: string[]): Readable;
}

/**
 * Aedes reads a subscriber's stored retained messages ahead of sending them; this holds what it read
 * until the test releases it, so a live publish falls between reading and sending every time.
 */
function holdStoredRetained(broker: Aedes): { read: Promise<void>; release: () => void } {
  const store = (broker as unknown as { persistence: RetainedStore }).persistence;
  const original = store.createRetainedStreamCombi.bind(store);
  let read = (): void => undefined;
  let release = (): void => undefined;
  const wasRead = new Promise<void>((resolve) => (read = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  store.createRetainedStreamCombi = (patterns) =>
    Readable.from(
      (async function* () {
        const packets: unknown[] = await original(patterns).toArray();
        read();
        await released;
        yield* packets;
      })(),
    );
  return { read: wasRead, release };
}

interface Received {
  topic: string;
  payload: string;
  retain: boolean;
}

describe('the embedded MQTT broker: stored retained messages and live ones', function () {
  let broker: Aedes;
  let server: net.Server;
  let url: string;
  const clients: MqttClient[] = [];

  beforeEach(async function () {
    broker = await createAedes();
    server = net.createServer((socket) => broker.handle(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async function () {
    await Promise.all(clients.splice(0).map((client) => client.endAsync(true)));
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function connect(): Promise<MqttClient> {
    const client = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
    clients.push(client);
    return client;
  }

  it('a stored "offline" read before a live "online" does not reach the subscriber after it', async function () {
    const edge = await connect();
    await edge.publishAsync('site/_edge/b/status', 'offline', { qos: 1, retain: true });
    // Stored after the status, so sent after it: once it is in, the stored status had its turn.
    await edge.publishAsync('site/marker', 'stored', { qos: 1, retain: true });
    const hold = holdStoredRetained(broker);

    const overview = await connect();
    const received: Received[] = [];
    overview.on('message', (topic, payload, packet) => received.push({ topic, payload: payload.toString(), retain: packet.retain }));
    const statuses = (): string[] => received.filter((m) => m.topic === 'site/_edge/b/status').map((m) => m.payload);
    await overview.subscribeAsync('site/#', { qos: 1 });
    await hold.read;
    await edge.publishAsync('site/_edge/b/status', 'online', { qos: 1, retain: true });
    await waitFor(() => statuses().includes('online'), 5000, 'the live "online"');
    hold.release();
    await waitFor(() => received.some((m) => m.topic === 'site/marker'), 5000, 'the stored marker');
    assert.deepEqual(statuses(), ['online'], 'the stale stored status was dropped');
    assert.ok(received.find((m) => m.topic === 'site/marker')?.retain, 'other stored messages still come, marked retained');

    // A new SUBSCRIBE gets the stored messages again, this topic included.
    received.length = 0;
    await overview.unsubscribeAsync('site/#');
    await overview.subscribeAsync('site/#', { qos: 1 });
    await waitFor(() => received.some((m) => m.topic === 'site/marker'), 5000, 'the stored marker again');
    assert.deepEqual(
      received.filter((m) => m.topic === 'site/_edge/b/status'),
      [{ topic: 'site/_edge/b/status', payload: 'online', retain: true }],
    );
  });

  it('topic filters cover topics as MQTT matches them', function () {
    assert.ok(covers('site/#', 'site'));
    assert.ok(covers('site/#', 'site/a/b'));
    assert.ok(covers('site/+/status', 'site/a/status'));
    assert.ok(!covers('site/+/status', 'site/a/b/status'));
    assert.ok(!covers('site/a', 'site/b'));
    assert.ok(!covers('site/a', 'site/a/b'));
    assert.ok(covers('#', 'anything/at/all'));
  });
});
