// End to end for the Live token made at bootstrap (docs/GRAFANA_LIVE.md "The service-account token"): the
// feeder as compose starts it — GRAFANA_LIVE_TOKEN_FILE at the reserved path, the file not there yet —
// keeps ingesting, and pushes as soon as the bootstrap step (common/src/grafana-live-token.ts) wrote the
// token; a token revoked later and replaced by the next run is picked up without a restart. Grafana is
// the protocol-true fake of its service-account API + Live push endpoint sharing one token store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { GrafanaFake, panelSeries, waitFor } from '@mt/testing';
import { ensureLiveToken } from '@mt/common/grafana-live-token';
import { createGrafanaLive } from '../../src/market/live/index.js';
import type { MarketConfig } from '../../src/market/config.js';
import { tick } from './helpers.js';

const log = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('feeder started before the token exists: waits, then pushes with the token bootstrap wrote; a revoked token replaced by the next run is picked up', async () => {
  const ADMIN = { user: 'admin', password: 'secret-admin' };
  const g = await new GrafanaFake(ADMIN).listen();
  const tokenPath = path.join(mkdtempSync(path.join(tmpdir(), 'live-e2e-')), 'grafana-live-token');
  const cfg = {
    GRAFANA_URL: g.url,
    GRAFANA_LIVE_URL: undefined,
    GRAFANA_LIVE_TOKEN: undefined,
    GRAFANA_LIVE_TOKEN_FILE: tokenPath,
    GRAFANA_LIVE_STREAM: 'markets',
    GRAFANA_LIVE_MAX_HZ: 5,
    GRAFANA_LIVE_MAX_QUEUE: 10_000,
  } as MarketConfig;
  const sink = createGrafanaLive(cfg, log, new Registry());
  assert.ok(sink, 'Live is on with a token file configured, even before the file exists');
  const boot = { grafanaUrl: g.url, adminUser: ADMIN.user, adminPassword: ADMIN.password, tokenPath, stream: 'markets', waitMs: 5000, retryMs: 100, log };
  let price = 100;
  const ticking = setInterval(() => sink.tick(tick({ ts: Date.now(), price: price++, changePct24h: 1 })), 100);
  try {
    await sleep(800);
    assert.equal(g.publications.length, 0, 'nothing delivered without a token');
    assert.ok(g.requestsTo(/^\/api\/live\/push\//).length === 0, 'no push without a token (the file is read, not sent empty)');
    assert.equal(await ensureLiveToken(boot), 'created');
    // the sink retries with its backoff (≤ 10 s) and reads the file again on each attempt
    await waitFor(async () => g.on('stream/markets/ticker').length > 0, 15_000, 'pushed with the bootstrap token');
    const series = [...panelSeries(g.on('stream/markets/ticker')).values()][0]!;
    assert.deepEqual(Object.keys(series.labels), ['asset_type', 'exchange', 'symbol']);
    assert.ok(Number(series.fields.get('price')!.at(-1)) >= 100);

    // revoked in Grafana: the feeder's pushes get 401; the next bootstrap run replaces the token
    g.revokeAll('market-feeder-live');
    await sleep(300);
    const before = g.publications.length;
    const refusedBefore = g.requests.length;
    // the next attempt comes after the sink's backoff (jittered, ≤ 10 s), not at a fixed moment
    await waitFor(async () => g.requests.length > refusedBefore, 15_000, 'the feeder kept trying');
    assert.equal(g.publications.length, before, 'refused while revoked');
    assert.equal(await ensureLiveToken(boot), 'created');
    await waitFor(async () => g.publications.length > before, 15_000, 'pushed again with the replacement token');
  } finally {
    clearInterval(ticking);
    await sink.close();
    await g.close();
  }
});
