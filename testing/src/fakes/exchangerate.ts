// Local ExchangeRate-API (keyed v6): `GET /v6/<key>/latest/USD` answered with the recorded body in
// testing/fixtures/exchangerate_api (`conversion_rates`, 2021-06-21); errors as the API gives them,
// `{"result":"error","error-type":…}` (`invalid-key` for a wrong key, `quota-reached` when `quotaReached`).
// `updatedAt` moves the recorded update times (last and next, a day apart as recorded) to another moment.
import { HttpFake, type RecordedRequest, type Reply } from './http-fake.js';
import { fixtureJson } from '../fixtures.js';

type Json = Record<string, unknown>;

export class ExchangeRateFake extends HttpFake {
  quotaReached = false;
  /** Epoch seconds to report as time_last_update_unix (default: as recorded). */
  updatedAt: number | undefined;
  private readonly body = fixtureJson<Json>('exchangerate_api/v6_key_latest_USD_2021-06-21.json');

  constructor(readonly apiKey = 'er-key') {
    super('exchangerate');
    this.route('GET', /^\/v6\/[^/]+\/latest\/[A-Z]{3}$/, (r) => this.latest(r));
  }

  private latest(r: RecordedRequest): Reply {
    const [, , key, , base] = r.path.split('/');
    const json = (body: unknown): Reply => ({ headers: { 'content-type': 'application/json' }, body });
    if (decodeURIComponent(key ?? '') !== this.apiKey) return json({ result: 'error', 'error-type': 'invalid-key' });
    if (this.quotaReached) return json({ result: 'error', 'error-type': 'quota-reached' });
    if (base !== 'USD') return json({ result: 'error', 'error-type': 'unsupported-code' });
    if (this.updatedAt === undefined) return json(this.body);
    const d = this.updatedAt - (this.body.time_last_update_unix as number);
    return json({ ...this.body, time_last_update_unix: this.updatedAt, time_next_update_unix: (this.body.time_next_update_unix as number) + d });
  }
}
