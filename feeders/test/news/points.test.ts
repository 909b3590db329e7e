import { test } from 'node:test';
import assert from 'node:assert/strict';
import { articlePoint, pointTime, storyPoints } from '../../src/news/points.js';
import type { ScoredArticle } from '../../src/news/points.js';
import { StoryBook } from '../../src/news/stories.js';

const base: ScoredArticle = {
  source: 'rss:www.theguardian.com',
  category: 'news',
  title: 'Facebook bans cryptocurrency adverts because so many are scams',
  url: 'https://www.theguardian.com/technology/2018/jan/30/facebook-bans-cryptocurrency-adverts',
  id: '0123456789abcdef',
  publishedAt: Date.parse('2018-01-30T20:14:01.500Z'),
  receivedAt: Date.parse('2018-01-31T00:00:00Z'),
  dateFallback: false,
  assetHints: [],
  sentiment: -0.6,
  lang: 'en',
  assets: [],
  story: '0123456789abcdef',
};
const settings = { convertTime: (v: unknown) => String(v) };
const line = (p: { toLineProtocol(s: never): string | undefined }) => p.toLineProtocol(settings as never)!;

test('news_articles: ONE point per article, assets as a field (`none` when none), lang tag, its story', () => {
  assert.match(line(articlePoint(base)), /^news_articles,category=news,lang=en,source=rss:www\.theguardian\.com assets="none",id="0123456789abcdef",sentiment_score=-0\.6,story="0123456789abcdef",title="Facebook bans [^"]+",url="https:\/\/www\.theguardian\.com\/[^"]+" \d+$/);
  assert.match(line(articlePoint({ ...base, assets: ['BTC', 'ETH'] })), / assets="BTC,ETH",/);
});

test('an article in a language the scorer cannot read has no sentiment_score', () => {
  const l = line(articlePoint({ ...base, lang: 'de', sentiment: undefined }));
  assert.match(l, /,lang=de,/);
  assert.doesNotMatch(l, /sentiment_score/);
});

test('a story: one news_stories point and one news_story_assets point per asset, same time and fields, rewritten in place', () => {
  const book = new StoryBook();
  const t = pointTime(base);
  const a = { id: 'a1', url: 'https://www.coindesk.com/x', source: 'rss:www.coindesk.com', category: 'crypto', lang: 'en', time: t, assets: ['BTC'], sentiment: 0.5 };
  const s = book.add({ ...a, title: 'SEC approves spot bitcoin ETFs from BlackRock, Fidelity' });
  book.add({ ...a, id: 'a2', url: 'https://www.reuters.com/y', source: 'newsapi', assets: ['BTC', 'ETH'], sentiment: 0.3, time: t + 60_000, title: 'SEC approves spot Bitcoin ETFs from BlackRock and Fidelity - Reuters' });
  const lines = storyPoints(s, 42.5).map(line);
  assert.equal(lines.length, 3);
  assert.match(lines[0]!, /^news_stories,category=crypto,lang=en articles=2i,assets="BTC,ETH",outlets=2i,publishers="coindesk\.com, reuters\.com",rank=42\.5,sentiment_score=0\.4,sources="rss:www\.coindesk\.com,newsapi",story="a1",title="SEC approves spot bitcoin ETFs from BlackRock, Fidelity",url="https:\/\/www\.coindesk\.com\/x" /);
  assert.match(lines[1]!, /^news_story_assets,related_asset=BTC /);
  assert.match(lines[2]!, /^news_story_assets,related_asset=ETH /);
  const times = lines.map((l) => l.split(' ').at(-1));
  assert.deepEqual(times, [String(t), String(t), String(t)]);
});

test('point time: publication second + id-derived ms (same article → same point; same-second articles differ)', () => {
  const t = pointTime(base);
  assert.equal(Math.floor(t / 1000), Math.floor(base.publishedAt / 1000));
  assert.equal(t, pointTime({ ...base }));
  const others = ['fedcba9876543210', '00000000ffffffff', '1111111122222222'].map((id) => pointTime({ ...base, id }));
  assert.equal(new Set([t, ...others]).size, 4);
});
