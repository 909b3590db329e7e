// Scripted faults between the sink and a real InfluxDB: an HttpFake in front of influxd forwards the
// writes it does not fail, so every "the data lands" assertion reads the real database back.
// Faults: 429 + Retry-After (seconds), 413, 2.x all-or-nothing 400 (bisect), 2.x 422 partial write,
// 401 during token rotation, dropped connections, stalled requests, InfluxDB unreachable and then back
// (the /ping readiness probe); and the 2.x write path itself.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Point } from '@influxdata/influxdb-client';
import { HttpFake, freePort, startInflux, type InfluxServer, type RecordedRequest, type Reply } from '@mt/testing';
import { bootstrapInflux, createInfluxQLClient, createInfluxSink, type InfluxConfig, type InfluxSinkOptions } from '../src/index.js';
import { freshRegistry, metric, silentLog } from './helpers/influx.js';

let influx: InfluxServer;
let v1: InfluxConfig;
let seq = 0;

before(async () => {
  influx = await startInflux();
  v1 = { url: influx.url, token: '', org: '', api: 'v1' };
  await bootstrapInflux(v1, silentLog);
});
after(async () => {
  await influx?.stop();
});

/** Forward a 1.x write to the real server and hand its answer back unchanged. */
async function forward(query: URLSearchParams, body: string): Promise<Reply> {
  const res = await fetch(`${influx.url}/write?${query}`, { method: 'POST', body });
  const text = await res.text();
  return { status: res.status, headers: { 'content-type': res.headers.get('content-type') ?? 'text/plain' }, body: text };
}

/** A 1.x-speaking proxy; `gate` may answer instead of the real server. */
async function v1Proxy(gate?: (r: RecordedRequest) => Reply | undefined): Promise<HttpFake> {
  const fake = new HttpFake('influx-v1-proxy');
  fake.route('POST', '/write', (r) => gate?.(r) ?? forward(r.query, r.body));
  return fake.listen();
}

// The fake sees bodies as text, so proxied tests turn gzip off (gzip itself has its own test).
function sinkVia(fake: HttpFake, api: 'v1' | 'v2', extra: Partial<InfluxSinkOptions> = {}) {
  const registry = freshRegistry();
  const cfg: InfluxConfig = { url: fake.url, token: 'tok-1', org: 'market-terminal', api };
  const sink = createInfluxSink(cfg, { log: silentLog, registry, gzipThreshold: Number.MAX_SAFE_INTEGER, retry: { initialMs: 50, maxMs: 500 }, ...extra });
  return { sink, registry };
}

/** `n` points of a fresh measurement with distinct recent ms timestamps and an int `i` = 0..n-1. */
function points(n: number): { name: string; t0: number; pts: Point[] } {
  const name = `m${++seq}`;
  const t0 = Date.now() - 3_600_000;
  return { name, t0, pts: Array.from({ length: n }, (_, i) => new Point(name).tag('k', 'v').intField('i', i).floatField('f', i + 0.25).timestamp(new Date(t0 + i))) };
}

async function readBack(name: string, db = 'markets'): Promise<unknown[][]> {
  const s = await createInfluxQLClient(v1).query(db, `SELECT i, f FROM "${name}" ORDER BY time ASC`);
  return s[0]?.values ?? [];
}
const expected = (n: number, t0: number) => Array.from({ length: n }, (_, i) => [t0 + i, i, i + 0.25]);

test('429 with Retry-After: 2 (seconds) → the next attempt is at least 2 s later, and the data lands', { timeout: 60_000 }, async () => {
  const fake = await v1Proxy();
  fake.fail({ kind: 'status', status: 429, retryAfter: 2, body: { error: 'too many requests' } }, { path: '/write' });
  const { sink, registry } = sinkVia(fake, 'v1');
  try {
    const { name, t0, pts } = points(10);
    sink.write('markets/raw', pts);
    await sink.flush();
    const writes = fake.requestsTo('/write');
    assert.equal(writes.length, 2);
    // backoff alone would retry after ≤ 50 ms; the library would have read "2" as 2 ms
    assert.ok(writes[1]!.at - writes[0]!.at >= 2000, `retried after ${writes[1]!.at - writes[0]!.at} ms`);
    assert.deepEqual(await readBack(name), expected(10, t0));
    assert.equal(await metric(registry, 'influx_write_errors_total', { bucket: 'markets/raw', status: '429' }), 1);
    assert.equal(await metric(registry, 'influx_points_dropped_total'), 0);
  } finally {
    await sink.close();
    await fake.close();
  }
});

