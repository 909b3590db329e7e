// The market feeder process (`npm run market-feeder`): config, InfluxDB, the watch set, the sources,
// the core (throttle, candles, indicators, alerts), /metrics + /healthz, and an orderly SIGTERM.
import { hostname } from 'node:os';
import {
  Lifecycle,
  bootstrapInflux,
  DATA_BUCKETS,
  createInfluxQLClient,
  createInfluxSink,
  createLogger,
  createRegistry,
  createWatchSetSource,
  influxConfigFromEnv,
  loadConfig,
  resolveShard,
  shardItems,
  type Shard,
  pgConnectionString,
  startOpsServer,
  type Health,
  type InfluxSink,
  type Logger,
  type WatchSet,
  watchItemKey,
} from '@mt/common';
import { createSourceMetrics, type SourceMetrics } from '../common/metrics.js';
import { OnceFiredStore, createPriceAlerts } from './alerts/index.js';
import { createBinanceSource } from './binance/index.js';
import { createBinanceFuturesSource } from './binance-futures/index.js';
import { createKrakenSource } from './kraken/index.js';
import { createCoinbaseSource } from './coinbase/index.js';
import { marketSchema } from './config.js';
import type { MarketComponent, MarketContext } from './context.js';
import { MarketCore } from './core.js';
import { IndicatorEngine } from './indicators/index.js';
import { createGrafanaLive, liveOffReason } from './live/index.js';
import { createMarketMetrics, type MarketMetrics } from './metrics.js';
import { createPolledSources } from './polled.js';
import { MarketSourceRegistry } from './stream/registry.js';

const SERVICE = 'market-feeder';

