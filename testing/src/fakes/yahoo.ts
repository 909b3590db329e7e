// Local Yahoo Finance: the cookie endpoint (fc.yahoo.com answers 404 with an A3 Set-Cookie), the crumb
// endpoint, v7 quote (401 "Invalid Crumb" unless cookie AND crumb match the current session) and v8
// chart (no crumb; 404 with Yahoo's error body for an unknown symbol). Bodies are the recorded fixtures
// in testing/fixtures/yahoo; `expireSession()` makes Yahoo forget the crumb, as it does in real life.
import { randomBytes } from 'node:crypto';
import { HttpFake, type RecordedRequest, type Reply } from './http-fake.js';
import { fixtureJson, fixtureText } from '../fixtures.js';

type Json = Record<string, unknown>;

export class YahooFake extends HttpFake {
  /** Yahoo symbol → one v7 quote result object (from quote_v7_*.json). */
  readonly quotes = new Map<string, Json>();
  /** Yahoo symbol → v8 chart body (chart_v8_*.json). */
  readonly charts = new Map<string, Json>();
  private readonly setCookie = fixtureText('yahoo/fc_set_cookie_A3.txt').trim();
  private readonly cookie = this.setCookie.split(';', 1)[0]!;
  crumb = fixtureText('yahoo/getcrumb_200.txt').trim();
  /** Answer quote requests with 401 even with a valid crumb (Yahoo blocking the crumb flow). */
  refuseQuotes = false;

  constructor() {
    super('yahoo');
    for (const f of ['yahoo/quote_v7_AAPL.json', 'yahoo/quote_v7_EURUSD_X.json']) {
      for (const q of fixtureJson<{ quoteResponse: { result: Json[] } }>(f).quoteResponse.result) this.quotes.set(String(q.symbol), q);
    }
    for (const f of ['yahoo/chart_v8_AAPL_1d_2020-01-01_2020-01-03.json', 'yahoo/chart_v8_EURUSD_X_1d_2020-01-01_2020-01-03.json']) {
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
    const result = (r.query.get('symbols') ?? '').split(',').flatMap((s) => this.quotes.get(s) ?? []);
    return { headers: { 'content-type': 'application/json;charset=utf-8' }, body: { quoteResponse: { result, error: null } } };
  }

  private chart(r: RecordedRequest): Reply {
    const symbol = decodeURIComponent(r.path.slice('/v8/finance/chart/'.length));
    const body = this.charts.get(symbol);
    if (!body) return { status: 404, headers: { 'content-type': 'application/json;charset=utf-8' }, body: fixtureText('yahoo/chart_v8_error_not_found_404.json') };
    return { headers: { 'content-type': 'application/json;charset=utf-8', 'cache-control': 'public, max-age=10, stale-while-revalidate=20' }, body };
  }
}
