import { test } from 'node:test';
import assert from 'node:assert/strict';
import { articleId, canonicalUrl } from '../../src/news/canonical.js';
import { cleanText } from '../../src/news/text.js';

test('canonical URL: scheme and host lower-cased, fragment and tracking parameters dropped, rest sorted', () => {
  assert.equal(
    canonicalUrl('HTTPS://WWW.TheGuardian.com/us-news/2018/jan/31/Story?utm_source=rss&b=2&utm_medium=feed&a=1#comments'),
    'https://www.theguardian.com/us-news/2018/jan/31/Story?a=1&b=2',
  );
  // heise's Webtrekk parameter, fbclid, gclid
  assert.equal(
    canonicalUrl('http://www.heise.de/developer/meldung/X-3088438.html?wt_mc=rss.developer.beitrag.atom&fbclid=abc&gclid=1'),
    'http://www.heise.de/developer/meldung/X-3088438.html',
  );
  assert.equal(canonicalUrl('https://example.com:443/a'), 'https://example.com/a');
});

test('canonical URL: relative links resolve against the feed URL; non-http is rejected', () => {
  assert.equal(canonicalUrl('/us-news/story', 'http://127.0.0.1:8080/feeds/guardian.xml'), 'http://127.0.0.1:8080/us-news/story');
  assert.equal(canonicalUrl('story.html', 'https://example.com/feeds/x.xml'), 'https://example.com/feeds/story.html');
  assert.equal(canonicalUrl('javascript:alert(1)'), undefined);
  assert.equal(canonicalUrl('mailto:a@b.c'), undefined);
  assert.equal(canonicalUrl('not a url'), undefined);
});

test('article id: same canonical URL, same id; different URL, different id', () => {
  const a = canonicalUrl('https://EXAMPLE.com/x?utm_campaign=1')!;
  const b = canonicalUrl('https://example.com/x#top')!;
  assert.equal(a, b);
  assert.equal(articleId(a), articleId(b));
  assert.match(articleId(a), /^[0-9a-f]{16}$/);
  assert.notEqual(articleId(a), articleId(canonicalUrl('https://example.com/y')!));
});

test('cleanText: tags stripped, entities decoded (also double-escaped), whitespace collapsed', () => {
  assert.equal(cleanText('NEO ($NEO) price is up <span class="color-green">20.99%</span>'), 'NEO ($NEO) price is up 20.99%');
  assert.equal(cleanText('&lt;b&gt;Fed&lt;/b&gt; holds &amp;amp; waits'), 'Fed holds & waits');
  assert.equal(cleanText('<b>Rates</b> &amp;nbsp; steady\n\t now'), 'Rates steady now');
  assert.equal(cleanText('Caf&eacute; &#8220;quoted&#8221; &#x27;s'), 'Café “quoted” \'s');
  assert.equal(cleanText(undefined), '');
});
