// The outside edge as deployed: the real nginx with our config in front of the real watchlist API process
// (real PostgreSQL). What a client on the network gets: no token or a wrong one → 401 problem+json, also
// for guessed routes; a body far over the limit → 413, never a 5xx; a burst of token-guessing requests is
// cut by nginx's rate limit, so the API sees at most burst + rate of them, while Grafana's traffic from the same
// address (its own budget) passes untouched.
// (Only nginx publishing ports in compose is scripts/test/compose.test.ts; headers/TLS/routing are nginx/test.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { startNginx, startPostgres, startService, waitHttp, type NginxServer, type PostgresServer, type RunningService } from '@mt/testing';

const TOKEN = 'edge-test-token-0123456789abcdef';

let pg: PostgresServer;
let api: RunningService;
let nginx: NginxServer;
let agent: https.Agent;

before(async () => {
  pg = await startPostgres();
  api = await startService('watchlist-api', { DATABASE_URL: await pg.createDatabase(`rel_edge_${process.pid}`), API_TOKEN: TOKEN, LOG_LEVEL: 'warn' }, { waitHealthy: true });
  await waitHttp(`${api.url}/readyz`, 30_000);
  // grafana is not under test here: point it at the API too, nginx only needs an address
  nginx = await startNginx({ grafanaUpstream: `127.0.0.1:${api.port}`, apiUpstream: `127.0.0.1:${api.port}` });
  agent = new https.Agent({ ca: readFileSync(nginx.cert), servername: 'localhost', keepAlive: true, maxSockets: 8 });
});

after(async () => {
  agent?.destroy();
  await nginx?.stop();
  await api?.kill();
  await pg?.stop();
});

interface Answer {
  status: number;
  type: string;
  body: string;
  cookie: string;
}

function call(method: string, path: string, headers: Record<string, string> = {}, body?: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: nginx.httpsPort, method, path, agent, headers: { host: 'localhost', ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body: text, cookie: String(res.headers['set-cookie'] ?? '') }));
    });
    // nginx may answer 413 and close before the whole body is sent
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err)));
    req.end(body);
  });
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const apiRequests = async () => {
  const m = await api.metrics();
  return [...m.matchAll(/^http_request_duration_seconds_count\{([^}]*)\} (\d+)/gm)].filter(([, l]) => l!.includes('route="/api')).reduce((s, [, , n]) => s + Number(n), 0);
};

test('through nginx: no or a wrong token is 401 problem+json on every /api route, guessed ones too', async () => {
  for (const [method, path] of [['GET', '/api/watchlists'], ['POST', '/api/watchlists'], ['GET', '/api/alert-rules'], ['DELETE', '/api/watchlists/00000000-0000-0000-0000-000000000000'], ['GET', '/api/accounts'], ['GET', '/api/layouts'], ['GET', '/api/account'], ['GET', '/api/../api/watchlists']] as const) {
    for (const auth of [undefined, 'Bearer wrong-token-0123456789abcdef', `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`, `Bearer ${TOKEN.slice(0, -1)}`]) {
      const a = await call(method, path, auth ? { authorization: auth } : {});
      assert.equal(a.status, 401, `${method} ${path} with ${auth ?? 'no token'}: ${a.status} ${a.body.slice(0, 200)}`);
      assert.match(a.type, /^application\/problem\+json/);
      await pause(120); // stay under the rate limit here: this test is about the token
    }
  }
  assert.equal((await call('GET', '/api/watchlists', { authorization: `Bearer ${TOKEN}` })).status, 200, 'the right token passes');
  // any other /api path is Grafana's, which sits behind the sign-in (docs/USERS.md): without a session, to the sign-in page
  for (const auth of [undefined, `Bearer ${TOKEN}`]) {
    const a = await call('GET', '/api/admin', auth ? { authorization: auth } : {});
    assert.equal(a.status, 302, `GET /api/admin with ${auth ?? 'no token'}`);
  }
});

test('through nginx: a 10 MB body is refused with a 4xx, never a 5xx', async () => {
  await pause(2500);
  const a = await call('POST', '/api/watchlists', { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, Buffer.from(JSON.stringify({ name: 'x'.repeat(10 << 20) })));
  assert.ok(a.status === 413, `status ${a.status}`);
});

test('a burst of 300 token guesses: nginx lets at most burst + rate through to the API', async () => {
  await pause(2500); // tokens refill
  const before = await apiRequests();
  const t0 = Date.now();
  const answers = await Promise.all(Array.from({ length: 300 }, (_, i) => call('GET', '/api/watchlists', { authorization: `Bearer guess-${i}-0123456789abcdef` })));
  const seconds = (Date.now() - t0) / 1000;
  const passed = (await apiRequests()) - before;
  const by = (s: number) => answers.filter((a) => a.status === s).length;
  assert.equal(by(401) + by(429), 300, `only 401 and 429: ${JSON.stringify(answers.map((a) => a.status).filter((s) => s !== 401 && s !== 429))}`);
  assert.equal(passed, by(401), 'every request the API saw was refused by it');
  // nginx/templates/terminal.conf.template: the API's 10 r/s with a burst of 20 per client address
  assert.ok(passed <= 21 + Math.ceil(seconds * 10) + 1, `${passed} reached the API in ${seconds.toFixed(1)} s`);
  assert.ok(by(429) >= 300 - passed, 'the rest was limited');
  console.log(JSON.stringify({ scenario: 'edge-burst', requests: 300, reachedApi: passed, limited: by(429), seconds }));
});

test('token guessing on the API does not spill onto Grafana: a desk refreshing from the same address gets no 429', async () => {
  await pause(2500);
  const guesses: Promise<Answer>[] = [];
  const panels: Promise<Answer>[] = [];
  // the desk is signed in (docs/USERS.md): its Grafana requests carry the session cookie nginx checks
  const signIn = await call('POST', '/auth/login', { 'content-type': 'application/x-www-form-urlencoded' }, Buffer.from(`token=${TOKEN}`));
  assert.equal(signIn.status, 303);
  const cookie = signIn.cookie.split(';')[0]!;
  for (let second = 0; second < 4; second++) {
    // each second: 100 token guesses and 25 panel queries (Grafana's upstream is the API process here: 404s)
    guesses.push(...Array.from({ length: 100 }, (_, i) => call('GET', '/api/alert-rules', { authorization: `Bearer guess-${second}-${i}-0123456789abcdef` })));
    panels.push(...Array.from({ length: 25 }, (_, i) => call('POST', `/api/ds/query?requestId=SQR${second}${i}`, { 'content-type': 'application/json', cookie }, Buffer.from('{"queries":[]}'))));
    await pause(1000);
  }
  const g = await Promise.all(guesses);
  const p = await Promise.all(panels);
  const passed = g.filter((a) => a.status === 401).length;
  const limited = g.filter((a) => a.status === 429).length;
  console.log(JSON.stringify({ scenario: 'edge-guesses-and-desk', guesses: g.length, guessesReachedApi: passed, guessesLimited: limited, panelQueries: p.length, panel429: p.filter((a) => a.status === 429).length }));
  assert.equal(passed + limited, 400);
  assert.ok(passed <= 21 + 4 * 10 + 2, `${passed} guesses reached the API in ~4 s`);
  assert.deepEqual(p.filter((a) => a.status === 429).length, 0, 'no panel query was limited');
  assert.ok(p.every((a) => a.status < 500 && a.status !== 302), 'Grafana’s route reached its upstream, signed in');
});
