import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

/** One raw HTTP exchange (not through the client), for proving what the simulator does on its own. */
export function rawRequest(
  url: string,
  method: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method,
        headers: {
          ...(body !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) } : {}),
          ...headers,
        },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The bytes of a reply as they came off the socket (status line included). */
export function rawExchange(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
  });
}

/** A server that answers every request with the same reply, for shapes the simulator never sends. */
export async function fixedServer(
  status: number,
  contentType: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((_req, res) => {
    res.writeHead(status, { 'Content-Type': contentType, Connection: 'close', ...headers });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A valid value for each parameter type (for building otherwise-valid calls). */
export const SAMPLE: Record<string, unknown> = {
  string: 'p17502',
  integer: 1,
  number: 1.5,
  boolean: true,
  object: { delay: 0.00088 },
  'string[]': ['ELCOMAT:X'],
  'integer[]': [0],
  detectors: { JF02T09V03: {} },
  'detectors-or-list': { JF02T09V03: {} },
};