async function main(): Promise<void> {
  const cfg = loadConfig(marketSchema);
  const log = createLogger(SERVICE, cfg.LOG_LEVEL);
  const registry = createRegistry(SERVICE);
  const lifecycle = new Lifecycle(log);
  lifecycle.installSignalHandlers();
  containStrayErrors(log);
  // undefined = this feeder collects the whole watch set; a StatefulSet pod's ordinal is in its hostname
  let shard: Shard | undefined;
  try {
    shard = resolveShard(cfg, process.env.HOSTNAME || hostname());
  } catch (err) {
    process.stderr.write(`config error: FEEDER_SHARDS: ${(err as Error).message}\n`);
    process.exit(1);
  }
  if (shard) log.info({ shard: `${shard.index}/${shard.count}` }, 'sharded: collecting the watch-set items that hash to this shard');

  // Closers run in reverse order of registration: watch set, sources (intake), core, alerts, sink, ops server.
  const state: State = { phase: 'starting', sink: undefined, sourceMetrics: undefined, watchsetOk: false, components: [], failed: new Map(), grafanaLive: () => ({ on: false }) };
  const { components, failed } = state;
  const ops = await startOpsServer({ port: cfg.METRICS_PORT, registry, health: () => health(state) });
  lifecycle.add('ops-server', () => ops.close());
  log.info({ port: ops.port }, 'ops server listening');

  const influxCfg = influxConfigFromEnv(cfg);
  try {
    await bootstrapInflux(influxCfg, log, { buckets: DATA_BUCKETS });
  } catch (err) {
    state.phase = 'failed';
    log.fatal({ err }, 'InfluxDB unavailable at start-up');
    await lifecycle.shutdown().catch(() => {});
    process.exit(1);
  }
  // A short flush interval: a symbol added to the watch set must show its first point within a second.
  const sinkLive = createInfluxSink(influxCfg, { log, registry, flushIntervalMs: 250, maxBufferPoints: cfg.INFLUX_MAX_BUFFER_POINTS });
  state.sink = sinkLive;
  lifecycle.add('influx-sink', () => sinkLive.close());
  // sample the buffer between scrapes too, so one scrape during a burst does not read as an outage
  const sampler = setInterval(() => sinkState(sinkLive), 1000).unref();
  lifecycle.add('sink-sampler', () => clearInterval(sampler));

  const influxql = createInfluxQLClient(influxCfg);
  const sourceMetrics = createSourceMetrics(registry);
  state.sourceMetrics = sourceMetrics;
  const metrics = createMarketMetrics(registry, () => core.lastTicks());
  // Grafana Live beside InfluxDB: its own queue and retries; closed after the core has flushed.
  const live = createGrafanaLive(cfg, log.child({ component: 'grafana-live' }), registry);
  if (live) lifecycle.add('grafana-live', () => live.close());
  const liveOff = liveOffReason(cfg);
  state.grafanaLive = () => (live ? { on: true, ...live.health() } : { on: false, reason: liveOff });
  const core: MarketCore = new MarketCore({
    sink: sinkLive,
    live,
    influxql,
    indicators: new IndicatorEngine(),
    log: log.child({ component: 'core' }),
    metrics,
  });
  // Components make their own child loggers (`source` / `component`), so they get the root one.
  const ctx: MarketContext = { cfg, log, registry, sink: sinkLive, influxql, sourceMetrics, out: core.out, shard };

  const databaseUrl = cfg.DATABASE_URL ? pgConnectionString(cfg.DATABASE_URL, cfg.PGPASSWORD) : undefined;
  const alerts = createPriceAlerts(ctx, {
    onceStore: databaseUrl ? new OnceFiredStore({ connectionString: databaseUrl, log: log.child({ component: 'price-alerts' }) }) : undefined,
  });
  core.alerts = alerts;
  // Besides the core: Yahoo's market state on every poll to the alerts alone (feed_stale; the core stores
  // it with ticks), and funding rates to the funding rules as they arrive (not after the next poll of InfluxDB)
  const coreOut = core.out;
  ctx.out = {
    ...coreOut,
    marketState: (symbol, state) => alerts.onMarketState(symbol, state),
    funding: (f) => {
      coreOut.funding?.(f);
      void guard(log, metrics, 'price-alerts', 'funding', () => alerts.onFunding(f));
    },
  };
  // candle and indicator rules: every closed candle of every timeframe once, with its indicators
  core.onClosedCandle((c, values, { recomputed }) => {
    if (!recomputed) alerts.onBar(c, values);
  });
  lifecycle.add('price-alerts', () => alerts.close());
  lifecycle.add('core', () => core.stop());

  // Every watch-set item goes to the source of its `exchange` (docs/STREAMING.md, "Registry"); the polled
  // sources that serve no one exchange (CoinGecko, Fear & Greed, Yahoo and its fallbacks) see every item.
  // One source failing to build or start never stops the others: it is reported in /healthz instead.
  const sources = new MarketSourceRegistry(log, registry);
  const build = (name: string, make: () => void) => {
    try {
      make();
    } catch (err) {
      failed.set(name, String(err));
      metrics.componentErrors.inc({ component: name, phase: 'create' });
      log.error({ err, component: name }, 'component could not be created');
    }
  };
  build('binance', () => sources.register('binance', createBinanceSource(ctx)));
  build('binance-futures', () => sources.register('binance-futures', createBinanceFuturesSource(ctx)));
  build('kraken', () => sources.register('kraken', createKrakenSource(ctx)));
  build('coinbase', () => sources.register('coinbase', createCoinbaseSource(ctx)));
  build('polled', () => {
    for (const c of createPolledSources(ctx)) sources.addGlobal(c, ['yahoo']);
  });
  components.push(...sources.components());
  lifecycle.add('sources', async () => {
    await Promise.allSettled(components.map((c) => guard(log, metrics, c.name, 'stop', () => c.stop())));
  });

  const onWatch = (set: WatchSet) => {
    // Rules go to every shard whole: a rule only ever sees the ticks of the symbols its shard collects.
    const items = shardItems(set.items, shard);
    metrics.watchItems.set({ scope: 'all' }, set.items.length);
    metrics.watchItems.set({ scope: 'owned' }, items.length);
    log.info({ items: items.length, ...(shard ? { allItems: set.items.length } : {}), rules: set.rules.length }, 'watch set');
    core.setWatch(items);
    live?.setWatch(new Set(items.map(watchItemKey)));
    for (const [c, own] of sources.route(items)) void guard(log, metrics, c.name, 'setWatch', () => c.setWatch(own));
    void guard(log, metrics, 'price-alerts', 'setRules', () => alerts.setRules(set.rules));
  };
  const watchset = createWatchSetSource({ databaseUrl, watchSymbols: cfg.WATCH_SYMBOLS, log });
  lifecycle.add('watchset', () => watchset.stop());
  try {
    await watchset.start(onWatch);
    state.watchsetOk = true;
  } catch (err) {
    metrics.componentErrors.inc({ component: 'watchset', phase: 'start' });
    log.error({ err }, 'watch set unavailable: sources start with nothing to watch');
  }

  await Promise.all(
    components.map(async (c) => {
      const ok = await guard(log, metrics, c.name, 'start', () => c.start());
      if (!ok) failed.set(c.name, 'start failed');
    }),
  );
  state.phase = 'running';
  log.info({ components: components.map((c) => c.name), failed: [...failed.keys()] }, 'market feeder running');
}

