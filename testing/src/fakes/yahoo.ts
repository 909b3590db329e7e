// Local Yahoo Finance: the cookie endpoint (fc.yahoo.com answers 404 with an A3 Set-Cookie), the crumb
// endpoint, v7 quote (401 "Invalid Crumb" unless cookie AND crumb match the current session) and v8
// chart (no crumb; 404 with Yahoo's error body for an unknown symbol). Bodies are the recorded fixtures
// in testing/fixtures/yahoo; `expireSession()` makes Yahoo forget the crumb, as it does in real life.
// Chart bars by `interval`: a recorded body per symbol and interval (`bars`); the 1d request for a quote
// fallback also gets the recorded daily chart (`charts`); a known symbol without a recording for that
// interval gets its own meta with no bars — Yahoo's answer when there are none (recorded weekend body).
// `replayAt` moves recorded times to "now" (as the news fakes do): quote times to it exactly, a chart's
// times by a whole number of its bars so the grid and the sessions stay as recorded.
import { randomBytes } from 'node:crypto';
import { HttpFake, type RecordedRequest, type Reply } from './http-fake.js';
import { fixtureJson, fixtureText } from '../fixtures.js';

type Json = Record<string, unknown>;
type ChartBody = { chart: { result: Json[] } };

/** Recorded intraday charts: Yahoo symbol|interval → fixture (testing/fixtures/SOURCES.md). */
const RECORDED_BARS: Record<string, string> = {
  'AMZN|1m': 'yahoo/chart_v8_AMZN_1m_range30m_2023-05-02.json',
  'HYDR.ME|5m': 'yahoo/chart_v8_HYDR.ME_5m_range1d_2020-07-13.json',
  'BTC-USD|1h': 'yahoo/chart_v8_BTC-USD_1h_range64h_2024-04-01.json',
};
const GRANULARITY_S: Record<string, number> = { '1m': 60, '5m': 300, '1h': 3600, '60m': 3600, '1d': 86400 };

export class YahooFake extends HttpFake {
  /** Yahoo symbol → one v7 quote result object (from quote_v7_*.json). */
  readonly quotes = new Map<string, Json>();
  /** Yahoo symbol → v8 chart body of daily bars (chart_v8_*_1d_*.json). */
  readonly charts = new Map<string, Json>();
  /** `symbol|interval` (Yahoo's interval: 1m, 5m, 1h, 1d) → v8 chart body. */
  readonly bars = new Map<string, Json>();
  private readonly setCookie = fixtureText('yahoo/fc_set_cookie_A3.txt').trim();
  private readonly cookie = this.setCookie.split(';', 1)[0]!;
  crumb = fixtureText('yahoo/getcrumb_200.txt').trim();
  /** Answer quote requests with 401 even with a valid crumb (Yahoo blocking the crumb flow). */
  refuseQuotes = false;

  constructor(private readonly opts: { replayAt?: number } = {}) {
    super('yahoo');
    for (const [key, f] of Object.entries(RECORDED_BARS)) this.bars.set(key, fixtureJson<Json>(f));
    for (const f of ['yahoo/quote_v7_AAPL.json', 'yahoo/quote_v7_EURUSD_X.json']) {
      for (const q of fixtureJson<{ quoteResponse: { result: Json[] } }>(f).quoteResponse.result) this.quotes.set(String(q.symbol), q);
    }
    for (const f of ['yahoo/chart_v8_AAPL_1d_2020-01-01_2020-01-03.json', 'yahoo/chart_v8_EURUSD_X_1d_2020-01-01_2020-01-03.json', 'yahoo/chart_v8_SP500TR_1d_2023-06-20_2023-07-14.json']) {
      const body = fixtureJson<{ chart: { result: { meta: { symbol: string } }[] } }>(f);
      this.charts.set(body.chart.result[0]!.meta.symbol, body as unknown as Json);
    }
    this.route('GET', '/', () => ({
      status: 404,
      headers: { 'set-cookie': this.setCookie, 'content-type': 'text/html; charset=utf-8' },
      body: '',
    }));
    this.route('GET', '/v1/test/getcrumb', (r) =>
      this.hasCookie(r) ? { headers: { 'content-type': 'text/plain;charset=utf-8' }, body: this.crumb } : { status: 401, headers: { 'content-type': 'text/plain;charset=utf-8' }, body: '' },
    );
    this.route('GET', '/v7/finance/quote', (r) => this.quote(r));
    this.route('GET', /^\/v8\/finance\/chart\/[^/]+$/, (r) => this.chart(r));
  }

  /** Requests to /v7/finance/quote that carried a valid session. */
  get authorisedQuotes(): RecordedRequest[] {
    return this.requestsTo('/v7/finance/quote').filter((r) => this.hasCookie(r) && r.query.get('crumb') === this.crumb);
  }

  /** Yahoo no longer accepts the crumb it handed out; the next getcrumb gives a new one. */
  expireSession(): void {
    this.crumb = randomBytes(8).toString('base64url').slice(0, 11);
  }

