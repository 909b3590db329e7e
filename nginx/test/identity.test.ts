// One user, one login (docs/USERS.md): the real nginx with our config in front of the real watchlist API
// process (real PostgreSQL) and a stand-in Grafana that records what reaches it. A request without a session
// never reaches Grafana (the browser is sent to the sign-in page); a signed-in user reaches it as exactly
// that user with the Grafana role of their API role (viewer → Viewer), whatever X-WEBAUTH-* headers the client
// sends; a revoked token's session is refused on the next request; a layout's short link opens in Grafana.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { startNginx, startPostgres, startService, waitHttp, type NginxServer, type PostgresServer, type RunningService } from '@mt/testing';

const TOKEN = 'identity-test-token-0123456789abcdef';

let pg: PostgresServer;
let api: RunningService;
let nginx: NginxServer;
let grafana: http.Server;
let wss: WebSocketServer;
let agent: https.Agent;
let ca: Buffer;
/** Every request Grafana received: its URL and the identity headers it carried. */
const seen: { url: string; user: string | string[] | undefined; role: string | string[] | undefined; raw: string[] }[] = [];
const record = (req: http.IncomingMessage) =>
  seen.push({
    url: req.url ?? '',
    user: req.headers['x-webauth-user'],
    role: req.headers['x-webauth-role'],
    raw: req.rawHeaders.filter((_, i) => i % 2 === 0 && /webauth/i.test(req.rawHeaders[i]!)),
  });

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}
function call(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: nginx.httpsPort, method, path, agent, headers: { host: 'localhost', ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const admin = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

/** Sign in through nginx with a token, as the browser form does; returns the Cookie header value. */
async function signIn(token: string): Promise<string> {
  const a = await call('POST', '/auth/login', { 'content-type': 'application/x-www-form-urlencoded' }, new URLSearchParams({ token, next: '/d/markets-overview' }).toString());
  assert.equal(a.status, 303, a.body);
  assert.equal(a.headers.location, '/d/markets-overview');
  const set = String(a.headers['set-cookie']);
  assert.match(set, /HttpOnly; Secure; SameSite=Lax/);
  return set.split(';')[0]!;
}
async function newUser(name: string, role: string): Promise<{ id: string; token: { id: string; token: string } }> {
  const a = await call('POST', '/api/accounts', admin, JSON.stringify({ name, role }));
  assert.equal(a.status, 201, a.body);
  return JSON.parse(a.body) as { id: string; token: { id: string; token: string } };
}

before(async () => {
  pg = await startPostgres();
  api = await startService('watchlist-api', { DATABASE_URL: await pg.createDatabase(`nginx_identity_${process.pid}`), API_TOKEN: TOKEN, LOG_LEVEL: 'warn' }, { waitHealthy: true });
  await waitHttp(`${api.url}/readyz`, 30_000);
  grafana = http.createServer((req, res) => {
    record(req);
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"upstream":"grafana"}');
  });
  wss = new WebSocketServer({ server: grafana, path: '/api/live/ws' });
  wss.on('connection', (ws, req) => {
    record(req);
    ws.send('hello');
  });
  await new Promise<void>((r) => grafana.listen(0, '127.0.0.1', r));
  nginx = await startNginx({ grafanaUpstream: `127.0.0.1:${(grafana.address() as AddressInfo).port}`, apiUpstream: `127.0.0.1:${api.port}` });
  ca = readFileSync(nginx.cert);
  agent = new https.Agent({ ca, servername: 'localhost', keepAlive: true, maxSockets: 4 });
});

after(async () => {
  agent?.destroy();
  await nginx?.stop();
  wss?.close();
  grafana?.closeAllConnections();
  await new Promise((r) => grafana?.close(r));
  await api?.kill();
  await pg?.stop();
});

test('without a session nothing reaches Grafana: pages and Grafana’s API go to the sign-in page, spoofed headers or not', async () => {
  const before = seen.length;
  const attempts: Record<string, string>[] = [{}, { 'x-webauth-user': 'admin', 'x-webauth-role': 'Admin' }, { cookie: 'mt_session=forged-0123456789' }, { authorization: `Bearer ${TOKEN}` }];
  for (const headers of attempts) {
    for (const path of ['/', '/d/markets-overview?orgId=1&var-symbol=BTC%2FUSDT', '/api/dashboards/uid/markets-overview', '/login', '/auth/check']) {
      const a = await call('GET', path, headers);
      assert.equal(a.status, 302, `${path} ${JSON.stringify(headers)}: ${a.status}`);
      assert.equal(a.headers.location, `/auth/login?next=${path}`);
      assert.equal(a.headers['x-webauth-user'], undefined);
    }
  }
  // nor a websocket upgrade
  await assert.rejects(
    new Promise((resolve, reject) => {
      const ws = new WebSocket(`wss://127.0.0.1:${nginx.httpsPort}/api/live/ws`, { ca, headers: { host: 'localhost', 'x-webauth-user': 'admin' } });
      ws.on('open', resolve);
      ws.on('error', reject);
    }),
    /302/,
  );
  assert.equal(seen.length, before, `Grafana saw ${JSON.stringify(seen.slice(before))}`);
  // the sign-in page itself is served (by the API), with the way back
  const page = await call('GET', '/auth/login?next=/d/news?orgId=1&var-asset=BTC');
  assert.equal(page.status, 200);
  assert.match(page.body, /value="\/d\/news\?orgId=1&#38;var-asset=BTC"/);
});

test('signed in, Grafana sees exactly that user and role (trader → Editor, viewer → Viewer, API_TOKEN → Admin); client X-WEBAUTH-* is dropped', async () => {
  await pause(1500);
  const trader = await newUser('tina', 'trader');
  const viewer = await newUser('walt', 'viewer');
  for (const [token, user, role] of [
    [trader.token.token, 'tina', 'Editor'],
    [viewer.token.token, 'walt', 'Viewer'],
    [TOKEN, 'admin', 'Admin'],
  ] as const) {
    const cookie = await signIn(token);
    const spoof = { cookie, 'x-webauth-user': 'admin', 'X-WEBAUTH-ROLE': 'Admin', 'x_webauth_user': 'admin', 'X-Webauth-User': 'root' };
    for (const path of ['/d/markets-overview?orgId=1', '/api/ds/query?requestId=Q1', '/login']) {
      const before = seen.length;
      const a = await call('GET', path, spoof);
      assert.equal(a.status, 200, `${user} ${path}`);
      assert.equal(seen.length, before + 1);
      const got = seen.at(-1)!;
      assert.equal(got.url, path);
      assert.equal(got.user, user, `${path}: ${JSON.stringify(got)}`);
      assert.equal(got.role, role);
      assert.equal(got.raw.length, 2, `exactly one user and one role header: ${JSON.stringify(got.raw)}`);
    }
    // Grafana Live's websocket carries the identity too
    const before = seen.length;
    await new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(`wss://127.0.0.1:${nginx.httpsPort}/api/live/ws`, { ca, headers: { host: 'localhost', ...spoof } });
      ws.on('message', () => {
        ws.close();
        resolve();
      });
      ws.on('error', reject);
    });
    assert.deepEqual([seen[before]?.user, seen[before]?.role], [user, role], 'websocket upgrade');
    await pause(300);
  }
  // Grafana's static build files need no identity and get none, spoofed or not
  const before = seen.length;
  assert.equal((await call('GET', '/public/build/app.js', { 'x-webauth-user': 'admin' })).status, 200);
  assert.deepEqual([seen[before]?.user, seen[before]?.raw], [undefined, []]);
});

