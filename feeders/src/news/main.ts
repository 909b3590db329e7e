// The news feeder process (`npm run news-feeder`): config, InfluxDB, known ids (restart-safe dedupe), the
// watch set (asset tagging), one Poller per source, /metrics + /healthz, and an orderly SIGTERM.
import {
  Backoff,
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
  pgConnectionString,
  sleep,
  startOpsServer,
  type InfluxQLClient,
  type InfluxSink,
  type Logger,
} from '@mt/common';
import { createSourceMetrics } from '../common/metrics.js';
import { Poller } from '../common/poller.js';
import { newsSchema } from './config.js';
import { createNewsMetrics } from './metrics.js';
import { ingest, KnownIds, loadKnownIds, loadStories, STORY_FLUSH_MS, writeStories, type PipelineDeps } from './pipeline.js';
import { STORY_WINDOW_MS, StoryBook } from './stories.js';
import { sourceSpecs } from './sources/index.js';
import { AssetTagger } from './tagger.js';
import type { SourceBatch } from './types.js';

const SERVICE = 'news-feeder';

/** Load stored ids before polling; bounded retries, then start anyway (same-source repeats still overwrite). */
async function warmKnownIds(ql: InfluxQLClient, known: KnownIds, stories: StoryBook, maxAgeMs: number, log: Logger, signal: AbortSignal): Promise<void> {
  const backoff = new Backoff({ initialMs: 500, maxMs: 5_000 });
  for (let attempt = 1; !signal.aborted; attempt++) {
    try {
      const n = await loadKnownIds(ql, known, maxAgeMs);
      const s = await loadStories(ql, stories, STORY_WINDOW_MS);
      log.info({ ids: n, stories: s }, 'known article ids and open stories loaded from InfluxDB');
      return;
    } catch (err) {
      if (attempt >= 6) {
        log.error({ err }, 'could not load known article ids: cross-source duplicates possible until they age out');
        return;
      }
      log.warn({ err, attempt }, 'loading known article ids failed, retrying');
      await sleep(backoff.next(), signal);
    }
  }
}

async function main(): Promise<void> {
  const cfg = loadConfig(newsSchema);
  const log = createLogger(SERVICE, cfg.LOG_LEVEL);
  const registry = createRegistry(SERVICE);
  const lifecycle = new Lifecycle(log);
  lifecycle.installSignalHandlers();
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));

  const pollers: { name: string; poller: Poller<SourceBatch> }[] = [];
  // filled once InfluxDB is up; /healthz answers before that
  const state: { sink?: InfluxSink } = {};
  let phase: 'starting' | 'running' = 'starting';
  const ops = await startOpsServer({
    port: cfg.METRICS_PORT,
    registry,
    health: () => ({
      ok: phase === 'running',
      phase,
      sources: Object.fromEntries(
        pollers.map(({ name, poller: p }) => [
          name,
          { lastSuccessAt: p.lastSuccessAt ? new Date(p.lastSuccessAt).toISOString() : null, failures: p.consecutiveFailures },
        ]),
      ),
      pending: state.sink?.pending() ?? {},
    }),
  });
  lifecycle.add('ops-server', () => ops.close());
  log.info({ port: ops.port }, 'ops server listening');

  const influxCfg = influxConfigFromEnv(cfg);
  try {
    await bootstrapInflux(influxCfg, log, { buckets: DATA_BUCKETS });
  } catch (err) {
    log.fatal({ err }, 'InfluxDB unavailable at start-up');
    await lifecycle.shutdown().catch(() => {});
    process.exit(1);
  }
  const sinkLive = createInfluxSink(influxCfg, { log, registry, maxBufferPoints: cfg.INFLUX_MAX_BUFFER_POINTS });
  state.sink = sinkLive;
  lifecycle.add('influx-sink', () => sinkLive.close());

  const metrics = createNewsMetrics(registry);
  const sourceMetrics = createSourceMetrics(registry);
  const maxAgeMs = cfg.NEWS_MAX_AGE_HOURS * 3600_000;
  const known = new KnownIds(maxAgeMs);
  const stories = new StoryBook();
  const startup = new AbortController();
  lifecycle.add('startup', () => startup.abort());
  await warmKnownIds(createInfluxQLClient(influxCfg), known, stories, maxAgeMs, log, startup.signal);
  metrics.knownIds.set(known.size);
  const pruner = setInterval(() => {
    known.prune();
    stories.prune();
    metrics.knownIds.set(known.size);
    metrics.stories.set(stories.size);
  }, 3600_000).unref();
  lifecycle.add('pruner', () => clearInterval(pruner));

  const tagger = new AssetTagger();
  const watchset = createWatchSetSource({ databaseUrl: cfg.DATABASE_URL ? pgConnectionString(cfg.DATABASE_URL, cfg.PGPASSWORD) : undefined, watchSymbols: cfg.WATCH_SYMBOLS, log });
  lifecycle.add('watchset', () => watchset.stop());
  try {
    await watchset.start((set) => {
      tagger.setWatch(set.items);
      log.info({ items: set.items.length }, 'watch set for asset tagging');
    });
  } catch (err) {
    log.error({ err }, 'watch set unavailable: tagging with the built-in asset list only');
  }

  const deps: PipelineDeps = { sink: sinkLive, tagger, known, stories, metrics, sourceMetrics, log: log.child({ component: 'pipeline' }) };
  const specs = sourceSpecs(cfg, log);
  specs.forEach((s, i) => {
    pollers.push({
      name: s.name,
      poller: new Poller<SourceBatch>({
        name: s.name,
        intervalMs: s.intervalMs,
        // a feed that is not RSS/Atom, a body that is not JSON: counted as bad input by the Poller
        fetch: (signal) => s.fetch(signal),
        onData: (batch) => {
          ingest(batch, deps);
        },
        log: log.child({ source: s.name }),
        metrics: sourceMetrics,
        // a little spread so a dozen feeds are not fetched in the same instant
        initialDelayMs: i * 250,
      }),
    });
  });
  // changed stories are rewritten once a second (a story run by many outlets in one burst: once)
  const storyFlush = setInterval(() => writeStories(deps), STORY_FLUSH_MS);
  lifecycle.add('stories', () => {
    clearInterval(storyFlush);
    writeStories(deps);
  });
  // Stop intake first (closers run in reverse), then the last stories, then the sink flushes what was queued.
  lifecycle.add('pollers', async () => {
    await Promise.all(pollers.map(({ poller }) => poller.stop()));
  });
  for (const { poller } of pollers) poller.start();
  phase = 'running';
  log.info({ sources: specs.map((s) => s.name) }, 'news feeder running');
}

main().catch((err) => {
  process.stderr.write(`news-feeder failed: ${String(err instanceof Error ? err.stack : err)}\n`);
  process.exit(1);
});
