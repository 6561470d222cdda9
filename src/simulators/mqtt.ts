import net, { type AddressInfo } from 'node:net';
import type { Aedes } from 'aedes';
import { retainedOrderHooks } from './mqtt-retained-order';
import type { FlowConfigNode, RunningSimulator, SimulatorDefinition, SimulatorStartOptions } from './simulator';

/** The Aedes instance the embedded broker runs: on the given store (what restart() hands on) or a new one. */
export async function createAedes(persistence?: unknown): Promise<Aedes> {
  const { Aedes } = await import('aedes');
  return Aedes.createBroker({ ...retainedOrderHooks(), ...(persistence ? { persistence } : {}) });
}

/**
 * An MQTT broker (Aedes) for the Unified Namespace examples, so they run on a machine without one.
 * Retained messages and wills live in the broker's persistence, which restart() hands to the new
 * broker: like mosquitto with persistence on, a restarted broker still holds what the edges published.
 */
export class EmbeddedMqttBroker {
  readonly host: string;
  port: number;
  private broker: Aedes | undefined;
  /** Retained messages, wills and sessions: handed from one broker to the next by restart(). */
  private persistence: unknown;
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly log: (line: string) => void;

  constructor(options: { host?: string; port?: number; log?: (line: string) => void } = {}) {
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port ?? 0;
    this.log = options.log ?? ((): void => undefined);
  }

  get url(): string {
    return `mqtt://${this.host}:${this.port}`;
  }

  /** Clients connected now. */
  get clients(): number {
    return this.broker?.connectedClients ?? 0;
  }

  /** Listen (again, on the same port and with the same retained messages after a stop). */
  async start(): Promise<void> {
    if (this.server) return;
    const broker = await createAedes(this.persistence);
    this.persistence = (broker as unknown as { persistence: unknown }).persistence;
    broker.on('client', (client) => this.log(`client ${client.id} connected`));
    broker.on('clientDisconnect', (client) => this.log(`client ${client.id} disconnected`));
    const server = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      broker.handle(socket);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.port, this.host, () => resolve());
      });
    } catch (err) {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      throw err;
    }
    this.port = (server.address() as AddressInfo).port;
    this.broker = broker;
    this.server = server;
  }

  /** Stop listening and drop every client; their wills are published and kept as retained messages. */
  async stop(): Promise<void> {
    const { broker, server } = this;
    this.broker = undefined;
    this.server = undefined;
    if (broker) {
      const willsStored = willsPublished(broker);
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await willsStored;
    }
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** A broker restart as clients see it: every connection drops, the retained messages stay. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** A broker that lost its store (crash without persistence): same port, nothing retained. */
  async restartEmpty(): Promise<void> {
    await this.stop();
    this.persistence = undefined;
    await this.start();
  }
}

/** What Aedes keeps of a connected client (not in its typings): the will it publishes when the client drops. */
interface ClientWithWill {
  will?: { topic: string } | null;
}

/** How long a closing broker may take to store the wills of the clients it drops. */
const WILLS_STORED_WITHIN_MS = 2000;

/**
 * Resolves once the broker has published (and stored, if retained) the wills of every client it has now.
 * Aedes calls back from close() before those publishes finish; a broker restarted on the same store must
 * wait for them, or a will stored late overwrites what its client published after reconnecting.
 */
function willsPublished(broker: Aedes): Promise<void> {
  const waiting = new Map<string, number>();
  for (const client of Object.values((broker as unknown as { clients: Record<string, ClientWithWill> }).clients)) {
    if (client.will) waiting.set(client.will.topic, (waiting.get(client.will.topic) ?? 0) + 1);
  }
  if (waiting.size === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      broker.off('publish', onPublish);
      resolve();
    };
    const onPublish = (packet: { topic: string }): void => {
      const left = (waiting.get(packet.topic) ?? 0) - 1;
      if (left > 0) waiting.set(packet.topic, left);
      else waiting.delete(packet.topic);
      if (waiting.size === 0) done();
    };
    const timer = setTimeout(done, WILLS_STORED_WITHIN_MS);
    broker.on('publish', onPublish);
  });
}

/** What the demo and `labwire-sim` hold of a started broker; tests wrap their own instance the same way. */
export function runningBroker(broker: EmbeddedMqttBroker): RunningSimulator {
  return {
    endpoints: [`${broker.url} (MQTT broker for the Unified Namespace examples)`],
    configure(node: FlowConfigNode) {
      if (node.type !== 'mqtt-broker') return undefined;
      node.broker = broker.host;
      node.port = broker.port;
      node.usetls = false;
      return {};
    },
    close: () => broker.stop(),
  };
}

export const simulator: SimulatorDefinition = {
  name: 'mqtt',
  summary: 'MQTT broker (Aedes) for the Unified Namespace examples',
  async start(options: SimulatorStartOptions): Promise<RunningSimulator> {
    const broker = new EmbeddedMqttBroker({ host: options.host, port: options.port, log: options.log });
    await broker.start();
    return runningBroker(broker);
  },
};
