// NewsAPI transport: /v2/top-headlines per category and /v2/everything for a query, key in X-Api-Key.
// Developer keys allow 100 requests per 24 h, hence the slow default interval; 429 (rateLimited) and
// 426 (plan limits) come back as HttpStatusError and the Poller backs off.
import { HttpStatusError, ParseError } from '@mt/common';
import { ConditionalGet } from '../http.js';
import { mapNewsApiArticle, newsApiArticles, type MapOptions } from '../mappers.js';
import type { MapResult, SourceBatch } from '../types.js';

export interface NewsApiOptions {
  baseUrl: string;
  key: string;
  /** top-headlines categories (business, technology, …). */
  categories: string[];
  /** `q` for /v2/everything; empty = skip that endpoint. */
  query?: string;
  language: string;
  maxAgeMs: number;
  now?: () => number;
}

interface Request {
  url: string;
  category: string;
}

export function newsApiRequests(o: Pick<NewsApiOptions, 'baseUrl' | 'categories' | 'query' | 'language'>): Request[] {
  const base = o.baseUrl.replace(/\/+$/, '');
  const reqs: Request[] = o.categories.map((category) => {
    const u = new URL(`${base}/v2/top-headlines`);
    u.search = new URLSearchParams({ category, language: o.language, pageSize: '100' }).toString();
    return { url: u.toString(), category };
  });
  if (o.query) {
    const u = new URL(`${base}/v2/everything`);
    u.search = new URLSearchParams({ q: o.query, language: o.language, sortBy: 'publishedAt', pageSize: '100' }).toString();
    reqs.push({ url: u.toString(), category: 'crypto' });
  }
  return reqs;
}

export function newsApiFetcher(o: NewsApiOptions): (signal: AbortSignal) => Promise<SourceBatch> {
  const http = new ConditionalGet('newsapi');
  const requests = newsApiRequests(o);
  return async (signal) => {
    const results: MapResult[] = [];
    let modified = false;
    // Sequential: a 429 on the first request stops the poll instead of burning the rest of the quota.
    for (const r of requests) {
      const res = await http.get(r.url, signal, { 'x-api-key': o.key, accept: 'application/json' });
      if (res.status === 'not_modified') continue;
      modified = true;
      const text = res.body.toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new ParseError('newsapi: body is not JSON', 'malformed_payload', text.slice(0, 200));
      }
      // NewsAPI's error envelope ({status:"error", code, message}) is sometimes served with 200.
      if ((body as { status?: unknown }).status === 'error') {
        throw new HttpStatusError((body as { code?: unknown }).code === 'rateLimited' ? 429 : 400, text, undefined, 'newsapi');
      }
      let items: unknown[];
      try {
        items = newsApiArticles(body);
      } catch (err) {
        throw new ParseError(`newsapi: ${(err as Error).message}`, 'malformed_payload', text.slice(0, 200));
      }
      res.commit();
      const opts: MapOptions = { receivedAt: (o.now ?? Date.now)(), maxAgeMs: o.maxAgeMs };
      for (const i of items) results.push(mapNewsApiArticle(i, r.category, opts));
    }
    return { source: 'newsapi', results, notModified: !modified };
  };
}
