// The Live sink's HTTP/1.1 connection (feeders/src/market/live/push-connection.ts) against real servers
// on loopback: node:http for the usual answers, raw sockets for the framings node:http would not send
// on request (close-delimited, 1xx before the answer, a cut answer, garbage). What the sink relies on:
// the request arrives whole with its headers, one socket is kept alive across pushes, every framing of
// the answer is read to its end, and a broken or slow connection fails the one request and is dropped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { selfSignedCert, tmpDir } from '@mt/testing';
import { PushConnection, PushTransportError } from '../../src/market/live/push-connection.js';

const HEADERS = 'Authorization: Bearer glsa_x\r\nContent-Type: text/plain; charset=utf-8\r\n';

async function httpServer(handler: http.RequestListener): Promise<{ url: URL; sockets: () => number; closeIdle: () => void; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  let sockets = 0;
  server.on('connection', () => sockets++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: new URL(`http://127.0.0.1:${port}/api/live/push/markets`),
    sockets: () => sockets,
    closeIdle: () => server.closeIdleConnections(),
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

/** A server that answers each request's bytes with whatever `answer` writes on the raw socket. */
async function rawServer(answer: (sock: net.Socket, request: string) => void): Promise<{ url: URL; close: () => Promise<void> }> {
  const open = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    open.add(sock);
    sock.on('close', () => open.delete(sock));
    let buf = '';
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      buf += d;
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const len = Number(/content-length: (\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
      if (buf.length < end + 4 + len) return;
      const request = buf.slice(0, end + 4 + len);
      buf = buf.slice(end + 4 + len);
      answer(sock, request);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: new URL(`http://127.0.0.1:${port}/api/live/push/markets`),
    close: () => new Promise<void>((r) => (open.forEach((s) => s.destroy()), server.close(() => r()))),
  };
}

const path = (u: URL) => `${u.pathname}${u.search}`;

test('pushes arrive whole with their headers, on one kept-alive socket; 200 with an empty body', async () => {
  const got: { method?: string; url?: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
  const s = await httpServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      got.push({ method: req.method, url: req.url, headers: req.headers, body });
      res.writeHead(200, { 'content-length': 0 }).end();
    });
  });
  const c = new PushConnection(s.url);
  try {
    const bodies = ['ticker,symbol=A price=1 1', 'ticker,symbol=€ price=2 2\nticker,symbol=B price=3 3', 'x'.repeat(200_000)];
    for (const b of bodies) assert.deepEqual(await c.post(path(s.url), HEADERS, b, 10_000), { status: 200, body: '', retryAfter: undefined });
    assert.deepEqual(
      got.map((g) => g.body),
      bodies,
      'bodies byte-exact (UTF-8 counted in Content-Length)',
    );
    assert.ok(got.every((g) => g.method === 'POST' && g.url === '/api/live/push/markets'));
    assert.equal(got[0]!.headers.authorization, 'Bearer glsa_x');
    assert.equal(got[0]!.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(got[0]!.headers.host, s.url.host);
    assert.equal(s.sockets(), 1, 'one socket for every push');
    assert.equal(c.opened, 1);
    assert.equal(c.reused, 2);
  } finally {
    c.close();
    await s.close();
  }
});

test('answers framed by Content-Length, chunked or HTTP/1.0 close, with a status other than 200 and Retry-After, are read to their end', async () => {
  let n = 0;
  const s = await httpServer((req, res) => {
    req.resume();
    req.on('end', () => {
      n++;
      if (n === 1) res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'Invalid API key', messageId: 'api-key.invalid' }));
      else if (n === 2) {
        // no length: node:http sends it chunked
        res.writeHead(503, { 'retry-after': '7' });
        res.write('{"message":"busy ');
        setTimeout(() => res.end('later"}'), 20);
      } else res.writeHead(204).end();
    });
  });
  const c = new PushConnection(s.url);
  try {
    const a = await c.post(path(s.url), HEADERS, 'a', 10_000);
    assert.equal(a.status, 401);
    assert.deepEqual(JSON.parse(a.body), { message: 'Invalid API key', messageId: 'api-key.invalid' });
    assert.deepEqual(await c.post(path(s.url), HEADERS, 'b', 10_000), { status: 503, body: '{"message":"busy later"}', retryAfter: '7' });
    assert.equal((await c.post(path(s.url), HEADERS, 'c', 10_000)).status, 204);
    assert.equal(s.sockets(), 1, 'every framing leaves the socket reusable');
  } finally {
    c.close();
    await s.close();
  }
  const raw = await rawServer((sock, req) => {
    if (req.includes('interim')) sock.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    else if (req.includes('close-delimited')) sock.end('HTTP/1.0 500 Internal Server Error\r\nContent-Type: text/plain\r\n\r\nno length, the close ends it');
    else sock.write('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  const r = new PushConnection(raw.url);
  try {
    assert.deepEqual(await r.post(path(raw.url), HEADERS, 'interim', 10_000), { status: 200, body: 'ok', retryAfter: undefined }, '1xx skipped');
    assert.deepEqual(await r.post(path(raw.url), HEADERS, 'close-delimited', 10_000), { status: 500, body: 'no length, the close ends it', retryAfter: undefined });
    assert.equal((await r.post(path(raw.url), HEADERS, 'connection close', 10_000)).status, 200);
    assert.equal((await r.post(path(raw.url), HEADERS, 'connection close', 10_000)).status, 200, 'a new socket after Connection: close');
    assert.equal(r.opened, 3, 'the socket is not reused after a close-delimited answer or Connection: close');
  } finally {
    r.close();
    await raw.close();
  }
});

test('refused, cut, garbled or too slow: the request fails with a transport error, the socket is dropped, the next push opens a new one', async () => {
  // refused
  const gone = await httpServer(() => {});
  const goneUrl = gone.url;
  await gone.close();
  const c0 = new PushConnection(goneUrl);
  await assert.rejects(c0.post(path(goneUrl), HEADERS, 'a', 10_000), (e: unknown) => e instanceof PushTransportError && /ECONNREFUSED/.test(e.message));
  c0.close();

  let mode = '';
  const raw = await rawServer((sock) => {
    if (mode === 'cut') sock.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
    else if (mode === 'garbage') sock.write('SSH-2.0-OpenSSH\r\n\r\n');
    else if (mode === 'stall') return;
    else sock.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
  });
  const c = new PushConnection(raw.url);
  try {
    assert.equal((await c.post(path(raw.url), HEADERS, 'ok', 10_000)).status, 200);
    mode = 'cut';
    await assert.rejects(c.post(path(raw.url), HEADERS, 'x', 10_000), (e: unknown) => e instanceof PushTransportError && /cut short/.test(e.message) && !e.timedOut);
    mode = 'garbage';
    await assert.rejects(c.post(path(raw.url), HEADERS, 'x', 10_000), (e: unknown) => e instanceof PushTransportError && /bad status line/.test(e.message));
    mode = 'stall';
    const t0 = Date.now();
    await assert.rejects(c.post(path(raw.url), HEADERS, 'x', 300), (e: unknown) => e instanceof PushTransportError && e.timedOut && /timeout after 300 ms/.test(e.message));
    assert.ok(Date.now() - t0 >= 290, 'not before the timeout');
    mode = '';
    assert.equal((await c.post(path(raw.url), HEADERS, 'ok again', 10_000)).status, 200);
    assert.equal(c.opened, 4, 'the first socket carried ok + cut; a fresh one after each failure (cut, garbled, timed out)');
  } finally {
    c.close();
    await raw.close();
  }
});

test('a kept-alive socket the server closed while idle is replaced: before the push, or when the push crosses the close (sent once more, once)', async () => {
  const s = await httpServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-length': 0 }).end());
  });
  const c = new PushConnection(s.url);
  try {
    assert.equal((await c.post(path(s.url), HEADERS, 'a', 10_000)).status, 200);
    // the server drops its idle connections (an idle timeout, a restart behind the same address)
    s.closeIdle();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await c.post(path(s.url), HEADERS, 'b', 10_000)).status, 200);
    assert.equal(c.opened, 2);
    assert.equal(s.sockets(), 2);
  } finally {
    c.close();
    await s.close();
  }
  // the race itself: the server closes a used socket as the next request arrives, answering nothing
  const served = new WeakMap<net.Socket, number>();
  let dropFresh = false;
  const raw = await rawServer((sock) => {
    const n = (served.get(sock) ?? 0) + 1;
    served.set(sock, n);
    if (n > 1 || dropFresh) sock.destroy();
    else sock.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
  });
  const r = new PushConnection(raw.url);
  try {
    assert.equal((await r.post(path(raw.url), HEADERS, 'first', 10_000)).status, 200);
    assert.equal((await r.post(path(raw.url), HEADERS, 'second', 10_000)).status, 200, 'sent again on a new socket');
    assert.equal(r.opened, 2);
    dropFresh = true;
    await assert.rejects(r.post(path(raw.url), HEADERS, 'third', 10_000), PushTransportError, 'a fresh socket dropped: no second attempt');
    assert.equal(r.opened, 3, 'one attempt on a reused socket, one on a fresh one, then the error');
  } finally {
    r.close();
    await raw.close();
  }
});

test('https: the certificate is verified against the CAs given (none given: the system\'s), then pushes go over one TLS socket', async () => {
  const { cert, key } = selfSignedCert(tmpDir('live-tls'), 'localhost');
  const server = https.createServer({ cert: readFileSync(cert), key: readFileSync(key) }, (req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-length': 0 }).end());
  });
  let sockets = 0;
  server.on('secureConnection', () => sockets++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = new URL(`https://localhost:${(server.address() as net.AddressInfo).port}/api/live/push/markets`);
  const trusted = new PushConnection(url, { ca: readFileSync(cert) });
  const untrusted = new PushConnection(url);
  try {
    assert.equal((await trusted.post(path(url), HEADERS, 'a', 10_000)).status, 200);
    assert.equal((await trusted.post(path(url), HEADERS, 'b', 10_000)).status, 200);
    assert.equal(sockets, 1, 'one TLS session for both pushes');
    await assert.rejects(untrusted.post(path(url), HEADERS, 'c', 10_000), (e: unknown) => e instanceof PushTransportError && /self[- ]signed|certificate/i.test(e.message));
  } finally {
    trusted.close();
    untrusted.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
