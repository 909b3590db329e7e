// The real nginx (Debian) running our nginx/ config in front of stand-in upstreams: config valid,
// HTTP → HTTPS, routing between Grafana and the watchlist API, Grafana Live websockets, security
// headers, and the per-IP rate limit.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, WebSocket } from 'ws';
import { startNginx, type NginxServer } from '@mt/testing';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function upstream(name: string): Promise<http.Server> {
  const srv = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ upstream: name, url: req.url, xff: req.headers['x-forwarded-for'], proto: req.headers['x-forwarded-proto'] }));
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(srv)));
}
const addr = (s: http.Server) => `127.0.0.1:${(s.address() as AddressInfo).port}`;

let nginx: NginxServer;
let grafana: http.Server;
let api: http.Server;
let wss: WebSocketServer;
let ca: Buffer;
const agent = () => new https.Agent({ ca, servername: 'localhost', keepAlive: true, maxSockets: 8 });
let tlsAgent: https.Agent;

function get(path: string, opts: { tls?: boolean; agent?: https.Agent } = {}): Promise<Answer> {
  const tls = opts.tls ?? true;
  return new Promise((resolve, reject) => {
    const req = (tls ? https : http).request(
      {
        host: '127.0.0.1',
        port: tls ? nginx.httpsPort : nginx.httpPort,
        path,
        headers: { host: 'localhost' },
        ...(tls ? { agent: opts.agent ?? tlsAgent } : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

before(async () => {
  grafana = await upstream('grafana');
  api = await upstream('watchlist-api');
  wss = new WebSocketServer({ server: grafana, path: '/api/live/ws' });
  wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`echo:${String(m)}`)));
  nginx = await startNginx({ grafanaUpstream: addr(grafana), apiUpstream: addr(api) });
  ca = readFileSync(nginx.cert);
  tlsAgent = agent();
});

after(async () => {
  tlsAgent?.destroy();
  await nginx?.stop();
  wss?.close();
  grafana?.closeAllConnections();
  api?.closeAllConnections();
  await Promise.all([grafana, api].map((s) => s && new Promise((r) => s.close(r))));
});

test('plain HTTP redirects to HTTPS, keeping the path', async () => {
  const r = await get('/d/markets-overview?orgId=1', { tls: false });
  assert.equal(r.status, 301);
  assert.equal(r.headers.location, 'https://localhost/d/markets-overview?orgId=1');
});

test('the healthcheck path answers on plain HTTP without a redirect', async () => {
  const r = await get('/nginx-health', { tls: false });
  assert.equal(r.status, 200);
  assert.equal(r.body, 'ok\n');
});

test('TLS with the first-start self-signed certificate verifies for the server name', async () => {
  const r = await get('/');
  assert.equal(r.status, 200);
});

test('watchlist API routes go to the API, everything else (including Grafana’s own /api) to Grafana', async () => {
  const cases: [string, string][] = [
    ['/api/watchlists', 'watchlist-api'],
    ['/api/watchlists/42/items', 'watchlist-api'],
    ['/api/alert-rules', 'watchlist-api'],
    ['/api/alert-rules/7', 'watchlist-api'],
    ['/docs', 'watchlist-api'],
    ['/docs/static/index.html', 'watchlist-api'],
    ['/openapi.json', 'watchlist-api'],
    ['/', 'grafana'],
    ['/d/asset-detail?var-symbol=BTC%2FUSDT', 'grafana'],
    ['/api/dashboards/uid/markets-overview', 'grafana'],
    ['/api/watchlistsX', 'grafana'],
    ['/api/datasources/proxy/1/query', 'grafana'],
  ];
  for (const [path, want] of cases) {
    const r = await get(path);
    assert.equal(r.status, 200, path);
    const body = JSON.parse(r.body) as { upstream: string; url: string; proto: string; xff: string };
    assert.equal(body.upstream, want, path);
    assert.equal(body.url, path, `${path} reaches the upstream unchanged`);
    assert.equal(body.proto, 'https');
    assert.equal(body.xff, '127.0.0.1');
  }
});

test('security headers on every answer, and no version in Server', async () => {
  for (const path of ['/', '/api/watchlists']) {
    const r = await get(path);
    assert.match(String(r.headers['strict-transport-security']), /max-age=\d{7,}/);
    assert.match(String(r.headers['content-security-policy']), /default-src 'self'/);
    assert.match(String(r.headers['content-security-policy']), /frame-ancestors 'self'/);
    assert.equal(r.headers['x-frame-options'], 'SAMEORIGIN');
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.equal(r.headers.server, 'nginx');
  }
});

test('Grafana Live websockets are upgraded through TLS', async () => {
  const ws = new WebSocket(`wss://127.0.0.1:${nginx.httpsPort}/api/live/ws`, { ca, headers: { host: 'localhost' } });
  const reply = await new Promise<string>((resolve, reject) => {
    ws.on('open', () => ws.send('ping'));
    ws.on('message', (m) => resolve(String(m)));
    ws.on('error', reject);
  });
  ws.close();
  assert.equal(reply, 'echo:ping');
});

test('rate limit: a burst beyond 10 r/s + 20 gets 429 (with the headers), then recovers', async () => {
  await new Promise((r) => setTimeout(r, 2_500)); // let earlier tests' tokens refill
  const a = agent();
  const t0 = Date.now();
  const answers = await Promise.all(Array.from({ length: 80 }, () => get('/api/watchlists', { agent: a })));
  const elapsedS = (Date.now() - t0) / 1000;
  const ok = answers.filter((r) => r.status === 200).length;
  const limited = answers.filter((r) => r.status === 429);
  assert.ok(ok >= 21, `the burst of 20 (+1) passes: ${ok} ok`);
  assert.ok(ok <= 21 + Math.ceil(elapsedS * 10) + 1, `no more than burst + rate passes: ${ok} ok in ${elapsedS}s`);
  assert.ok(limited.length > 0, 'some requests are limited');
  assert.equal(ok + limited.length, 80, 'every other answer is 429');
  assert.match(String(limited[0]!.headers['strict-transport-security']), /max-age/);
  await new Promise((r) => setTimeout(r, 1_200));
  assert.equal((await get('/api/watchlists', { agent: a })).status, 200, 'recovers after a pause');
  a.destroy();
});