test('a revoked token’s session is refused on the next request; sign-out ends a session', async () => {
  await pause(1500);
  const u = await newUser('rex', 'trader');
  const cookie = await signIn(u.token.token);
  assert.equal((await call('GET', '/d/asset-detail', { cookie })).status, 200);
  const revoke = await call('DELETE', `/api/accounts/${u.id}/tokens/${u.token.id}`, admin);
  assert.equal(revoke.status, 200, revoke.body);
  const before = seen.length;
  const a = await call('GET', '/d/asset-detail', { cookie });
  assert.equal(a.status, 302, 'the very next request');
  assert.equal(seen.length, before, 'Grafana saw nothing');
  assert.equal((await call('GET', '/api/account', { authorization: `Bearer ${u.token.token}` })).status, 401, 'and the API refuses the token');

  const v = await newUser('vin', 'viewer');
  const c2 = await signIn(v.token.token);
  assert.equal((await call('GET', '/', { cookie: c2 })).status, 200);
  const out = await call('GET', '/auth/logout', { cookie: c2 });
  assert.equal(out.status, 303);
  assert.equal((await call('GET', '/', { cookie: c2 })).status, 302);
});

test('a layout’s short link, through nginx: signed in → the Grafana dashboard with its symbols and time range, as that user', async () => {
  await pause(1500);
  const u = await newUser('lena', 'trader');
  const created = await call('POST', '/api/layouts', { authorization: `Bearer ${u.token.token}`, 'content-type': 'application/json' }, JSON.stringify({ name: 'scalp', dashboards: ['asset-detail'], symbols: ['SOL/USDT'], variables: { tf: '1m' }, from: 'now-1h', refresh: '5s' }));
  assert.equal(created.status, 201, created.body);
  const { short_link: link } = JSON.parse(created.body) as { short_link: string };
  const anon = await call('GET', link);
  assert.equal(anon.status, 302);
  assert.equal(anon.headers.location, `/auth/login?next=${link}`);
  const cookie = await signIn(u.token.token);
  const go = await call('GET', link, { cookie });
  assert.equal(go.status, 302);
  const target = '/d/asset-detail?orgId=1&from=now-1h&to=now&var-tf=1m&var-symbol=SOL%2FUSDT&refresh=5s';
  assert.equal(go.headers.location, target);
  const before = seen.length;
  assert.equal((await call('GET', target, { cookie })).status, 200);
  assert.deepEqual([seen[before]?.url, seen[before]?.user, seen[before]?.role], [target, 'lena', 'Editor']);
});
