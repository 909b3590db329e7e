// Normalised market types. Every source maps its raw payloads to these; downstream (points, alerts,
// indicators) never sees a source's wire format. `ts` = exchange/event time, `receivedAt` = ours (ms).
import type { AssetType, CandleRow, MarketDataRow } from '@mt/common';

/**
 * A quote as a source maps it: the `market_data` row (common/src/schema/markets.ts owns its fields, which
 * say what each is) plus our receive time. `changePct1h` is never given by a source: the core computes it
 * from the symbol's 1-minute candles when the point is written (docs/INFLUXDB.md, "change_pct_1h").
 */
export interface MarketTick extends MarketDataRow {
  assetType: AssetType;
  /** Our receive time, epoch ms. */
  receivedAt: number;
}

/** Timeframes of candles and indicators (docs/INFLUXDB.md, "Timeframes"). */
export type Interval = '1m' | '5m' | '1h' | '1d';

/** The `candles` row (openTime = the point's timestamp) with the fields every venue fills, and ours. */
export interface Candle extends CandleRow {
  assetType: AssetType;
  interval: Interval;
  closeTime: number;
  quoteVolume: number;
  trades: number;
  closed: boolean;
  receivedAt: number;
}

export interface IndicatorValues {
  sma_20?: number;
  ema_50?: number;
  rsi_14?: number;
  macd?: number;
  macd_signal?: number;
  macd_hist?: number;
  bb_upper?: number;
  bb_middle?: number;
  bb_lower?: number;
}

export interface FearGreed {
  ts: number;
  value: number;
  classification: string;
}

/**
 * One venue's order book for one symbol, as the venue's own book stands at `ts` (docs/INFLUXDB.md,
 * "order_book"). Top of book for every symbol; depth and imbalance only where an L2 book is maintained.
 * The core stores at most one per symbol per second and never a crossed or stale one.
 */
export interface BookSummary {
  exchange: string;
  symbol: string;
  assetType: AssetType;
  ts: number;
  receivedAt: number;
  bestBid: number;
  bestAsk: number;
  /** Sum of price × size of the bids within 1 % below the mid, in quote currency. */
  bidDepth1pct?: number;
  /** Sum of price × size of the asks within 1 % above the mid, in quote currency. */
  askDepth1pct?: number;
  /** (bid depth − ask depth) / (bid depth + ask depth) within 1 %, −1…1. */
  imbalance?: number;
}

/** A perpetual's mark price and funding (docs/INFLUXDB.md, "funding"). */
export interface FundingUpdate {
  exchange: string;
  symbol: string;
  assetType: AssetType;
  ts: number;
  receivedAt: number;
  markPrice: number;
  indexPrice?: number;
  /** Per funding interval, as a fraction (0.0001 = 0.01 %). */
  fundingRate: number;
  /** Epoch ms. */
  nextFundingTime: number;
  /** Hours between two fundings (Binance USDⓈ-M: GET /fapi/v1/fundingInfo, else 8). */
  fundingIntervalHours?: number;
}

/** Open interest of a derivative (docs/INFLUXDB.md, "open_interest"). */
export interface OpenInterestUpdate {
  exchange: string;
  symbol: string;
  assetType: AssetType;
  ts: number;
  receivedAt: number;
  /** In contracts / base units. */
  openInterest: number;
  /** In quote currency. */
  openInterestValue?: number;
}

/** One forced liquidation order (docs/INFLUXDB.md, "liquidations"); `side` is the order's side. */
export interface Liquidation {
  exchange: string;
  symbol: string;
  assetType: AssetType;
  ts: number;
  receivedAt: number;
  side: 'buy' | 'sell';
  price: number;
  quantity: number;
  /** price × quantity, quote currency. */
  value: number;
}

/** What a market source may hand to the feeder core. */
export interface MarketSink {
  tick(t: MarketTick): void;
  candle(c: Candle): void;
  book?(b: BookSummary): void;
  funding?(f: FundingUpdate): void;
  openInterest?(o: OpenInterestUpdate): void;
  liquidation?(l: Liquidation): void;
  /**
   * Candles handed on before whose values the source has revised (Yahoo after a split: its bars are
   * split-adjusted as of the request): stored again over the old ones, indicators recomputed from there.
   */
  restate?(candles: Candle[]): void;
}
