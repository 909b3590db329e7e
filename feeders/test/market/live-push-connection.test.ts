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
  const requests: string[] = [];
  const raw = await rawServer((sock, request) => {
    requests.push(request);
    const n = (served.get(sock) ?? 0) + 1;
    served.set(sock, n);
    if (n > 1 || dropFresh) sock.destroy();
    else sock.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
  });
  const r = new PushConnection(raw.url);
  try {
    assert.equal((await r.post(path(raw.url), HEADERS, 'first', 10_000)).status, 200);
    const body = Buffer.from('second\n'.repeat(3000));
    const p = r.post(path(raw.url), HEADERS, body, 10_000);
    body.fill(0); // the caller may reuse its body at once: the resend sends the request as it was
    assert.equal((await p).status, 200, 'sent again on a new socket');
    assert.equal(r.opened, 2);
    assert.equal(requests.length, 3);
    assert.equal(requests[2], requests[1], 'the same bytes sent again');
    assert.ok(requests[2]!.endsWith(`Content-Length: ${21_000}\r\n\r\n${'second\n'.repeat(3000)}`));
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

/** The bytes a real server (node:http, as the push fake runs on) answers with, read off a raw client socket. */
async function recordAnswer(handler: http.RequestListener): Promise<Buffer> {
  const s = await httpServer(handler);
  try {
    const sock = net.connect(Number(s.url.port), '127.0.0.1');
    const chunks: Buffer[] = [];
    sock.on('data', (d: Buffer) => chunks.push(d));
    sock.write(`POST ${s.url.pathname} HTTP/1.1\r\nHost: ${s.url.host}\r\nContent-Length: 1\r\n\r\na`);
    await waitUntil(() => Buffer.concat(chunks).includes('\r\n\r\n') && Buffer.concat(chunks).length > 0);
    await new Promise((r) => setTimeout(r, 50)); // the body, if any
    sock.destroy();
    return Buffer.concat(chunks);
  } finally {
    await s.close();
  }
}

async function waitUntil(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(ok(), 'condition not reached within 5 s');
}

test('the common answer (HTTP/1.1 2xx, Content-Length, one read) is read by the byte scan; Connection: close is honoured there too', async () => {
  let n = 0;
  const s = await httpServer((req, res) => {
    req.resume();
    req.on('end', () => {
      n++;
      if (n === 1) res.writeHead(200, { 'content-length': 0 }).end();
      else if (n === 2) res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength('ok €') }).end('ok €');
      else if (n === 3) res.writeHead(204).end();
      else if (n === 4) res.writeHead(202, { 'content-length': 0, connection: 'close' }).end();
      else res.writeHead(200, { 'content-length': 0 }).end();
    });
  });
  const c = new PushConnection(s.url);
  try {
    assert.deepEqual(await c.post(path(s.url), HEADERS, 'a', 10_000), { status: 200, body: '', retryAfter: undefined });
    assert.deepEqual(await c.post(path(s.url), HEADERS, 'b', 10_000), { status: 200, body: 'ok €', retryAfter: undefined });
    assert.deepEqual(await c.post(path(s.url), HEADERS, 'c', 10_000), { status: 204, body: '', retryAfter: undefined });
    assert.deepEqual(await c.post(path(s.url), HEADERS, 'd', 10_000), { status: 202, body: '', retryAfter: undefined });
    assert.deepEqual(await c.post(path(s.url), HEADERS, 'e', 10_000), { status: 200, body: '', retryAfter: undefined });
    assert.equal(c.scanned, 5, 'every answer read by the scan');
    assert.equal(c.opened, 2, 'a new socket after Connection: close, none before');
    assert.equal(s.sockets(), 2);
  } finally {
    c.close();
    await s.close();
  }
});

