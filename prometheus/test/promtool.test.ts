// The committed Prometheus config and rules, checked by Debian's promtool: syntax, rule unit tests
// (*.rules-test.yml next to this file), and that every alerting rule is covered by a unit test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { which } from '@mt/testing';

const DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RULE_FILES = readdirSync(path.join(DIR, 'rules'))
  .filter((f) => f.endsWith('.yml'))
  .map((f) => path.join(DIR, 'rules', f));
const TEST_FILES = readdirSync(path.join(DIR, 'test'))
  .filter((f) => f.endsWith('.rules-test.yml'))
  .map((f) => path.join(DIR, 'test', f));

function promtool(...args: string[]): string {
  try {
    return execFileSync(which('promtool'), args, { cwd: DIR, encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new Error(`promtool ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const rules: Rule[] = RULE_FILES.flatMap((f) => (parse(readFileSync(f, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules));

test('promtool check config: prometheus.yml and the rule files it loads', () => {
  const out = promtool('check', 'config', 'prometheus.yml');
  assert.match(out, new RegExp(`SUCCESS: ${RULE_FILES.length} rule files found`));
});

test('promtool check rules', () => {
  const out = promtool('check', 'rules', ...RULE_FILES);
  assert.equal(out.match(/SUCCESS/g)?.length, RULE_FILES.length);
});

test('promtool test rules: every unit test passes', () => {
  assert.ok(TEST_FILES.length >= 2);
  const out = promtool('test', 'rules', ...TEST_FILES);
  assert.equal(out.match(/SUCCESS/g)?.length, TEST_FILES.length, out);
});

test('every alerting rule has a severity, a summary and a description', () => {
  assert.ok(rules.length >= 15);
  for (const r of rules) {
    assert.ok(r.alert, `only alerting rules expected, got ${r.record}`);
    assert.match(r.labels?.severity ?? '', /^(critical|warning|info|none)$/, `${r.alert}: severity`);
    assert.ok(r.annotations?.summary, `${r.alert}: summary`);
    assert.ok(r.annotations?.description, `${r.alert}: description`);
  }
});

test('every alerting rule (each severity variant) fires in at least one unit test', () => {
  interface UnitTests {
    tests: { alert_rule_test?: { alertname: string; exp_alerts?: { exp_labels?: Record<string, string> }[] }[] }[];
  }
  const fired = new Set<string>();
  for (const f of TEST_FILES) {
    for (const t of (parse(readFileSync(f, 'utf8')) as UnitTests).tests) {
      for (const a of t.alert_rule_test ?? []) for (const e of a.exp_alerts ?? []) fired.add(`${a.alertname}/${e.exp_labels?.severity}`);
    }
  }
  const missing = rules.map((r) => `${r.alert}/${r.labels?.severity}`).filter((k) => !fired.has(k));
  assert.deepEqual(missing, []);
});

test('the scrape config covers every service by its compose name, and alerts go to Alertmanager', () => {
  const cfg = parse(readFileSync(path.join(DIR, 'prometheus.yml'), 'utf8')) as {
    scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
  };
  const targets = cfg.scrape_configs.flatMap((s) => s.static_configs.flatMap((c) => c.targets));
  for (const t of [
    'market-feeder:9464',
    'news-feeder:9464',
    'watchlist-api:8000',
    'node-exporter:9100',
    'cadvisor:8080',
    'grafana:3000',
    'influxdb:8086',
    'alertmanager:9093',
    'localhost:9090',
  ])
    assert.ok(targets.includes(t), `scrapes ${t}`);
  assert.deepEqual(cfg.alerting.alertmanagers[0]!.static_configs[0]!.targets, ['alertmanager:9093']);
});
