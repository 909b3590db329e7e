// The repository files the Kubernetes base needs, copied into deploy/kubernetes/base/files/ (Kustomize
// reads files only from inside its own directory): Grafana's provisioning and generated dashboards,
// Prometheus's rules, Alertmanager's template and scripts. One change on the way: the InfluxDB
// datasources take their URL from $INFLUX_URL (Grafana interpolates its environment), so an external
// InfluxDB needs no second copy. `npm run k8s:generate` writes them; scripts/test/kubernetes.test.ts
// checks they are current.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const K8S_FILES = path.join(ROOT, 'deploy', 'kubernetes', 'base', 'files');

const COMPOSE_INFLUX_URL = 'url: http://influxdb:8086';

/** Relative path under files/ → content. */
export function kubernetesFiles(): Map<string, string> {
  const out = new Map<string, string>();
  const copy = (from: string, to = from, edit = (s: string) => s) => out.set(to, edit(readFileSync(path.join(ROOT, from), 'utf8')));
  copy('grafana/provisioning/datasources/datasources.yml', undefined, (s) => {
    if (!s.includes(COMPOSE_INFLUX_URL)) throw new Error(`datasources.yml no longer has "${COMPOSE_INFLUX_URL}": update scripts/kubernetes-files.ts`);
    return s.replaceAll(COMPOSE_INFLUX_URL, 'url: ${INFLUX_URL}');
  });
  copy('grafana/provisioning/dashboards/dashboards.yml');
  for (const f of readdirSync(path.join(ROOT, 'grafana/dashboards')).filter((f) => f.endsWith('.json')).sort()) copy(`grafana/dashboards/${f}`);
  for (const f of readdirSync(path.join(ROOT, 'prometheus/rules')).filter((f) => f.endsWith('.yml')).sort()) copy(`prometheus/rules/${f}`);
  for (const f of ['alertmanager.yml.tmpl', 'render-config.sh', 'entrypoint.sh', 'templates/terminal.tmpl']) copy(`alertmanager/${f}`);
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [rel, content] of kubernetesFiles()) {
    const to = path.join(K8S_FILES, rel);
    mkdirSync(path.dirname(to), { recursive: true });
    writeFileSync(to, content);
  }
  console.log(`wrote ${kubernetesFiles().size} files under ${path.relative(ROOT, K8S_FILES)}`);
}
