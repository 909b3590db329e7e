// Local Alpha Vantage: `GET /query?function=GLOBAL_QUOTE&symbol=…&apikey=…` answered with the recorded
// bodies in testing/fixtures/alphavantage, HTTP 200 whatever happens, as Alpha Vantage does: the rate
// limit is the recorded "Note" body (`limited`), a missing key an "Error Message". `quotes` holds one
// recorded "Global Quote" per symbol (MSFT as recorded; a test may file it under another symbol).
import { HttpFake, type RecordedRequest, type Reply } from './http-fake.js';
import { fixtureJson } from '../fixtures.js';

type Json = Record<string, unknown>;

export class AlphaVantageFake extends HttpFake {
  readonly quotes = new Map<string, Json>();
  /** Answer every call with the recorded rate-limit "Note" (the key's allowance is used up). */
  limited = false;

  constructor(readonly apiKey = 'demo-key') {
    super('alphavantage');
    const msft = fixtureJson<Json>('alphavantage/global_quote_MSFT_2018-10-05.json');
    this.quotes.set('MSFT', msft['Global Quote'] as Json);
    this.route('GET', '/query', (r) => this.query(r));
  }

  /** The recorded quote of `from` filed under `symbol` too (its "01. symbol" renamed). */
  alias(symbol: string, from = 'MSFT'): this {
    this.quotes.set(symbol, { ...this.quotes.get(from)!, '01. symbol': symbol });
    return this;
  }

  private query(r: RecordedRequest): Reply {
    const json = (body: unknown): Reply => ({ headers: { 'content-type': 'application/json' }, body });
    if (r.query.get('apikey') !== this.apiKey)
      return json({ 'Error Message': 'the parameter apikey is invalid or missing. Please claim your free API key on (https://www.alphavantage.co/support/#api-key). It should take less than 20 seconds.' });
    if (this.limited) return json(fixtureJson('alphavantage/note_rate_limit_2018_5_per_min_500_per_day.json'));
    if (r.query.get('function') !== 'GLOBAL_QUOTE') return json({ 'Error Message': 'Invalid API call. Please retry or visit the documentation (https://www.alphavantage.co/documentation/) for GLOBAL_QUOTE.' });
    // an unknown symbol: an empty quote
    return json({ 'Global Quote': this.quotes.get(r.query.get('symbol') ?? '') ?? {} });
  }
}