test('an answer split across reads at every offset goes to the general parser and reads the same; so do answers the scan leaves to it', async () => {
  // real servers' bytes: node:http's answers (the push fake's server) with its Date and keep-alive headers
  const answers = [
    await recordAnswer((req, res) => (req.resume(), req.on('end', () => res.writeHead(200, { 'content-length': 0 }).end()))),
    await recordAnswer((req, res) => (req.resume(), req.on('end', () => res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 }).end('{}')))),
    await recordAnswer((req, res) => (req.resume(), req.on('end', () => res.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"Invalid API key"}')))),
    await recordAnswer((req, res) => (req.resume(), req.on('end', () => res.writeHead(200, { 'content-length': 0, connection: 'close' }).end()))),
  ];
  assert.match(answers[0]!.toString('latin1'), /^HTTP\/1\.1 200 OK\r\n[^]*Connection: keep-alive\r\n/);
  let answer = answers[0]!;
  let split = 0;
  const raw = await rawServer((sock) => {
    sock.setNoDelay(true);
    if (split <= 0 || split >= answer.length) return void sock.write(answer);
    sock.write(answer.subarray(0, split));
    setTimeout(() => sock.write(answer.subarray(split)), 3);
  });
  const c = new PushConnection(raw.url);
  try {
    for (const a of answers) {
      answer = a;
      split = 0;
      const scannedBefore = c.scanned;
      const whole = await c.post(path(raw.url), HEADERS, 'x', 10_000);
      const isError = whole.status >= 300;
      assert.equal(c.scanned - scannedBefore, isError ? 0 : 1, `in one read, ${isError ? 'the general parser' : 'the scan'} reads ${JSON.stringify(a.toString('latin1'))}`);
      let general = 0;
      for (split = 1; split < a.length; split++) {
        const before = c.scanned;
        assert.deepEqual(await c.post(path(raw.url), HEADERS, 'x', 10_000), whole, `split at ${split} of ${JSON.stringify(a.toString('latin1'))}`);
        if (c.scanned === before) general++;
      }
      // a split read normally reaches the client as two reads; a loaded box may join some (then the scan reads them)
      assert.ok(general >= (a.length - 1) / 2, `the general parser read ${general} of ${a.length - 1} split answers`);
      if (isError) assert.equal(general, a.length - 1, 'a 401 is never the scan\'s');
    }
    assert.equal((await c.post(path(raw.url), HEADERS, 'x', 10_000)).status, 200);
  } finally {
    c.close();
    await raw.close();
  }

  // one read each, left to the general parser (the scan takes only what it can judge): the answers as read
  const cases: [string, { status: number; body: string; retryAfter?: string } | RegExp, boolean][] = [
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n', { status: 200, body: 'ok' }, false],
    ['HTTP/1.1 200 OK\r\nRetry-After: 5\r\nContent-Length: 0\r\n\r\n', { status: 200, body: '', retryAfter: '5' }, false],
    ['HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n', { status: 200, body: '' }, true],
    ['HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n', { status: 200, body: '' }, true],
    ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok', /bad content-length/, true],
    ['HTTP/1.1 200 OK\r\ncontent-length:\t2 \r\n\r\nok', { status: 200, body: 'ok' }, false],
    ['HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\n', { status: 200, body: '' }, true],
    ['HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n', /bad status line/, true],
  ];
  let bytes = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n';
  const raw2 = await rawServer((sock) => sock.write(bytes, 'latin1'));
  const r = new PushConnection(raw2.url);
  try {
    assert.equal((await r.post(path(raw2.url), HEADERS, 'x', 10_000)).status, 200);
    for (const [answerBytes, want, dropped] of cases) {
      bytes = answerBytes;
      const opened = r.opened;
      const scanned = r.scanned;
      const got = r.post(path(raw2.url), HEADERS, 'x', 10_000);
      if (want instanceof RegExp) await assert.rejects(got, (e: unknown) => e instanceof PushTransportError && want.test(e.message), JSON.stringify(answerBytes));
      else assert.deepEqual(await got, { retryAfter: undefined, ...want }, JSON.stringify(answerBytes));
      // the next request shows whether the socket was kept
      bytes = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n';
      assert.equal((await r.post(path(raw2.url), HEADERS, 'x', 10_000)).status, 200);
      assert.equal(r.opened - opened, dropped ? 1 : 0, `socket ${dropped ? 'dropped' : 'kept'} after ${JSON.stringify(answerBytes)}`);
      assert.equal(r.scanned - scanned, answerBytes.includes('content-length:\t') ? 2 : 1, `only the plain answers scanned: ${JSON.stringify(answerBytes)}`);
    }
  } finally {
    r.close();
    await raw2.close();
  }
});

