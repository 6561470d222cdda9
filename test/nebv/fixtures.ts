import net from 'node:net';
import { NebvClient, type NebvClientOptions } from '../../src/protocols/nebv/client';

/** A client with quick reconnects, so tests that drop the socket do not wait for the default backoff. */
export function quickClient(target: string, options: Partial<NebvClientOptions> = {}): NebvClient {
  return new NebvClient({ target, timeoutMs: 5000, backoff: { initialMs: 20, maxMs: 200 }, connectTimeoutMs: 2000, ...options });
}

/** A bare TCP server whose behaviour a test scripts: sees every byte received, writes what it is told. */
export interface RawServer {
  port: number;
  received: Buffer[];
  sockets: net.Socket[];
  close(): Promise<void>;
}

export async function rawServer(onData: (socket: net.Socket, chunk: Buffer) => void = () => undefined): Promise<RawServer> {
  const received: Buffer[] = [];
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      onData(socket, chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  return {
    port: address.port,
    received,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Complete JSON objects in a byte stream without a delimiter (the test's own, deliberately naive framer). */
export function requestsIn(data: Buffer): Array<{ id: number; method: string; params: Record<string, unknown> }> {
  const text = data.toString('utf8');
  const out: Array<{ id: number; method: string; params: Record<string, unknown> }> = [];
  let depth = 0;
  let start = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i += 1;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') {
      if (depth === 0) start = i;
      depth += 1;
    } else if (c === '}') {
      depth -= 1;
      if (depth === 0) out.push(JSON.parse(text.slice(start, i + 1)));
    }
  }
  return out;
}

/** `count` consecutive TCP ports on 127.0.0.1 that nothing listens on right now. */
export async function freePortBlock(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const base = 20000 + Math.floor(Math.random() * 30000);
    const servers: net.Server[] = [];
    let ok = true;
    for (let p = base; p < base + count && ok; p += 1) {
      const server = net.createServer();
      ok = await new Promise<boolean>((resolve) => {
        server.once('error', () => resolve(false));
        server.listen(p, '127.0.0.1', () => resolve(true));
      });
      if (ok) servers.push(server);
    }
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    if (ok) return base;
  }
  throw new Error('no block of free ports found');
}

export async function rejectionOf(promise: Promise<unknown>): Promise<Error & { code?: unknown; rpcCode?: number }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { code?: unknown; rpcCode?: number };
  }
  throw new Error('expected the promise to reject, but it resolved');
}
