// News burst (issue 18): 50 feeds × 100 items arriving at once, deduplicated, clustered into stories and
// stored in a real InfluxDB 1.x — time and memory, side by side in one run:
//   floor — decode + parse the 50 feeds (encoding.ts + rss-parser), nothing else;
//   peer  — floor + map + one news_articles point per item written and flushed: storage without dedupe,
//           language, sentiment, asset tags or stories (what a plain feed-to-database loader does);
//   ours  — the feeder's path: parseFeed → mapFeedItem → ingest (dedupe, lang, sentiment, assets, story
//           clustering + rank) → sink, flushed.
// Each runs in a fresh child process (memory = peak RSS above the child's baseline, sampled every 5 ms).
// The burst: real headlines (Guardian and heise feeds, CryptoPanic, NewsAPI, the labelled headline set)
// dealt to 50 outlets so that every story is run by several outlets under different URLs — the clustering
// path, not just the id path, decides almost every item.
//
//   npm run bench -- news     (or: node --conditions=source --import tsx bench/news.ts --rounds 3)
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fixtureFeed, fixtureJson, startInflux } from '@mt/testing';
import { BENCH_DIR, ROOT, machine, median, saveResult, spread } from './lib.js';

const FEEDS = 50;
const ITEMS = 100;

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, child: { type: 'string' }, influx: { type: 'string' } } });

