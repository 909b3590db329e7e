// Local NewsAPI (`/v2/top-headlines`, `/v2/everything`): the recorded response from testing/fixtures/newsapi,
// the documented error envelope for a missing key (401 apiKeyMissing), and the recorded 429/426 bodies for
// scripted faults. Fixtures are from 2021; `replayAt` shifts every publication date by one offset so the
// newest article is that recent (relative spacing kept) — a feeder rejects articles beyond its retention.
import { HttpFake, type Fault, type RecordedRequest, type Reply } from './http-fake.js';
import { fixtureJson } from '../fixtures.js';

/** Offset that moves the newest of `isoDates` to `newest`. */
export function replayOffsetMs(isoDates: (string | undefined)[], newest: number): number {
  const max = Math.max(...isoDates.map((d) => (d ? Date.parse(d) : NaN)).filter(Number.isFinite));
  return Number.isFinite(max) ? newest - max : 0;
}

/** Deep copy of `value` with every string under one of `keys` that parses as a date moved by `offsetMs`. */
export function shiftJsonDates<T>(value: T, keys: string[], offsetMs: number): T {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.entries(v).map(([k, x]) => [k, keys.includes(k) && typeof x === 'string' && Number.isFinite(Date.parse(x)) ? new Date(Date.parse(x) + offsetMs).toISOString() : walk(x)]),
      );
    }
    return v;
  };
  return walk(value) as T;
}

interface NewsApiBody {
  status: string;
  totalResults: number;
  articles: { publishedAt?: string }[];
}

export class NewsApiFake extends HttpFake {
  body: NewsApiBody;

  constructor(opts: { key?: string; replayAt?: number } = {}) {
    super('newsapi');
    const raw = fixtureJson<NewsApiBody>('newsapi/top-headlines_category-business_us_2021-12-09_first3.json');
    this.body = opts.replayAt === undefined ? raw : shiftJsonDates(raw, ['publishedAt'], replayOffsetMs(raw.articles.map((a) => a.publishedAt), opts.replayAt));
    const handler = (r: RecordedRequest): Reply => {
      const key = r.headers['x-api-key'] ?? r.query.get('apiKey') ?? undefined;
      if (!key) {
        return {
          status: 401,
          body: { status: 'error', code: 'apiKeyMissing', message: 'Your API key is missing. Append this to the URL with the apiKey param, or use the x-api-key HTTP header.' },
        };
      }
      if (opts.key && key !== opts.key) {
        return { status: 401, body: { status: 'error', code: 'apiKeyInvalid', message: "Your API key is invalid or incorrect. Check your key, or go to https://newsapi.org to create a free API key." } };
      }
      return { body: this.body };
    };
    this.route('GET', '/v2/top-headlines', handler);
    this.route('GET', '/v2/everything', handler);
  }
}

/** NewsAPI's recorded 429 (rateLimited) body; NewsAPI sends no Retry-After, pass one to test honouring it. */
export function newsApiRateLimited(retryAfterSeconds?: number): Fault {
  return { kind: 'status', status: 429, retryAfter: retryAfterSeconds, body: fixtureJson('newsapi/error_429_rateLimited.json') };
}

/** NewsAPI's recorded 426 (maximumResultsReached) body. */
export function newsApiUpgradeRequired(): Fault {
  return { kind: 'status', status: 426, body: fixtureJson('newsapi/error_426_maximumResultsReached.json') };
}
