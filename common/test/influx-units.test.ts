// Pure pieces of the InfluxDB layer: the 1.x write-path mapping, the reading of influxd's partial-write
// answers (bodies as influxd 1.6 sends them), 1.x durations, and Retry-After/backoff from backoff.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff, influxConfigFromEnv, parseRetryAfter, partialWriteBad, toV1Path } from '../src/index.js';
import { v1DurationSeconds } from '../src/influx/bootstrap.js';

test('toV1Path maps the 2.x write path to 1.x /write (db, rp, precision names) and leaves others alone', () => {
  assert.equal(toV1Path('/api/v2/write?org=o&bucket=markets%2Fraw&precision=ms'), '/write?db=markets&rp=raw&precision=ms');
  assert.equal(toV1Path('/api/v2/write?org=o&bucket=markets%2F5m&precision=us'), '/write?db=markets&rp=5m&precision=u');
  assert.equal(toV1Path('/api/v2/write?org=o&bucket=markets%2F1h&precision=ns'), '/write?db=markets&rp=1h&precision=n');
  assert.equal(toV1Path('/api/v2/write?bucket=news'), '/write?db=news');
  assert.equal(toV1Path('/query?db=markets&q=SHOW+DATABASES'), '/query?db=markets&q=SHOW+DATABASES');
});

test('influxConfigFromEnv keeps the values and drops a trailing slash', () => {
  assert.deepEqual(influxConfigFromEnv({ INFLUX_URL: 'http://influxdb:8086/', INFLUX_TOKEN: 't', INFLUX_ORG: 'o', INFLUX_API: 'v2' }), {
    url: 'http://influxdb:8086',
    token: 't',
    org: 'o',
    api: 'v2',
  });
});

test('partialWriteBad counts what influxd 1.6 / 2.x say was not stored', () => {
  // bodies copied from influxd 1.6.7 answers (see common/test/influx-sink.test.ts for the live check)
  assert.equal(partialWriteBad(`partial write: unable to parse 'm v=oops= 4000': invalid boolean\nunable to parse 'm,x v=6 6000': missing tag value dropped=0`), 2);
  assert.equal(partialWriteBad('partial write: field type conflict: input field "v" on measurement "m" is type string, already exists as type float dropped=1'), 1);
  assert.equal(partialWriteBad('partial write: points beyond retention policy dropped=3'), 3);
  assert.equal(partialWriteBad('failure writing points to database: partial write: field type conflict: input field "v" on measurement "m" is type string, already exists as type float dropped=1'), 1);
  assert.equal(partialWriteBad(`unable to parse 'garbage': missing fields`), undefined);
});

test('1.x durations from SHOW RETENTION POLICIES', () => {
  assert.equal(v1DurationSeconds('168h0m0s'), 7 * 86400);
  assert.equal(v1DurationSeconds('8760h0m0s'), 365 * 86400);
  assert.equal(v1DurationSeconds('1h30m0s'), 5400);
  assert.equal(v1DurationSeconds('0s'), 0);
});

test('Retry-After is seconds or an HTTP date; backoff never goes below it', () => {
  assert.equal(parseRetryAfter('2'), 2000);
  assert.equal(parseRetryAfter('0.5'), 500);
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now), 5000);
  assert.equal(parseRetryAfter('soon'), undefined);
  assert.equal(parseRetryAfter(undefined), undefined);
  const b = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0.5 });
  assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next()], [50, 100, 200, 400, 500]);
  assert.equal(b.next(3000), 3000);
  b.reset();
  assert.equal(b.next(), 50);
});