test('InfluxDB unreachable, then back: its /ping answer ends the backoff at once; a 503 with Retry-After is still waited out', { timeout: 60_000 }, async () => {
  const port = await freePort();
  const fake = new HttpFake('influx-v1-returning');
  fake.route('GET', '/ping', async () => ({ status: (await fetch(`${influx.url}/ping`)).status }));
  fake.route('POST', '/write', (r) => forward(r.query, r.body));
  const registry = freshRegistry();
  // no jitter: 50 ms, 500 ms, then 5 s — far beyond the probe interval
  const sink = createInfluxSink(
    { url: `http://127.0.0.1:${port}`, token: '', org: '', api: 'v1' },
    { log: silentLog, registry, gzipThreshold: Number.MAX_SAFE_INTEGER, retry: { initialMs: 50, maxMs: 30_000, factor: 10, jitter: 0 }, probeIntervalMs: 200 },
  );
  try {
    const { name, t0, pts } = points(20);
    sink.write('markets/raw', pts);
    const flushed = sink.flush();
    // nothing listens: the third refused write waits 5 s, probing meanwhile
    await new Promise((r) => setTimeout(r, 1500));
    assert.ok((await metric(registry, 'influx_probes_total', { outcome: 'down' })) >= 2, 'refused probes counted');
    assert.equal(await metric(registry, 'influx_probes_total', { outcome: 'ready' }), 0);
    fake.fail({ kind: 'status', status: 503, retryAfter: 2, body: { error: 'busy' } }, { path: '/write' });
    await fake.listen(port);
    const back = Date.now();
    await flushed;
    const writes = fake.requestsTo('/write');
    const pings = fake.requestsTo('/ping');
    assert.equal(writes.length, 2);
    // the first ping answered (204 from the real influxd) and the write followed at once, not after the 5 s backoff
    assert.equal(await metric(registry, 'influx_probes_total', { outcome: 'ready' }), 1);
    assert.ok(pings[0]!.at <= writes[0]!.at && writes[0]!.at - back < 1000, `written ${writes[0]!.at - back} ms after InfluxDB was back`);
    // the 503's Retry-After: 2 (seconds) is honoured although /ping answers: the wait is not cut short,
    // and nothing probes a server that answered
    assert.ok(writes[1]!.at - writes[0]!.at >= 2000, `retried ${writes[1]!.at - writes[0]!.at} ms after the 503`);
    assert.equal(pings.filter((p) => p.at > writes[0]!.at).length, 0, 'no probe after the 503');
    assert.deepEqual(await readBack(name), expected(20, t0));
    assert.equal(await metric(registry, 'influx_write_errors_total', { status: '5xx' }), 1);
    assert.equal(await metric(registry, 'influx_write_errors_total', { status: 'transport' }), 3);
    assert.equal(await metric(registry, 'influx_points_dropped_total'), 0);
  } finally {
    await sink.close();
    await fake.close();
  }
});

test('413 → the batch is split until the halves fit, everything lands once and in order', { timeout: 60_000 }, async () => {
  const maxLines = 100;
  const fake = await v1Proxy((r) =>
    r.body.split('\n').length > maxLines ? { status: 413, headers: { 'content-type': 'application/json' }, body: '{"error":"Request Entity Too Large"}' } : undefined,
  );
  const { sink, registry } = sinkVia(fake, 'v1');
  try {
    const { name, t0, pts } = points(1000);
    sink.write('markets/raw', pts);
    await sink.flush();
    assert.deepEqual(await readBack(name), expected(1000, t0));
    const sizes = fake.requestsTo('/write').map((r) => r.body.split('\n').length);
    assert.equal(sizes[0], 1000);
    // accepted requests carry every line exactly once, in order
    const accepted = fake.requestsTo('/write').filter((r) => r.body.split('\n').length <= maxLines);
    const sent = accepted.flatMap((r) => r.body.split('\n').map((l) => Number(/[ ,]i=(\d+)i/.exec(l)![1])));
    assert.deepEqual(sent, Array.from({ length: 1000 }, (_, i) => i));
    assert.ok((await metric(registry, 'influx_write_errors_total', { status: '413' })) >= 4);
    assert.equal(await metric(registry, 'influx_points_written_total'), 1000);
    assert.equal(await metric(registry, 'influx_points_dropped_total'), 0);
  } finally {
    await sink.close();
    await fake.close();
  }
});

