// Local alternative.me Fear & Greed API (`GET /fng/`), answering with a recorded body
// (testing/fixtures/alternative_me); `body` can be swapped for another recorded one.
import { HttpFake } from './http-fake.js';
import { fixtureJson } from '../fixtures.js';

export class AlternativeMeFake extends HttpFake {
  body: unknown = fixtureJson('alternative_me/fng_latest_2021-12-20.json');

  constructor() {
    super('alternative.me');
    this.route('GET', '/fng/', () => ({ body: this.body }));
  }

  /** The FEAR_GREED_URL for this fake. */
  get fngUrl(): string {
    return `${this.url}/fng/`;
  }
}
