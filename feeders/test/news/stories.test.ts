// One story once (docs/SENTIMENT.md "Stories") on real headlines: the labelled set (feeds, payloads and
// news-site titles found with the search tool) plus the recorded Guardian feed — 173 headlines, of which
// some are the same Guardian headline twice and two pairs tell one event in near-identical words (a Fed
// hold by the Guardian and by webjosh.com — published at the same time, as here, one story; the Guardian's
// Stormy Daniels video and article). Nothing else may merge.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fixtureFeed } from '@mt/testing';
import { RANK_HALF_LIFE_MS, STORY_WINDOW_MS, StoryBook, storyKey, storyRank, type ArticleForStory } from '../../src/news/stories.js';

const labelled = (JSON.parse(readFileSync(new URL('./headlines.labelled.json', import.meta.url), 'utf8')) as { headlines: { headline: string }[] }).headlines.map((h) => h.headline);
const guardian = [...fixtureFeed('guardian_rss2.xml').matchAll(/<item>[\s\S]*?<title>([^<]+)<\/title>/g)].map((m) => m[1]!.replace(/&amp;/g, '&'));
const T = Date.parse('2018-01-31T12:00:00Z');
const art = (i: number, title: string, over: Partial<ArticleForStory> = {}): ArticleForStory => ({
  id: `a${i}`, title, url: `https://outlet${i % 7}.example/${i}`, source: 'rss:x', category: 'news', lang: 'en', time: T, assets: [], ...over,
});

test('real headlines: only repeats and the same event merge — never two different stories', () => {
  const book = new StoryBook();
  const groups = new Map<string, string[]>();
  [...labelled, ...guardian].forEach((h, i) => {
    const s = book.add(art(i, h));
    groups.set(s.id, [...(groups.get(s.id) ?? []), h]);
  });
  const merged = [...groups.values()].filter((g) => g.length > 1).map((g) => [...new Set(g)]);
  const distinct = merged.filter((g) => g.length > 1);
  // the repeats: a headline that is in both the labelled set and the feed
  assert.ok(merged.length - distinct.length >= 20);
  assert.deepEqual(distinct.map((g) => g.sort()), [
    ["Federal Reserve holds its interest rate steady. Here's what that means.", 'US Federal Reserve holds interest rates steady'],
    ['Porn actor Stormy Daniels casts doubt on denial of affair with Trump', 'Stormy Daniels on Jimmy Kimmel: porn actor casts doubt on denial of Trump affair – video'],
  ]);
  // every other headline is its own story
  assert.equal(book.size, new Set([...labelled, ...guardian].map(storyKey)).size - 2);
});

test('a story gathers outlets, sources, assets and the mean sentiment of its scored articles', () => {
  const book = new StoryBook();
  const s = book.add(art(1, 'US Federal Reserve holds interest rates steady', { url: 'https://www.theguardian.com/fed', source: 'rss:www.theguardian.com', sentiment: 0.2 }));
  book.add(art(2, "Federal Reserve holds its interest rate steady. Here's what that means.", { url: 'https://www.cnbc.com/fed', source: 'newsapi', assets: ['^GSPC'], sentiment: -0.4 }));
  book.add(art(3, 'US Federal Reserve holds interest rates steady', { url: 'https://www.theguardian.com/us-news/fed', source: 'rss:www.theguardian.com', lang: 'de', sentiment: undefined }));
  assert.equal(s.articles, 3);
  assert.deepEqual([...s.publishers], ['theguardian.com', 'cnbc.com']);
  assert.deepEqual([...s.sources], ['rss:www.theguardian.com', 'newsapi']);
  assert.deepEqual([...s.assets], ['^GSPC']);
  assert.ok(Math.abs(s.sentimentSum / s.sentimentN - -0.1) < 1e-12);
  assert.equal(s.title, 'US Federal Reserve holds interest rates steady');
  // the same canonical URL through another source adds the source only once
  assert.equal(book.addSource(s.id, 'cryptopanic'), s);
  assert.equal(book.addSource(s.id, 'cryptopanic'), undefined);
});

test('a story is open for 48 h after its first article; older stories are pruned', () => {
  const book = new StoryBook();
  const first = book.add(art(1, 'Train carrying dozens of GOP lawmakers hits truck in Virginia'));
  assert.equal(book.add(art(2, 'Train carrying dozens of GOP lawmakers hits truck in Virginia', { time: T + STORY_WINDOW_MS - 1 })).id, first.id);
  assert.notEqual(book.add(art(3, 'Train carrying dozens of GOP lawmakers hits truck in Virginia', { time: T + STORY_WINDOW_MS + 1 })).id, first.id);
  book.prune(T + STORY_WINDOW_MS + 10);
  assert.equal(book.get(first.id), undefined);
  assert.equal(book.size, 1);
});

test('rank: outlets, watch-set relevance and |sentiment| raise it; 6 h of age halves the importance', () => {
  const watched = (a: string) => a === 'BTC';
  const r = (o: { time?: number; outlets?: number; assets?: string[]; sentiment?: number }) =>
    storyRank({ time: o.time ?? T, publishers: new Set(Array.from({ length: o.outlets ?? 1 }, (_, i) => `o${i}`)), assets: new Set(o.assets ?? []), sentiment: o.sentiment }, watched);
  assert.ok(r({ outlets: 3 }) > r({ outlets: 2 }));
  assert.ok(r({ assets: ['BTC'] }) > r({ assets: ['ETH'] }) && r({ assets: ['ETH'] }) > r({}));
  assert.ok(r({ sentiment: -0.8 }) > r({ sentiment: 0.1 }));
  // two outlets 6 h ago rank level with one outlet now; three outlets 6 h ago rank above it
  assert.ok(Math.abs(r({ outlets: 2, time: T - RANK_HALF_LIFE_MS }) - r({ outlets: 1 })) < 1e-9);
  assert.ok(r({ outlets: 3, time: T - RANK_HALF_LIFE_MS }) > r({ outlets: 1 }));
});