/** The real headlines the burst is made of (distinct titles). */
function headlines(): string[] {
  const titles = new Set<string>();
  for (const xml of [fixtureFeed('guardian_rss2.xml'), fixtureFeed('heise_developer_atom.xml')])
    for (const m of xml.matchAll(/<item>[\s\S]*?<title>([^<]+)<\/title>|<entry>[\s\S]*?<title[^>]*>([^<]+)<\/title>/g)) titles.add((m[1] ?? m[2]!).trim());
  for (const p of fixtureJson<{ results: { title: string }[] }>('cryptopanic/posts_v1_filter_hot_2018-01-18_first10.json').results) titles.add(p.title);
  for (const a of fixtureJson<{ articles: { title: string }[] }>('newsapi/top-headlines_category-business_us_2021-12-09_first3.json').articles) titles.add(a.title);
  const labelled = JSON.parse(readFileSync(path.join(ROOT, 'feeders/test/news/headlines.labelled.json'), 'utf8')) as { headlines: { headline: string }[] };
  for (const h of labelled.headlines) titles.add(h.headline);
  return [...titles];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Feed f (outlet f): 100 items, each a real headline under the outlet's own URL, published in the last hour. */
function burst(now: number): { url: string; body: Buffer }[] {
  const hs = headlines();
  return Array.from({ length: FEEDS }, (_, f) => {
    const items = Array.from({ length: ITEMS }, (_, i) => {
      const h = hs[(f * 37 + i) % hs.length]!;
      const t = new Date(now - ((f * ITEMS + i) % 3600) * 1000).toUTCString();
      return `<item><title>${esc(h)}</title><link>https://outlet${f}.example/news/${i}</link><pubDate>${t}</pubDate></item>`;
    });
    return { url: `https://outlet${f}.example/rss.xml`, body: Buffer.from(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>outlet ${f}</title>${items.join('')}</channel></rss>`) };
  });
}

type Variant = 'floor' | 'peer' | 'ours';
interface ChildResult {
  variant: Variant;
  ms: number;
  /** CPU time (user + system) of the burst: less at the mercy of a shared machine than the wall time. */
  cpuMs: number;
  peakRssDeltaMiB: number;
  peakRssMiB: number;
  items: number;
  articles: number;
  stories: number;
  points: number;
}

async function child(variant: Variant, influxUrl: string): Promise<ChildResult> {
  const { parseFeed } = await import('../feeders/src/news/sources/rss.js');
  const { mapFeedItem, rssSourceName } = await import('../feeders/src/news/mappers.js');
  const { ingest, KnownIds, writeStories } = await import('../feeders/src/news/pipeline.js');
  const { articlePoint } = await import('../feeders/src/news/points.js');
  const { StoryBook } = await import('../feeders/src/news/stories.js');
  const { AssetTagger } = await import('../feeders/src/news/tagger.js');
  const { createNewsMetrics } = await import('../feeders/src/news/metrics.js');
  const { createSourceMetrics } = await import('../feeders/src/common/metrics.js');
  const { BUCKETS, createInfluxSink, createLogger, createRegistry } = await import('@mt/common');
  const log = createLogger('bench', 'silent');
  const registry = createRegistry('bench');
  const sink = createInfluxSink({ url: influxUrl, token: '', org: '', api: 'v1' }, { log, registry });
  const feeds = burst(Date.now());
  const opts = { receivedAt: Date.now(), maxAgeMs: 7 * 86400_000 };
  const deps = { sink, tagger: new AssetTagger(), known: new KnownIds(opts.maxAgeMs), stories: new StoryBook(), metrics: createNewsMetrics(registry), sourceMetrics: createSourceMetrics(registry), log };
  // warm the code paths on one feed into a throw-away book, so the figures are the burst, not JIT and lazy imports
  for (const r of (await parseFeed(feeds[0]!.body, 'application/rss+xml')).map((i) => mapFeedItem(i, feeds[0]!.url, opts))) void r;
  globalThis.gc?.();
  const base = process.memoryUsage().rss;
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let items = 0;
  let articles = 0;
  let points = 0;
  // the 50 polls resolve together (a burst): parse all, then hand each batch to the pipeline as the Poller does
  const parsed = await Promise.all(feeds.map(async (f) => ({ f, items: await parseFeed(f.body, 'application/rss+xml') })));
  for (const { f, items: its } of parsed) {
    items += its.length;
    if (variant === 'floor') continue;
    const results = its.map((i) => mapFeedItem(i, f.url, opts));
    if (variant === 'peer') {
      const ps = results.flatMap((r) => (r.ok ? [articlePoint({ ...r.article, lang: 'en', assets: [], story: r.article.id })] : []));
      sink.write(BUCKETS.newsRaw, ps);
      articles += ps.length;
      points += ps.length;
    } else {
      const c = ingest({ source: rssSourceName(f.url), results }, deps);
      articles += c.stored;
      points += c.points;
    }
  }
  // the stories the burst changed, as the feeder's 1 s story flush writes them
  if (variant === 'ours') points += writeStories(deps);
  if (variant !== 'floor') await sink.flush();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  await sink.close();
  return { variant, ms, cpuMs: (cpu.user + cpu.system) / 1000, peakRssDeltaMiB: (peak - base) / 2 ** 20, peakRssMiB: peak / 2 ** 20, items, articles, stories: deps.stories.size, points };
}

if (values.child) {
  const r = await child(values.child as Variant, values.influx!);
  process.send!(r);
  process.exit(0);
}

const influx = await startInflux();
const { bootstrapInflux, createLogger } = await import('@mt/common');
await bootstrapInflux({ url: influx.url, token: '', org: '', api: 'v1' }, createLogger('bench', 'silent'));
const runs: ChildResult[] = [];
for (let round = 0; round < Number(values.rounds); round++) {
  for (const variant of ['floor', 'peer', 'ours'] as Variant[]) {
    // a fresh database each time: "stored" means written, not overwritten
    await influx.query('DROP SERIES FROM /news_.*/', 'news');
    const proc = fork(path.join(BENCH_DIR, 'news.ts'), ['--child', variant, '--influx', influx.url], { execArgv: ['--conditions=source', '--import', 'tsx', '--expose-gc'] });
    const r = await new Promise<ChildResult>((resolve, reject) => {
      proc.once('message', (m) => resolve(m as ChildResult));
      proc.once('exit', (code) => code && reject(new Error(`${variant} child exited ${code}`)));
    });
    if (variant === 'ours') {
      const stored = await influx.query('SELECT count("id") FROM "raw"."news_articles"', 'news');
      const stories = await influx.query('SELECT count("story") FROM "raw"."news_stories"', 'news');
      const n = Number(stored.results[0]?.series?.[0]?.values[0]?.[1] ?? 0);
      const s = Number(stories.results[0]?.series?.[0]?.values[0]?.[1] ?? 0);
      if (n !== r.articles || s !== r.stories) throw new Error(`stored ${n} articles / ${s} stories, pipeline said ${r.articles} / ${r.stories}`);
    }
    runs.push(r);
    process.stdout.write(`${JSON.stringify(r)}\n`);
  }
}
await influx.stop();

const rows = (['floor', 'peer', 'ours'] as Variant[]).map((v) => {
  const rs = runs.filter((r) => r.variant === v);
  return { v, ms: rs.map((r) => r.ms), cpu: rs.map((r) => r.cpuMs), mem: rs.map((r) => r.peakRssDeltaMiB), last: rs.at(-1)! };
});
const info = machine();
console.log(`\n${FEEDS} feeds × ${ITEMS} items, ${info.nproc} cores, load ${info.loadavg}`);
console.log('| variant | time to stored, ms | CPU, ms | peak RSS above baseline, MiB | items | articles stored | stories | points |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.v} | ${spread(r.ms)} | ${spread(r.cpu)} | ${spread(r.mem, 1)} | ${r.last.items} | ${r.last.articles} | ${r.last.stories} | ${r.last.points} |`);
const ours = rows.find((r) => r.v === 'ours')!;
console.log(`\nours: median ${median(ours.ms).toFixed(0)} ms (goal < 2000), peak +${median(ours.mem).toFixed(1)} MiB (goal < 100)`);
saveResult('news', { machine: info, runs });
