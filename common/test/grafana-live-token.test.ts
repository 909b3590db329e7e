// The bootstrap step that makes the Grafana Live push token (docs/GRAFANA_LIVE.md "The service-account
// token") against the protocol-true fake of Grafana 12.3's service-account API + Live push endpoint
// (testing/src/fakes/grafana-service-accounts.ts): what the feeder gets is a file whose token Grafana
// accepts for pushes, from a Viewer account, made once and kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { GrafanaFake, waitFor } from '@mt/testing';
import { ensureLiveToken, watchLiveToken, type LiveTokenOptions } from '../src/grafana-live-token.js';

const log = pino({ level: 'silent' });
const ADMIN = { user: 'admin', password: 'pw:with/odd#chars' };

function opts(g: GrafanaFake, over: Partial<LiveTokenOptions> = {}): LiveTokenOptions {
  const dir = mkdtempSync(path.join(tmpdir(), 'live-token-'));
  return { grafanaUrl: g.url, adminUser: ADMIN.user, adminPassword: ADMIN.password, tokenPath: path.join(dir, 'grafana-live-token'), stream: 'markets', waitMs: 5000, retryMs: 100, log, ...over };
}
const push = async (g: GrafanaFake, token: string) =>
  (await fetch(`${g.url}/api/live/push/markets`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: 'ticker,symbol=BTCUSDT price=1' })).status;

test('first run: a Viewer service account, one token, written 0444 where the feeder reads it; the token pushes', async () => {
  const g = await new GrafanaFake(ADMIN).listen();
  try {
    const o = opts(g);
    assert.equal(await ensureLiveToken(o), 'created');
    assert.deepEqual(
      g.accounts.map((a) => [a.name, a.role, a.isDisabled, a.tokens.length]),
      [['market-feeder-live', 'Viewer', false, 1]],
    );
    const token = readFileSync(o.tokenPath, 'utf8').trim();
    assert.equal(token, g.accounts[0]!.tokens[0]!.key);
    assert.match(token, /^glsa_/);
    assert.equal(statSync(o.tokenPath).mode & 0o777, 0o444);
    assert.equal(await push(g, token), 200);
  } finally {
    await g.close();
  }
});

test('second run keeps a token that still authenticates: same file, same token, no new account or token', async () => {
  const g = await new GrafanaFake(ADMIN).listen();
  try {
    const o = opts(g);
    await ensureLiveToken(o);
    const token = readFileSync(o.tokenPath, 'utf8');
    const writes = g.requests.filter((r) => r.method !== 'GET' && r.path.startsWith('/api/serviceaccounts')).length;
    assert.equal(await ensureLiveToken(o), 'kept');
    assert.equal(readFileSync(o.tokenPath, 'utf8'), token);
    assert.equal(g.accounts.length, 1);
    assert.equal(g.accounts[0]!.tokens.length, 1);
    assert.equal(g.requests.filter((r) => r.method !== 'GET' && r.path.startsWith('/api/serviceaccounts')).length, writes, 'no write to the account API');
  } finally {
    await g.close();
  }
});

test('a revoked or foreign token is replaced, the stale tokens deleted; an account left with another role is set back to Viewer', async () => {
  const g = await new GrafanaFake(ADMIN).listen();
  try {
    const o = opts(g);
    await ensureLiveToken(o);
    const old = readFileSync(o.tokenPath, 'utf8').trim();
    // revoked in the UI: the file's token no longer authenticates
    g.revokeAll('market-feeder-live');
    assert.equal(await push(g, old), 401);
    assert.equal(await ensureLiveToken(o), 'created');
    const fresh = readFileSync(o.tokenPath, 'utf8').trim();
    assert.notEqual(fresh, old);
    assert.equal(await push(g, fresh), 200);
    // a file someone else wrote (a token Grafana does not know) while the account still has our last
    // token and was raised to Admin: the stale token goes, the role goes back to Viewer
    g.accounts[0]!.role = 'Admin';
    writeFileSync(o.tokenPath, 'glsa_unknown\n');
    assert.equal(await ensureLiveToken(o), 'created');
    assert.equal(g.accounts.length, 1, 'the existing account is reused (search), not created twice');
    assert.equal(g.accounts[0]!.role, 'Viewer');
    assert.equal(g.accounts[0]!.tokens.length, 1, 'the previous token deleted');
    assert.equal(await push(g, fresh), 401, 'the replaced token no longer authenticates');
    assert.equal(await push(g, readFileSync(o.tokenPath, 'utf8').trim()), 200);
  } finally {
    await g.close();
  }
});

