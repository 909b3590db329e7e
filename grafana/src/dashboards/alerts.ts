// uid alerts: what is firing now and what fired recently — Prometheus rule alerts (ALERTS series), the
// price alerts the feeder posts (its counter) and Alertmanager's own view (active alerts, notifications).
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as Table } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeSeries } from '@grafana/grafana-foundation-sdk/timeseries';
import { PanelBuilder as StateTimeline } from '@grafana/grafana-foundation-sdk/statetimeline';
import { PanelBuilder as Stat } from '@grafana/grafana-foundation-sdk/stat';
import { DataqueryBuilder as Prom, PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import { BigValueColorMode, BigValueGraphMode, GraphDrawStyle, ReduceDataOptionsBuilder, StackingConfigBuilder, StackingMode } from '@grafana/grafana-foundation-sdk/common';
import { COLOR, DS, Grid, finish, steps, terminalDashboard } from '../defaults.js';

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

  const d = terminalDashboard('alerts', 'Alerts', 'now-24h');
  return finish(d, [activeInAm, firing, history, priceAlerts, notifications]);
}
