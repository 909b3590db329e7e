// What the market feeder pushes to Grafana Live, as Influx line protocol (docs/GRAFANA_LIVE.md). Grafana
// 12.3 converts each request into one frame per measurement whose schema is the union of the fields in
// that request (pkg/services/live/telemetry/telegraf/convert.go), and a subscribed panel drops its buffer
// whenever the schema changes (public/app/features/live/data/StreamingDataFrame.ts). So every
// measurement here always carries the same fields: `ticker` (price + 24 h change + the tick's time as a
// value, `time_ms`), `book` (bid + ask). Closed candles are not pushed (docs/GRAFANA_LIVE.md, "Why no
// candles"). Field names are the InfluxDB ones, so one panel override fits both.
// Timestamps are nanoseconds: the push endpoint takes no precision parameter.
export const LIVE_MEASUREMENTS = {
  ticker: ['change_pct_24h', 'price', 'time_ms'],
  book: ['ask', 'bid'],
} as const;
export type LiveMeasurement = keyof typeof LIVE_MEASUREMENTS;

/** Tag keys/values: escape comma, equals, space (line protocol); our symbols never contain them, but be exact. */
const tag = (s: string) => (/[ ,=\\]/.test(s) ? s.replace(/[ ,=\\]/g, (c) => `\\${c}`) : s);

/** Line-protocol float: JS shortest round-trip form; exponent form is valid line protocol too. */
const f = (n: number) => String(n);

/** Epoch ms → the line's nanosecond timestamp (formatted once per emit, shared by its lines). */
export const ns = (ms: number) => `${Math.round(ms)}000000`;

export interface SeriesKey {
  exchange: string;
  symbol: string;
  assetType: string;
}

/** `measurement,asset_type=…,exchange=…,symbol=…` — tags sorted, as Grafana's labels string will be. */
export function seriesHead(measurement: LiveMeasurement, k: SeriesKey): string {
  return `${measurement},asset_type=${tag(k.assetType)},exchange=${tag(k.exchange)},symbol=${tag(k.symbol)}`;
}

/**
 * `change` is the formatted 24 h change (it moves once a second at most: formatted when it changes).
 * `time_ms` repeats the tick's time as a value: in the browser every label set of a channel shares one
 * time column, so a quote table can only learn when *its* symbol last moved (its Age) by reducing a
 * value of that symbol's own (docs/GRAFANA_LIVE.md, "What the browser does").
 */
export function tickerLine(head: string, price: number, change: string, ms: number, ts: string): string {
  return `${head} change_pct_24h=${change},price=${f(price)},time_ms=${Math.round(ms)} ${ts}`;
}

export function bookLine(head: string, bid: number, ask: number, ts: string): string {
  return `${head} ask=${f(ask)},bid=${f(bid)} ${ts}`;
}