test('an account created by a concurrent run (400 serviceaccounts.ErrAlreadyExists) is found and used', async () => {
  const g = await new GrafanaFake(ADMIN).listen();
  try {
    // the first search misses it, the create answers Grafana's duplicate error, the second search finds it
    g.accounts.push({ id: 7, name: 'market-feeder-live', role: 'Viewer', isDisabled: false, tokens: [] });
    g.fail({ kind: 'status', status: 200, body: { totalCount: 0, serviceAccounts: [], page: 1, perPage: 100 } }, { path: '/api/serviceaccounts/search' });
    const o = opts(g);
    assert.equal(await ensureLiveToken(o), 'created');
    const create = g.requestsTo('/api/serviceaccounts').filter((r) => r.method === 'POST');
    assert.equal(create.length, 1);
    assert.deepEqual(JSON.parse(create[0]!.body), { name: 'market-feeder-live', role: 'Viewer', isDisabled: false });
    assert.equal(g.accounts.length, 1);
    assert.equal(g.accounts[0]!.tokens.length, 1);
  } finally {
    await g.close();
  }
});

test('the same race answered 409 (as some 11.x builds do): the account is looked up again, not an error', async () => {
  const g = await new GrafanaFake(ADMIN).listen();
  try {
    g.accounts.push({ id: 9, name: 'market-feeder-live', role: 'Viewer', isDisabled: false, tokens: [] });
    g.fail({ kind: 'status', status: 200, body: { totalCount: 0, serviceAccounts: [], page: 1, perPage: 100 } }, { path: '/api/serviceaccounts/search' });
    g.fail({ kind: 'status', status: 409, body: { message: 'service account already exists' } }, { path: '/api/serviceaccounts' });
    assert.equal(await ensureLiveToken(opts(g)), 'created');
    assert.equal(g.accounts[0]!.tokens.length, 1);
    assert.equal(g.accounts.length, 1);
  } finally {
    await g.close();
  }
});

test('Grafana not up yet: waited for, then done; never up: a clear error within the bound; wrong admin password: the 401 named', async () => {
  const g = await new GrafanaFake(ADMIN).listen();
  try {
    const port = await g.stop();
    const o = opts(g, { grafanaUrl: `http://127.0.0.1:${port}`, waitMs: 10_000, retryMs: 100 });
    const run = ensureLiveToken(o);
    await new Promise((r) => setTimeout(r, 600));
    await g.listen(port);
    assert.equal(await run, 'created');
    assert.equal(await push(g, readFileSync(o.tokenPath, 'utf8').trim()), 200);

    await g.stop();
    const t0 = Date.now();
    await assert.rejects(ensureLiveToken({ ...o, waitMs: 1000 }), /grafana at http:\/\/127\.0\.0\.1:\d+ not ready after 1 s \(.*ECONNREFUSED/);
    assert.ok(Date.now() - t0 < 3000, `bounded (${Date.now() - t0} ms)`);

    await g.listen(port);
    await assert.rejects(ensureLiveToken(opts(g, { adminPassword: 'wrong' })), /HTTP 401/);
  } finally {
    await g.close();
  }
});

test('the Kubernetes sidecar (watchLiveToken): Grafana down at first is waited out, never an exit; one account per pod; a revoked token replaced at the next check; stops when told', async () => {
  const g = await new GrafanaFake(ADMIN).listen();
  const stop = new AbortController();
  let watching: Promise<void> | undefined;
  try {
    const port = await g.stop();
    const pods = ['market-feeder-0', 'market-feeder-1'].map((pod) => opts(g, { grafanaUrl: `http://127.0.0.1:${port}`, accountName: `market-feeder-live-${pod}`, waitMs: 200, retryMs: 50 }));
    watching = Promise.all(pods.map((o) => watchLiveToken(o, 300, stop.signal))).then(() => {});
    await new Promise((r) => setTimeout(r, 900)); // a few failed rounds: still running
    await g.listen(port);
    const tokenOf = (o: LiveTokenOptions) => {
      try {
        return readFileSync(o.tokenPath, 'utf8').trim();
      } catch {
        return '';
      }
    };
    await waitFor(async () => pods.every((o) => tokenOf(o) !== ''), 5000, 'both tokens made once Grafana is up');
    assert.deepEqual(g.accounts.map((a) => [a.name, a.tokens.length]).sort(), [['market-feeder-live-market-feeder-0', 1], ['market-feeder-live-market-feeder-1', 1]]);
    const [first0, first1] = pods.map(tokenOf);
    for (const t of [first0!, first1!]) assert.equal(await push(g, t), 200);
    // pod 0's token revoked: replaced at its next check; pod 1's kept (its account is its own)
    g.revokeAll('market-feeder-live-market-feeder-0');
    await waitFor(async () => tokenOf(pods[0]!) !== first0, 5000, 'replaced');
    assert.equal(await push(g, tokenOf(pods[0]!)), 200);
    assert.equal(tokenOf(pods[1]!), first1, 'the other pod keeps its token');
    assert.equal(await push(g, first1!), 200);
    stop.abort();
    await watching;
  } finally {
    stop.abort();
    await watching;
    await g.close();
  }
});
