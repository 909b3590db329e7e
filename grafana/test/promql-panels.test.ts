// Every Prometheus query of every dashboard executed on a real Prometheus that scrapes a metrics endpoint
// served here: the metrics of docs/METRICS.md (names, types and labels parsed from its tables) plus the
// third-party exporters' series the dashboards use (node-exporter, cAdvisor, Alertmanager), and a rule
// that fires so ALERTS exists. Each query must return series carrying the labels its legend names.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { stringify } from 'yaml';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { createRegistry } from '@mt/common';
import { startPrometheus, tmpDir, waitFor, type PrometheusServer } from '@mt/testing';
import { GRAFANA_DIR, allTargets, committedDashboards } from './helpers.js';

interface MetricDef {
  name: string;
  type: 'counter' | 'gauge' | 'histogram';
  labels: string[];
}

/** The tables of docs/METRICS.md: | `name` | type | labels | meaning | */
function documentedMetrics(): MetricDef[] {
  const md = readFileSync(path.join(GRAFANA_DIR, '..', 'docs', 'METRICS.md'), 'utf8');
  return [...md.matchAll(/^\| `(\w+)` \| (counter|gauge|histogram) \|([\w, ]*)\|/gm)].map((m) => ({
    name: m[1]!,
    type: m[2] as MetricDef['type'],
    labels: m[3]!.split(',').map((s) => s.trim()).filter(Boolean),
  }));
}

// Series of the exporters the compose stack runs, under their real names and labels.
const THIRD_PARTY: MetricDef[] = [
  { name: 'node_cpu_seconds_total', type: 'counter', labels: ['cpu', 'mode'] },
  { name: 'node_memory_MemAvailable_bytes', type: 'gauge', labels: [] },
  { name: 'node_memory_MemTotal_bytes', type: 'gauge', labels: [] },
  { name: 'node_filesystem_avail_bytes', type: 'gauge', labels: ['mountpoint', 'fstype'] },
  { name: 'node_filesystem_size_bytes', type: 'gauge', labels: ['mountpoint', 'fstype'] },
  { name: 'container_cpu_usage_seconds_total', type: 'counter', labels: ['name'] },
  { name: 'container_memory_working_set_bytes', type: 'gauge', labels: ['name'] },
  { name: 'alertmanager_alerts', type: 'gauge', labels: ['state'] },
  { name: 'alertmanager_notifications_total', type: 'counter', labels: ['integration'] },
  { name: 'alertmanager_notifications_failed_total', type: 'counter', labels: ['integration'] },
];
const LABEL_VALUE: Record<string, string> = { mode: 'idle', mountpoint: '/', fstype: 'ext4', state: 'active', name: 'grafana' };

function serveMetrics(defs: MetricDef[]): { registry: Registry; tick: () => void } {
  const registry = createRegistry('dashboard-test'); // default process metrics, `service` label
  const labels = (d: MetricDef) => Object.fromEntries(d.labels.map((l) => [l, LABEL_VALUE[l] ?? `${l}_1`]));
  const updates = defs.map((d) => {
    const common = { name: d.name, help: d.name, labelNames: d.labels, registers: [registry] };
    if (d.type === 'counter') {
      const c = new Counter(common);
      return () => (d.labels.length ? c.inc(labels(d), 1 + Math.random()) : c.inc(1 + Math.random()));
    }
    if (d.type === 'gauge') {
      const g = new Gauge(common);
      const v = () => (d.name.endsWith('_timestamp_seconds') ? Date.now() / 1000 : 1 + Math.random());
      return () => (d.labels.length ? g.set(labels(d), v()) : g.set(v()));
    }
    const h = new Histogram({ ...common, buckets: [0.01, 0.1, 1] });
    return () => (d.labels.length ? h.observe(labels(d), Math.random() / 5) : h.observe(Math.random() / 5));
  });
  return { registry, tick: () => updates.forEach((u) => u()) };
}

describe('Prometheus panel queries on a real Prometheus', () => {
  let prom: PrometheusServer;
  let server: http.Server;
  let timer: NodeJS.Timeout;
  const defs = [...documentedMetrics(), ...THIRD_PARTY];

  before(async () => {
    const rows = readFileSync(path.join(GRAFANA_DIR, '..', 'docs', 'METRICS.md'), 'utf8').match(/^\| `\w+` \|/gm)!.length;
    assert.equal(documentedMetrics().length, rows, 'every METRICS.md row parsed');
    const { registry, tick } = serveMetrics(defs);
    tick();
    timer = setInterval(tick, 250);
    server = http.createServer((_req, res) => {
      void registry.metrics().then((body) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(body));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const dir = tmpDir('dash-prom');
    writeFileSync(path.join(dir, 'rules.yml'), stringify({ groups: [{ name: 't', rules: [{ alert: 'TestAlwaysFiring', expr: 'vector(1)', labels: { severity: 'warning' } }] }] }));
    writeFileSync(
      path.join(dir, 'prometheus.yml'),
      stringify({
        global: { scrape_interval: '1s', evaluation_interval: '1s', scrape_timeout: '1s' },
        rule_files: [path.join(dir, 'rules.yml')],
        scrape_configs: [{ job_name: 'services', static_configs: [{ targets: [`127.0.0.1:${(server.address() as AddressInfo).port}`] }] }],
      }),
    );
    prom = await startPrometheus(path.join(dir, 'prometheus.yml'));
    // enough samples for rate() over the substituted $__rate_interval, and the rule evaluated
    await waitFor(
      async () => Number((await prom.query('count_over_time(feeder_messages_total[5s])'))[0]?.value[1] ?? 0) >= 4 && (await prom.query('ALERTS')).length > 0,
      30_000,
      'samples scraped and the rule evaluated',
    );
  });
  after(async () => {
    clearInterval(timer);
    server?.close();
    await prom?.stop();
  });

  for (const [uid, d] of Object.entries(committedDashboards())) {
    const targets = allTargets(d).filter(({ target, panel }) => (target.datasource ?? panel.datasource)?.type === 'prometheus');
    if (!targets.length) continue;
    it(`${uid}: ${targets.length} queries return series with their legend labels`, async () => {
      for (const { panel, target } of targets) {
        const expr = target.expr!.replaceAll('$__rate_interval', '4s').replaceAll('$__range', '1m').replaceAll('$__interval', '1s');
        const result = await prom.query(expr);
        const where = `${uid}/${panel.title}/${target.refId}: ${expr}`;
        assert.ok(result.length > 0, `no series: ${where}`);
        for (const label of [...(target.legendFormat ?? '').matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]!))
          assert.ok(result.every((r) => r.metric[label] !== undefined), `legend label ${label} missing: ${where}`);
        assert.ok(result.every((r) => Number.isFinite(Number(r.value[1]))), `non-finite value: ${where}`);
      }
    });
  }
});
