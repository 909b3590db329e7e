// Shared bits of the InfluxDB sink tests: a silent logger, a fresh registry and metric read-back.
import type { Registry } from 'prom-client';
import { createLogger } from '../../src/logger.js';
import { createRegistry } from '../../src/metrics.js';

export const silentLog = createLogger('test', 'silent');

export function freshRegistry(): Registry {
  return createRegistry('test', false);
}

/** Sum of a counter/gauge's samples whose labels include `labels`. */
export async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = registry.getSingleMetric(name);
  if (!m) return 0;
  const { values } = await m.get();
  return values
    .filter((v) => !('metricName' in v && v.metricName && v.metricName !== name) && Object.entries(labels).every(([k, val]) => v.labels[k] === val))
    .reduce((s, v) => s + v.value, 0);
}

/** Histogram sample count (`<name>_count`) for the labels. */
export async function histogramCount(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = registry.getSingleMetric(name);
  if (!m) return 0;
  const { values } = await m.get();
  return values
    .filter((v) => 'metricName' in v && v.metricName === `${name}_count` && Object.entries(labels).every(([k, val]) => v.labels[k] === val))
    .reduce((s, v) => s + v.value, 0);
}
