// Several traders on one terminal (docs/USERS.md), through app.inject() on a real PostgreSQL: users and
// roles, tokens stored as SHA-256 only, rotation and revocation refused on the very next request, ownership
// of watchlists, alert rules and layouts (another's private item is a 404, a shared one read-only), viewers
// never write, layouts opened by their short link, and the browser session nginx checks for Grafana.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import pg from 'pg';
import { startPostgres, type PostgresServer } from '@mt/testing';
import { WATCHSET_CHANNEL, loadWatchSet } from '@mt/common';
import type { App } from '../src/app.js';
import { auth, call, testApp, uniqueDbName } from './helpers.js';

interface Problem {
  status: number;
  detail: string;
  errors?: { in: string; field: string; message: string }[];
}
interface Issued {
  id: string;
  token: string;
  prefix: string;
}
interface UserBody {
  id: string;
  name: string;
  role: string;
  disabled: boolean;
  token: Issued;
  tokens: { id: string; revoked_at: string | null }[];
}
interface Owned {
  id: string;
  owner: string;
  shared: boolean;
}
interface LayoutBody extends Owned {
  code: string;
  short_link: string;
  links: string[];
}

let server: PostgresServer;
let app: App;
let dbUrl: string;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function createUser(name: string, role: string): Promise<UserBody> {
  const res = await call<UserBody>(app, 'POST', '/api/accounts', { name, role });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

before(async () => {
  server = await startPostgres();
  dbUrl = await server.createDatabase(uniqueDbName('users'));
  app = await testApp(dbUrl);
});
after(async () => {
  await app?.close();
  await server?.stop();
});

describe('users, roles and tokens', () => {
  test('rows from before users belong to the built-in admin, which API_TOKEN still is', async () => {
    const w = await call<Owned>(app, 'POST', '/api/watchlists', { name: 'desk' });
    assert.equal(w.status, 201);
    assert.equal(w.body.owner, 'admin');
    assert.equal(w.body.shared, false);
    const me = await call<{ name: string; role: string; token_id: string | null }>(app, 'GET', '/api/account');
    assert.deepEqual([me.body.name, me.body.role, me.body.token_id], ['admin', 'admin', null]);
    // the admin cannot be demoted or disabled: API_TOKEN keeps working
    const id = '00000000-0000-4000-8000-000000000001';
    assert.equal((await call(app, 'PATCH', `/api/accounts/${id}`, { disabled: true })).status, 409);
    assert.equal((await call(app, 'PATCH', `/api/accounts/${id}`, { role: 'viewer' })).status, 409);
    assert.equal((await call(app, 'GET', '/api/account')).status, 200);
    // a row inserted without an owner (a script, SQL by hand) is the admin's too (migration 005)
    const db = new pg.Client({ connectionString: dbUrl });
    await db.connect();
    try {
      await db.query(`INSERT INTO alert_rules (symbol, condition, threshold) VALUES ('SQL/USDT', 'above', 1)`);
    } finally {
      await db.end();
    }
    const rules = await call<{ data: (Owned & { symbol: string })[] }>(app, 'GET', '/api/alert-rules');
    assert.equal(rules.body.data.find((r) => r.symbol === 'SQL/USDT')?.owner, 'admin');
  });

  test('an admin creates users; each gets a token shown once and stored only as its SHA-256', async () => {
    const alice = await createUser('alice', 'trader');
    assert.match(alice.token.token, /^mt_[A-Za-z0-9_-]{43}$/);
    assert.equal(alice.token.prefix, alice.token.token.slice(0, 9));
    const me = await call<{ name: string; role: string; grafana_role: string; token_id: string }>(app, 'GET', '/api/account', undefined, bearer(alice.token.token));
    assert.deepEqual(me.body, { id: alice.id, name: 'alice', role: 'trader', grafana_role: 'Editor', token_id: alice.token.id });

    const db = new pg.Client({ connectionString: dbUrl });
    await db.connect();
    try {
      const rows = await db.query<{ hash: Buffer; row: string }>('SELECT token_hash AS hash, row_to_json(t)::text AS row FROM api_tokens t WHERE id = $1', [alice.token.id]);
      assert.deepEqual(rows.rows[0]!.hash, createHash('sha256').update(alice.token.token).digest());
      assert.ok(!rows.rows[0]!.row.includes(alice.token.token.slice(3)), 'the token itself is nowhere in the row');
    } finally {
      await db.end();
    }
    // listed with its tokens, never their values
    const list = await call<{ data: UserBody[] }>(app, 'GET', '/api/accounts');
    assert.deepEqual(list.body.data.map((u) => u.name), ['admin', 'alice']);
    assert.ok(!JSON.stringify(list.body).includes(alice.token.token));
  });

  test('user validation: bad name, bad role, unknown field → 400 naming it; a taken name → 409', async () => {
    const cases: [unknown, string][] = [
      [{ name: 'Bad Name', role: 'trader' }, 'name'],
      [{ name: 'x'.repeat(64), role: 'trader' }, 'name'],
      [{ name: 'carol', role: 'root' }, 'role'],
      [{ name: 'carol', role: 'trader', password: 'x' }, 'password'],
      [{ role: 'trader' }, 'name'],
    ];
    for (const [body, field] of cases) {
      const res = await call<Problem>(app, 'POST', '/api/accounts', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.ok(res.body.errors?.some((e) => e.field === field), `${JSON.stringify(body)} → ${JSON.stringify(res.body.errors)}`);
    }
    assert.equal((await call(app, 'POST', '/api/accounts', { name: 'alice', role: 'viewer' })).status, 409);
  });

  test('only admins manage users: a trader and a viewer get 403 on every /api/accounts route', async () => {
    const t = await createUser('trent', 'trader');
    const v = await createUser('vera', 'viewer');
    for (const who of [t, v]) {
      for (const [m, url, body] of [
        ['GET', '/api/accounts', undefined],
        ['POST', '/api/accounts', { name: 'mallory', role: 'admin' }],
        ['GET', `/api/accounts/${who.id}`, undefined],
        ['PATCH', `/api/accounts/${who.id}`, { role: 'admin' }],
        ['POST', `/api/accounts/${who.id}/tokens`, {}],
        ['DELETE', `/api/accounts/${who.id}/tokens/${who.token.id}`, undefined],
      ] as const) {
        const res = await call<Problem>(app, m, url, body, bearer(who.token.token));
        assert.equal(res.status, 403, `${who.name} ${m} ${url}`);
      }
    }
    assert.equal((await call<{ role: string }>(app, 'GET', '/api/account', undefined, bearer(t.token.token))).body.role, 'trader', 'nothing was promoted');
  });

  test('a revoked token is refused on the very next request, its sessions too; the user’s other token still works', async () => {
    const u = await createUser('rita', 'trader');
    const second = await call<Issued>(app, 'POST', `/api/accounts/${u.id}/tokens`, { label: 'laptop' });
    assert.equal(second.status, 201);
    const session = await login(u.token.token);
    assert.equal((await call(app, 'GET', '/api/watchlists', undefined, bearer(u.token.token))).status, 200);
    assert.equal((await check(session)).statusCode, 204);
    const revoked = await call<{ revoked_at: string }>(app, 'DELETE', `/api/accounts/${u.id}/tokens/${u.token.id}`);
    assert.equal(revoked.status, 200);
    assert.ok(revoked.body.revoked_at);
    // no pause: the next request
    const refused = await call<Problem>(app, 'GET', '/api/watchlists', undefined, bearer(u.token.token));
    assert.equal(refused.status, 401);
    assert.equal((await check(session)).statusCode, 401, 'the session opened with it ends too');
    assert.equal((await call(app, 'GET', '/api/watchlists', undefined, bearer(second.body.token))).status, 200);
    // another user's token id under this user: 404
    assert.equal((await call(app, 'DELETE', `/api/accounts/${u.id}/tokens/00000000-0000-4000-8000-000000000001`)).status, 404);
  });

  test('a user rotates their own token: the new one works, the old one is refused at once', async () => {
    const u = await createUser('rob', 'viewer');
    const rotated = await call<Issued>(app, 'POST', '/api/account/token/rotate', undefined, bearer(u.token.token));
    assert.equal(rotated.status, 201, 'a viewer may rotate its own token');
    assert.notEqual(rotated.body.token, u.token.token);
    assert.equal((await call(app, 'GET', '/api/account', undefined, bearer(u.token.token))).status, 401);
    assert.equal((await call<{ name: string }>(app, 'GET', '/api/account', undefined, bearer(rotated.body.token))).body.name, 'rob');
    // API_TOKEN lives in the environment: nothing to rotate here
    assert.equal((await call(app, 'POST', '/api/account/token/rotate')).status, 409);
  });

  test('disabling a user refuses all its tokens at once; a role change applies on the next request', async () => {
    const u = await createUser('dora', 'trader');
    const h = bearer(u.token.token);
    assert.equal((await call(app, 'POST', '/api/watchlists', { name: 'd' }, h)).status, 201);
    assert.equal((await call(app, 'PATCH', `/api/accounts/${u.id}`, { role: 'viewer' })).status, 200);
    assert.equal((await call(app, 'POST', '/api/watchlists', { name: 'd2' }, h)).status, 403);
    assert.equal((await call<UserBody>(app, 'PATCH', `/api/accounts/${u.id}`, { disabled: true })).body.disabled, true);
    assert.equal((await call(app, 'GET', '/api/watchlists', undefined, h)).status, 401);
    assert.equal((await call(app, 'PATCH', `/api/accounts/${u.id}`, { disabled: false })).status, 200);
    assert.equal((await call(app, 'GET', '/api/watchlists', undefined, h)).status, 200);
  });

  test("a disabled user's alert rules leave the feeders' watch set (with a notification) and come back when enabled", async () => {
    const u = await createUser('dina', 'trader');
    const rule = await call<Owned>(app, 'POST', '/api/alert-rules', { symbol: 'BTC/USDT', condition: 'above', threshold: 1 }, bearer(u.token.token));
    assert.equal(rule.status, 201, JSON.stringify(rule.body));
    const db = new pg.Client({ connectionString: dbUrl });
    await db.connect();
    try {
      const notes: string[] = [];
      db.on('notification', (n) => notes.push(n.payload ?? ''));
      await db.query(`LISTEN ${WATCHSET_CHANNEL}`);
      const ruleIds = async () => (await loadWatchSet(db)).rules.map((r) => r.id);
      assert.ok((await ruleIds()).includes(rule.body.id), 'evaluated while the user is enabled');
      assert.equal((await call(app, 'PATCH', `/api/accounts/${u.id}`, { disabled: true })).status, 200);
      assert.ok(!(await ruleIds()).includes(rule.body.id), 'not evaluated once the user is disabled');
      assert.equal((await call(app, 'PATCH', `/api/accounts/${u.id}`, { disabled: false })).status, 200);
      assert.ok((await ruleIds()).includes(rule.body.id), 'evaluated again once enabled');
      for (let i = 0; i < 50 && notes.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(notes.length, 2, 'each change of the disabled flag notifies the feeders');
      assert.equal((await call(app, 'PATCH', `/api/accounts/${u.id}`, { role: 'viewer' })).status, 200);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(notes.length, 2, 'a role change does not change the watch set');
    } finally {
      await db.end();
    }
  });

  test('tokens that are not API_TOKEN nor issued, forged or oversized, are 401', async () => {
    for (const t of ['mt_' + 'A'.repeat(43), 'mt_', 'mt_' + 'x'.repeat(500), 'test-token-0123456789abcdeX']) {
      assert.equal((await call(app, 'GET', '/api/account', undefined, bearer(t))).status, 401, t.slice(0, 20));
    }
  });
  test('alert history: a user without visible rules sees none (before anyone shares one: InfluxDB is not even asked)', async () => {
    const u = await createUser('eve', 'trader');
    const res = await call<{ data: unknown[] }>(app, 'GET', '/api/alert-events', undefined, bearer(u.token.token));
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.data, []);
  });
});

describe('ownership: own, shared read-only, private invisible', () => {
  test('another user’s private watchlist and rule are 404 on every route; shared ones read-only (403 on change)', async () => {
    const a = await createUser('ann', 'trader');
    const b = await createUser('ben', 'trader');
    const ha = bearer(a.token.token);
    const hb = bearer(b.token.token);
    const w = (await call<Owned & { items: { id: string }[] }>(app, 'POST', '/api/watchlists', { name: 'ann private', items: [{ symbol: 'BTCUSDT', asset_type: 'crypto' }] }, ha)).body;
    const r = (await call<Owned>(app, 'POST', '/api/alert-rules', { symbol: 'BTC/USDT', condition: 'above', threshold: 100000 }, ha)).body;
    assert.equal(w.owner, 'ann');
    assert.equal(r.owner, 'ann');
    const itemId = w.items[0]!.id;

    const privateRoutes: [string, string, unknown][] = [
      ['GET', `/api/watchlists/${w.id}`, undefined],
      ['PATCH', `/api/watchlists/${w.id}`, { name: 'mine now' }],
      ['DELETE', `/api/watchlists/${w.id}`, undefined],
      ['POST', `/api/watchlists/${w.id}/items`, { symbol: 'ETHUSDT', asset_type: 'crypto' }],
      ['DELETE', `/api/watchlists/${w.id}/items/${itemId}`, undefined],
      ['GET', `/api/alert-rules/${r.id}`, undefined],
      ['PATCH', `/api/alert-rules/${r.id}`, { threshold: 1 }],
      ['DELETE', `/api/alert-rules/${r.id}`, undefined],
      ['POST', '/api/alert-rules/backtest', { rule_id: r.id }],
    ];
    for (const [m, url, body] of privateRoutes) {
      const res = await call<Problem>(app, m as 'GET', url, body, hb);
      assert.equal(res.status, 404, `ben ${m} ${url}`);
    }
    // and the lists do not show them (nor does the admin's)
    for (const h of [hb, auth]) {
      assert.ok(!(await call<{ data: Owned[] }>(app, 'GET', '/api/watchlists?limit=100', undefined, h)).body.data.some((x) => x.id === w.id));
      assert.ok(!(await call<{ data: Owned[] }>(app, 'GET', '/api/alert-rules?limit=100', undefined, h)).body.data.some((x) => x.id === r.id));
    }
    // nothing changed
    const still = await call<Owned & { name: string; items: unknown[] }>(app, 'GET', `/api/watchlists/${w.id}`, undefined, ha);
    assert.deepEqual([still.body.name, still.body.items.length], ['ann private', 1]);

    // shared: readable by ben, still only ann's to change
    assert.equal((await call<Owned>(app, 'PATCH', `/api/watchlists/${w.id}`, { shared: true }, ha)).body.shared, true);
    assert.equal((await call<Owned>(app, 'PATCH', `/api/alert-rules/${r.id}`, { shared: true }, ha)).body.shared, true);
    assert.equal((await call(app, 'GET', `/api/watchlists/${w.id}`, undefined, hb)).status, 200);
    assert.equal((await call(app, 'GET', `/api/alert-rules/${r.id}`, undefined, hb)).status, 200);
    assert.ok((await call<{ data: Owned[] }>(app, 'GET', '/api/watchlists?limit=100', undefined, hb)).body.data.some((x) => x.id === w.id));
    for (const [m, url, body] of privateRoutes.filter(([verb, path]) => verb !== 'GET' && !path.endsWith('backtest'))) {
      const res = await call<Problem>(app, m as 'GET', url, body, hb);
      assert.equal(res.status, 403, `ben ${m} ${url} on a shared item`);
    }
    assert.equal((await call(app, 'GET', `/api/watchlists/${w.id}`, undefined, ha)).status, 200, 'still there');
  });

  test('a viewer reads its own and shared items and gets 403 on every write', async () => {
    const v = await createUser('val', 'viewer');
    const hv = bearer(v.token.token);
    const shared = (await call<Owned>(app, 'POST', '/api/watchlists', { name: 'desk shared', shared: true })).body;
    const layout = (await call<LayoutBody>(app, 'POST', '/api/layouts', { name: 'admin view', dashboards: ['markets-overview'], shared: true })).body;
    assert.equal((await call(app, 'GET', `/api/watchlists/${shared.id}`, undefined, hv)).status, 200);
    assert.equal((await call(app, 'GET', `/api/layouts/${layout.id}`, undefined, hv)).status, 200);
    const writes: [string, string, unknown][] = [
      ['POST', '/api/watchlists', { name: 'v' }],
      ['PATCH', `/api/watchlists/${shared.id}`, { name: 'v' }],
      ['DELETE', `/api/watchlists/${shared.id}`, undefined],
      ['POST', `/api/watchlists/${shared.id}/items`, { symbol: 'AAPL', asset_type: 'stock' }],
      ['POST', '/api/alert-rules', { symbol: 'AAPL', condition: 'above', threshold: 1 }],
      ['POST', '/api/layouts', { name: 'v', dashboards: ['news'] }],
      ['PATCH', `/api/layouts/${layout.id}`, { name: 'v' }],
      ['DELETE', `/api/layouts/${layout.id}`, undefined],
    ];
    for (const [m, url, body] of writes) {
      const res = await call<Problem>(app, m as 'GET', url, body, hv);
      assert.equal(res.status, 403, `viewer ${m} ${url}`);
      assert.match(res.body.detail, /viewer/);
    }
    // a backtest changes nothing: a viewer may run one on a rule it can see (the draft needs InfluxDB, so only the refusal path is not taken)
    assert.notEqual((await call(app, 'POST', '/api/alert-rules/backtest', { rule_id: '00000000-0000-4000-8000-00000000000f' }, hv)).status, 403);
  });

});

// ---- layouts and their short links -------------------------------------------------------------------

describe('layouts', () => {
  test('CRUD, the Grafana links, and /l/<code> → 302 to the dashboard with symbols, variables and time range', async () => {
    const u = await createUser('lou', 'trader');
    const h = bearer(u.token.token);
    const created = await call<LayoutBody & { dashboards: string[]; from: string; refresh: string | null }>(
      app,
      'POST',
      '/api/layouts',
      { name: 'morning', dashboards: ['markets-overview', 'asset-detail', 'news'], symbols: ['BTC/USDT', 'ETH/USDT'], variables: { tf: '5m', asset: ['BTC', 'ETH'] }, from: 'now-24h', to: 'now', refresh: '5s' },
      h,
    );
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const l = created.body;
    assert.match(l.code, /^[A-Za-z0-9_-]{12}$/);
    assert.equal(l.short_link, `/l/${l.code}`);
    const q = 'orgId=1&from=now-24h&to=now&var-tf=5m&var-asset=BTC&var-asset=ETH&var-symbol=BTC%2FUSDT&var-symbol=ETH%2FUSDT&refresh=5s';
    assert.deepEqual(l.links, [`/d/markets-overview?${q}`, `/d/asset-detail?${q}`, `/d/news?${q}`]);

    const open = await app.inject({ url: `/l/${l.code}`, headers: h });
    assert.equal(open.statusCode, 302);
    assert.equal(open.headers.location, `/d/markets-overview?${q}`);
    assert.equal((await app.inject({ url: `/l/${l.code}/2`, headers: h })).headers.location, `/d/news?${q}`);
    assert.equal((await app.inject({ url: `/l/${l.code}/3`, headers: h })).statusCode, 404);
    // opened from a browser: the session cookie identifies
    const cookie = await login(u.token.token);
    assert.equal((await app.inject({ url: `/l/${l.code}`, headers: { cookie } })).headers.location, `/d/markets-overview?${q}`);
    // nobody: to the sign-in page, coming back here afterwards
    const anon = await app.inject({ url: `/l/${l.code}` });
    assert.equal(anon.statusCode, 302);
    assert.equal(anon.headers.location, `/auth/login?next=/l/${l.code}`);

    // another user: a private layout does not exist for them, a shared one opens
    const other = bearer((await createUser('max', 'viewer')).token.token);
    assert.equal((await app.inject({ url: `/l/${l.code}`, headers: other })).statusCode, 404);
    assert.equal((await call(app, 'GET', `/api/layouts/${l.id}`, undefined, other)).status, 404);
    const patched = await call<LayoutBody & { name: string; links: string[] }>(app, 'PATCH', `/api/layouts/${l.id}`, { shared: true, dashboards: ['asset-detail'], symbols: ['AAPL'], variables: {}, refresh: null }, h);
    assert.equal(patched.status, 200);
    assert.equal(patched.body.code, l.code, 'the short link stays');
    assert.deepEqual(patched.body.links, ['/d/asset-detail?orgId=1&from=now-24h&to=now&var-symbol=AAPL']);
    assert.equal((await app.inject({ url: `/l/${l.code}`, headers: other })).headers.location, '/d/asset-detail?orgId=1&from=now-24h&to=now&var-symbol=AAPL');
    assert.equal((await call(app, 'PATCH', `/api/layouts/${l.id}`, { name: 'mine' }, bearer((await createUser('moe', 'trader')).token.token))).status, 403);

    const list = await call<{ data: LayoutBody[]; total: number }>(app, 'GET', '/api/layouts', undefined, h);
    assert.ok(list.body.data.some((x) => x.id === l.id));
    assert.equal((await call(app, 'DELETE', `/api/layouts/${l.id}`, undefined, h)).status, 204);
    assert.equal((await app.inject({ url: `/l/${l.code}`, headers: h })).statusCode, 404);
  });

  test('invalid layouts → 400 naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ name: 'x', dashboards: [] }, 'dashboards'],
      [{ name: 'x', dashboards: ['../admin'] }, 'dashboards.0'],
      [{ name: 'x', dashboards: ['news'], from: 'yesterday' }, 'from'],
      [{ name: 'x', dashboards: ['news'], to: 'now-1x' }, 'to'],
      [{ name: 'x', dashboards: ['news'], refresh: 'often' }, 'refresh'],
      [{ name: 'x', dashboards: ['news'], symbols: ['BTC USDT'] }, 'symbols.0'],
      [{ name: 'x', dashboards: ['news'], variables: { 'bad-name': 'x' } }, 'variables.bad-name'],
      [{ name: 'x', dashboards: ['news'], variables: { a: 1 } }, 'variables.a'],
      [{ name: '', dashboards: ['news'] }, 'name'],
      [{ name: 'x', dashboards: ['news'], owner: 'admin' }, 'owner'],
    ];
    for (const [body, field] of cases) {
      const res = await call<Problem>(app, 'POST', '/api/layouts', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.ok(res.body.errors?.some((e) => e.field === field), `${JSON.stringify(body)} → ${JSON.stringify(res.body.errors)}`);
    }
    assert.equal((await app.inject({ url: '/l/short' })).statusCode, 400);
  });
});

// ---- browser sign-in: the session nginx checks before Grafana ---------------------------------------------

async function login(token: string, next?: string): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ token, ...(next ? { next } : {}) }).toString() });
  assert.equal(res.statusCode, 303, res.body);
  const set = String(res.headers['set-cookie']);
  return set.split(';')[0]!;
}
const check = (cookie: string) => app.inject({ url: '/auth/check', headers: { cookie: `grafana_session=abc; ${cookie}` } });

