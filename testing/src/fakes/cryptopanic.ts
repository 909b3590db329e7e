// Local CryptoPanic posts API (`<prefix>/posts/?auth_token=…`): the recorded `filter=hot` page from
// testing/fixtures/cryptopanic. A missing token gets 401 like the real API; 429 is scripted with
// `fail(cryptoPanicRateLimit(s))`. `replayAt` shifts the 2018 dates (see newsapi.ts).
// No recorded CryptoPanic error BODY was found (testing/fixtures/SOURCES.md): the 401/429 bodies here are
// placeholders, and the feeder acts only on the status and Retry-After, never on those bodies.
import { HttpFake, type Fault, type RecordedRequest, type Reply } from './http-fake.js';
import { fixtureJson } from '../fixtures.js';
import { replayOffsetMs, shiftJsonDates } from './newsapi.js';

interface PostsBody {
  count: number;
  next: string | null;
  previous: string | null;
  results: { published_at?: string; created_at?: string }[];
}

export class CryptoPanicFake extends HttpFake {
  body: PostsBody;

  /** `prefix`: `/api/developer/v2` (current) or `/api/v1` (the recorded payload's era). */
  constructor(opts: { prefix?: string; token?: string; replayAt?: number } = {}) {
    super('cryptopanic');
    const raw = fixtureJson<PostsBody>('cryptopanic/posts_v1_filter_hot_2018-01-18_first10.json');
    this.body =
      opts.replayAt === undefined
        ? raw
        : shiftJsonDates(raw, ['published_at', 'created_at'], replayOffsetMs(raw.results.map((r) => r.published_at), opts.replayAt));
    this.route('GET', `${opts.prefix ?? '/api/developer/v2'}/posts/`, (r) => this.posts(r, opts.token));
  }

  private posts(r: RecordedRequest, token: string | undefined): Reply {
    const given = r.query.get('auth_token');
    if (!given || (token && given !== token)) return { status: 401, body: { status: 'Incomplete', info: 'Missing or invalid auth_token' } };
    return { body: this.body };
  }
}

/** A 429 with Retry-After (seconds); placeholder body (see the header comment). */
export function cryptoPanicRateLimit(retryAfterSeconds: number): Fault {
  return { kind: 'status', status: 429, retryAfter: retryAfterSeconds, body: { status: 'api_error', info: 'Too Many Requests' } };
}
