import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { InstrumentError } from '../../src/protocols/common/errors';
import type { ConnectionStatus } from '../../src/protocols/common/reconnecting-connection';
import { TcpConnection, parseSocketTarget, describeTarget } from '../../src/protocols/common/tcp-connection';
import { WebSocketConnection } from '../../src/protocols/common/websocket-connection';
import { waitFor } from '../helpers/red';

const fast = { backoff: { initialMs: 20, maxMs: 80, jitter: 0 }, connectTimeoutMs: 1000, handshakeTimeoutMs: 1000 };

function listenWs(port = 0): Promise<WebSocketServer> {
  return new Promise((resolve) => {
    const server: WebSocketServer = new WebSocketServer({ host: '127.0.0.1', port }, () => resolve(server));
  });
}

function closeWs(server: WebSocketServer): Promise<void> {
  for (const client of server.clients) client.terminate();
  return new Promise((resolve) => server.close(() => resolve()));
}

describe('WebSocketConnection', () => {
  it('connects, sends headers from the callback, exchanges text, and stops cleanly', async () => {
    const server = await listenWs();
    const port = (server.address() as AddressInfo).port;
    let seenHeader = '';
    const received: string[] = [];
    server.on('connection', (socket: WebSocket, req) => {
      seenHeader = String(req.headers['x-token']);
      socket.on('message', (data) => received.push(data.toString()));
      socket.send('hello');
    });
    const connection = new WebSocketConnection({ url: `ws://127.0.0.1:${port}/ws`, headers: () => ({ 'X-Token': 'abc' }), ...fast });
    const messages: string[] = [];
    connection.on('message', (text) => messages.push(text));
    await connection.whenConnected(2000);
    connection.sendJson({ type: 'ping' });
    await waitFor(() => messages.length === 1 && received.length === 1, 2000, 'exchange');
    assert.equal(seenHeader, 'abc');
    assert.deepEqual(received, ['{"type":"ping"}']);
    await connection.stop();
    assert.equal(connection.status.state, 'closed');
    await waitFor(() => server.clients.size === 0, 2000, 'server to see the close');
    assert.throws(() => connection.sendText('x'), /not connected/);
    await closeWs(server);
  });

  it('reconnects with backoff after the server goes away and comes back', async () => {
    const server = await listenWs();
    const port = (server.address() as AddressInfo).port;
    const connection = new WebSocketConnection({ url: `ws://127.0.0.1:${port}`, ...fast });
    const states: ConnectionStatus[] = [];
    connection.on('status', (s) => states.push(s));
    let disconnects = 0;
    connection.on('disconnected', () => (disconnects += 1));
    await connection.whenConnected(2000);
    await closeWs(server);
    await waitFor(() => states.some((s) => s.state === 'reconnecting' && s.retryInMs !== undefined), 2000, 'reconnecting');
    const again = await listenWs(port);
    await waitFor(() => connection.isConnected, 3000, 'reconnect');
    assert.equal(disconnects, 1);
    const retry = states.find((s) => s.state === 'reconnecting' && s.retryInMs !== undefined)!;
    assert.ok(retry.retryInMs! >= 20 && retry.retryInMs! <= 80);
    assert.match(retry.error ?? '', /closed the connection|connection refused/);
    await connection.stop();
    await closeWs(again);
  });

  it('reports an HTTP refusal of the upgrade and lets a subclass make it fatal', async () => {
    const http = await import('node:http');
    const server = http.createServer((_req, res) => {
      res.statusCode = 403;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    class Strict extends WebSocketConnection {
      protected override upgradeRefused(status: number, err: InstrumentError): InstrumentError {
        return status === 403 ? new InstrumentError('AUTH_FAILED', 'passphrase refused (HTTP 403)') : err;
      }
    }
    const connection = new Strict({ url: `ws://127.0.0.1:${port}/ws`, ...fast });
    await assert.rejects(connection.whenConnected(2000), /passphrase refused/);
    assert.equal(connection.status.state, 'failed');
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(connection.status.state, 'failed', 'no retry loop after a fatal error');
    await connection.stop();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('times out a connect that never completes and leaves no timers after stop', async () => {
    // Reads (and ignores) what arrives, so it sees the client's close.
    const silent = net.createServer((socket) => socket.resume());
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as AddressInfo).port;
    const connection = new WebSocketConnection({ url: `ws://127.0.0.1:${port}`, ...fast, connectTimeoutMs: 100 });
    await assert.rejects(
      connection.whenConnected(400),
      /^not connected within 0\.4 s \(last error: connecting to ws:\/\/127\.0\.0\.1:\d+ timed out after 0\.1 s\)$/,
    );
    await connection.stop();
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    await new Promise((r) => setTimeout(r, 200));
    const after = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    assert.ok(after <= before, `timers after stop: ${before} -> ${after}`);
    assert.equal(connection.status.state, 'closed');
    await new Promise<void>((r) => silent.close(() => r()));
  });
});

describe('TcpConnection', () => {
  it('parses targets and refuses malformed ones', () => {
    assert.deepEqual(parseSocketTarget('10.0.0.5:5000-5002'), { kind: 'tcp', host: '10.0.0.5', ports: [5000, 5001, 5002] });
    assert.deepEqual(parseSocketTarget(':7000'), { kind: 'tcp', host: '127.0.0.1', ports: [7000] });
    assert.deepEqual(parseSocketTarget('[::1]:7000'), { kind: 'tcp', host: '::1', ports: [7000] });
    assert.deepEqual(parseSocketTarget('/tmp/nebv.sock'), { kind: 'unix', path: '/tmp/nebv.sock' });
    assert.deepEqual(parseSocketTarget('unix:rel.sock'), { kind: 'unix', path: 'rel.sock' });
    assert.throws(() => parseSocketTarget('host'), /not host:port/);
    assert.throws(() => parseSocketTarget('h:70000'), /1 to 65535/);
    assert.throws(() => parseSocketTarget('h:5002-5000'), /ends before it starts/);
    assert.equal(describeTarget(parseSocketTarget('h:1-3')), 'h:1-3');
  });

  it('tries a port range in order and connects to the one that listens', async () => {
    const server = net.createServer((socket) => socket.pipe(socket));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const connection = new TcpConnection({ target: { kind: 'tcp', host: '127.0.0.1', ports: [port - 2, port - 1, port] }, ...fast });
    const data: Buffer[] = [];
    connection.on('data', (chunk) => data.push(chunk));
    await connection.whenConnected(2000);
    assert.equal(connection.connectedPort, port);
    connection.write('echo');
    await waitFor(() => Buffer.concat(data).toString() === 'echo', 2000, 'echo');
    await connection.stop();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('connects over a Unix socket and reconnects when the server restarts', async () => {
    const path = `/tmp/labwire-test-${process.pid}-${Date.now()}.sock`;
    const sockets: net.Socket[] = [];
    const make = async (): Promise<net.Server> => {
      const server = net.createServer((s) => {
        sockets.push(s);
        s.write('hi');
      });
      await new Promise<void>((r) => server.listen(path, r));
      return server;
    };
    let server = await make();
    const connection = new TcpConnection({ target: { kind: 'unix', path }, ...fast });
    let greetings = 0;
    connection.on('data', () => (greetings += 1));
    await connection.whenConnected(2000);
    await waitFor(() => greetings === 1, 2000, 'greeting');
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
    await waitFor(() => connection.status.state === 'reconnecting', 2000, 'reconnecting');
    server = await make();
    await waitFor(() => greetings === 2, 3000, 'second greeting after reconnect');
    await connection.stop();
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('names every port it tried when none accepts', async () => {
    const connection = new TcpConnection({ target: { kind: 'tcp', host: '127.0.0.1', ports: [1, 2] }, ...fast, reconnect: false });
    await assert.rejects(connection.whenConnected(2000), /no port in 127\.0\.0\.1:1-2 accepted/);
    assert.equal(connection.status.state, 'closed');
    await connection.stop();
  });
});