describe('sign-in for Grafana (nginx auth_request → /auth/check)', () => {
  test('a session says who the user is and with which Grafana role; logout ends it', async () => {
    const t = await createUser('tess', 'trader');
    const v = await createUser('vic', 'viewer');
    const res = await app.inject({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `token=${t.token.token}&next=${encodeURIComponent('/d/news?orgId=1&var-asset=BTC')}` });
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/d/news?orgId=1&var-asset=BTC');
    assert.match(String(res.headers['set-cookie']), /^mt_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Lax; Max-Age=43200$/);
    const cookie = String(res.headers['set-cookie']).split(';')[0]!;
    for (const [c, user, role] of [
      [cookie, 'tess', 'Editor'],
      [await login(v.token.token), 'vic', 'Viewer'],
      [await login('test-token-0123456789abcdef'), 'admin', 'Admin'],
    ] as const) {
      const ok = await check(c);
      assert.equal(ok.statusCode, 204);
      assert.equal(ok.headers['x-webauth-user'], user);
      assert.equal(ok.headers['x-webauth-role'], role);
    }
    const out = await app.inject({ url: '/auth/logout', headers: { cookie } });
    assert.equal(out.statusCode, 303);
    assert.match(String(out.headers['set-cookie']), /mt_session=; .*Max-Age=0/);
    assert.equal((await check(cookie)).statusCode, 401);
  });

  test('no, forged or wrong credentials: 401 and no identity headers', async () => {
    for (const headers of [{}, { cookie: 'mt_session=forged' }, { cookie: 'x=1' }, { authorization: 'Bearer test-token-0123456789abcdef' }, { 'x-webauth-user': 'admin' }]) {
      const res = await app.inject({ url: '/auth/check', headers });
      assert.equal(res.statusCode, 401, JSON.stringify(headers));
      assert.equal(res.headers['x-webauth-user'], undefined);
    }
    const bad = await app.inject({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'token=mt_nope' });
    assert.equal(bad.statusCode, 401);
    assert.match(bad.body, /Unknown, revoked or disabled token/);
    assert.equal(bad.headers['set-cookie'], undefined);
    const json = await call<Problem>(app, 'POST', '/auth/login', { token: 'mt_nope' }, {});
    assert.equal(json.status, 401);
    assert.ok((await call<Problem>(app, 'POST', '/auth/login', { tok: 'x' }, {})).body.errors?.some((e) => e.field === 'tok'));
  });

  test('the login page carries where the user was going; only paths on this site are followed', async () => {
    const page = await app.inject({ url: '/auth/login?next=/d/markets-overview?orgId=1&var-symbol=BTC%2FUSDT' });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /name="next" value="\/d\/markets-overview\?orgId=1&#38;var-symbol=BTC%2FUSDT"/);
    // ingress-nginx (Kubernetes) sends the way back encoded
    const encoded = await app.inject({ url: `/auth/login?next=${encodeURIComponent('/d/news?orgId=1&var-asset=BTC')}` });
    assert.match(encoded.body, /name="next" value="\/d\/news\?orgId=1&#38;var-asset=BTC"/);
    const xss = await app.inject({ url: '/auth/login?next=/"><script>alert(1)</script>' });
    assert.doesNotMatch(xss.body, /<script>/);
    const t = await createUser('nick', 'trader');
    for (const next of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', '/ok\r\nSet-Cookie: x=1']) {
      const res = await app.inject({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ token: t.token.token, next }).toString() });
      assert.equal(res.headers.location, '/', JSON.stringify(next));
    }
  });
});
