import net from 'node:net';
import { InstrumentError, socketError } from './errors';
import { ReconnectingConnection, type ReconnectOptions } from './reconnecting-connection';

/** Where to connect: a TCP host with one or more candidate ports (tried in order), or a Unix socket path. */
export type SocketTarget = { kind: 'tcp'; host: string; ports: number[] } | { kind: 'unix'; path: string };

export interface TcpConnectionOptions extends ReconnectOptions {
  target: SocketTarget;
}

export type TcpEvents = {
  data: [Buffer];
};

/**
 * Parses "host:port", "host:port-portmax", ":port" or a Unix path ("/run/x.sock", "unix:/run/x.sock").
 * Throws a clear error naming the rule broken.
 */
export function parseSocketTarget(text: string, defaultHost = '127.0.0.1'): SocketTarget {
  const value = text.trim();
  if (value === '')
    throw new InstrumentError('BAD_INPUT', 'an address is required: host:port, host:port-portmax or a Unix socket path', {
      reason: 'addressRequired',
    });
  if (value.startsWith('unix:')) return { kind: 'unix', path: value.slice(5) };
  if (value.startsWith('/') || value.startsWith('./')) return { kind: 'unix', path: value };
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)(?:-(\d+))?$/.exec(value);
  if (!match)
    throw new InstrumentError('BAD_INPUT', `"${value}" is not host:port, host:port-portmax or a Unix socket path`, {
      reason: 'addressInvalid',
      address: value,
    });
  const host = match[1] ?? (match[2] || defaultHost);
  const first = Number(match[3]);
  const last = match[4] === undefined ? first : Number(match[4]);
  return { kind: 'tcp', host, ports: portRange(first, last) };
}

export function portRange(first: number, last: number): number[] {
  const valid = (p: number): boolean => Number.isInteger(p) && p > 0 && p < 65536;
  if (!valid(first) || !valid(last))
    throw new InstrumentError('BAD_INPUT', `ports must be whole numbers from 1 to 65535 (got ${first}-${last})`, {
      reason: 'portsInvalid',
      first,
      last,
    });
  if (last < first)
    throw new InstrumentError('BAD_INPUT', `port range ${first}-${last} ends before it starts`, { reason: 'portRangeReversed', first, last });
  if (last - first > 1000)
    throw new InstrumentError('BAD_INPUT', `port range ${first}-${last} is wider than 1000 ports`, { reason: 'portRangeTooWide', first, last });
  const ports: number[] = [];
  for (let p = first; p <= last; p += 1) ports.push(p);
  return ports;
}

export function describeTarget(target: SocketTarget): string {
  if (target.kind === 'unix') return `unix:${target.path}`;
  const [first] = target.ports;
  const last = target.ports[target.ports.length - 1];
  return first === last ? `${target.host}:${first}` : `${target.host}:${first}-${last}`;
}

/** A reconnecting byte stream over TCP or a Unix socket. With a port range, the first port that accepts wins. */
export class TcpConnection<Extra extends Record<keyof Extra, unknown[]> = Record<never, never>> extends ReconnectingConnection<TcpEvents & Extra> {
  protected socket: net.Socket | undefined;
  /** A socket still dialling; hangUp() destroys it, so a connect that times out cannot be adopted later by nobody. */
  private dialling: net.Socket | undefined;
  protected readonly target: SocketTarget;
  /** The port that accepted, for messages and status. */
  connectedPort: number | undefined;

  constructor(options: TcpConnectionOptions) {
    super(options);
    this.target = options.target;
  }

  get endpoint(): string {
    if (this.target.kind === 'tcp' && this.connectedPort !== undefined) return `${this.target.host}:${this.connectedPort}`;
    return describeTarget(this.target);
  }

  /** Write bytes; throws a clear error when not connected. */
  write(data: Buffer | string): void {
    const socket = this.socket;
    if (!socket || !this.isConnected || socket.destroyed)
      throw new InstrumentError('DISCONNECTED', `not connected to ${this.endpoint}`, { reason: 'notConnected', where: this.endpoint });
    socket.write(data);
  }

  protected async dial(): Promise<void> {
    if (this.target.kind === 'unix') {
      this.adopt(await openSocket({ path: this.target.path }, `unix:${this.target.path}`, (s) => (this.dialling = s)));
      return;
    }
    // Each failure names its own address once ("host:port: connection refused"); a range lists the ports.
    const failures: Array<{ port: number; error: InstrumentError }> = [];
    for (const port of this.target.ports) {
      try {
        const socket = await openSocket({ host: this.target.host, port }, `${this.target.host}:${port}`, (s) => (this.dialling = s));
        this.connectedPort = port;
        this.adopt(socket);
        return;
      } catch (err) {
        failures.push({ port, error: err instanceof InstrumentError ? err : new InstrumentError('CONNECT_FAILED', String(err)) });
      }
    }
    if (failures.length === 1) throw failures[0]!.error;
    // socketError puts the failure in words in the cause: "<port>: connection refused", not the address again.
    const listed = failures.slice(0, 3).map(({ port, error }) => `${port}: ${error.cause instanceof Error ? error.cause.message : error.message}`);
    const where = describeTarget(this.target);
    const failed = `${listed.join('; ')}${failures.length > 3 ? '; …' : ''}`;
    throw new InstrumentError('CONNECT_FAILED', `no port in ${where} accepted (${failed})`, { reason: 'noPortAccepted', where, failed });
  }

  private adopt(socket: net.Socket): void {
    this.dialling = undefined;
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    socket.on('data', (chunk: Buffer) => (this as unknown as { emit(n: 'data', c: Buffer): boolean }).emit('data', chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.lost(new InstrumentError('DISCONNECTED', `${this.endpoint} closed the connection`, { reason: 'peerClosedTcp', where: this.endpoint }));
    });
  }

  protected hangUp(): void {
    this.dialling?.destroy();
    this.dialling = undefined;
    const socket = this.socket;
    this.socket = undefined;
    if (socket) {
      socket.removeAllListeners('data');
      socket.destroy();
    }
  }
}

function openSocket(options: net.NetConnectOpts, label: string, created: (socket: net.Socket) => void): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(options);
    created(socket);
    socket.once('close', () =>
      reject(new InstrumentError('CONNECT_FAILED', `${label}: closed while connecting`, { reason: 'closedWhileConnecting', where: label })),
    );
    const onError = (err: Error): void => {
      socket.destroy();
      reject(socketError('CONNECT_FAILED', label, err));
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}