  private hasCookie(r: RecordedRequest): boolean {
    return (r.headers.cookie ?? '').split(/;\s*/).includes(this.cookie);
  }

  private quote(r: RecordedRequest): Reply {
    if (this.refuseQuotes || !this.hasCookie(r) || r.query.get('crumb') !== this.crumb) {
      return { status: 401, body: fixtureJson('yahoo/quote_v7_error_unauthorized_invalid_crumb_401.json') };
    }
    // unknown symbols are simply absent from the result, as on Yahoo
    const result = (r.query.get('symbols') ?? '').split(',').flatMap((s) => {
      const q = this.quotes.get(s);
      return q ? [this.opts.replayAt === undefined ? q : replayQuote(q, this.opts.replayAt)] : [];
    });
    return { headers: { 'content-type': 'application/json;charset=utf-8' }, body: { quoteResponse: { result, error: null } } };
  }

  private chart(r: RecordedRequest): Reply {
    const symbol = decodeURIComponent(r.path.slice('/v8/finance/chart/'.length));
    const interval = r.query.get('interval') ?? '1d';
    const body = this.bars.get(`${symbol}|${interval}`) ?? (interval === '1d' ? this.charts.get(symbol) : undefined) ?? this.noBars(symbol, interval);
    if (!body) return { status: 404, headers: { 'content-type': 'application/json;charset=utf-8' }, body: fixtureText('yahoo/chart_v8_error_not_found_404.json') };
    const out = this.opts.replayAt === undefined ? body : replayChart(body as ChartBody, this.opts.replayAt);
    return { headers: { 'content-type': 'application/json;charset=utf-8', 'cache-control': 'public, max-age=10, stale-while-revalidate=20' }, body: out };
  }

  /** A known symbol's own chart meta with no bars (the shape of the recorded weekend answer), or undefined. */
  private noBars(symbol: string, interval: string): Json | undefined {
    const own = [...this.bars].find(([k]) => k.startsWith(`${symbol}|`))?.[1] ?? this.charts.get(symbol);
    if (!own) return undefined;
    const meta = { ...((own as ChartBody).chart.result[0]!.meta as Json), dataGranularity: interval };
    return { chart: { result: [{ meta, indicators: { quote: [{}] } }], error: null } };
  }
}

/** A quote result with its market times moved so the regular-market time is `atMs`. */
function replayQuote(q: Json, atMs: number): Json {
  const rmt = q.regularMarketTime;
  if (typeof rmt !== 'number') return q;
  const d = Math.floor(atMs / 1000) - rmt;
  const out = { ...q };
  for (const k of ['regularMarketTime', 'preMarketTime', 'postMarketTime']) if (typeof out[k] === 'number') out[k] = (out[k] as number) + d;
  return out;
}

/**
 * A chart body with every time (bars, last trade, trading periods, split/dividend dates) moved by a whole
 * number of its bars, so that its last trade falls in the bar that holds `atMs`.
 */
function replayChart(body: ChartBody, atMs: number): ChartBody {
  const res = body.chart.result[0];
  const meta = res?.meta as Json | undefined;
  if (!res || !meta || typeof meta.regularMarketTime !== 'number') return body;
  const step = GRANULARITY_S[String(meta.dataGranularity)] ?? 86400;
  const d = Math.floor((atMs / 1000 - meta.regularMarketTime) / step) * step;
  const shift = (v: unknown): unknown => (typeof v === 'number' ? v + d : v);
  // `[[{start, end}]]`, `{ pre, regular, post }` of those or of `{start, end}`
  const periods = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(periods);
    if (!v || typeof v !== 'object') return v;
    const o = v as Json;
    return 'start' in o ? { ...o, start: shift(o.start), end: shift(o.end) } : Object.fromEntries(Object.entries(o).map(([k, x]) => [k, periods(x)]));
  };
  const events = res.events as Record<string, Record<string, Json>> | undefined;
  const out: Json = {
    ...res,
    meta: { ...meta, regularMarketTime: shift(meta.regularMarketTime), currentTradingPeriod: periods(meta.currentTradingPeriod), tradingPeriods: periods(meta.tradingPeriods) },
    ...(Array.isArray(res.timestamp) ? { timestamp: (res.timestamp as unknown[]).map(shift) } : {}),
    ...(events
      ? {
          events: Object.fromEntries(
            Object.entries(events).map(([kind, byDate]) => [kind, Object.fromEntries(Object.values(byDate).map((e) => [String(shift(e.date)), { ...e, date: shift(e.date) }]))]),
          ),
        }
      : {}),
  };
  if (meta.tradingPeriods === undefined) delete (out.meta as Json).tradingPeriods;
  if (meta.currentTradingPeriod === undefined) delete (out.meta as Json).currentTradingPeriod;
  return { ...body, chart: { ...body.chart, result: [out] } };
}
