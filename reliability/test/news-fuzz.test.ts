// The news feeder as a real process reading 40 fuzzed feeds next to a good one (local RSS server, real
// InfluxDB 1.x). The fuzzed documents derive from the recorded heise Atom feed: cut off anywhere, random
// bytes (invalid UTF-8 too) spliced in, tags removed, injection/huge strings as titles, an entity bomb
// ("billion laughs"), an external entity (XXE) naming /etc/passwd, a 20 MB feed, deep nesting, and bodies
// that are no feed at all → the process stays up, broken feeds are counted as parse errors, rejected
// items are counted, the good feed is stored completely, and nothing stored carries what a bomb or an
// external entity would have expanded to.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RssFake, fixtureFeed, metricValue, replayFeed, startInflux, startService, waitFor, type InfluxServer, type RunningService } from '@mt/testing';
import { select } from './helpers.js';

const NOW = Date.now();
const GUARDIAN_ITEMS = 54; // 55 items, one older than NEWS_MAX_AGE_HOURS (see feeders/test/news/news-feeder.test.ts)

let influx: InfluxServer;
let rss: RssFake;
let svc: RunningService;

const heise = replayFeed(fixtureFeed('heise_developer_atom.xml'), NOW - 3600_000);
const INJECTION = ["'; DROP MEASUREMENT news_articles; --", 'x" ,related_asset=BTC sentiment_score=1 ', 'a\nnews_articles,source=evil title="x" 1', '<script>alert(1)</script>', '${jndi:ldap://x/a}', '\u0000\u0001\u001f'];
const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

interface Doc {
  kind: string;
  body: Buffer;
  /** Not a well-formed feed whatever the parser: must be counted as a parse error. */
  malformed: boolean;
}

const docArb: fc.Arbitrary<Doc> = fc.oneof(
  fc.nat().map((n) => ({ kind: 'truncated', body: Buffer.from(heise.slice(0, 50 + (n % (heise.length - 200)))), malformed: true })),
  fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 64 })).map(([n, bytes]) => {
    const at = n % heise.length;
    return { kind: 'spliced-bytes', body: Buffer.concat([Buffer.from(heise.slice(0, at)), Buffer.from([0xff, 0xfe, 0xc3, 0x28, ...bytes]), Buffer.from(heise.slice(at))]), malformed: false };
  }),
  fc.tuple(fc.constantFrom('title', 'link', 'id', 'updated', 'published', 'summary', 'entry', 'feed'), fc.nat()).map(([tag, n]) => {
    // remove the n-th opening tag only: usually leaves a dangling close tag, sometimes an entry without a field
    let i = -1;
    const body = heise.replace(new RegExp(`<${tag}(\\s[^>]*)?>`, 'g'), (m) => (++i === n % 15 ? '' : m));
    return { kind: `no-${tag}`, body: Buffer.from(body), malformed: false };
  }),
  fc.uint8Array({ maxLength: 2000 }).map((b) => ({ kind: 'random-bytes', body: Buffer.from(b), malformed: true })),
  fc.constantFrom(
    { kind: 'empty', body: Buffer.alloc(0), malformed: true },
    { kind: 'html', body: Buffer.from('<!DOCTYPE html><html><body><h1>Gateway Timeout</h1></body></html>'), malformed: true },
    { kind: 'json', body: Buffer.from('{"status":"error","code":"rateLimited"}'), malformed: true },
  ),
);

// hand-written documents every run includes
const FIXED: Doc[] = [
  {
    kind: 'billion-laughs',
    malformed: false,
    body: Buffer.from(
      heise.replace(
        '<?xml version="1.0" encoding="utf-8"?>',
        `<?xml version="1.0" encoding="utf-8"?><!DOCTYPE feed [<!ENTITY a "LOL"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;"><!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;"><!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">]>`,
      ).replace(/<title type="text">/, '<title type="text">&h;'),
    ),
  },
  {
    kind: 'xxe',
    malformed: false,
    body: Buffer.from(
      heise.replace('<?xml version="1.0" encoding="utf-8"?>', '<?xml version="1.0" encoding="utf-8"?><!DOCTYPE feed [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>').replace(/<title type="text">/, '<title type="text">&xxe;'),
    ),
  },
  { kind: 'deep-nesting', malformed: false, body: Buffer.from(heise.replace('<entry>', `<entry>${'<x>'.repeat(20_000)}${'</x>'.repeat(20_000)}`)) },
  // 20 MB: one legitimate feed with a huge summary per entry
  { kind: 'huge', malformed: false, body: Buffer.from(heise.replace(/<summary type="html">/g, `<summary type="html">${'y'.repeat(1_400_000)}`)) },
];

const titled = (t: string): Doc => ({ kind: 'injection-title', body: Buffer.from(heise.replace(/<title type="text">[^<]*<\/title>/g, `<title type="text">${xmlEscape(t)}</title>`)), malformed: false });
const docs = [...FIXED, ...INJECTION.map(titled), titled('x'.repeat(200_000)), ...fc.sample(docArb, { numRuns: 30, seed: 7 })];