/**
 * An InfluxDB 2.x write endpoint in front of the real 1.x storage: `POST /api/v2/write?org&bucket&precision`
 * with `Authorization: Token`, 2.x error bodies (`{"code","message"}`), all-or-nothing on parse errors
 * (400 `invalid`), and 422 for 1.x partial writes (type conflicts), as influxd 2.x answers.
 */
async function v2Front(token = 'tok-1'): Promise<HttpFake> {
  const fake = new HttpFake('influx-v2-front');
  fake.route('POST', '/api/v2/write', async (r) => {
    if (r.headers.authorization !== `Token ${token}`) return { status: 401, body: { code: 'unauthorized', message: 'unauthorized access' } };
    const bucket = r.query.get('bucket') ?? '';
    const [db, rp] = bucket.split('/');
    if (r.query.get('org') !== 'market-terminal' || !db || !rp) return { status: 404, body: { code: 'not found', message: `bucket "${bucket}" not found` } };
    const bad = r.body.split('\n').find((l) => l.includes('BAD'));
    if (bad) return { status: 400, body: { code: 'invalid', message: `unable to parse '${bad}': invalid field format` } };
    const up = await forward(new URLSearchParams({ db, rp, precision: r.query.get('precision') ?? 'ns' }), r.body);
    if (up.status === 204) return { status: 204 };
    const message = (JSON.parse(String(up.body)) as { error: string }).error;
    return /partial write/.test(message)
      ? { status: 422, body: { code: 'unprocessable entity', message: `failure writing points to database: ${message}` } }
      : { status: up.status, body: { code: 'internal error', message } };
  });
  return fake.listen();
}

test('INFLUX_API=v2: /api/v2/write with token, org, bucket=db/rp and ms precision; lands in the rp', { timeout: 60_000 }, async () => {
  const fake = await v2Front();
  const { sink, registry } = sinkVia(fake, 'v2');
  try {
    const { name, t0, pts } = points(5);
    sink.write('markets/5m', pts);
    await sink.flush();
    const [req] = fake.requestsTo('/api/v2/write');
    assert.equal(req!.headers.authorization, 'Token tok-1');
    assert.deepEqual(Object.fromEntries(req!.query), { org: 'market-terminal', bucket: 'markets/5m', precision: 'ms' });
    const rows = await createInfluxQLClient(v1).query('markets', `SELECT i, f FROM "markets"."5m"."${name}"`);
    assert.deepEqual(rows[0]!.values, expected(5, t0));
    assert.equal(await metric(registry, 'influx_points_written_total', { bucket: 'markets/5m' }), 5);
  } finally {
    await sink.close();
    await fake.close();
  }
});

test('2.x rejects a whole batch for one malformed line → bisect: the other 199 land, 1 is counted', { timeout: 60_000 }, async () => {
  const fake = await v2Front();
  const { sink, registry } = sinkVia(fake, 'v2');
  try {
    const { name, t0, pts } = points(200);
    pts[137] = Object.assign(new Point(name), { toLineProtocol: () => `${name} i=BAD ${t0 + 137}` });
    sink.write('markets/raw', pts);
    await sink.flush();
    assert.deepEqual(
      await readBack(name),
      expected(200, t0).filter((r) => r[1] !== 137),
    );
    assert.equal(await metric(registry, 'influx_points_written_total'), 199);
    assert.equal(await metric(registry, 'influx_points_dropped_total', { reason: 'rejected' }), 1);
    // bisection: about 2·log2(200) requests, not one per line
    assert.ok(fake.requestsTo('/api/v2/write').length <= 20, `${fake.requestsTo('/api/v2/write').length} requests`);
  } finally {
    await sink.close();
    await fake.close();
  }
});

test('2.x 422 partial write (field type conflict): good lines kept, not resent, bad one counted', { timeout: 60_000 }, async () => {
  const fake = await v2Front();
  const { sink, registry } = sinkVia(fake, 'v2');
  try {
    const { name, t0, pts } = points(3);
    sink.write('markets/raw', pts[0]!);
    await sink.flush();
    sink.write('markets/raw', [pts[1]!, new Point(name).stringField('i', 'text').timestamp(new Date(t0 + 5)), pts[2]!]);
    await sink.flush();
    assert.deepEqual(await readBack(name), expected(3, t0));
    assert.equal(fake.requestsTo('/api/v2/write').length, 2);
    assert.equal(await metric(registry, 'influx_write_errors_total', { status: '422' }), 1);
    assert.equal(await metric(registry, 'influx_points_dropped_total', { reason: 'rejected' }), 1);
    assert.equal(await metric(registry, 'influx_points_written_total'), 3);
  } finally {
    await sink.close();
    await fake.close();
  }
});

