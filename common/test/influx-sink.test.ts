// The sink against the real InfluxDB 1.x (Debian influxd, INFLUX_API=v1): exact read-back with InfluxQL,
// non-default retention policies, poison lines, the buffer bound and flush/close semantics.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Point } from '@influxdata/influxdb-client';
import { pino } from 'pino';
import { startInflux, type InfluxServer } from '@mt/testing';
import { bootstrapInflux, createInfluxQLClient, createInfluxSink, influxConfigFromEnv, InfluxQLError, type InfluxConfig } from '../src/index.js';
import { freshRegistry, histogramCount, metric, silentLog } from './helpers/influx.js';

let influx: InfluxServer;
/** A ms timestamp inside every retention policy (the raw RPs keep 7 d). */
const recent = () => Date.now() - 3_600_000;
let cfg: InfluxConfig;

before(async () => {
  influx = await startInflux();
  // A token is sent on purpose: influxd 1.x with auth disabled must ignore `Authorization: Token`.
  cfg = influxConfigFromEnv({ INFLUX_URL: influx.url + '/', INFLUX_TOKEN: 'dev-token', INFLUX_ORG: 'market-terminal', INFLUX_API: 'v1' });
  await bootstrapInflux(cfg, silentLog);
});
after(async () => {
  await influx?.stop();
});

test('points written through the sink read back exactly with InfluxQL (markets/raw and markets/5m)', { timeout: 60_000 }, async () => {
  const registry = freshRegistry();
  const sink = createInfluxSink(cfg, { log: silentLog, registry });
  // recent timestamps: influxd drops points older than the RP duration ("points beyond retention policy")
  const t0 = recent();
  const trades = Array.from({ length: 20 }, (_, i) =>
    new Point('trade')
      .tag('symbol', i % 2 ? 'BTCUSDT' : 'ETH USDT,x=1') // escaping of space, comma, equals in tags
      .tag('source', 'binance')
      .floatField('price', 43123.45 + i / 100)
      .intField('qty', 1_000_000_007 + i)
      .stringField('side', i % 3 ? 'buy' : 'sell "quoted", \\ back')
      .timestamp(new Date(t0 + i)),
  );
  sink.write('markets/raw', trades);
  const candle = new Point('candle').tag('symbol', 'BTCUSDT').tag('interval', '5m').floatField('open', 1.5).floatField('close', 2).intField('trades', 7).timestamp(new Date(t0));
  sink.write('markets/5m', candle);
  await sink.flush();

  const ql = createInfluxQLClient(cfg);
  const raw = await ql.query('markets', 'SELECT * FROM "markets"."raw"."trade" ORDER BY time ASC');
  assert.equal(raw.length, 1);
  const s = raw[0]!;
  assert.deepEqual(s.columns, ['time', 'price', 'qty', 'side', 'source', 'symbol']);
  assert.deepEqual(
    s.values,
    Array.from({ length: 20 }, (_, i) => [t0 + i, 43123.45 + i / 100, 1_000_000_007 + i, i % 3 ? 'buy' : 'sell "quoted", \\ back', 'binance', i % 2 ? 'BTCUSDT' : 'ETH USDT,x=1']),
  );
  // Integer fields stay integers (a float would fail the next write of the same field as a type conflict).
  const types = await ql.query('markets', 'SHOW FIELD KEYS ON "markets" FROM "raw"."trade"');
  assert.deepEqual(types[0]!.values, [['price', 'float'], ['qty', 'integer'], ['side', 'string']]);

  const fiveMin = await ql.query('markets', 'SELECT * FROM "markets"."5m"."candle"');
  assert.deepEqual(fiveMin[0]!.values, [[t0, 2, '5m', 1.5, 'BTCUSDT', 7]]);
  // The default RP is raw: unqualified reads see the raw data, not the 5m candle.
  assert.equal((await ql.query('markets', 'SELECT count(price) FROM trade'))[0]!.values[0]![1], 20);
  assert.equal((await ql.query('markets', 'SELECT * FROM candle')).length, 0);

  assert.equal(await metric(registry, 'influx_points_written_total', { bucket: 'markets/raw' }), 20);
  assert.equal(await metric(registry, 'influx_points_written_total', { bucket: 'markets/5m' }), 1);
  assert.equal(await metric(registry, 'influx_points_dropped_total'), 0);
  assert.ok((await histogramCount(registry, 'influx_write_duration_seconds', { bucket: 'markets/raw' })) >= 1);
  assert.deepEqual(sink.pending(), { 'markets/raw': 0, 'markets/5m': 0 });
  await sink.close();
});

