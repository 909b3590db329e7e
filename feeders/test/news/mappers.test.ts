import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureJson, fixtureFeed, toLatin1, removeTag, relativeLinks, htmlTitles, truncated, withTracking } from '@mt/testing';
import { ParseError } from '@mt/common';
import { MAX_TITLE_CHARS, cryptoPanicResults, mapCryptoPanicPost, mapFeedItem, mapNewsApiArticle, newsApiArticles } from '../../src/news/mappers.js';
import { parseFeed } from '../../src/news/sources/rss.js';
import { decodeFeed } from '../../src/news/encoding.js';
import type { Article, MapResult } from '../../src/news/types.js';

const YEARS = 20 * 365 * 86400_000; // fixtures are old; age filtering is tested separately
const opts = { receivedAt: Date.parse('2026-01-01T00:00:00Z'), maxAgeMs: YEARS };
const articles = (rs: MapResult[]): Article[] => rs.flatMap((r) => (r.ok ? [r.article] : []));

test('CryptoPanic: every recorded post maps; HTML stripped from titles; currencies become asset hints', () => {
  const posts = cryptoPanicResults(fixtureJson('cryptopanic/posts_v1_filter_hot_2018-01-18_first10.json'));
  const rs = posts.map((p) => mapCryptoPanicPost(p, opts));
  const as = articles(rs);
  assert.equal(as.length, 10);
  assert.equal(as[0]!.title, 'NEO ($NEO) price is up 20.99%');
  assert.deepEqual(as[0]!.assetHints, ['NEO']);
  assert.equal(as[0]!.source, 'cryptopanic');
  assert.equal(as[0]!.publishedAt, Date.parse('2018-01-18T09:45:28.965Z'));
  assert.equal(as[1]!.assetHints.length, 0); // post without `currencies`
  assert.ok(as.every((a) => !a.dateFallback && a.url.startsWith('https://cryptopanic.com/news/')));
});

test('CryptoPanic: original_url preferred; without url the permalink is rebuilt from id and slug (same id as the recorded url)', () => {
  const [first] = cryptoPanicResults(fixtureJson('cryptopanic/posts_v1_filter_hot_2018-01-18_first10.json')) as Record<string, unknown>[];
  const withUrl = mapCryptoPanicPost(first, opts);
  const { url: _url, currencies, ...noUrl } = first!;
  const rebuilt = mapCryptoPanicPost({ ...noUrl, instruments: currencies }, opts);
  assert.ok(withUrl.ok && rebuilt.ok);
  assert.equal(rebuilt.article.url, withUrl.article.url);
  assert.equal(rebuilt.article.id, withUrl.article.id);
  assert.deepEqual(rebuilt.article.assetHints, ['NEO']);
  const original = mapCryptoPanicPost({ ...first, original_url: 'https://coinmarketcap.com/currencies/neo/?utm_source=cryptopanic' }, opts);
  assert.ok(original.ok && original.article.url === 'https://coinmarketcap.com/currencies/neo/');
});

test('CryptoPanic: a malformed post is rejected with a reason, not thrown', () => {
  assert.deepEqual(mapCryptoPanicPost('nope', opts), { ok: false, reason: 'not_an_object', detail: undefined });
  const r = mapCryptoPanicPost({ title: '<span></span>', url: 'https://x.y/z', published_at: '2018-01-18T09:45:28Z' }, opts);
  assert.equal(r.ok ? 'ok' : r.reason, 'missing_title');
  const r2 = mapCryptoPanicPost({ title: 'T', published_at: '2018-01-18T09:45:28Z' }, opts);
  assert.equal(r2.ok ? 'ok' : r2.reason, 'missing_url');
  assert.throws(() => cryptoPanicResults({ detail: 'x' }), TypeError);
});

test('an over-long title is cut to MAX_TITLE_CHARS (InfluxDB 2.x caps string fields), the article kept', () => {
  const r = mapCryptoPanicPost({ title: `Bitcoin ${'rally '.repeat(40_000)}`, url: 'https://x.y/long', published_at: '2018-01-18T09:45:28Z' }, opts);
  assert.ok(r.ok);
  assert.equal(r.article.title.length, MAX_TITLE_CHARS);
  assert.ok(r.article.title.startsWith('Bitcoin rally') && r.article.title.endsWith('…'));
});

test('NewsAPI: recorded top-headlines map; the " - Source" suffix NewsAPI appends is removed', () => {
  const body = fixtureJson('newsapi/top-headlines_category-business_us_2021-12-09_first3.json');
  const as = articles(newsApiArticles(body).map((a) => mapNewsApiArticle(a, 'business', opts)));
  assert.deepEqual(
    as.map((a) => a.title),
    [
      'U.S. Jobless Claims Fall to Lowest Level in 52 Years',
      'Glimmers of hope emerge in the supply chain nightmare',
      "'It's hard to get on board' with buying Tesla here despite analyst optimism, trader says",
    ],
  );
  assert.ok(as.every((a) => a.category === 'business' && a.source === 'newsapi'));
  assert.equal(as[0]!.publishedAt, Date.parse('2021-12-09T16:17:00Z'));
});

test('too old and future dates: rejected as too_old / fall back to receive time', () => {
  const post = { title: 'T', url: 'https://x.y/1', published_at: '2018-01-18T09:45:28Z' };
  const r = mapCryptoPanicPost(post, { receivedAt: opts.receivedAt, maxAgeMs: 7 * 86400_000 });
  assert.equal(r.ok ? 'ok' : r.reason, 'too_old');
  const f = mapCryptoPanicPost({ ...post, published_at: '2030-01-01T00:00:00Z' }, opts);
  assert.ok(f.ok && f.article.dateFallback && f.article.publishedAt === opts.receivedAt);
});

