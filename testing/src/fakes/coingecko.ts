// Local CoinGecko `/coins/markets`: filters the recorded market list (testing/fixtures/coingecko) by
// `ids` or, failing that, `symbols`, in market-cap order as CoinGecko does; unknown ids are just absent.
// Rate limiting: `fail(coingeckoRateLimit(retryAfterSeconds))` answers with the recorded 429 body.
// `replayAt` moves every `last_updated` so the newest is that time (as the news fakes replay news).
import { HttpFake, type Fault, type RecordedRequest, type Reply } from './http-fake.js';
import { fixtureJson } from '../fixtures.js';
import { replayOffsetMs, shiftJsonDates } from './newsapi.js';

type Coin = { id: string; symbol: string; market_cap_rank: number | null } & Record<string, unknown>;

export class CoinGeckoFake extends HttpFake {
  readonly coins: Coin[];

  /** `prefix` is the API path prefix of the base URL (`/api/v3` on api.coingecko.com). */
  constructor(
    readonly prefix = '/api/v3',
    opts: { replayAt?: number } = {},
  ) {
    super('coingecko');
    const raw = fixtureJson<Coin[]>('coingecko/coins_markets_vs_usd_2023-01-08_first10.json');
    this.coins =
      opts.replayAt === undefined ? raw : shiftJsonDates(raw, ['last_updated'], replayOffsetMs(raw.map((c) => c.last_updated as string | undefined), opts.replayAt));
    this.route('GET', `${prefix}/coins/markets`, (r) => this.markets(r));
  }

  private markets(r: RecordedRequest): Reply {
    if (!r.query.get('vs_currency')) return { status: 400, body: { error: 'Missing parameter vs_currency' } };
    const ids = r.query.get('ids')?.split(',').filter(Boolean);
    const symbols = r.query.get('symbols')?.split(',').filter(Boolean);
    let out = this.coins;
    if (ids?.length) out = out.filter((c) => ids.includes(c.id));
    else if (symbols?.length) out = out.filter((c) => symbols.includes(c.symbol));
    return { body: [...out].sort((a, b) => (a.market_cap_rank ?? Infinity) - (b.market_cap_rank ?? Infinity)) };
  }
}

/** CoinGecko's 429 with its recorded body and a Retry-After in seconds. */
export function coingeckoRateLimit(retryAfterSeconds: number): Fault {
  return { kind: 'status', status: 429, retryAfter: retryAfterSeconds, body: fixtureJson('coingecko/error_429_rate_limit.json') };
}
