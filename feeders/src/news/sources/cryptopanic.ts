// CryptoPanic posts API transport: GET {CRYPTOPANIC_URL}/posts/?auth_token=…&public=true.
// 429 carries Retry-After on their side; the Poller waits at least that long.
import { ParseError } from '@mt/common';
import { ConditionalGet } from '../http.js';
import { cryptoPanicResults, mapCryptoPanicPost, type MapOptions } from '../mappers.js';
import type { SourceBatch } from '../types.js';

export interface CryptoPanicOptions {
  baseUrl: string;
  token: string;
  /** Optional `filter` (rising, hot, bullish, …). */
  filter?: string;
  maxAgeMs: number;
  now?: () => number;
}

export function cryptoPanicFetcher(o: CryptoPanicOptions): (signal: AbortSignal) => Promise<SourceBatch> {
  const http = new ConditionalGet('cryptopanic');
  const url = new URL(o.baseUrl.replace(/\/?$/, '/') + 'posts/');
  url.searchParams.set('auth_token', o.token);
  url.searchParams.set('public', 'true');
  if (o.filter) url.searchParams.set('filter', o.filter);
  return async (signal) => {
    const res = await http.get(url.toString(), signal, { accept: 'application/json' });
    if (res.status === 'not_modified') return { source: 'cryptopanic', results: [], notModified: true };
    const opts: MapOptions = { receivedAt: (o.now ?? Date.now)(), maxAgeMs: o.maxAgeMs };
    let items: unknown[];
    try {
      items = cryptoPanicResults(JSON.parse(res.body.toString('utf8')));
    } catch (err) {
      throw new ParseError(`cryptopanic: ${(err as Error).message}`, 'malformed_payload', res.body.toString('utf8').slice(0, 200));
    }
    res.commit();
    return { source: 'cryptopanic', results: items.map((i) => mapCryptoPanicPost(i, opts)) };
  };
}
