// Fear & Greed: mapper on the recorded bodies, source against the local alternative.me.
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { ParseError } from '@mt/common';
import { AlternativeMeFake, fixtureJson } from '@mt/testing';
import { fearGreedFromBody } from '../../src/market/feargreed/mapper.js';
import { FearGreedSource } from '../../src/market/feargreed/index.js';
import { harness } from '../polled/harness.js';

test('mapper: newest reading, string value and seconds timestamp converted', () => {
  assert.deepEqual(fearGreedFromBody(fixtureJson('alternative_me/fng_latest_2021-12-20.json')), {
    ts: 1639958400_000,
    value: 25,
    classification: 'Extreme Fear',
  });
  assert.deepEqual(fearGreedFromBody(fixtureJson('alternative_me/fng_limit2_docs_example.json')), { ts: 1551157200_000, value: 40, classification: 'Fear' });
  const body = fixtureJson<{ data: Record<string, string>[]; metadata: { error: unknown } }>('alternative_me/fng_latest_2021-12-20.json');
  assert.throws(() => fearGreedFromBody({ ...body, data: [{ ...body.data[0], value: '250' }] }), (e: ParseError) => e.reason === 'bad_item');
  assert.throws(() => fearGreedFromBody({ ...body, metadata: { error: 'Invalid limit' } }), (e: ParseError) => e.reason === 'api_error');
  assert.throws(() => fearGreedFromBody([]), ParseError);
});

let fake: AlternativeMeFake;
let h: ReturnType<typeof harness>;
let src: FearGreedSource;

beforeEach(async () => {
  fake = await new AlternativeMeFake().listen();
  h = harness();
  src = new FearGreedSource({ url: fake.fngUrl, intervalMs: 3_600_000, log: h.log, metrics: h.metrics, sink: h.sink });
});
afterEach(async () => {
  await src.stop();
  await fake.close();
});

test('poll → one fear_greed point in markets/raw, per the contract', async () => {
  assert.deepEqual(await src.poller.pollOnce(), { ok: true });
  assert.equal(fake.requestsTo('/fng/')[0]!.query.get('limit'), '1');
  assert.deepEqual(h.points, [{ bucket: 'markets/raw', line: 'fear_greed classification="Extreme Fear",value=25i 1639958400000000000' }]);
  assert.equal(await h.metric('feeder_source_up', { source: 'fear_greed' }), 1);
});

test('malformed body and API error: counted, no point, survived', async () => {
  fake.fail({ kind: 'malformed', body: '<html>502 Bad Gateway</html>', contentType: 'text/html' });
  assert.equal((await src.poller.pollOnce()).ok, false);
  // the recorded envelope with its `metadata.error` filled in
  fake.body = { ...fixtureJson<object>('alternative_me/fng_latest_2021-12-20.json'), data: [], metadata: { error: 'Something went wrong' } };
  assert.equal((await src.poller.pollOnce()).ok, false);
  assert.equal(await h.metric('feeder_parse_errors_total', { source: 'fear_greed', reason: 'invalid_json' }), 1);
  assert.equal(await h.metric('feeder_parse_errors_total', { source: 'fear_greed', reason: 'api_error' }), 1);
  assert.equal(h.points.length, 0);
  fake.body = fixtureJson('alternative_me/fng_limit2_docs_example.json');
  assert.deepEqual(await src.poller.pollOnce(), { ok: true });
  assert.equal(h.points[0]!.line, 'fear_greed classification="Fear",value=40i 1551157200000000000');
});
