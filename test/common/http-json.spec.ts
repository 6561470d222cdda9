import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpJson } from '../../src/protocols/common/http-json';
import { InstrumentError } from '../../src/protocols/common/errors';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

describe('httpJson', () => {
  let server: http.Server;
  let base: string;
  const seen: Seen[] = [];
  const sockets = new Set<string>();

  before(async () => {
    server = http.createServer((req, res) => {
      sockets.add(`${req.socket.remotePort}`);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
        if (req.url === '/echo') {
          res.setHeader('Content-Type', 'application/json');
          res.end(Buffer.concat(chunks).toString() || '{}');
        } else if (req.url === '/big-number') {
          res.setHeader('Content-Type', 'application/json');
          res.end('{ "Number" : 7241978785468376164 }');
        } else if (req.url === '/forbidden') {
          res.statusCode = 403;
          res.setHeader('Content-Type', 'application/json');
          res.end('{"Success":0}');
        } else if (req.url === '/html') {
          res.statusCode = 405;
          res.setHeader('Content-Type', 'text/html');
          res.end('<html>Method not allowed</html>');
        } else if (req.url === '/deep') {
          res.setHeader('Content-Type', 'application/json');
          res.end(`{"a":${'['.repeat(5000)}"]]]"${']'.repeat(5000)}}`);
        } else if (req.url === '/huge') {
          res.end('x'.repeat(100_000));
        } else if (req.url === '/slow') {
          setTimeout(() => res.end('{}'), 500);
        } else {
          res.statusCode = 404;
          res.end('not found');
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('sends a JSON body on GET with Content-Type application/json', async () => {
    const res = await httpJson({ method: 'GET', url: `${base}/echo`, body: { pgroup: 'p12345' } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { pgroup: 'p12345' });
    const last = seen[seen.length - 1]!;
    assert.equal(last.method, 'GET');
    assert.equal(last.headers['content-type'], 'application/json');
    assert.equal(last.body, '{"pgroup":"p12345"}');
  });

  it('keeps the raw text so callers can read integers beyond 2^53', async () => {
    const res = await httpJson({ method: 'GET', url: `${base}/big-number` });
    assert.match(res.text, /7241978785468376164/);
    assert.notEqual(String((res.json as { Number: number }).Number), '7241978785468376164', 'JSON.parse rounds it, which is why text is kept');
  });

  it('returns non-2xx replies instead of throwing', async () => {
    const forbidden = await httpJson({ method: 'GET', url: `${base}/forbidden` });
    assert.equal(forbidden.status, 403);
    assert.deepEqual(forbidden.json, { Success: 0 });
    const html = await httpJson({ method: 'POST', url: `${base}/html`, body: {} });
    assert.equal(html.status, 405);
    assert.equal(html.isJson, false);
    assert.match(html.text, /Method not allowed/);
  });

  it('reuses connections (keep-alive)', async () => {
    sockets.clear();
    for (let i = 0; i < 5; i += 1) await httpJson({ method: 'GET', url: `${base}/echo` });
    assert.equal(sockets.size, 1);
  });

  it('times out with the URL and the limit in the message', async () => {
    await assert.rejects(httpJson({ method: 'GET', url: `${base}/slow`, timeoutMs: 50 }), (err: unknown) => {
      assert.ok(err instanceof InstrumentError);
      assert.equal(err.code, 'TIMEOUT');
      assert.match(err.message, /GET http:\/\/127\.0\.0\.1:\d+\/slow: no reply within 0.05 s/);
      return true;
    });
  });

  it('refuses replies over the size limit', async () => {
    await assert.rejects(httpJson({ method: 'GET', url: `${base}/huge`, maxBytes: 1000 }), /\/huge: reply larger than 1000 bytes/);
  });

  it('says which URL refused the connection and why', async () => {
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    await assert.rejects(httpJson({ method: 'GET', url: `http://127.0.0.1:${port}/health`, timeoutMs: 2000 }), (err: unknown) => {
      assert.ok(err instanceof InstrumentError);
      assert.equal(err.code, 'CONNECT_FAILED');
      assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}/health: connection refused`));
      return true;
    });
  });

  it('refuses invalid and non-http URLs before connecting', async () => {
    await assert.rejects(httpJson({ method: 'GET', url: 'not a url' }), /is not a valid URL/);
    await assert.rejects(httpJson({ method: 'GET', url: 'ftp://example.invalid/x' }), /only http and https/);
  });

  it('refuses a JSON reply nested deeper than the limit before parsing it (brackets in strings do not count)', async () => {
    await assert.rejects(httpJson({ method: 'GET', url: `${base}/deep` }), (err: unknown) => {
      assert.ok(err instanceof InstrumentError);
      assert.equal(err.code, 'TOO_LARGE');
      assert.equal(err.details.reason, 'replyTooDeep');
      assert.match(err.message, /\/deep: the reply is nested more than 64 levels deep and was refused/);
      return true;
    });
    const ok = await httpJson({ method: 'GET', url: `${base}/deep`, maxDepth: 6000 });
    assert.equal(ok.isJson, true);
  });

  it('leaves a password in the URL out of the details of its errors', async () => {
    const url = base.replace('http://', 'http://user:s3cret@');
    await assert.rejects(httpJson({ method: 'GET', url: `${url}/slow`, timeoutMs: 50 }), (err: unknown) => {
      assert.ok(err instanceof InstrumentError);
      assert.doesNotMatch(`${err.message} ${JSON.stringify(err.details)}`, /s3cret/);
      assert.equal(err.details.url, `${url.replace(':s3cret', '')}/slow`);
      return true;
    });
  });
});