test('one type-conflicting line, one malformed line: the good lines of each batch land, the bad ones are counted', { timeout: 60_000 }, async () => {
  const registry = freshRegistry();
  const sink = createInfluxSink(cfg, { log: silentLog, registry });
  const t0 = recent();
  sink.write('news/raw', new Point('poison').floatField('v', 1).timestamp(new Date(t0)));
  await sink.flush();
  // field type conflict: v is a float in this shard. influxd 1.6 stores the rest and answers
  // 400 `partial write: field type conflict: … dropped=1`.
  sink.write('news/raw', [
    new Point('poison').floatField('v', 2).timestamp(new Date(t0 + 1)),
    new Point('poison').stringField('v', 'text').timestamp(new Date(t0 + 2)),
    new Point('poison').floatField('v', 4).timestamp(new Date(t0 + 3)),
  ]);
  await sink.flush();
  // An unparseable line (Point escapes everything, so it is built raw, as a buggy mapper could emit it).
  // influxd 1.6 stores the rest and answers 400 `partial write: unable to parse '…': … dropped=0`.
  sink.write('news/raw', [
    new Point('poison').floatField('v', 5).timestamp(new Date(t0 + 4)),
    Object.assign(new Point('poison'), { toLineProtocol: () => `poison v=oops= ${t0 + 5}` }),
    new Point('poison').floatField('v', 7).timestamp(new Date(t0 + 6)),
  ]);
  await sink.flush();
  const rows = await createInfluxQLClient(cfg).query('news', 'SELECT v FROM poison');
  assert.deepEqual(rows[0]!.values, [
    [t0, 1],
    [t0 + 1, 2],
    [t0 + 3, 4],
    [t0 + 4, 5],
    [t0 + 6, 7],
  ]);
  assert.equal(await metric(registry, 'influx_points_written_total', { bucket: 'news/raw' }), 5);
  assert.equal(await metric(registry, 'influx_points_dropped_total', { bucket: 'news/raw', reason: 'rejected' }), 2);
  assert.equal(await metric(registry, 'influx_write_errors_total', { bucket: 'news/raw', status: '400' }), 2);
  await sink.close();
});

test('a batch in which no line parses is dropped as rejected and does not block later writes', { timeout: 60_000 }, async () => {
  const registry = freshRegistry();
  const sink = createInfluxSink(cfg, { log: silentLog, registry });
  const bad = Array.from({ length: 3 }, (_, i) => Object.assign(new Point('x'), { toLineProtocol: () => `garbage${i}` }));
  sink.write('news/raw', bad);
  await sink.flush();
  sink.write('news/raw', new Point('after_garbage').intField('n', 1).timestamp(new Date(recent())));
  await sink.flush();
  assert.equal(await metric(registry, 'influx_points_dropped_total', { reason: 'rejected' }), 3);
  assert.equal((await createInfluxQLClient(cfg).query('news', 'SELECT n FROM after_garbage'))[0]!.values.length, 1);
  // a point without fields never reaches the server but is counted
  sink.write('news/raw', new Point('nofields').tag('a', 'b'));
  assert.equal(await metric(registry, 'influx_points_dropped_total', { reason: 'rejected' }), 4);
  // not a Point at all (a caller bug): write() does not throw, the valid neighbour still lands
  assert.doesNotThrow(() => sink.write('news/raw', [null as unknown as Point, new Point('beside_null').intField('n', 2).timestamp(new Date(recent()))]));
  await sink.flush();
  assert.equal(await metric(registry, 'influx_points_dropped_total', { reason: 'rejected' }), 5);
  assert.equal((await createInfluxQLClient(cfg).query('news', 'SELECT n FROM beside_null'))[0]!.values.length, 1);
  await sink.close();
});

test('buffer full: the oldest points are dropped and counted, memory stays bounded', { timeout: 60_000 }, async () => {
  const registry = freshRegistry();
  const max = 20_000;
  // InfluxDB frozen (SIGSTOP): requests hang, so everything piles up in the buffer.
  // no interval flush: the first request is exactly the first full batch (seq 0..4999)
  const sink = createInfluxSink(cfg, { log: silentLog, registry, maxBufferPoints: max, batchSize: 5000, flushIntervalMs: 600_000, requestTimeoutMs: 60_000, closeTimeoutMs: 20_000 });
  influx.pause();
  try {
    const t0 = recent();
    const total = 300_000;
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    for (let i = 0; i < total; i += 1000) {
      sink.write('markets/raw', Array.from({ length: 1000 }, (_, j) => new Point('bufferfull').intField('seq', i + j).stringField('pad', 'x'.repeat(100)).timestamp(new Date(t0 + i + j))));
      await new Promise((r) => setImmediate(r));
    }
    // the queue is full and the first batch (seq 0..4999) hangs on the wire: the bound plus that one batch
    assert.equal(sink.pending()['markets/raw'], max + 5000);
    assert.equal(await metric(registry, 'influx_buffer_points', { bucket: 'markets/raw' }), sink.pending()['markets/raw']);
    const dropped = await metric(registry, 'influx_points_dropped_total', { bucket: 'markets/raw', reason: 'buffer_full' });
    assert.equal(dropped, total - sink.pending()['markets/raw']!);
    // 300k lines of ~150 bytes would be ~50 MB of strings if unbounded; the bound keeps growth far below.
    gc();
    const grown = process.memoryUsage().heapUsed - heapBefore;
    assert.ok(grown < 25 * 1024 * 1024, `heap grew ${Math.round(grown / 1e6)} MB`);
    influx.resume();
    await sink.flush();
    const rows = await createInfluxQLClient(cfg).query('markets', 'SELECT count(seq), min(seq), max(seq) FROM bufferfull');
    const [, count, minSeq, maxSeq] = rows[0]!.values[0] as number[];
    // What landed: the first in-flight batch (oldest, already on the wire) plus the newest `max` points.
    assert.equal(count, total - dropped);
    assert.equal(minSeq, 0);
    assert.equal(maxSeq, total - 1);
    const newest = await createInfluxQLClient(cfg).query('markets', `SELECT count(seq) FROM bufferfull WHERE seq >= ${total - max}`);
    assert.equal(newest[0]!.values[0]![1], max);
    const gap = await createInfluxQLClient(cfg).query('markets', `SELECT count(seq) FROM bufferfull WHERE seq >= 5000 AND seq < ${total - max}`);
    assert.equal(gap.length, 0, 'the dropped points are exactly the oldest queued ones');
  } finally {
    influx.resume();
    await sink.close();
  }
});

