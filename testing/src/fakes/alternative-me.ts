// Local alternative.me Fear & Greed API (`GET /fng/`), answering with a recorded body
// (testing/fixtures/alternative_me); `body` can be swapped for another recorded one. `replayAt` moves the
// recorded readings by whole days so the newest is the day that holds it (as the news fakes replay news).
import { HttpFake } from './http-fake.js';
import { fixtureJson } from '../fixtures.js';

type FngBody = { data?: { timestamp?: string }[] } & Record<string, unknown>;

export class AlternativeMeFake extends HttpFake {
  body: unknown;

  constructor(opts: { replayAt?: number } = {}) {
    super('alternative.me');
    const raw = fixtureJson<FngBody>('alternative_me/fng_latest_2021-12-20.json');
    this.body = opts.replayAt === undefined ? raw : replayFng(raw, opts.replayAt);
    this.route('GET', '/fng/', () => ({ body: this.body }));
  }

  /** The FEAR_GREED_URL for this fake. */
  get fngUrl(): string {
    return `${this.url}/fng/`;
  }
}

/** The readings' `timestamp` (epoch seconds as a string, 00:00 UTC) moved by whole days so the newest is ≤ `atMs`. */
export function replayFng(body: FngBody, atMs: number): FngBody {
  const times = (body.data ?? []).map((d) => Number(d.timestamp)).filter(Number.isFinite);
  if (!times.length) return body;
  const days = Math.floor((atMs / 1000 - Math.max(...times)) / 86400);
  return { ...body, data: body.data!.map((d) => (d.timestamp === undefined ? d : { ...d, timestamp: String(Number(d.timestamp) + days * 86400) })) };
}
