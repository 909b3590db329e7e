// The committed dashboard JSON is exactly the generator's output and is valid for Grafana's dashboard
// model: required fields, unique panel ids, panels inside the 24-column grid without overlaps,
// datasource refs that resolve to provisioned uids, variables that exist, 5–10 s refresh.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { DASHBOARDS, render } from '../src/dashboards.js';
import { GRAFANA_DIR, allTargets, committedDashboards, provisionedDatasources, type DashboardJson } from './helpers.js';

const UIDS = ['markets-overview', 'asset-detail', 'news', 'infrastructure', 'alerts', 'derivatives', 'cross-venue'];
// Grafana's own variables and the InfluxDB alias patterns
const BUILTIN = /^(timeFilter|__interval|__rate_interval|__range|__from|__to|__data|col|tag_\w+)$/;

/** Names of variables referenced as $name, ${name} or ${name:fmt} in a string. */
function references(s: string): string[] {
  return [...s.matchAll(/\$(?:\{([\w.]+)(?::\w+)?\}|(\w+))/g)].map((m) => (m[1] ?? m[2])!.split('.')[0]!);
}

/** Grafana's built-in datasources: `-- Grafana --` (Live) and `-- Mixed --`. */
const BUILTIN_DS = new Set(['grafana', '-- Mixed --']);

describe('generated dashboards', () => {
  it('the committed JSON equals the generator output (run `npm run -w @mt/grafana generate`)', () => {
    const committed = Object.keys(committedDashboards()).sort();
    assert.deepEqual(committed, Object.keys(DASHBOARDS).sort());
    for (const [file, build] of Object.entries(DASHBOARDS)) {
      const text = readFileSync(path.join(GRAFANA_DIR, 'dashboards', `${file}.json`), 'utf8');
      assert.equal(text, render(build()), `${file}.json is stale`);
    }
  });

  it('has the fixed uids', () => {
    const ds = committedDashboards();
    assert.deepEqual(Object.values(ds).map((d) => d.uid).sort(), [...UIDS].sort());
    for (const [file, d] of Object.entries(ds)) assert.equal(d.uid, file);
  });

  for (const [file, d] of Object.entries(committedDashboards()) as [string, DashboardJson][]) {
    it(`${file}: valid for Grafana's dashboard model`, () => {
      assert.ok(d.title && typeof d.schemaVersion === 'number' && d.schemaVersion >= 36);
      assert.ok(d.time?.from && d.time?.to);
      assert.match(d.refresh, /^([5-9]|10)s$/);
      assert.ok(d.panels.length >= 3);

      const ids = d.panels.map((p) => p.id);
      assert.ok(ids.every((i) => Number.isInteger(i) && i! > 0), 'panel ids');
      assert.equal(new Set(ids).size, ids.length, 'unique panel ids');

      const cells = new Set<string>();
      for (const p of d.panels) {
        assert.ok(p.type && p.title, `panel ${p.id} type/title`);
        const g = p.gridPos!;
        assert.ok(g && g.w > 0 && g.h > 0 && g.x >= 0 && g.y >= 0 && g.x + g.w <= 24, `${p.title}: gridPos ${JSON.stringify(g)}`);
        for (let x = g.x; x < g.x + g.w; x++)
          for (let y = g.y; y < g.y + g.h; y++) {
            assert.ok(!cells.has(`${x},${y}`), `${p.title} overlaps another panel`);
            cells.add(`${x},${y}`);
          }
      }

      const provisioned = new Map(provisionedDatasources().map((s) => [s.uid, s.type]));
      const vars = new Map((d.templating.list ?? []).map((v) => [v.name, v]));
      const refs = [...d.panels.map((p) => p.datasource), ...[...vars.values()].map((v) => v.datasource), ...allTargets(d).map((t) => t.target.datasource ?? t.panel.datasource)];
      for (const r of refs) {
        if (!r || BUILTIN_DS.has(r.uid)) continue; // `-- Grafana --` (Live) and `-- Mixed --`: built in
        assert.equal(provisioned.get(r.uid), r.type, `datasource ${JSON.stringify(r)} is provisioned with that type`);
      }
      for (const { panel, target } of allTargets(d)) {
        assert.ok(target.refId, `${panel.title}: refId`);
        assert.ok(target.query ?? target.expr ?? (target as { channel?: string }).channel, `${panel.title}: a query`);
        assert.ok(target.datasource ?? panel.datasource, `${panel.title}: a datasource`);
      }
      const refIds = d.panels.map((p) => (p.targets ?? []).map((t) => t.refId));
      for (const r of refIds) assert.equal(new Set(r).size, r.length, 'refIds unique within a panel');

      const texts = [...d.panels.flatMap((p) => [p.title ?? '', ...(p.targets ?? []).flatMap((t) => [t.query ?? '', t.expr ?? ''])]), ...[...vars.values()].map((v) => v.query ?? '')];
      for (const name of texts.flatMap(references)) assert.ok(BUILTIN.test(name) || vars.has(name), `${file}: $${name} is not a variable`);
    });
  }

  it('market panels over the selected range read the retention policy chosen by $rp', () => {
    for (const d of Object.values(committedDashboards())) {
      for (const { panel, target } of allTargets(d)) {
        const ds = target.datasource ?? panel.datasource;
        if (ds?.uid !== 'influxdb-markets' || !target.query?.includes('$timeFilter')) continue;
        if (/FROM "raw"\."alert_events"/.test(target.query)) continue; // raw only: fired alerts are not rolled up
        assert.match(target.query, /FROM "\$rp"\./, `${d.uid}/${panel.title}`);
      }
    }
  });
});

describe('provisioning', () => {
  it('datasources: InfluxQL with the token header for markets, news and custom, Prometheus, Alertmanager', () => {
    const ds = provisionedDatasources();
    const byUid = new Map(ds.map((d) => [d.uid, d]));
    for (const [uid, db] of [
      ['influxdb-markets', 'markets'],
      ['influxdb-news', 'news'],
      ['influxdb-custom', 'custom'],
    ] as const) {
      const d = byUid.get(uid)!;
      assert.equal(d.type, 'influxdb');
      assert.equal(d.jsonData!.dbName, db);
      assert.equal(d.jsonData!.version, 'InfluxQL');
      assert.equal(d.jsonData!.httpHeaderName1, 'Authorization');
      assert.equal(d.secureJsonData!.httpHeaderValue1, 'Token $__file{/run/terminal-secrets/grafana/influx-read-token}');
    }
    assert.equal(byUid.get('prometheus')?.type, 'prometheus');
    assert.equal(byUid.get('alertmanager')?.type, 'alertmanager');
    for (const d of ds) assert.match(d.url, /^http:\/\/[a-z-]+:\d+$/);
    assert.equal(ds.filter((d) => (d as { isDefault?: boolean }).isDefault).length, 1);
  });

  it('dashboards provider points at the mounted dashboards folder', () => {
    const file = path.join(GRAFANA_DIR, 'provisioning', 'dashboards', 'dashboards.yml');
    const y = parse(readFileSync(file, 'utf8')) as { apiVersion: number; providers: { type: string; options: { path: string } }[] };
    assert.equal(y.apiVersion, 1);
    assert.equal(y.providers[0]!.type, 'file');
    assert.equal(y.providers[0]!.options.path, '/var/lib/grafana/dashboards');
  });
});