test('401 while the token is rotated: keeps retrying with backoff, counts errors, lands once it is valid', { timeout: 60_000 }, async () => {
  const fake = await v2Front();
  fake.fail({ kind: 'status', status: 401, body: { code: 'unauthorized', message: 'unauthorized access' } }, { path: '/api/v2/write', times: 4 });
  const { sink, registry } = sinkVia(fake, 'v2');
  try {
    const { name, t0, pts } = points(7);
    sink.write('markets/raw', pts);
    await sink.flush();
    assert.deepEqual(await readBack(name), expected(7, t0));
    assert.equal(await metric(registry, 'influx_write_errors_total', { status: '401' }), 4);
    assert.equal(await metric(registry, 'influx_points_dropped_total'), 0);
    assert.equal(fake.requestsTo('/api/v2/write').length, 5);
  } finally {
    await sink.close();
    await fake.close();
  }
});

test('dropped connections and a stalled request (timeout) are retried; nothing lost', { timeout: 60_000 }, async () => {
  const fake = await v1Proxy();
  fake.fail({ kind: 'drop' }, { path: '/write', times: 2 });
  fake.fail({ kind: 'stall', ms: 1500 }, { path: '/write', times: 1 });
  const { sink, registry } = sinkVia(fake, 'v1', { requestTimeoutMs: 500 });
  try {
    const { name, t0, pts } = points(50);
    sink.write('markets/raw', pts);
    await sink.flush();
    assert.deepEqual(await readBack(name), expected(50, t0));
    assert.equal(await metric(registry, 'influx_write_errors_total', { status: 'transport' }), 2);
    assert.equal(await metric(registry, 'influx_write_errors_total', { status: 'timeout' }), 1);
    assert.equal(await metric(registry, 'influx_points_dropped_total'), 0);
  } finally {
    await sink.close();
    await fake.close();
  }
});

/**
 * A proxy whose first `held` writes wait until `release()` is called; the first is then answered with
 * `first` (the real server's answer when undefined); `arrived` resolves once `held` writes are on the wire.
 */
async function heldFirstWrite(first?: Reply, held = 1) {
  let release!: () => void;
  let onArrival!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const arrived = new Promise<void>((r) => (onArrival = r));
  let n = 0;
  const fake = new HttpFake('influx-v1-held');
  fake.route('POST', '/write', async (r) => {
    const i = n++;
    if (i < held) {
      if (i === held - 1) onArrival();
      await released;
      if (i === 0 && first) return first;
    }
    return forward(r.query, r.body);
  });
  return { fake: await fake.listen(), release, arrived };
}

/** Points i = from..from+n-1 of one measurement, 1 ms apart. */
const seqPoints = (name: string, t0: number, from: number, n: number) =>
  Array.from({ length: n }, (_, k) => new Point(name).tag('k', 'v').intField('i', from + k).floatField('f', from + k + 0.25).timestamp(new Date(t0 + from + k)));
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);

// docs/INFLUXDB.md "Failure handling": the batch on the wire is outside the bound (memory: the bound + one batch)
test('a slow write while points keep arriving: nothing queued behind it is dropped while the queue is within the bound; beyond it the oldest queued go, counted', { timeout: 60_000 }, async () => {
  const { fake, release, arrived } = await heldFirstWrite();
  const { sink, registry } = sinkVia(fake, 'v1', { maxBufferPoints: 1000, batchSize: 500, flushIntervalMs: 600_000 });
  try {
    const name = `m${++seq}`;
    const t0 = Date.now() - 3_600_000;
    sink.write('markets/raw', seqPoints(name, t0, 0, 1000)); // a full batch: 0..499 sent at once
    await arrived;
    sink.write('markets/raw', seqPoints(name, t0, 1000, 500)); // queue 500..1499 = the bound
    assert.deepEqual(sink.pending(), { 'markets/raw': 1500 });
    assert.equal(await metric(registry, 'influx_points_dropped_total'), 0, 'nothing dropped while the queue is within the bound');
    sink.write('markets/raw', seqPoints(name, t0, 1500, 100)); // 100 over: the oldest queued go
    assert.deepEqual(sink.pending(), { 'markets/raw': 1500 });
    assert.equal(await metric(registry, 'influx_buffer_points', { bucket: 'markets/raw' }), 1500);
    assert.equal(await metric(registry, 'influx_points_dropped_total', { bucket: 'markets/raw', reason: 'buffer_full' }), 100);
    release();
    await sink.flush();
    const stored = (await readBack(name)).map((r) => r[1]);
    // one hole, exactly the 100 oldest queued: the batch on the wire, then everything from 600 on
    assert.deepEqual(stored, [...range(0, 500), ...range(600, 1600)]);
    assert.equal(await metric(registry, 'influx_points_written_total'), 1500);
  } finally {
    release();
    await sink.close();
    await fake.close();
  }
});

