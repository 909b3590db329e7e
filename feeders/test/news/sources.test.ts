// The three transports against the local servers (no InfluxDB): requests as the APIs expect them, typed
// errors with the retry decision and Retry-After, conditional GET.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { CryptoPanicFake, NewsApiFake, RssFake, cryptoPanicRateLimit, fixtureFeed, freePort, newsApiRateLimited, newsApiUpgradeRequired } from '@mt/testing';
import { HttpStatusError, ParseError, TransportError } from '@mt/common';
import { cryptoPanicFetcher } from '../../src/news/sources/cryptopanic.js';
import { newsApiFetcher } from '../../src/news/sources/newsapi.js';
import { rssFetcher } from '../../src/news/sources/rss.js';
import { MAX_BODY_BYTES } from '../../src/news/http.js';

const maxAgeMs = 20 * 365 * 86400_000;
const signal = () => AbortSignal.timeout(5000);
const fakes: { close(): Promise<void> }[] = [];
after(() => Promise.all(fakes.map((f) => f.close())));

test('CryptoPanic: token and public=true sent; 429 carries Retry-After; a malformed body is a ParseError', async () => {
  const cp = await new CryptoPanicFake({ token: 't0k' }).listen();
  fakes.push(cp);
  const fetch = cryptoPanicFetcher({ baseUrl: `${cp.url}/api/developer/v2`, token: 't0k', filter: 'hot', maxAgeMs });
  const batch = await fetch(signal());
  assert.equal(batch.results.filter((r) => r.ok).length, 10);
  const q = cp.requests[0]!.query;
  assert.deepEqual([q.get('auth_token'), q.get('public'), q.get('filter')], ['t0k', 'true', 'hot']);

  cp.fail(cryptoPanicRateLimit(30));
  await assert.rejects(fetch(signal()), (e: unknown) => e instanceof HttpStatusError && e.status === 429 && e.retryable && e.retryAfterMs === 30_000);
  cp.fail({ kind: 'malformed' });
  await assert.rejects(fetch(signal()), (e: unknown) => e instanceof ParseError && e.reason === 'malformed_payload');
  const wrong = cryptoPanicFetcher({ baseUrl: `${cp.url}/api/developer/v2`, token: 'nope', maxAgeMs });
  await assert.rejects(wrong(signal()), (e: unknown) => e instanceof HttpStatusError && e.status === 401 && !e.retryable);
});

test('NewsAPI: key in X-Api-Key, top-headlines per category then everything; 426 final, 429 retryable', async () => {
  const na = await new NewsApiFake({ key: 'k' }).listen();
  fakes.push(na);
  const fetch = newsApiFetcher({ baseUrl: na.url, key: 'k', categories: ['business', 'technology'], query: 'bitcoin OR ethereum', language: 'en', maxAgeMs });
  const batch = await fetch(signal());
  assert.equal(batch.results.length, 9);
  assert.deepEqual(
    na.requests.map((r) => [r.path, r.query.get('category') ?? r.query.get('q'), r.headers['x-api-key']]),
    [
      ['/v2/top-headlines', 'business', 'k'],
      ['/v2/top-headlines', 'technology', 'k'],
      ['/v2/everything', 'bitcoin OR ethereum', 'k'],
    ],
  );
  const cats = batch.results.flatMap((r) => (r.ok ? [r.article.category] : []));
  assert.deepEqual([...new Set(cats)], ['business', 'technology', 'crypto']);

  na.fail(newsApiUpgradeRequired());
  await assert.rejects(fetch(signal()), (e: unknown) => e instanceof HttpStatusError && e.status === 426 && !e.retryable);
  const before = na.requests.length;
  na.fail(newsApiRateLimited(5));
  await assert.rejects(fetch(signal()), (e: unknown) => e instanceof HttpStatusError && e.status === 429 && e.retryable && e.retryAfterMs === 5000);
  assert.equal(na.requests.length, before + 1, 'a 429 stops the poll: the remaining requests are not spent');
  na.fail({ kind: 'malformed', body: '{"status":"ok","articles":' });
  await assert.rejects(fetch(signal()), ParseError);
});

test('RSS: 304 on an unchanged feed (nothing new), full body again once it changes; refused connection is a TransportError', async () => {
  const rss = new RssFake().set('/f.xml', { body: Buffer.from(fixtureFeed('guardian_rss2.xml')), contentType: 'application/rss+xml' });
  await rss.listen();
  fakes.push(rss);
  const fetch = rssFetcher({ feedUrl: rss.feedUrl('/f.xml'), maxAgeMs });
  assert.equal((await fetch(signal())).results.length, 55);
  const again = await fetch(signal());
  assert.equal(again.notModified, true);
  assert.equal(again.results.length, 0);
  assert.equal(rss.notModified.get('/f.xml'), 1);
  rss.set('/f.xml', { body: Buffer.from(fixtureFeed('heise_developer_atom.xml')), contentType: 'application/atom+xml' });
  assert.equal((await fetch(signal())).results.length, 15);

  const dead = rssFetcher({ feedUrl: `http://127.0.0.1:${await freePort()}/x.xml`, maxAgeMs });
  await assert.rejects(dead(signal()), TransportError);
});

test('RSS: a body over the size cap is refused as a ParseError (too_large) instead of being buffered whole', async () => {
  const good = fixtureFeed('guardian_rss2.xml');
  // a real feed padded past the cap with an XML comment: still a feed, just far too big
  const huge = good.replace('<channel>', `<channel><!--${'x'.repeat(MAX_BODY_BYTES)}-->`);
  const rss = new RssFake().set('/big.xml', { body: Buffer.from(huge), contentType: 'application/rss+xml' });
  await rss.listen();
  fakes.push(rss);
  await assert.rejects(rssFetcher({ feedUrl: rss.feedUrl('/big.xml'), maxAgeMs })(signal()), (err: unknown) => err instanceof ParseError && err.reason === 'too_large');
  rss.set('/big.xml', { body: Buffer.from(good), contentType: 'application/rss+xml' });
  assert.equal((await rssFetcher({ feedUrl: rss.feedUrl('/big.xml'), maxAgeMs })(signal())).results.length, 55, 'the same feed at its real size is read');
});
