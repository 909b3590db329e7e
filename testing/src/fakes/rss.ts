// Local RSS/Atom server: serves feeds under paths with their exact bytes and Content-Type, answers
// conditional requests (ETag / Last-Modified → 304) like a real web server, and builds the "in the wild"
// variants from the REAL fixture feeds by transformation only (re-encoding, removing tags, cutting the
// document, rewriting links) — each transformation is listed in testing/fixtures/SOURCES.md.
import { createHash } from 'node:crypto';
import { HttpFake, type RecordedRequest, type Reply } from './http-fake.js';
import { fixturePath } from '../fixtures.js';
import { readFileSync } from 'node:fs';

export interface FeedDoc {
  body: Buffer;
  /** Sent verbatim; omit the charset to make the client read the XML declaration. */
  contentType: string;
  /** Send ETag/Last-Modified and honour If-None-Match/If-Modified-Since (default true). */
  conditional?: boolean;
  lastModified?: Date;
}

export class RssFake extends HttpFake {
  private feeds = new Map<string, FeedDoc>();
  /** Requests answered 304, per path. */
  readonly notModified = new Map<string, number>();

  constructor() {
    super('rss');
    this.route('GET', /.*/, (r) => this.serve(r));
  }

  /** Serve (or replace) the feed at `path`. Replacing changes its ETag, as a new edition would. */
  set(path: string, doc: FeedDoc): this {
    this.feeds.set(path, { conditional: true, lastModified: new Date(), ...doc });
    return this;
  }

  feedUrl(path: string): string {
    return `${this.url}${path}`;
  }

  private serve(r: RecordedRequest): Reply {
    const doc = this.feeds.get(r.path);
    if (!doc) return { status: 404, headers: { 'content-type': 'text/html' }, body: '<html><body>Not Found</body></html>' };
    const headers: Record<string, string> = { 'content-type': doc.contentType };
    if (doc.conditional) {
      const etag = `"${createHash('sha1').update(doc.body).digest('hex').slice(0, 16)}"`;
      const lm = doc.lastModified!.toUTCString();
      headers.etag = etag;
      headers['last-modified'] = lm;
      const inm = r.headers['if-none-match'];
      const ims = r.headers['if-modified-since'];
      // RFC 9110 §13.1.3: If-None-Match wins over If-Modified-Since when both are present
      const fresh = inm !== undefined ? inm === etag : ims !== undefined && Date.parse(ims) >= Date.parse(lm);
      if (fresh) {
        this.notModified.set(r.path, (this.notModified.get(r.path) ?? 0) + 1);
        return { status: 304, headers: { etag, 'last-modified': lm }, body: '' };
      }
    }
    return { status: 200, headers, body: doc.body };
  }
}

// ---- the real fixture feeds and transformations of them ----

export function fixtureFeed(name: 'guardian_rss2.xml' | 'heise_developer_atom.xml'): string {
  return readFileSync(fixturePath(`rss/${name}`), 'utf8');
}

const RFC822 = /(<pubDate>)([^<]+)(<\/pubDate>)/g;
const ISO_TAGS = /(<(?:published|updated|dc:date)>)([^<]+)(<\/(?:published|updated|dc:date)>)/g;

/**
 * Move every date in a feed by one offset so the newest item is published at `newest` (the fixtures are
 * from 2016/2018, beyond any retention). RFC 822 dates stay RFC 822, ISO dates stay ISO.
 */
export function replayFeed(xml: string, newest: number): string {
  const dates = [...xml.matchAll(RFC822)].map((m) => Date.parse(m[2]!)).concat([...xml.matchAll(ISO_TAGS)].map((m) => Date.parse(m[2]!)));
  const max = Math.max(...dates.filter(Number.isFinite));
  const off = newest - max;
  return xml
    .replace(RFC822, (_, a: string, d: string, b: string) => `${a}${new Date(Date.parse(d) + off).toUTCString()}${b}`)
    .replace(ISO_TAGS, (_, a: string, d: string, b: string) => `${a}${new Date(Date.parse(d) + off).toISOString()}${b}`);
}

/** Re-encode to ISO-8859-1 and make the XML declaration say so (characters outside Latin-1 become `?`). */
export function toLatin1(xml: string): Buffer {
  const declared = xml.replace(/^(<\?xml[^>]*encoding=")[^"]+(")/, '$1ISO-8859-1$2');
  return Buffer.from(declared.replace(/[\u0100-\uffff]/g, '?'), 'latin1');
}

/** Remove every `<tag>…</tag>` (e.g. `pubDate`, `dc:date`: a feed without dates). */
export function removeTag(xml: string, tag: string): string {
  const t = tag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return xml.replace(new RegExp(`\\s*<${t}(\\s[^>]*)?>[\\s\\S]*?</${t}>`, 'g'), '');
}

/** Item links made site-relative (`https://host/path` → `/path`): how some CMS feeds ship. */
export function relativeLinks(xml: string): string {
  return xml.replace(/(<item>[\s\S]*?<link>)https?:\/\/[^/<]+(\/[^<]*<\/link>)/g, '$1$2');
}

/** Tracking parameters appended to every item link (`&amp;` because it is inside XML): same articles, other URLs. */
export function withTracking(xml: string, params = 'utm_source=rss&amp;utm_medium=feed&amp;utm_campaign=syndication'): string {
  return xml.replace(/(<item>[\s\S]*?<link>)([^<]+)(<\/link>)/g, (_, a: string, link: string, b: string) => `${a}${link}${link.includes('?') ? '&amp;' : '?'}${params}${b}`);
}

/** Item titles turned into HTML inside CDATA (`<b>…</b>` around the text, entity-escaped ampersand). */
export function htmlTitles(xml: string): string {
  return xml.replace(/(<item>\s*<title>)([^<]*)(<\/title>)/g, (_, a: string, t: string, b: string) => `${a}<![CDATA[<b>${t}</b> &amp;nbsp;]]>${b}`);
}

/** The first `bytes` of the document: a feed cut off mid-transfer (not well-formed XML). */
export function truncated(xml: string, bytes = 4000): string {
  return xml.slice(0, bytes);
}