test('a failed write goes back to the head of the queue: over the bound, its oldest lines are dropped first and counted; the rest lands', { timeout: 60_000 }, async () => {
  const { fake, release, arrived } = await heldFirstWrite({ status: 503, body: { error: 'busy' } });
  const { sink, registry } = sinkVia(fake, 'v1', { maxBufferPoints: 1000, batchSize: 500, flushIntervalMs: 600_000 });
  try {
    const name = `m${++seq}`;
    const t0 = Date.now() - 3_600_000;
    sink.write('markets/raw', seqPoints(name, t0, 0, 1000)); // 0..499 on the wire
    await arrived;
    sink.write('markets/raw', seqPoints(name, t0, 1000, 300)); // queue 500..1299: 800, within the bound
    assert.equal(await metric(registry, 'influx_points_dropped_total'), 0);
    const flushed = sink.flush();
    release(); // 503: 0..499 queued again ahead of 500..1299 → 1300 queued, 300 over the bound
    await flushed;
    assert.equal(await metric(registry, 'influx_points_dropped_total', { bucket: 'markets/raw', reason: 'buffer_full' }), 300);
    assert.equal(await metric(registry, 'influx_points_dropped_total'), 300);
    // the oldest 300 (of the failed batch) went; its rest was retried ahead of the newer lines
    assert.deepEqual((await readBack(name)).map((r) => r[1]), range(300, 1300));
    const retried = fake.requestsTo('/write')[1]!.body.split('\n');
    assert.equal(retried.length, 200);
    assert.match(retried[0]!, /[ ,]i=300i[ ,]/);
    assert.equal(await metric(registry, 'influx_write_errors_total', { status: '5xx' }), 1);
  } finally {
    release();
    await sink.close();
    await fake.close();
  }
});

test('batches of two buckets on the wire: only the larger is outside the bound, so memory stays within the bound + one batch', { timeout: 60_000 }, async () => {
  const { fake, release, arrived } = await heldFirstWrite(undefined, 2);
  const { sink, registry } = sinkVia(fake, 'v1', { maxBufferPoints: 1000, batchSize: 500, flushIntervalMs: 600_000 });
  try {
    const name = `m${++seq}`;
    const t0 = Date.now() - 3_600_000;
    sink.write('markets/raw', seqPoints(name, t0, 0, 500)); // on the wire, outside the bound
    sink.write('markets/5m', seqPoints(name, t0, 0, 500)); // on the wire too, counted
    await arrived;
    sink.write('markets/raw', seqPoints(name, t0, 500, 1000)); // 500 queued + 1000 = 500 over: raw's oldest queued go
    assert.deepEqual(sink.pending(), { 'markets/raw': 1000, 'markets/5m': 500 });
    assert.equal(await metric(registry, 'influx_points_dropped_total', { bucket: 'markets/raw', reason: 'buffer_full' }), 500);
    release();
    await sink.flush();
    assert.deepEqual((await readBack(name, 'markets')).map((r) => r[1]), [...range(0, 500), ...range(1000, 1500)]);
  } finally {
    release();
    await sink.close();
    await fake.close();
  }
});

test('bodies above the gzip threshold are sent gzip-encoded; small ones are not', { timeout: 60_000 }, async () => {
  const fake = new HttpFake('gzip-check');
  fake.route('POST', '/write', () => ({ status: 204 }));
  await fake.listen();
  const registry = freshRegistry();
  const sink = createInfluxSink({ url: fake.url, token: '', org: '', api: 'v1' }, { log: silentLog, registry });
  try {
    sink.write('markets/raw', points(1).pts);
    await sink.flush();
    sink.write('markets/raw', points(100).pts);
    await sink.flush();
    const [small, big] = fake.requestsTo('/write');
    assert.equal(small!.headers['content-encoding'], undefined);
    assert.equal(big!.headers['content-encoding'], 'gzip');
    assert.deepEqual(Object.fromEntries(big!.query), { db: 'markets', rp: 'raw', precision: 'ms' });
    assert.equal(await metric(registry, 'influx_points_written_total'), 101);
  } finally {
    await sink.close();
    await fake.close();
  }
});

