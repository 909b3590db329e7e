// The Grafana Live push fake against Grafana's own oracles: its converter's golden frames (testdata of
// pkg/services/live/telemetry/telegraf, see testing/fixtures/SOURCES.md §11), the InfluxDB docs' line
// protocol examples, and the push handler's status codes (pkg/services/live/pushhttp/push.go, v12.3.0).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GrafanaLiveFake, convertLabelsColumn, frameSchema, parseLineProtocol, panelSeries, fixtureText } from '../src/index.js';

const golden = (name: string) => JSON.parse(fixtureText(`grafana_live/${name}`)) as { schema: unknown; data: { values: unknown[][] } };
const asJson = (f: ReturnType<typeof convertLabelsColumn>[number]) => ({ schema: frameSchema(f), data: { values: f.fields.map((x) => x.values) } });

test('labels_column conversion equals Grafana’s golden frame (13 cpu lines, fields in differing order)', () => {
  const frames = convertLabelsColumn(parseLineProtocol(fixtureText('grafana_live/same_metrics_different_labels_same_time.txt')));
  assert.equal(frames.length, 1);
  assert.deepEqual(asJson(frames[0]!), golden('golden_labels_column.json'));
});

test('fields that change type and "NaN" strings convert as Grafana’s golden says', () => {
  const frames = convertLabelsColumn(parseLineProtocol(fixtureText('grafana_live/changing_types_NaN.txt')));
  const want = (JSON.parse(fixtureText('grafana_live/changing_types_NaN.golden.json')) as { frames: unknown[] }).frames;
  assert.deepEqual(frames.map(asJson), want);
});

test('every line-protocol example of the InfluxDB docs parses; ints and uints become float64 numbers', () => {
  const metrics = parseLineProtocol(fixtureText('influxdb/line_protocol_examples_v2_docs_syntax.txt'));
  assert.ok(metrics.length >= 20);
  assert.equal(metrics.find((m) => m.name === 'my Measurement')?.fields[0]?.[1].kind, 'string');
  const escaped = metrics.find((m) => m.tags.some(([k]) => k === 'tag Key1'));
  assert.deepEqual(escaped?.tags, [['tag Key1', 'tag Value1'], ['tag Key2', 'tag Value2']]);
  const frames = convertLabelsColumn(parseLineProtocol('m v=1i 1000000\nm v=2u 2000000\nm v=3.5 3000000'));
  assert.deepEqual(frames[0]!.fields[2], { name: 'v', type: 'number', frameType: 'float64', nullable: true, values: [1, 2, 3.5] });
  assert.deepEqual(frames[0]!.fields[1]!.values, [1, 2, 3], 'nanosecond timestamps arrive as epoch ms');
});

test('push endpoint: 401 without or with a wrong token, 400 for an unknown frame format, 500 for a body that does not parse, 200 otherwise', async () => {
  const g = await new GrafanaLiveFake({ tokens: ['right'] }).listen();
  try {
    const post = (body: string, headers: Record<string, string>, query = '') =>
      fetch(`${g.url}/api/live/push/markets${query}`, { method: 'POST', body, headers });
    assert.equal((await post('m v=1', {})).status, 401);
    assert.equal((await post('m v=1', { authorization: 'Bearer wrong' })).status, 401);
    assert.equal((await post('m v=1', { authorization: 'Bearer right' }, '?gf_live_frame_format=long')).status, 400);
    assert.equal((await post('m v=', { authorization: 'Bearer right' })).status, 500);
    assert.equal(g.publications.length, 0, 'nothing published from refused pushes');
    const ok = await post('ticker,symbol=BTC/USDT price=1 1700000000000000000\nticker,symbol=ETH/USDT price=2 1700000000000000000', { authorization: 'Bearer right' });
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), '');
    assert.equal(g.publications.length, 1, 'one frame per measurement per request');
    assert.equal(g.publications[0]!.channel, 'stream/markets/ticker');
  } finally {
    await g.close();
  }
});

test('the schema goes out only when it changes; a panel sees one series per label set', async () => {
  const g = await new GrafanaLiveFake({ tokens: ['t'] }).listen();
  try {
    const push = (body: string) => fetch(`${g.url}/api/live/push/markets`, { method: 'POST', body, headers: { authorization: 'Bearer t' } });
    await push('ticker,symbol=A price=1,change_pct_24h=0.5 1000000000');
    await push('ticker,symbol=B price=2,change_pct_24h=-1 2000000000\nticker,symbol=A price=1.5,change_pct_24h=0.7 2000000000');
    await push('ticker,symbol=A price=3 3000000000'); // one field fewer: another schema
    const pubs = g.on('stream/markets/ticker');
    assert.deepEqual(pubs.map((p) => Boolean(p.json.schema)), [true, false, true]);
    assert.equal(g.schemaChanges.get('stream/markets/ticker'), 1);
    const series = panelSeries(pubs.slice(0, 2));
    assert.deepEqual([...series.keys()], ['symbol=A', 'symbol=B']);
    assert.deepEqual(series.get('symbol=A')!.fields.get('price'), [1, 1.5]);
    assert.deepEqual(series.get('symbol=A')!.fields.get('time'), [1000, 2000]);
  } finally {
    await g.close();
  }
});
