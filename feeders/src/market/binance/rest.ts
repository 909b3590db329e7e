// REST transport for backfill: GET /api/v3/klines (futures: /fapi/v1/klines), paged (limit 1000), weight-aware. Every answer
// carries X-MBX-USED-WEIGHT-1M; above `weightBudget` we wait for the next minute instead of running into
// a 429. A 429 or 418 (ban) is obeyed: Retry-After is seconds and is the minimum wait (the RetryPolicy's
// floor). Requests, retries and metrics are the shared RestClient's (docs/SOURCES.md, "One HTTP helper").
import { binanceRestSymbol, sleep } from '@mt/common';
import type { RestCandleFetcher } from '../stream/backfill.js';
import { parseKlineRow, toCandle } from './mappers.js';
import { RestClient, RetryPolicy, type VenueRestOptions } from '../../common/http/index.js';

export const KLINES_PAGE = 1000;

export interface RestOptions extends VenueRestOptions {
  /** Used weight per minute above which we pause until the minute rolls over (spot limit 6000; default 4800). */
  weightBudget?: number;
  /** Name in the feeder_* metrics (default `binance_rest`). */
  source?: string;
  /** Path of the klines endpoint (default `/api/v3/klines`; USDⓈ-M futures: `/fapi/v1/klines`). */
  klinesPath?: string;
  /** Path of the order book snapshot (default `/api/v3/depth`; USDⓈ-M futures: `/fapi/v1/depth`). */
  depthPath?: string;
  /** Wall clock (ms) that defines Binance's weight minute; injectable for tests. */
  now?: () => number;
}

export class BinanceRest {
  /** Last X-MBX-USED-WEIGHT-1M seen. */
  usedWeight = 0;
  private readonly http: RestClient;

  constructor(private readonly o: RestOptions) {
    this.http = new RestClient({
      baseUrl: o.baseUrl,
      source: o.source ?? 'binance_rest',
      label: 'binance REST',
      log: o.log,
      metrics: o.metrics,
      timeoutMs: o.timeoutMs,
      retry: new RetryPolicy(o.backoff ?? { initialMs: 500, maxMs: 60_000 }),
      beforeTry: (signal) => this.respectWeight(signal),
      onResponse: (res) => {
        const used = Number(res.headers.get('x-mbx-used-weight-1m'));
        if (Number.isFinite(used) && res.headers.has('x-mbx-used-weight-1m')) this.usedWeight = used;
      },
    });
  }

  /**
   * One page of 1 m klines (raw rows) with openTime in [startTime, endTime]. Retries what is retryable
   * (429/418 after Retry-After, 5xx, network) until `signal` aborts; throws what is not (400 …).
   */
  async klines(symbol: string, startTime: number, endTime: number, signal: AbortSignal): Promise<unknown[]> {
    const q = new URLSearchParams({ symbol, interval: '1m', startTime: String(startTime), endTime: String(endTime), limit: String(KLINES_PAGE) });
    return this.get(`${this.o.klinesPath ?? '/api/v3/klines'}?${q}`, signal) as Promise<unknown[]>;
  }

  /**
   * The order book snapshot (raw body) with `limit` levels per side (spot weight: 5 up to 100, 25 up to 500,
   * 50 up to 1000, 250 up to 5000; futures: 2 up to 50, 5, 10, 20 at 100, 500, 1000). Retries like klines().
   */
  async depth(symbol: string, limit: number, signal: AbortSignal): Promise<unknown> {
    return this.get(`${this.o.depthPath ?? '/api/v3/depth'}?${new URLSearchParams({ symbol, limit: String(limit) })}`, signal);
  }

  /** GET `path` (with its query) → parsed JSON, with the same weight, retry and Retry-After rules as klines. */
  async get(path: string, signal: AbortSignal): Promise<unknown> {
    return this.http.getJson(path, signal);
  }

  private async respectWeight(signal: AbortSignal): Promise<void> {
    const budget = this.o.weightBudget ?? 4800;
    if (this.usedWeight < budget) return;
    // The weight window is the wall-clock minute; wait for the next one.
    const wait = 60_000 - ((this.o.now ?? Date.now)() % 60_000) + 250;
    this.o.log.info({ usedWeight: this.usedWeight, waitMs: wait }, 'binance REST weight budget reached, pausing');
    this.usedWeight = 0;
    await sleep(wait, signal);
  }
}

/**
 * Binance's klines as the venue-neutral candle fetcher of the Backfiller (docs/STREAMING.md, "Candles");
 * USDⓈ-M futures passes its exchange name and symbol spelling (its klines path is the client's).
 */
export function binanceCandleFetcher(rest: BinanceRest, o: { exchange?: string; restSymbol?: (symbol: string) => string } = {}): RestCandleFetcher {
  const exchange = o.exchange ?? 'binance';
  const restSymbol = o.restSymbol ?? binanceRestSymbol;
  return {
    exchange,
    pageSize: KLINES_PAGE,
    async minuteCandles(symbol, from, to, signal) {
      const rows = await rest.klines(restSymbol(symbol), from, to, signal);
      const receivedAt = Date.now();
      return rows.map((row) => toCandle(symbol, parseKlineRow(row), true, receivedAt, exchange));
    },
  };
}
