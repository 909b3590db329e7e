// What the polled-source tests share: real metrics registry + source metrics, a silent logger (LOG_LEVEL
// to see it), and recording stand-ins for the feeder core's outputs.
import { Registry } from 'prom-client';
import type { Point } from '@influxdata/influxdb-client';
import { createLogger, type InfluxSink } from '@mt/common';
import { createSourceMetrics } from '../../src/common/metrics.js';
import type { MarketTick } from '../../src/market/types.js';

export function harness() {
  const registry = new Registry();
  const metrics = createSourceMetrics(registry);
  const log = createLogger('test', (process.env.LOG_LEVEL as 'info' | undefined) ?? 'silent');
  const ticks: MarketTick[] = [];
  const caps: [symbol: string, cap: number][] = [];
  const points: { bucket: string; line: string }[] = [];
  const out = {
    tick: (t: MarketTick) => void ticks.push(t),
    candle: () => {},
    marketCap: (symbol: string, cap: number) => void caps.push([symbol, cap]),
  };
  const sink: InfluxSink = {
    write: (bucket: string, p: Point | Point[]) => {
      for (const x of [p].flat()) points.push({ bucket, line: x.toLineProtocol() ?? '' });
    },
    flush: async () => {},
    close: async () => {},
    pending: () => ({}),
  };
  /** Current value of a counter/gauge series (0 when the series does not exist yet). */
  async function metric(name: string, labels: Record<string, string>): Promise<number> {
    const m = registry.getSingleMetric(name);
    if (!m) throw new Error(`no metric ${name}`);
    const v = (await m.get()).values.find((s) => Object.entries(labels).every(([k, val]) => s.labels[k] === val));
    return v?.value ?? 0;
  }
  return { registry, metrics, log, ticks, caps, points, out, sink, metric };
}

