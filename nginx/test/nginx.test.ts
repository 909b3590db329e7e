// The real nginx (Debian) running our nginx/ config in front of stand-in upstreams: config valid,
// HTTP → HTTPS (also on a non-443 public port), routing between Grafana and the watchlist API, Grafana Live
// websockets, security headers, Grafana's /metrics kept private, the TLS suites (openssl s_client), the
// per-address rate limits (a Grafana page load and a desk's refresh pass, the API and logins are limited),
// and upstreams that move to a new address (a local DNS server) followed without a restart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, WebSocket } from 'ws';
import { DnsFake, freePort, startNginx, type NginxServer } from '@mt/testing';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function upstream(name: string, host = '127.0.0.1', port = 0): Promise<http.Server> {
  const srv = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ upstream: name, url: req.url, xff: req.headers['x-forwarded-for'], proto: req.headers['x-forwarded-proto'] }));
    });
  });
  return new Promise((resolve) => srv.listen(port, host, () => resolve(srv)));
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

test('plain HTTP redirects to HTTPS, keeping the path and naming a non-443 public port', async () => {
  // this nginx's public HTTPS port is the one it listens on (not 443): the redirect must name it
  const r = await get('/d/markets-overview?orgId=1', { tls: false });
  assert.equal(r.status, 301);
  assert.equal(r.headers.location, `https://localhost:${nginx.httpsPort}/d/markets-overview?orgId=1`);
  // ...and that address answers
  const followed = new URL(r.headers.location!);
  assert.equal((await get(`${followed.pathname}${followed.search}`)).status, 200);
  // published on 443 (compose's default): no port in the redirect
  const on443 = await startNginx({ grafanaUpstream: addr(grafana), apiUpstream: addr(api), publicHttpsPort: 443 });
  try {
    const r443 = await new Promise<http.IncomingMessage>((resolve, reject) =>
      http.get({ host: '127.0.0.1', port: on443.httpPort, path: '/api/watchlists?x=1', headers: { host: 'terminal.example.org:8080' } }, resolve).on('error', reject),
    );
    r443.resume();
    assert.equal(r443.statusCode, 301);
    assert.equal(r443.headers.location, 'https://terminal.example.org/api/watchlists?x=1');
  } finally {
    await on443.stop();
  }
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
    ['/api/alert-events?symbol=BTC%2FUSDT', 'watchlist-api'],
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

// ---- Grafana's own endpoints that must stay private -------------------------------------------------------

test('Grafana’s /metrics is not reachable through nginx, however it is spelled', async () => {
  for (const path of ['/metrics', '/metrics?name[]=go_goroutines', '/metrics/', '//metrics', '/./metrics', '/%6Detrics', '/METRICS', '/public/../metrics']) {
    const r = await get(path);
    assert.equal(r.status, 404, path);
    assert.doesNotMatch(r.body, /"upstream"/, `${path} never reaches Grafana`);
  }
  // a neighbour that only starts with the word is Grafana's
  assert.equal(JSON.parse((await get('/metrics-dashboard')).body).upstream, 'grafana');
});

// ---- TLS: Mozilla's intermediate configuration, checked with openssl s_client --------------------------------

interface Handshake {
  ok: boolean;
  protocol: string;
  cipher: string;
  out: string;
}
function sClient(args: string[]): Promise<Handshake> {
  return new Promise((resolve) => {
    const child = execFile(
      'openssl',
      ['s_client', '-connect', `127.0.0.1:${nginx.httpsPort}`, '-servername', 'localhost', ...args],
      { timeout: 15_000 },
      (_err, stdout, stderr) => {
        const out = `${stdout}\n${stderr}`;
        const cipher = /Cipher is (\S+)/.exec(out)?.[1] ?? '';
        resolve({ ok: cipher !== '' && cipher !== '(NONE)', protocol: /Protocol\s*:\s*(\S+)/.exec(out)?.[1] ?? /New, (TLSv[\d.]+)/.exec(out)?.[1] ?? '', cipher, out });
      },
    );
    child.stdin?.end('Q\n');
  });
}

test('TLS: ECDHE + AEAD suites on TLS 1.2 and TLS 1.3 are accepted', async () => {
  for (const suite of ['ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-RSA-CHACHA20-POLY1305']) {
    const h = await sClient(['-tls1_2', '-cipher', suite]);
    assert.ok(h.ok, `${suite} accepted: ${h.out.slice(-400)}`);
    assert.equal(h.cipher, suite);
  }
  for (const suite of ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']) {
    const h = await sClient(['-tls1_3', '-ciphersuites', suite]);
    assert.ok(h.ok, `${suite} accepted: ${h.out.slice(-400)}`);
    assert.equal(h.cipher, suite);
  }
});

test('TLS: non-forward-secret, CBC and old-protocol handshakes are refused by the server', async () => {
  // SECLEVEL=0 so the client really offers what it is asked to; the refusal must come from nginx (an alert)
  for (const suite of ['AES128-SHA', 'AES256-GCM-SHA384', 'AES128-GCM-SHA256', 'ECDHE-RSA-AES128-SHA', 'ECDHE-RSA-AES256-SHA384', 'DHE-RSA-AES128-GCM-SHA256']) {
    const h = await sClient(['-tls1_2', '-cipher', `${suite}:@SECLEVEL=0`]);
    assert.ok(!h.ok, `${suite} refused, got ${h.cipher}`);
    assert.match(h.out, /alert handshake failure|handshake failure/i, `${suite}: a server alert, not a client-side refusal: ${h.out.slice(-400)}`);
  }
  for (const proto of ['-tls1', '-tls1_1']) {
    const h = await sClient([proto, '-cipher', 'DEFAULT:@SECLEVEL=0']);
    assert.ok(!h.ok, `${proto} refused, got ${h.protocol} ${h.cipher}`);
    assert.match(h.out, /alert protocol version|unsupported protocol|no protocols available|wrong version number/i, `${proto}: ${h.out.slice(-400)}`);
  }
});

// ---- Rate limits: Grafana is usable from one address, the API and logins are limited --------------------------

function h2Session(): http2.ClientHttp2Session {
  return http2.connect(`https://127.0.0.1:${nginx.httpsPort}`, { ca, servername: 'localhost' });
}
function h2Request(session: http2.ClientHttp2Session, path: string, method = 'GET', body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers: http2.OutgoingHttpHeaders = { ':path': path, ':method': method, ':authority': 'localhost' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const req = session.request(headers);
    let status = 0;
    req.on('response', (h) => (status = Number(h[':status'])));
    req.on('error', reject);
    req.on('end', () => resolve(status));
    req.resume();
    req.end(body);
  });
}
const countBy = (statuses: number[]) => statuses.reduce<Record<number, number>>((m, s) => ({ ...m, [s]: (m[s] ?? 0) + 1 }), {});

/** What a browser asks for when it opens a dashboard with an empty cache (Grafana 12.3): the page, its
 *  build chunks, fonts and images, the user/org/preferences/plugins API, the dashboard, and its panel queries. */
function coldPageLoad(): [string, string][] {
  const reqs: [string, string][] = [['GET', '/d/markets-overview/markets-overview?orgId=1&refresh=5s']];
  for (let i = 0; i < 48; i++) reqs.push(['GET', `/public/build/${i}.chunk.${(0x9f3a1 + i * 7919).toString(16)}.js`]);
  for (const f of ['grafana.dark.css', 'fonts/inter/Inter-Regular.woff2', 'fonts/inter/Inter-Medium.woff2', 'fonts/roboto/RxZJdnzeo3R5zSexge8UUVtXRa8TVwTICgirnJhmVJw.woff2', 'img/grafana_icon.svg', 'img/fav32.png', 'img/apple-touch-icon.png'])
    reqs.push(['GET', `/public/${f}`]);
  for (const p of [
    '/api/user', '/api/user/orgs', '/api/user/preferences', '/api/org/preferences', '/api/user/stars', '/api/access-control/user/actions?reloadcache=true',
    '/api/plugins?embedded=0&enabled=1', '/api/plugins/influxdb/settings', '/api/plugins/prometheus/settings', '/api/datasources/uid/influxdb',
    '/api/datasources/uid/prometheus', '/apis/dashboard.grafana.app/v1beta1/namespaces/default/dashboards/markets-overview/dto',
    '/api/dashboards/uid/markets-overview', '/api/search?limit=30&starred=true', '/api/search/sorting', '/api/folders?limit=1000',
    '/api/annotations?from=1764100000000&to=1764121600000&limit=100&matchAny=false&dashboardUID=markets-overview',
    '/api/prometheus/grafana/api/v1/rules?dashboard_uid=markets-overview', '/api/frontend-metrics', '/api/usage/dashboard/markets-overview',
    '/avatar/46d229b033af06a191ff2267bca9ae56', '/api/news', '/api/live/list',
  ])
    reqs.push(['GET', p]);
  while (reqs.length < 100) reqs.push(['POST', `/api/ds/query?ds_type=influxdb&requestId=SQR${reqs.length}`]);
  return reqs;
}

test('a cold Grafana page load (100 requests at once over HTTP/2) gets no 429', async () => {
  await new Promise((r) => setTimeout(r, 6_500)); // the Grafana budget is full again after the earlier tests
  const load = coldPageLoad();
  assert.equal(load.length, 100);
  const s = h2Session();
  const statuses = await Promise.all(load.map(([m, p]) => h2Request(s, p, m, m === 'POST' ? '{"queries":[{"refId":"A"}]}' : undefined)));
  s.close();
  console.log(JSON.stringify({ scenario: 'cold-page-load-h2', requests: statuses.length, statuses: countBy(statuses) }));
  assert.deepEqual(countBy(statuses), { 200: 100 });
  // the same over HTTP/1.1 (a browser's six connections)
  await new Promise((r) => setTimeout(r, 2_000));
  const a = new https.Agent({ ca, servername: 'localhost', keepAlive: true, maxSockets: 6 });
  const h1 = await Promise.all(load.map(([, p]) => get(p, { agent: a }).then((x) => x.status)));
  a.destroy();
  console.log(JSON.stringify({ scenario: 'cold-page-load-h1', requests: h1.length, statuses: countBy(h1) }));
  assert.deepEqual(countBy(h1), { 200: 100 });
});

test('a desk behind one address refreshing dashboards (25 panel queries/s for 8 s) gets no 429', async () => {
  await new Promise((r) => setTimeout(r, 2_000));
  const traders = Array.from({ length: 5 }, () => h2Session());
  const statuses: number[] = [];
  const t0 = Date.now();
  for (let second = 0; second < 8; second++) {
    // every second each of 5 traders' dashboards fires 5 panel queries at once
    const wave = traders.flatMap((s, t) => Array.from({ length: 5 }, (_, q) => h2Request(s, `/api/ds/query?ds_type=influxdb&requestId=SQR${second}${t}${q}`, 'POST', '{"queries":[{"refId":"A","query":"SELECT last(price) FROM market_data"}]}')));
    statuses.push(...(await Promise.all(wave)));
    await new Promise((r) => setTimeout(r, Math.max(0, t0 + (second + 1) * 1000 - Date.now())));
  }
  traders.forEach((s) => s.close());
  console.log(JSON.stringify({ scenario: 'desk-refresh', requests: statuses.length, seconds: (Date.now() - t0) / 1000, statuses: countBy(statuses) }));
  assert.deepEqual(countBy(statuses), { 200: 200 });
});

test('POST /login is limited to a burst of 10 (+10/min) per address; loading the login page is not', async () => {
  const s = h2Session();
  const pages = await Promise.all(Array.from({ length: 20 }, () => h2Request(s, '/login')));
  assert.deepEqual(countBy(pages), { 200: 20 }, 'GET /login');
  const posts = await Promise.all(Array.from({ length: 30 }, (_, i) => h2Request(s, '/login', 'POST', JSON.stringify({ user: 'admin', password: `guess-${i}` }))));
  s.close();
  console.log(JSON.stringify({ scenario: 'login-guesses', requests: posts.length, statuses: countBy(posts) }));
  const ok = posts.filter((x) => x === 200).length;
  assert.ok(ok >= 10 && ok <= 12, `${ok} password posts reached Grafana`);
  assert.equal(ok + posts.filter((x) => x === 429).length, 30, 'the rest is 429');
});

test('Grafana’s budget still has an end: 600 requests at once from one address are cut at burst + rate', async () => {
  await new Promise((r) => setTimeout(r, 6_500));
  const s = h2Session();
  const t0 = Date.now();
  const statuses = await Promise.all(Array.from({ length: 600 }, (_, i) => h2Request(s, `/api/search?query=${i}`)));
  const seconds = (Date.now() - t0) / 1000;
  s.close();
  const ok = statuses.filter((x) => x === 200).length;
  console.log(JSON.stringify({ scenario: 'grafana-flood', requests: 600, seconds, statuses: countBy(statuses) }));
  assert.ok(ok >= 301, `the burst of 300 (+1) passes: ${ok}`);
  assert.ok(ok <= 301 + Math.ceil(seconds * 50) + 1, `${ok} passed in ${seconds} s`);
  assert.equal(ok + statuses.filter((x) => x === 429).length, 600);
});

// ---- Upstreams that move: a recreated container gets a new address ------------------------------------------

test('nginx follows Grafana and the API to new addresses (local DNS) without a restart', async () => {
  const port = await freePort();
  // two "containers" per service on the same port, at different loopback addresses
  const [g1, g2, a1, a2] = await Promise.all([
    upstream('grafana-1', '127.0.0.2', port),
    upstream('grafana-2', '127.0.0.3', port),
    upstream('api-1', '127.0.0.4', port),
    upstream('api-2', '127.0.0.5', port),
  ]);
  const dns = await new DnsFake().set('grafana', '127.0.0.2').set('watchlist-api', '127.0.0.4').listen();
  const moving = await startNginx({ grafanaUpstream: `grafana:${port}`, apiUpstream: `watchlist-api:${port}`, resolver: dns.address });
  const agentM = new https.Agent({ ca: readFileSync(moving.cert), servername: 'localhost' });
  const ask = (path: string) =>
    new Promise<{ status: number; upstream?: string }>((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port: moving.httpsPort, path, agent: agentM, headers: { host: 'localhost' } }, (res) => {
          let b = '';
          res.on('data', (c: Buffer) => (b += String(c)));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, upstream: res.statusCode === 200 ? (JSON.parse(b) as { upstream: string }).upstream : undefined }));
        })
        .on('error', reject);
    });
  try {
    assert.deepEqual(await ask('/d/markets-overview'), { status: 200, upstream: 'grafana-1' });
    assert.deepEqual(await ask('/api/watchlists'), { status: 200, upstream: 'api-1' });
    // recreate both: the old containers are gone, the names answer with new addresses
    dns.set('grafana', '127.0.0.3').set('watchlist-api', '127.0.0.5');
    g1.closeAllConnections();
    a1.closeAllConnections();
    await Promise.all([g1, a1].map((s) => new Promise((r) => s.close(r))));
    const t0 = Date.now();
    const seen: { ms: number; g: string; a: string }[] = [];
    for (;;) {
      const [g, a] = await Promise.all([ask('/d/markets-overview'), ask('/api/watchlists')]);
      seen.push({ ms: Date.now() - t0, g: g.upstream ?? String(g.status), a: a.upstream ?? String(a.status) });
      if (g.upstream === 'grafana-2' && a.upstream === 'api-2') break;
      assert.ok(Date.now() - t0 < 20_000, `followed within resolver valid=10s (+ timeout): ${JSON.stringify(seen.slice(-3))}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const followedMs = Date.now() - t0;
    // and it stays there
    for (let i = 0; i < 5; i++) assert.deepEqual(await ask('/api/alert-rules'), { status: 200, upstream: 'api-2' });
    const reQueried = dns.queries.filter((q) => q.name === 'grafana' && q.type === 1).length;
    assert.ok(reQueried >= 2, `nginx asked the DNS again (${reQueried} A queries for grafana)`);
    console.log(JSON.stringify({ scenario: 'upstream-moved', followedMs, badAnswers: seen.filter((x) => x.g !== 'grafana-2' || x.a !== 'api-2').length, dnsQueries: dns.queries.length }));
  } finally {
    agentM.destroy();
    await moving.stop();
    await dns.close();
    for (const s of [g2, a2]) s.closeAllConnections();
    await Promise.all([g2, a2].map((s) => new Promise((r) => s.close(r))));
  }
});

test('the image defines every variable the template uses (its envsubst replaces only those)', () => {
  const template = readFileSync(new URL('../templates/terminal.conf.template', import.meta.url), 'utf8');
  const used = new Set([...template.matchAll(/\$\{([A-Z_][A-Z0-9_]*)\}/g)].map((m) => m[1]!));
  const dockerfile = readFileSync(new URL('../Dockerfile', import.meta.url), 'utf8').replace(/\\\n\s*/g, ' ');
  const env = new Set([...dockerfile.matchAll(/^ENV (.*)$/gm)].flatMap((m) => [...m[1]!.matchAll(/([A-Z_][A-Z0-9_]*)=/g)].map((x) => x[1]!)));
  assert.deepEqual([...used].filter((v) => !env.has(v)), []);
  assert.equal(readFileSync(`${nginx.dir}/terminal.conf`, 'utf8').match(/\$\{[A-Z_]+\}/), null, 'the launcher rendered every one');
});

test('the image drops the stock default.conf, which would otherwise take port 80 for localhost', () => {
  const dockerfile = readFileSync(new URL('../Dockerfile', import.meta.url), 'utf8');
  assert.match(dockerfile, /rm -f \/etc\/nginx\/conf\.d\/default\.conf/);
});

test('every route the watchlist API registers under /api is routed to it (nginx’s list follows the API)', async () => {
  const routesDir = new URL('../../watchlist-api/src/routes/', import.meta.url);
  const prefixes = new Set(
    readdirSync(routesDir)
      // health.ts: not proxied; session.ts: the sign-in and short-link routes outside /api (next test)
      .filter((f) => f.endsWith('.ts') && f !== 'health.ts' && f !== 'session.ts')
      .flatMap((f) => [...readFileSync(new URL(f, routesDir), 'utf8').matchAll(/app\.(?:get|post|put|patch|delete)\('\/([a-z-]+)/g)].map((m) => m[1]!)),
  );
  assert.ok(prefixes.size >= 3, [...prefixes].join(','));
  for (const p of prefixes) {
    for (const path of [`/api/${p}`, `/api/${p}/x?y=1`]) assert.equal(JSON.parse((await get(path)).body).upstream, 'watchlist-api', path);
  }
});

test('the sign-in and short-link routes outside /api go to the API; the identity check is not public', async () => {
  for (const path of ['/auth/login', '/auth/login?next=/d/x?orgId=1', '/auth/logout', '/l/AbCdEfGh1234', '/l/AbCdEfGh1234/1']) {
    assert.equal(JSON.parse((await get(path)).body).upstream, 'watchlist-api', path);
  }
  // /auth/check is what nginx asks internally; from outside it is an ordinary (Grafana) path, and the internal
  // location cannot be requested at all
  assert.equal(JSON.parse((await get('/auth/check')).body).upstream, 'grafana');
  assert.equal((await get('/_identity')).status, 404);
});

test('nginx starts while upstream names do not resolve yet, answers 502/503, and serves each once it does', async () => {
  const port = await freePort();
  const g = await upstream('grafana-late', '127.0.0.6', port);
  const a = await upstream('api-late', '127.0.0.7', port);
  const dns = await new DnsFake().listen(); // knows no name yet: NXDOMAIN
  const early = await startNginx({ grafanaUpstream: `grafana:${port}`, apiUpstream: `watchlist-api:${port}`, resolver: dns.address });
  const agentE = new https.Agent({ ca: readFileSync(early.cert), servername: 'localhost' });
  const status = (path: string) =>
    new Promise<number>((resolve, reject) => {
      https.get({ host: '127.0.0.1', port: early.httpsPort, path, agent: agentE, headers: { host: 'localhost' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
  const until = async (path: string, want: number) => {
    const t0 = Date.now();
    while ((await status(path)) !== want) {
      assert.ok(Date.now() - t0 < 20_000, `${path} answers ${want} within the resolver cache lifetime`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  try {
    assert.equal(await status('/api/watchlists'), 502, 'no API address yet: 502, and nginx is up');
    // Grafana sits behind the identity check (docs/USERS.md), which cannot be asked yet: 503, never Grafana unchecked
    assert.equal(await status('/'), 503);
    dns.set('watchlist-api', '127.0.0.7');
    await until('/api/watchlists', 200);
    assert.equal(await status('/'), 502, 'identity checked, Grafana has no address yet');
    dns.set('grafana', '127.0.0.6');
    await until('/', 200);
  } finally {
    agentE.destroy();
    await early.stop();
    await dns.close();
    for (const s of [g, a]) s.closeAllConnections();
    await Promise.all([g, a].map((s) => new Promise((r) => s.close(r))));
  }
});
