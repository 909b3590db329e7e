// Feeds as publishers really serve them (docs/SENTIMENT.md "Feeds in the wild"): each quirk read from a
// real feed in testing/fixtures/rss_quirks/ (sources in testing/fixtures/SOURCES.md §"Feed quirks"), through
// the same parseFeed → mapFeedItem path the feeder runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fixturePath } from '@mt/testing';
import { ParseError } from '@mt/common';
import { mapFeedItem } from '../../src/news/mappers.js';
import { parseFeed } from '../../src/news/sources/rss.js';
import { parseFeedDate } from '../../src/news/dates.js';
import { cleanText } from '../../src/news/text.js';
import type { Article, MapResult } from '../../src/news/types.js';

const opts = { receivedAt: Date.parse('2026-01-01T00:00:00Z'), maxAgeMs: 20 * 365 * 86400_000 };
const articles = (rs: MapResult[]): Article[] => rs.flatMap((r) => (r.ok ? [r.article] : []));
const quirk = (name: string) => readFileSync(fixturePath(`rss_quirks/${name}`));
async function read(name: string, feedUrl: string, contentType?: string): Promise<{ rs: MapResult[]; as: Article[] }> {
  const rs = (await parseFeed(quirk(name), contentType)).map((i) => mapFeedItem(i, feedUrl, opts));
  return { rs, as: articles(rs) };
}

test('<rss> without a version attribute (goinggo.net) is read as RSS 2.0, not refused', async () => {
  const { as } = await read('goinggo_rss_no_version.xml', 'http://www.goinggo.net/feeds/posts/default?alt=rss', 'application/xml');
  assert.deepEqual(
    as.map((a) => [a.title, a.url, new Date(a.publishedAt).toISOString(), a.dateFallback]),
    [['Object Oriented Programming Mechanics', 'http://www.goinggo.net/2015/03/object-oriented', '2015-03-15T15:04:00.000Z', false]],
  );
});

test('RSS 1.0 / RDF (craigslist): items outside <channel>, dates from dc:date with their offset', async () => {
  const { as } = await read('craigslist_rss1_rdf.xml', 'https://seattle.craigslist.org/search/act?format=rss');
  assert.equal(as.length, 3);
  assert.equal(as[1]!.title, 'Wing Chun Kung Fu (Tacoma)');
  assert.equal(as[1]!.url, 'http://seattle.craigslist.org/tac/act/5332800255.html');
  assert.equal(new Date(as[1]!.publishedAt).toISOString(), '2015-12-19T09:52:40.000Z');
  assert.ok(as.every((a) => !a.dateFallback));
});

test('JSON Feed (jsonfeed.org, a 1.1 post in a feed declaring version 1): items, urls, dates with offset', async () => {
  const { as } = await read('jsonfeed_org_feed_version1_2020-08-07_reencoded.json', 'https://www.jsonfeed.org/feed.json', 'application/json');
  assert.deepEqual(
    as.map((a) => [a.title, a.url, new Date(a.publishedAt).toISOString()]),
    [
      ['JSON Feed version 1.1', 'https://www.jsonfeed.org/2020/08/07/json-feed-version.html', '2020-08-07T16:44:36.000Z'],
      ['Announcing JSON Feed', 'https://www.jsonfeed.org/2017/05/17/announcing-json-feed.html', '2017-05-17T15:02:12.000Z'],
    ],
  );
  assert.ok(as.every((a) => !a.dateFallback));
  // JSON that is not a JSON Feed is still a malformed feed, counted as such
  await assert.rejects(parseFeed(Buffer.from('{"results":[]}'), 'application/json'), (e: unknown) => e instanceof ParseError && e.reason === 'malformed_feed');
});

test('local numeric dates (Norfolk County Council, "08/02/2013 12:00:00", <language>en</language>): day first, UTC, on any machine', async () => {
  const { as } = await read('norfolk_odd_datetime_rss.xml', 'http://www.esinet.norfolk.gov.uk/cadmin/ecourier/newsnorfolkschools2.xml', 'text/xml');
  assert.equal(as.length, 5);
  for (const a of as) {
    assert.equal(new Date(a.publishedAt).toISOString(), '2013-02-08T12:00:00.000Z', a.title);
    assert.equal(a.dateFallback, false);
  }
  // the same format from an en-us feed is month first; a part over 12 decides by itself
  assert.equal(new Date(parseFeedDate('08/02/2013 12:00:00', 'en-us')).toISOString(), '2013-08-02T12:00:00.000Z');
  assert.equal(new Date(parseFeedDate('25/12/2013', 'en-us')).toISOString(), '2013-12-25T00:00:00.000Z');
  assert.equal(new Date(parseFeedDate('2013-02-08 12:00:00')).toISOString(), '2013-02-08T12:00:00.000Z');
  assert.ok(Number.isNaN(parseFeedDate('13/13/2013')));
});

test('relative links and a two-digit-year RFC 822 date (arcgames.com): resolved against the feed URL', async () => {
  const { as } = await read('arcgames_relative_links_rss.xml', 'http://www.arcgames.com/en/games/neverwinter/news/rss');
  assert.deepEqual(
    as.map((a) => [a.title, a.url, new Date(a.publishedAt).toISOString()]),
    [
      ['Neverwinter & Jingle Jam Humble Bundle!', 'http://www.arcgames.com/en/games/neverwinter/news/detail/10743874-neverwinter-%26-jingle-jam-humble-bundle%21', '2017-12-07T18:00:29.000Z'],
      ['2x Underdark Currency & 15% off Bags!', 'http://www.arcgames.com/en/games/neverwinter/news/detail/10738994-2x-underdark-currency-%26-15%25-off-bags%21', '2017-12-07T15:00:00.000Z'],
    ],
  );
});

test('FeedBurner (Blogger via feedproxy): the article URL is feedburner:origLink, not the per-feed redirect', async () => {
  const { as } = await read('feedburner_origlink_atom.xml', 'http://feeds.feedburner.com/blogspot/lQlzL');
  assert.equal(as.length, 1);
  assert.equal(as[0]!.url, 'http://googleadsdeveloper.blogspot.com/2016/06/adwords-and-dfp-java-client-library.html');
  assert.equal(as[0]!.title, 'AdWords and DFP Java client library will soon require Java 7+');
  assert.equal(new Date(as[0]!.publishedAt).toISOString(), '2016-06-03T14:38:00.000Z');
});

test('content:encoded (Medium): the headline is <title>, never the body; curly quotes kept', async () => {
  const { as } = await read('medium_content_encoded_rss.xml', 'https://medium.com/feed/invironment/tagged/food');
  assert.deepEqual(as.map((a) => a.title), ['THE CREATIVE FORAGER', 'Eight Reasons You Shouldn’t Grow Your Own Food']);
  assert.ok(as.every((a) => a.url.startsWith('https://medium.com/invironment/')));
});

test('escaped angle brackets in a title (node-feedparser fixture) stay text; an item without a link is rejected, not the feed', async () => {
  const items = await parseFeed(quirk('title_angle_brackets_rss.xml'), 'application/rss+xml');
  assert.equal(cleanText(items[0]!.title as string), 'RSS <<< Title >>>');
  assert.equal(cleanText('Bitcoin <b>rallies</b> &amp;amp; Ether <span class="x">slips</span>'), 'Bitcoin rallies & Ether slips');
  const r = mapFeedItem(items[0]!, 'http://example.com/rss', opts);
  assert.deepEqual(r, { ok: false, reason: 'missing_url', detail: undefined });
});