/** Run a component call; an exception is logged and counted, never propagated. Returns whether it succeeded. */
async function guard(log: Logger, metrics: MarketMetrics, component: string, phase: string, fn: () => unknown): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch (err) {
    metrics.componentErrors.inc({ component, phase });
    log.error({ err, component, phase }, 'component error contained');
    return false;
  }
}

interface State {
  phase: 'starting' | 'running' | 'failed';
  sink: InfluxSink | undefined;
  sourceMetrics: SourceMetrics | undefined;
  watchsetOk: boolean;
  components: MarketComponent[];
  /** Components that could not be created or started, with the reason. */
  failed: Map<string, string>;
  /** Grafana Live on (queue, backoff) or off (why): never part of `ok`, Live is optional. */
  grafanaLive: () => Record<string, unknown>;
}

/**
 * 200 while running, the sink drains and at least one source delivers: one failing source (Yahoo down,
 * a missing key) must not make the container unhealthy, it shows as `degraded` here and in the alerts
 * (feeder_source_up). "Up" is what each source reports in feeder_source_up; components add details.
 */
async function health({ phase, sink, sourceMetrics, watchsetOk, components, failed, grafanaLive }: State): Promise<Health> {
  const sources: Record<string, boolean> = {};
  for (const v of (await sourceMetrics?.up.get())?.values ?? []) sources[String(v.labels.source)] = v.value === 1;
  const details: Record<string, unknown> = {};
  for (const c of components) {
    try {
      details[c.name] = c.health?.() ?? {};
    } catch (err) {
      details[c.name] = { error: String(err) };
    }
  }
  for (const [name, error] of failed) details[name] = { failed: error };
  const sinkHealth = sink ? sinkState(sink) : { ok: false, pending: {} };
  const up = Object.values(sources).filter(Boolean).length;
  const degraded = failed.size > 0 || up < Object.keys(sources).length;
  const anySourceUp = up > 0 || Object.keys(sources).length === 0;
  return { ok: phase === 'running' && sinkHealth.ok && anySourceUp, degraded, phase, influx: sinkHealth, watchset: { ok: watchsetOk }, sources, components: details, grafanaLive: grafanaLive() };
}

/** The sink is healthy while InfluxDB keeps acknowledging: its buffer drained to a few batches recently. */
const SINK_STUCK_MS = 30_000;
let sinkLowAt = Date.now();
function sinkState(sink: InfluxSink): { ok: boolean; pending: Record<string, number> } {
  const pending = sink.pending();
  const total = Object.values(pending).reduce((a, b) => a + b, 0);
  if (total < 1000) sinkLowAt = Date.now();
  return { ok: Date.now() - sinkLowAt < SINK_STUCK_MS, pending };
}

/** A stray rejection in one component must not take the process (and every other source) down. */
function containStrayErrors(log: Logger): void {
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection contained'));
}

main().catch((err: unknown) => {
  process.stderr.write(`market-feeder failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