const FEED = 'http://feeds.example/guardian.xml';

test('RSS 2.0 (Guardian): 55 items, dates, links', async () => {
  const items = await parseFeed(Buffer.from(fixtureFeed('guardian_rss2.xml')), 'application/rss+xml; charset=utf-8');
  const as = articles(items.map((i) => mapFeedItem(i, FEED, opts)));
  assert.equal(as.length, 55);
  assert.equal(as[0]!.title, 'Trump State of the Union address promised unity but emphasized discord');
  assert.equal(as[0]!.publishedAt, Date.parse('Wed, 31 Jan 2018 07:26:05 GMT'));
  assert.equal(as[0]!.source, 'rss:feeds.example');
  assert.match(as[0]!.url, /^https:\/\/www\.theguardian\.com\/us-news\//);
});

test('Atom (heise) re-encoded to ISO-8859-1: decoded from the XML declaration, and despite a wrong charset=utf-8 header', async () => {
  const latin1 = toLatin1(fixtureFeed('heise_developer_atom.xml'));
  assert.ok(latin1.includes(Buffer.from([0xfc]))); // "ü" is one byte now
  for (const ct of ['application/atom+xml', 'application/atom+xml; charset=utf-8', 'text/xml; charset=ISO-8859-1']) {
    const items = await parseFeed(latin1, ct);
    const as = articles(items.map((i) => mapFeedItem(i, FEED, opts)));
    assert.equal(as.length, 15, ct);
    assert.ok(as.some((a) => a.title.includes('für') || a.title.includes('ü')), `umlauts decoded with ${ct}`);
    assert.ok(!as.some((a) => a.title.includes('\uFFFD') || a.title.includes('Ã')), `no mojibake with ${ct}`);
    // wt_mc tracking parameter removed from the Atom links
    assert.ok(as.every((a) => !a.url.includes('wt_mc')));
  }
});

test('UTF-8 feed served with a wrong Latin-1 header: the valid UTF-8 bytes and the declaration win', () => {
  const d = decodeFeed(Buffer.from(fixtureFeed('heise_developer_atom.xml')), 'text/xml; charset=iso-8859-1');
  assert.equal(d.encoding, 'utf-8');
  assert.ok(d.text.includes('für'));
  const bom = decodeFeed(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<?xml version="1.0"?><rss/>')]), undefined);
  assert.equal(bom.from, 'bom');
  assert.ok(bom.text.startsWith('<?xml'));
});

test('missing dates (pubDate and dc:date removed): receive time, flagged as fallback', async () => {
  const xml = removeTag(removeTag(fixtureFeed('guardian_rss2.xml'), 'pubDate'), 'dc:date');
  const as = articles((await parseFeed(Buffer.from(xml), 'application/rss+xml')).map((i) => mapFeedItem(i, FEED, opts)));
  assert.equal(as.length, 55);
  assert.ok(as.every((a) => a.dateFallback && a.publishedAt === opts.receivedAt));
});

test('relative links resolve against the feed URL; HTML titles are cleaned; tracking params do not change ids', async () => {
  const rel = articles((await parseFeed(Buffer.from(relativeLinks(fixtureFeed('guardian_rss2.xml'))), undefined)).map((i) => mapFeedItem(i, FEED, opts)));
  assert.ok(rel.every((a) => a.url.startsWith('http://feeds.example/')), rel[0]!.url);
  const html = articles((await parseFeed(Buffer.from(htmlTitles(fixtureFeed('guardian_rss2.xml'))), undefined)).map((i) => mapFeedItem(i, FEED, opts)));
  assert.equal(html[0]!.title, 'Trump State of the Union address promised unity but emphasized discord');
  const plain = articles((await parseFeed(Buffer.from(fixtureFeed('guardian_rss2.xml')), undefined)).map((i) => mapFeedItem(i, FEED, opts)));
  const tracked = articles((await parseFeed(Buffer.from(withTracking(fixtureFeed('guardian_rss2.xml'))), undefined)).map((i) => mapFeedItem(i, FEED, opts)));
  assert.deepEqual(
    tracked.map((a) => a.id),
    plain.map((a) => a.id),
  );
});

test('an Atom entry with an unparseable date loses only its date, not the whole feed', async () => {
  // heise's ISO dates rewritten in German notation (`01.02.2016 17:22`), as some CMSs emit
  const xml = fixtureFeed('heise_developer_atom.xml').replace(
    /<published>(\d{4})-(\d{2})-(\d{2})T(\d{2}:\d{2})[^<]*<\/published>/g,
    (_m, y: string, mo: string, d: string, hm: string) => `<published>${d}.${mo}.${y} ${hm}</published>`,
  );
  assert.notEqual(xml, fixtureFeed('heise_developer_atom.xml'));
  const as = articles((await parseFeed(Buffer.from(xml), 'application/atom+xml')).map((i) => mapFeedItem(i, FEED, opts)));
  assert.equal(as.length, 15);
  // each entry falls back to its <updated>, which is intact
  assert.ok(as.every((a) => !a.dateFallback && a.publishedAt < opts.receivedAt));
});

test('a truncated feed is a ParseError (malformed_feed), not a crash', async () => {
  await assert.rejects(parseFeed(Buffer.from(truncated(fixtureFeed('guardian_rss2.xml'))), 'application/rss+xml'), (e: unknown) => e instanceof ParseError && e.reason === 'malformed_feed');
  await assert.rejects(parseFeed(Buffer.from('<html><body>502 Bad Gateway</body></html>'), 'text/html'), ParseError);
});
