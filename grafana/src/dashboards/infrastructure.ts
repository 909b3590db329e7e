// uid infrastructure: feeds (messages/s, up, reconnects, lag, errors, backfills, gaps), the InfluxDB sink
// (write latency, drops, buffer), the API, and host (node-exporter) and container (cAdvisor) resources.
// Metric names: docs/METRICS.md.
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as TimeSeries } from '@grafana/grafana-foundation-sdk/timeseries';
import { PanelBuilder as Stat } from '@grafana/grafana-foundation-sdk/stat';
import { DataqueryBuilder as Prom } from '@grafana/grafana-foundation-sdk/prometheus';
import { BigValueColorMode, BigValueGraphMode, BigValueTextMode, ReduceDataOptionsBuilder } from '@grafana/grafana-foundation-sdk/common';
import { COLOR, DS, Grid, finish, steps, terminalDashboard } from '../defaults.js';

const q = (expr: string, legend: string, refId = 'A') => new Prom().expr(expr).legendFormat(legend).refId(refId);

function graph(title: string, unit: string, ...targets: Prom[]): TimeSeries {
  const p = new TimeSeries().title(title).datasource(DS.prometheus).unit(unit).fillOpacity(10);
  for (const t of targets) p.withTarget(t);
  return p;
}

export function infrastructure(): Dashboard {
  const g = new Grid();
  const sourceUp = new Stat()
    .title('Sources up')
    .datasource(DS.prometheus)
    .withTarget(q('max by (source) (feeder_source_up)', '{{source}}'))
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']))
    .colorMode(BigValueColorMode.BackgroundSolid)
    .graphMode(BigValueGraphMode.None)
    .textMode(BigValueTextMode.Name)
    .mappings([{ type: 'value', options: { '0': { text: 'DOWN' }, '1': { text: 'UP' } } } as never])
    .thresholds(steps(COLOR.down, [1, COLOR.up]))
    .gridPos(g.at(24, 3));

  const panels = [
    sourceUp,
    graph('Messages / s per source', 'short', q('sum by (source) (rate(feeder_messages_total[$__rate_interval]))', '{{source}}')).gridPos(g.at(8, 8)),
    graph('Lag: seconds since last message', 's', q('time() - max by (source) (feeder_last_message_timestamp_seconds)', '{{source}}'), q('max by (symbol) (market_last_tick_age_seconds)', 'tick {{symbol}}', 'B')).gridPos(g.at(8, 8)),
    graph(
      'Reconnects and errors',
      'short',
      q('sum by (source) (increase(feeder_reconnects_total[$__rate_interval]))', 'reconnect {{source}}'),
      q('sum by (source, kind) (increase(feeder_source_errors_total[$__rate_interval]))', '{{kind}} {{source}}', 'B'),
      q('sum by (source, reason) (increase(feeder_parse_errors_total[$__rate_interval]))', 'parse {{reason}} {{source}}', 'C'),
    ).gridPos(g.at(8, 8)),
    graph(
      'Backfills and gaps',
      'short',
      q('sum by (symbol) (increase(market_candles_backfilled_total[$__rate_interval]))', 'backfilled {{symbol}}'),
      q('sum by (symbol, kind) (increase(market_gaps_detected_total[$__rate_interval]))', 'gap {{kind}} {{symbol}}', 'B'),
      q('sum by (exchange, symbol, reason) (increase(market_book_resyncs_total[$__rate_interval]))', 'book resync {{reason}} {{exchange}} {{symbol}}', 'C'),
    ).gridPos(g.at(8, 8)),
    graph(
      'InfluxDB write latency',
      's',
      q('histogram_quantile(0.5, sum by (le, bucket) (rate(influx_write_duration_seconds_bucket[$__rate_interval])))', 'p50 {{bucket}}'),
      q('histogram_quantile(0.99, sum by (le, bucket) (rate(influx_write_duration_seconds_bucket[$__rate_interval])))', 'p99 {{bucket}}', 'B'),
    ).gridPos(g.at(8, 8)),
    graph(
      'InfluxDB points written / dropped per s',
      'short',
      q('sum by (bucket) (rate(influx_points_written_total[$__rate_interval]))', 'written {{bucket}}'),
      q('sum by (bucket, reason) (rate(influx_points_dropped_total[$__rate_interval]))', 'dropped {{reason}} {{bucket}}', 'B'),
      q('sum by (bucket, status) (rate(influx_write_errors_total[$__rate_interval]))', 'error {{status}} {{bucket}}', 'C'),
      q('sum by (bucket) (influx_buffer_points)', 'buffered {{bucket}}', 'D'),
    ).gridPos(g.at(8, 8)),
    graph(
      'News items',
      'short',
      q('sum by (source, outcome) (increase(news_items_total[$__rate_interval]))', '{{outcome}} {{source}}'),
    ).gridPos(g.at(8, 8)),
    graph(
      'Watchlist API latency',
      's',
      q('histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket[$__rate_interval])))', 'p95 {{route}}'),
      q('sum by (status_code) (rate(http_request_duration_seconds_count[$__rate_interval]))', 'req/s {{status_code}}', 'B'),
    ).gridPos(g.at(8, 8)),
    graph(
      'Binance connections',
      'short',
      q('sum(market_ws_connections)', 'connections'),
      q('sum(market_subscribed_streams)', 'streams', 'B'),
    ).gridPos(g.at(8, 8)),
    graph(
      'Host CPU / memory / disk',
      'percentunit',
      q('1 - avg(rate(node_cpu_seconds_total{mode="idle"}[$__rate_interval]))', 'cpu'),
      q('1 - sum(node_memory_MemAvailable_bytes) / sum(node_memory_MemTotal_bytes)', 'memory', 'B'),
      q('1 - sum(node_filesystem_avail_bytes{mountpoint="/",fstype!="rootfs"}) / sum(node_filesystem_size_bytes{mountpoint="/",fstype!="rootfs"})', 'disk /', 'C'),
    )
      .min(0)
      .max(1)
      .gridPos(g.at(8, 8)),
    graph('Container CPU (cores)', 'short', q('sum by (name) (rate(container_cpu_usage_seconds_total{name!=""}[$__rate_interval]))', '{{name}}')).gridPos(g.at(8, 8)),
    graph('Container memory', 'bytes', q('sum by (name) (container_memory_working_set_bytes{name!=""})', '{{name}}')).gridPos(g.at(8, 8)),
    graph('Process resident memory per service', 'bytes', q('sum by (service) (process_resident_memory_bytes)', '{{service}}')).gridPos(g.at(24, 7)),
  ];
  const d = terminalDashboard('infrastructure', 'Feeds & infrastructure', 'now-3h');
  return finish(d, panels);
}