test('close() flushes what is queued, then writes are refused and counted', { timeout: 60_000 }, async () => {
  const registry = freshRegistry();
  const sink = createInfluxSink(cfg, { log: silentLog, registry, flushIntervalMs: 60_000 });
  const t0 = recent();
  sink.write('markets/raw', [1, 2, 3].map((i) => new Point('closing').intField('i', i).timestamp(new Date(t0 + i))));
  await sink.close();
  assert.equal((await createInfluxQLClient(cfg).query('markets', 'SELECT i FROM closing'))[0]!.values.length, 3);
  sink.write('markets/raw', new Point('closing').intField('i', 4));
  assert.equal(await metric(registry, 'influx_points_dropped_total', { reason: 'retries_exhausted' }), 1);
});

test('close() gives up after its deadline while InfluxDB is frozen and counts what was not written', { timeout: 60_000 }, async () => {
  const registry = freshRegistry();
  const logged: { msg: string; points?: number; inFlight?: number }[] = [];
  const log = pino({ level: 'error' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
  const sink = createInfluxSink(cfg, { log, registry, closeTimeoutMs: 1500, requestTimeoutMs: 60_000 });
  influx.pause();
  try {
    sink.write('markets/raw', [1, 2, 3].map((i) => new Point('frozen').intField('i', i)));
    const started = Date.now();
    await sink.close();
    assert.ok(Date.now() - started < 5000);
    assert.equal(await metric(registry, 'influx_points_dropped_total', { reason: 'retries_exhausted' }), 3);
    assert.deepEqual(sink.pending(), { 'markets/raw': 0 });
    // the loss is in the log as well, including the batch that was in flight when the deadline came
    const lost = logged.find((l) => l.msg === 'influx sink closed with unwritten points');
    assert.equal(lost?.points, 3, JSON.stringify(logged));
  } finally {
    influx.resume();
  }
});

test('InfluxQL client: statement errors throw InfluxQLError, an unreachable server TransportError', { timeout: 60_000 }, async () => {
  const ql = createInfluxQLClient(cfg);
  await assert.rejects(ql.query('markets', 'SELEC nonsense'), InfluxQLError);
  await assert.rejects(ql.query('nodb', 'SELECT * FROM x'), (e: unknown) => e instanceof InfluxQLError && /database not found/.test(e.message));
  await assert.rejects(createInfluxQLClient({ ...cfg, url: 'http://127.0.0.1:1' }).query('markets', 'SHOW MEASUREMENTS'), (e: unknown) => (e as { name?: string }).name === 'TransportError');
});

test('one bound over all buckets: the fullest bucket gives up its oldest lines, the small ones keep theirs', async () => {
  const registry = freshRegistry();
  // nothing is sent: batches below batchSize wait for a flush interval that does not come in this test
  const sink = createInfluxSink({ ...cfg, url: 'http://127.0.0.1:9' }, { log: silentLog, registry, maxBufferPoints: 10_000, batchSize: 10_000, flushIntervalMs: 600_000, closeTimeoutMs: 100 });
  const points = (n: number, from = 0) => Array.from({ length: n }, (_, i) => new Point('bound').intField('seq', from + i).timestamp(new Date(recent() + from + i)));
  sink.write('markets/1h', points(100));
  sink.write('markets/5m', points(200));
  for (let i = 0; i < 9950; i += 50) sink.write('markets/raw', points(50, i));
  assert.deepEqual(sink.pending(), { 'markets/1h': 100, 'markets/5m': 200, 'markets/raw': 9700 });
  assert.equal(await metric(registry, 'influx_points_dropped_total', { bucket: 'markets/raw', reason: 'buffer_full' }), 250);
  assert.equal(await metric(registry, 'influx_points_dropped_total', { bucket: 'markets/5m', reason: 'buffer_full' }), 0);
  await sink.close();
});
