import net, { type AddressInfo } from 'node:net';

/** CONNACK of MQTT 3.1.1 and 5: session not present, accepted (a 5 client reads no properties as none). */
const CONNACK_V4 = Buffer.from([0x20, 0x02, 0x00, 0x00]);
const CONNACK_V5 = Buffer.from([0x20, 0x03, 0x00, 0x00, 0x00]);

/**
 * A broker that is there and is not: it accepts every TCP connection, then answers the CONNECT
 * late (`lateMs`) on every other connection and never on the others, and after a CONNACK it reads
 * and answers nothing (no SUBACK, no PINGRESP). A client then has a connect timer, a CONNACK timer
 * or a keep-alive running at any moment it may be stopped by a redeploy.
 */
export class SlowMqttBroker {
  private readonly server = net.createServer((socket) => this.accept(socket));
  private readonly sockets = new Set<net.Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private count = 0;
  port = 0;

  constructor(private readonly lateMs = 1500) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Connections accepted so far. */
  get accepted(): number {
    return this.count;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    const late = this.count++ % 2 === 1;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.once('data', (first: Buffer) => {
      if (!late) return;
      // The protocol level is the byte after the "MQTT" name in a CONNECT: 5 wants the longer CONNACK.
      const v5 = first.includes(Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x05]));
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (!socket.destroyed) socket.write(v5 ? CONNACK_V5 : CONNACK_V4);
      }, this.lateMs);
      this.timers.add(timer);
    });
  }
}