test('the request buffer: headers and path changing between requests, bodies growing and shrinking, every request byte-exact', async () => {
  const got: { url?: string; auth?: string; type?: string; length?: string; body: Buffer }[] = [];
  const s = await httpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      got.push({ url: req.url, auth: req.headers.authorization, type: req.headers['content-type'], length: req.headers['content-length'], body: Buffer.concat(chunks) });
      res.writeHead(200, { 'content-length': 0 }).end();
    });
  });
  const c = new PushConnection(s.url);
  const other = 'Authorization: Bearer glsa_rotated\r\nContent-Type: text/plain; charset=utf-8\r\n';
  const sent: { path: string; headers: string; body: Buffer }[] = [];
  try {
    const sizes = [0, 1, 9, 10, 99, 100, 5000, 300_000, 12, 1_000_000, 3, 99_999];
    for (let i = 0; i < sizes.length; i++) {
      const body = Buffer.alloc(sizes[i]!, 'abcdefghij'.slice(i % 10) + '€');
      const p = i % 4 === 3 ? `${path(s.url)}?gf_live_frame_format=wide` : path(s.url);
      const headers = i % 3 === 2 ? other : HEADERS;
      sent.push({ path: p, headers, body });
      assert.equal((await c.post(p, headers, body, 10_000)).status, 200);
    }
    assert.equal(got.length, sent.length);
    for (let i = 0; i < sent.length; i++) {
      assert.equal(got[i]!.url, sent[i]!.path, `request ${i}: path`);
      assert.equal(got[i]!.auth, sent[i]!.headers === other ? 'Bearer glsa_rotated' : 'Bearer glsa_x', `request ${i}: headers`);
      assert.equal(got[i]!.type, 'text/plain; charset=utf-8');
      assert.equal(got[i]!.length, String(sent[i]!.body.length));
      assert.ok(got[i]!.body.equals(sent[i]!.body), `request ${i}: body of ${sent[i]!.body.length} bytes byte-exact`);
    }
    assert.equal(c.opened, 1, 'one socket throughout');
  } finally {
    c.close();
    await s.close();
  }
});

test('a server that answers before it has read the whole request: the rest of that request still goes out intact before the next', async () => {
  // 8 MB: more than loopback's socket buffers hold, so the request is still being written when the answer arrives
  const first = Buffer.alloc(8 << 20, 'first ');
  const second = Buffer.alloc(8 << 20, 'second '); // as long: it would overwrite what is still queued of the first
  const chunks: Buffer[] = [];
  let receivedLength = 0;
  const server = net.createServer((sock) => {
    let answered = false;
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      receivedLength += d.length;
      if (answered) return;
      answered = true;
      sock.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
      sock.pause(); // reads nothing more for a while: the client's write stays queued
      setTimeout(() => sock.resume(), 300);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = new URL(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}/api/live/push/markets`);
  const c = new PushConnection(url);
  try {
    assert.equal((await c.post(path(url), HEADERS, first, 10_000)).status, 200);
    const p = c.post(path(url), HEADERS, second, 10_000);
    second.fill('overwritten by the caller'); // the caller may reuse its body at once
    const head = (n: number) => `POST ${path(url)} HTTP/1.1\r\nHost: ${url.host}\r\n${HEADERS}Content-Length: ${n}\r\n\r\n`.length;
    await waitUntil(() => receivedLength >= head(first.length) + first.length + head(second.length) + second.length);
    const received = Buffer.concat(chunks);
    const text = received.toString('latin1');
    const heads = [...text.matchAll(/POST \/api\/live\/push\/markets HTTP\/1\.1\r\n[^]*?\r\n\r\n/g)];
    assert.equal(heads.length, 2, 'two requests on the wire');
    const body1 = received.subarray(heads[0]!.index! + heads[0]![0].length, heads[1]!.index!);
    const body2 = received.subarray(heads[1]!.index! + heads[1]![0].length);
    assert.ok(body1.equals(Buffer.alloc(8 << 20, 'first ')), 'the first body intact');
    assert.ok(body2.equals(Buffer.alloc(8 << 20, 'second ')), 'the second body intact');
    c.close();
    await assert.rejects(p, PushTransportError);
  } finally {
    c.close();
    server.close();
  }
});
