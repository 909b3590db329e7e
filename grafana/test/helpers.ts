// Shared by the dashboard tests: the committed dashboards and provisioning, and every target in them.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const GRAFANA_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface Target {
  refId: string;
  datasource?: { type: string; uid: string };
  query?: string;
  expr?: string;
  resultFormat?: string;
  alias?: string;
  legendFormat?: string;
  instant?: boolean;
}
export interface Panel {
  id?: number;
  type: string;
  title?: string;
  datasource?: { type: string; uid: string };
  gridPos?: { x: number; y: number; w: number; h: number };
  targets?: Target[];
  interval?: string;
}
export interface Variable {
  name: string;
  type: string;
  query?: string;
  regex?: string;
  multi?: boolean;
  includeAll?: boolean;
  datasource?: { type: string; uid: string };
}
export interface DashboardJson {
  uid: string;
  title: string;
  schemaVersion: number;
  refresh: string;
  panels: Panel[];
  templating: { list?: Variable[] };
  time: { from: string; to: string };
  annotations?: { list?: { name: string; datasource?: { type: string; uid: string }; target?: Target }[] };
  links?: { title: string; type: string; tags?: string[]; placement?: string }[];
}

export function committedDashboards(): Record<string, DashboardJson> {
  const dir = path.join(GRAFANA_DIR, 'dashboards');
  return Object.fromEntries(
    readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => [f.replace(/\.json$/, ''), JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as DashboardJson]),
  );
}

export interface ProvisionedDatasource {
  name: string;
  uid: string;
  type: string;
  url: string;
  jsonData?: Record<string, unknown>;
  secureJsonData?: Record<string, string>;
}
export function provisionedDatasources(): ProvisionedDatasource[] {
  const file = path.join(GRAFANA_DIR, 'provisioning', 'datasources', 'datasources.yml');
  return (parse(readFileSync(file, 'utf8')) as { datasources: ProvisionedDatasource[] }).datasources;
}

/** Every query: the panels' targets and the annotation queries (as a pseudo panel named after the annotation). */
export function allTargets(d: DashboardJson): { panel: Panel; target: Target }[] {
  const annotations = (d.annotations?.list ?? [])
    .filter((a) => a.target?.query)
    .map((a) => ({ panel: { type: 'annotation', title: `annotation ${a.name}`, datasource: a.datasource }, target: a.target! }));
  return [...d.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel, target }))), ...annotations];
}
