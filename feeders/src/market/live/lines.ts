// What the market feeder pushes to Grafana Live, as Influx line protocol (docs/GRAFANA_LIVE.md). Grafana
// 12.3 converts each request into one frame per measurement whose schema is the union of the fields in
// that request (pkg/services/live/telemetry/telegraf/convert.go), and a subscribed panel drops its buffer
// whenever the schema changes (public/app/features/live/data/StreamingDataFrame.ts). So there is ONE
// measurement, `ticker`, one line per symbol, and it always carries every field: price, bid, ask, 24 h
// change and the tick's time as a value (`time_ms`). A value not known yet (a stock without a book, a
// trade before the first 24 h ticker) is the string "NaN", which the converter turns into a null float
// (the same number column, no schema change). Closed candles are not pushed (docs/GRAFANA_LIVE.md, "Why
// no candles"). Field names are the InfluxDB ones, so one panel override fits both queries.
// Timestamps are nanoseconds: the push endpoint takes no precision parameter.
export const LIVE_MEASUREMENTS = {
  ticker: ['ask', 'bid', 'change_pct_24h', 'price', 'time_ms'],
} as const;
export type LiveMeasurement = keyof typeof LIVE_MEASUREMENTS;

/** Tag keys/values: escape comma, equals, space (line protocol); our symbols never contain them, but be exact. */
const tag = (s: string) => (/[ ,=\\]/.test(s) ? s.replace(/[ ,=\\]/g, (c) => `\\${c}`) : s);

/** Grafana's null float (telegraf/convert.go: a string field "NaN" becomes a null in a float64 column). */
const NULL = '"NaN"';

export interface SeriesKey {
  exchange: string;
  symbol: string;
  assetType: string;
}

export interface Quote {
  price: number | undefined;
  bid: number | undefined;
  ask: number | undefined;
  changePct24h: number | undefined;
  /** The newest tick's time, epoch ms. */
  ts: number;
}

/**
 * `ticker,asset_type=…,exchange=…,symbol=… ask=` — tags sorted as Grafana's labels string will be, up to
 * the first field: rendered once per symbol, so a line costs only its numbers.
 */
export function lineHead(k: SeriesKey): string {
  return `ticker,asset_type=${tag(k.assetType)},exchange=${tag(k.exchange)},symbol=${tag(k.symbol)} ask=`;
}

/** Line-protocol float (JS shortest round-trip form; exponent form is valid line protocol too), or null. */
const f = (n: number | undefined) => (n === undefined ? NULL : String(n));

/**
 * One symbol's line; fields sorted by key as Grafana sorts them. `time_ms` repeats the tick's time as a
 * value: in the browser every label set of a channel shares one time column, so a quote table can only
 * learn when *its* symbol last moved (its Age) by reducing a value of that symbol's own
 * (docs/GRAFANA_LIVE.md, "What the browser does").
 */
export function tickerLine(head: string, q: Quote): string {
  const ms = String(Math.round(q.ts));
  return `${head}${f(q.ask)},bid=${f(q.bid)},change_pct_24h=${f(q.changePct24h)},price=${f(q.price)},time_ms=${ms} ${ms}000000`;
}
