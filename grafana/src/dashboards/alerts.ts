// uid alerts: what is firing now and what fired recently — Prometheus rule alerts (ALERTS series), the
// price alerts the feeder posts (its counter) and Alertmanager's own view (active alerts, notifications).
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as Table } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeSeries } from '@grafana/grafana-foundation-sdk/timeseries';
import { PanelBuilder as StateTimeline } from '@grafana/grafana-foundation-sdk/statetimeline';
import { PanelBuilder as Stat } from '@grafana/grafana-foundation-sdk/stat';
import { DataqueryBuilder as Prom, PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import { BigValueColorMode, BigValueGraphMode, GraphDrawStyle, ReduceDataOptionsBuilder, StackingConfigBuilder, StackingMode } from '@grafana/grafana-foundation-sdk/common';
import { COLOR, DS, Grid, finish, InfluxQL, steps, symbolCell, terminalDashboard } from '../defaults.js';
import { TableCellDisplayMode } from '@grafana/grafana-foundation-sdk/common';
import { fromClause } from '@mt/common';

export function alerts(): Dashboard {
  const g = new Grid();
  const activeInAm = new Stat()
    .title('Active in Alertmanager')
    .description('Every alert Alertmanager holds, price alerts included.')
    .datasource(DS.prometheus)
    .withTarget(new Prom().expr('sum(alertmanager_alerts{state="active"})').legendFormat('active').refId('A'))
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']))
    .colorMode(BigValueColorMode.BackgroundSolid)
    .graphMode(BigValueGraphMode.Area)
    .thresholds(steps(COLOR.up, [1, COLOR.orange]))
    .gridPos(g.at(6, 6));

  const firing = new Table()
    .title('Firing now (Prometheus rules)')
    .datasource(DS.prometheus)
    .withTarget(new Prom().expr('ALERTS{alertstate="firing"}').instant().format(PromQueryFormat.Table).refId('A'))
    .withTransformation({ id: 'organize', options: { excludeByName: { Time: true, Value: true, __name__: true, alertstate: true } } })
    .cellHeight('sm' as never)
    .gridPos(g.at(18, 6));

  const history = new StateTimeline()
    .title('Alert history')
    .datasource(DS.prometheus)
    .withTarget(new Prom().expr('max by (alertname, alertstate) (ALERTS)').legendFormat('{{alertname}} {{alertstate}}').refId('A'))
    .mappings([{ type: 'value', options: { '1': { text: 'on', color: COLOR.orange } } } as never])
    .gridPos(g.at(24, 8));

  const priceAlerts = new TimeSeries()
    .title('Price alerts fired')
    .datasource(DS.prometheus)
    .withTarget(new Prom().expr('sum by (severity, outcome) (increase(market_price_alerts_total[$__rate_interval]))').legendFormat('{{severity}} {{outcome}}').refId('A'))
    .drawStyle(GraphDrawStyle.Bars)
    .fillOpacity(80)
    .stacking(new StackingConfigBuilder().mode(StackingMode.Normal))
    .gridPos(g.at(12, 8));

  const notifications = new TimeSeries()
    .title('Alertmanager notifications')
    .datasource(DS.prometheus)
    .withTarget(new Prom().expr('sum by (integration) (increase(alertmanager_notifications_total[$__rate_interval]))').legendFormat('sent {{integration}}').refId('A'))
    .withTarget(new Prom().expr('sum by (integration) (increase(alertmanager_notifications_failed_total[$__rate_interval]))').legendFormat('failed {{integration}}').refId('B'))
    .gridPos(g.at(12, 8));

  // ALRT: the user's own price alerts that fired (`alert_events`, stored by the market feeder): when,
  // symbol, rule, level, the price that fired it, severity, message. Newest first.
  const fired = new Table()
    .title('Price alerts fired')
    .description('Every firing of your alert rules (rule, level, price, when), from the market feeder.')
    .datasource(DS.markets)
    .withTarget(
      new InfluxQL(
        DS.markets,
        `SELECT "condition", "threshold", "price", "message" FROM ${fromClause('alert_events', 'raw')} WHERE $timeFilter GROUP BY "symbol", "rule_id", "severity" ORDER BY time DESC LIMIT 500`,
      ).table(),
    )
    .withTransformation({ id: 'sortBy', options: { sort: [{ field: 'Time', desc: true }] } })
    .withTransformation({
      id: 'organize',
      options: { indexByName: { Time: 0, symbol: 1, condition: 2, threshold: 3, price: 4, severity: 5, message: 6, rule_id: 7 } },
    })
    .cellHeight('sm' as never)
    .overrideByName('Time', [{ id: 'displayName', value: 'Fired' }, { id: 'unit', value: 'time:YYYY-MM-DD HH:mm:ss' }, { id: 'custom.width', value: 170 }])
    // alert_events carries no venue: the link opens the symbol's first venue
    .overrideByName('symbol', [{ id: 'displayName', value: 'Symbol' }, ...symbolCell(null)])
    .overrideByName('condition', [{ id: 'displayName', value: 'Rule' }])
    // one row per firing of any symbol: the level and price as stored (the source's own digits), since a
    // column has one decimals setting and EUR/USD and BTC need different ones
    .overrideByName('threshold', [{ id: 'displayName', value: 'Level' }, { id: 'unit', value: 'string' }, { id: 'noValue', value: '—' }])
    .overrideByName('price', [{ id: 'displayName', value: 'Price' }, { id: 'unit', value: 'string' }])
    .overrideByName('rule_id', [{ id: 'displayName', value: 'Rule id' }])
    .overrideByName('message', [{ id: 'displayName', value: 'Message' }])
    .overrideByName('severity', [
      { id: 'displayName', value: 'Severity' },
      { id: 'custom.cellOptions', value: { type: TableCellDisplayMode.ColorBackground } },
      {
        id: 'mappings',
        value: [{ type: 'value', options: { critical: { text: 'CRITICAL', color: COLOR.down, index: 0 }, warning: { text: 'WARNING', color: COLOR.orange, index: 1 }, info: { text: 'INFO', color: COLOR.blue, index: 2 } } }],
      },
    ])
    .gridPos(g.at(24, 10));

  const d = terminalDashboard('alerts', 'Alerts', 'now-24h');
  return finish(d, [activeInAm, firing, fired, history, priceAlerts, notifications]);
}
