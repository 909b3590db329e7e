import { test } from 'node:test';
import assert from 'node:assert/strict';
import { articlePoints, pointTime } from '../../src/news/points.js';
import type { ScoredArticle } from '../../src/news/points.js';

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
  assets: [],
};
const settings = { convertTime: (v: unknown) => String(v) };

test('news_articles point: contract tags and fields; none when no asset', () => {
  const [p, ...rest] = articlePoints(base);
  assert.equal(rest.length, 0);
  const line = p!.toLineProtocol(settings as never)!;
  assert.match(line, /^news_articles,category=news,related_asset=none,source=rss:www\.theguardian\.com /);
  assert.match(line, / id="0123456789abcdef",sentiment_score=-0\.6,title="Facebook bans cryptocurrency adverts because so many are scams",url="https:\/\/www\.theguardian\.com\/[^"]+" \d+$/);
});

test('one point per asset, same time and fields', () => {
  const ps = articlePoints({ ...base, assets: ['BTC', 'ETH'] });
  const lines = ps.map((p) => p.toLineProtocol(settings as never)!);
  assert.equal(lines.length, 2);
  assert.ok(lines[0]!.includes('related_asset=BTC') && lines[1]!.includes('related_asset=ETH'));
  assert.equal(lines[0]!.split(' ').at(-1), lines[1]!.split(' ').at(-1));
});

test('point time: publication second + id-derived ms (same article → same point; same-second articles differ)', () => {
  const t = pointTime(base);
  assert.equal(Math.floor(t / 1000), Math.floor(base.publishedAt / 1000));
  assert.equal(t, pointTime({ ...base }));
  const others = ['fedcba9876543210', '00000000ffffffff', '1111111122222222'].map((id) => pointTime({ ...base, id }));
  assert.equal(new Set([t, ...others]).size, 4);
});