before(async () => {
  influx = await startInflux();
  rss = new RssFake().set('/good.xml', { body: Buffer.from(replayFeed(fixtureFeed('guardian_rss2.xml'), NOW - 1800_000)), contentType: 'application/rss+xml; charset=UTF-8' });
  // links made unique per document (latin1 keeps every byte as it is), or dedupe would store only the first copy
  docs.forEach((d, i) => rss.set(`/fuzz/${i}.xml`, { body: Buffer.from(d.body.toString('latin1').replaceAll('.html?wt_mc=', `.html?doc=${i}&amp;wt_mc=`), 'latin1'), contentType: 'application/atom+xml' }));
  await rss.listen();
  svc = await startService('news-feeder', {
    INFLUX_URL: influx.url,
    INFLUX_API: 'v1',
    DATABASE_URL: '',
    RSS_FEEDS: ['/good.xml', ...docs.map((_, i) => `/fuzz/${i}.xml`)].map((p) => rss.feedUrl(p)).join(','),
    RSS_POLL_MS: '60000',
    LOG_LEVEL: 'info',
  });
});

after(async () => {
  await svc?.kill();
  await rss?.close();
  await influx?.stop();
});

test('fuzzed feeds next to a good one: no crash, broken feeds and rejected items counted, the good feed stored completely', async () => {
  const metric = async (name: string, labels: Record<string, string> = {}) => metricValue(await svc.metrics(), name, labels);
  const mustFail = docs.filter((d) => d.malformed).length;
  await waitFor(() => docs.every((_, i) => rss.requestsTo(`/fuzz/${i}.xml`).length > 0), 60_000, 'every fuzzed feed fetched');
  await waitFor(async () => (await metric('feeder_parse_errors_total', { reason: 'malformed_feed' })) >= mustFail, 30_000, `${mustFail} malformed feeds counted`);
  const stored = async () => (await select(influx, 'SELECT "url","title","sentiment_score","id","lang" FROM "raw"."news_articles" WHERE time > 0', 'news')).map((r) => r as unknown as { url: string; title: string; sentiment_score: number | null; id: string; lang: string });
  await waitFor(async () => new Set((await stored()).filter((r) => r.url.includes('theguardian.com')).map((r) => r.id)).size === GUARDIAN_ITEMS, 30_000, 'the good feed stored');

  assert.equal(svc.proc.child.exitCode, null, 'the feeder is still running');
  assert.equal((await fetch(`${svc.url}/healthz`)).status === 200 || (await fetch(`${svc.url}/healthz`)).status === 503, true, '/healthz answers');
  assert.ok((await metric('news_rejected_total')) > 0, 'items without a usable field rejected and counted');
  const rows = await stored();
  for (const r of rows) {
    assert.match(r.url, /^https?:\/\//, `stored url ${r.url.slice(0, 100)}`);
    assert.ok(typeof r.title === 'string' && r.title.length > 0, 'title');
    // scored in [-1, 1], or (a language the scorer cannot read) not scored at all
    if (r.lang === 'en' || r.sentiment_score !== null) assert.ok(r.sentiment_score! >= -1 && r.sentiment_score! <= 1, `sentiment ${r.sentiment_score} (${r.lang})`);
    assert.doesNotMatch(r.title, /root:.*:0:0:|LOLLOLLOLLOL/, 'no external entity or entity bomb expanded into a title');
  }
  // line-protocol / query injection in titles is stored as text: no other measurement, tag value or source appeared
  // (titles are normalised as text: trimmed, HTML and control characters removed, so only plain ones compare literally)
  for (const t of INJECTION.filter((x) => ![...x].some((c) => c < ' ' || c === '<'))) assert.ok(rows.some((r) => r.title === t.trim()), `title stored literally: ${JSON.stringify(t)} in ${JSON.stringify([...new Set(rows.map((r) => r.title))].slice(0, 40))}`);
  // (stories are written within a second of their articles)
  const measurements = await waitFor(async () => {
    const ms = (await select(influx, 'SHOW MEASUREMENTS', 'news')).map((r) => r.name);
    return ms.length >= 3 && ms;
  }, 10_000, 'the story measurements');
  assert.deepEqual(measurements, ['news_articles', 'news_stories', 'news_story_assets']);
  const sources = (await select(influx, 'SHOW TAG VALUES FROM "news_articles" WITH KEY = "source"', 'news')).map((r) => r.value);
  assert.ok(sources.every((v) => typeof v === 'string' && v.startsWith('rss:')), `sources: ${JSON.stringify(sources)}`);
  const m = await svc.metrics();
  console.log(JSON.stringify({ scenario: 'news-fuzz', feeds: docs.length, mustFail, parseErrors: metricValue(m, 'feeder_parse_errors_total'), rejected: metricValue(m, 'news_rejected_total'), storedRows: rows.length, longestTitle: Math.max(...rows.map((r) => r.title.length)), influxRejected: metricValue(m, 'influx_points_dropped_total'), kinds: [...new Set(docs.map((d) => d.kind))] }));
});