test('writes batch at most batchSize lines and are sent within the flush interval without flush()', { timeout: 60_000 }, async () => {
  const fake = new HttpFake('batching');
  fake.route('POST', '/write', () => ({ status: 204 }));
  await fake.listen();
  const sink = createInfluxSink({ url: fake.url, token: '', org: '', api: 'v1' }, { log: silentLog, registry: freshRegistry(), batchSize: 300, flushIntervalMs: 200, gzipThreshold: Number.MAX_SAFE_INTEGER });
  try {
    sink.write('markets/raw', points(1000).pts);
    const deadline = Date.now() + 5000;
    while (fake.requestsTo('/write').length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(
      fake.requestsTo('/write').map((r) => r.body.split('\n').length),
      [300, 300, 300, 100],
    );
    // a single point is picked up by the interval timer, no flush() needed
    sink.write('markets/raw', points(1).pts);
    while (fake.requestsTo('/write').length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(fake.requestsTo('/write').length, 5);
  } finally {
    await sink.close();
    await fake.close();
  }
});

test('a server that accepts but never answers: each timed-out request closes its connection', { timeout: 60_000 }, async () => {
  const open = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((sock) => {
    accepted++;
    open.add(sock);
    sock.on('close', () => open.delete(sock));
    sock.resume(); // read the request, never answer
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  const registry = freshRegistry();
  const sink = createInfluxSink({ url, token: '', org: '', api: 'v1' }, { log: silentLog, registry, requestTimeoutMs: 200, retry: { initialMs: 20, maxMs: 50 }, closeTimeoutMs: 200 });
  try {
    sink.write('markets/raw', points(3).pts);
    const deadline = Date.now() + 10_000;
    while (accepted < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(accepted >= 5, `${accepted} attempts`);
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(open.size <= 1, `${open.size} connections still open after ${accepted} attempts`);
    assert.ok((await metric(registry, 'influx_write_errors_total', { status: 'timeout' })) >= 4);
  } finally {
    await sink.close();
    for (const s of open) s.destroy();
    await new Promise((r) => server.close(r));
  }
});

test('InfluxQL client on 2.x: GET /query with Authorization: Token, db and epoch=ms; statement errors are typed', { timeout: 60_000 }, async () => {
  const fake = new HttpFake('influx-v2-query');
  // 2.x answers InfluxQL through DBRP mappings with the 1.x JSON shape
  fake.route('GET', '/query', (r) =>
    r.query.get('q')!.startsWith('SELECT')
      ? { body: { results: [{ statement_id: 0, series: [{ name: 'candle', tags: { symbol: 'BTCUSDT' }, columns: ['time', 'close'], values: [[1767225600000, 94123.5]] }] }] } }
      : { body: { results: [{ statement_id: 0, error: 'error parsing query: found BOGUS, expected SELECT' }] } },
  );
  await fake.listen();
  try {
    const ql = createInfluxQLClient({ url: fake.url, token: 'tok-2', org: 'market-terminal', api: 'v2' });
    const series = await ql.query('markets', 'SELECT last(close) FROM candle GROUP BY symbol');
    assert.deepEqual(series, [{ name: 'candle', tags: { symbol: 'BTCUSDT' }, columns: ['time', 'close'], values: [[1767225600000, 94123.5]] }]);
    const [req] = fake.requestsTo('/query');
    assert.equal(req!.headers.authorization, 'Token tok-2');
    assert.equal(req!.query.get('db'), 'markets');
    assert.equal(req!.query.get('epoch'), 'ms');
    await assert.rejects(ql.query('markets', 'SHOW BOGUS'), (e: unknown) => (e as Error).name === 'InfluxQLError' && /expected SELECT/.test((e as Error).message));
    fake.fail({ kind: 'status', status: 503, retryAfter: 7 }, { path: '/query' });
    await assert.rejects(ql.query('markets', 'SELECT 1'), (e: unknown) => (e as { status?: number; retryAfterMs?: number }).status === 503 && (e as { retryAfterMs?: number }).retryAfterMs === 7000);
  } finally {
    await fake.close();
  }
});
