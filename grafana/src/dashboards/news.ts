// uid news: latest headlines (sentiment colour, link), sentiment over time per asset, news volume by source.
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as Table } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeSeries } from '@grafana/grafana-foundation-sdk/timeseries';
import { GraphDrawStyle, StackingConfigBuilder, StackingMode, TableCellDisplayMode } from '@grafana/grafana-foundation-sdk/common';
import { COLOR, DS, Grid, finish, InfluxQL, steps, tagIn, tagVariable, terminalDashboard } from '../defaults.js';

const FILTER = `${tagIn('related_asset', 'asset')} AND ${tagIn('source', 'source')}`;
export const SENTIMENT_STEPS = () => steps(COLOR.down, [-0.2, COLOR.neutral], [0.2, COLOR.up]);

export function news(): Dashboard {
  const g = new Grid();
  const headlines = new Table()
    .title('Latest headlines')
    .datasource(DS.news)
    .withTarget(
      new InfluxQL(
        DS.news,
        `SELECT "title", "sentiment_score", "related_asset", "source", "url" FROM "raw"."news_articles" WHERE $timeFilter AND ${FILTER} ORDER BY time DESC LIMIT 200`,
      ).table(),
    )
    .cellHeight('sm' as never)
    .overrideByName('Time', [{ id: 'custom.width', value: 150 }, { id: 'unit', value: 'dateTimeAsIso' }])
    .overrideByName('url', [{ id: 'custom.hidden', value: true }])
    .overrideByName('title', [{ id: 'links', value: [{ title: 'Open article', url: '${__data.fields.url}', targetBlank: true }] }])
    .overrideByName('related_asset', [{ id: 'displayName', value: 'asset' }, { id: 'custom.width', value: 80 }, { id: 'color', value: { mode: 'fixed', fixedColor: COLOR.amber } }, { id: 'custom.cellOptions', value: { type: TableCellDisplayMode.ColorText } }])
    .overrideByName('source', [{ id: 'custom.width', value: 140 }])
    .overrideByName('sentiment_score', [
      { id: 'displayName', value: 'sentiment' },
      { id: 'custom.width', value: 90 },
      { id: 'decimals', value: 2 },
      { id: 'custom.cellOptions', value: { type: TableCellDisplayMode.ColorBackground } },
      { id: 'thresholds', value: SENTIMENT_STEPS().build() },
    ])
    .gridPos(g.at(24, 14));

  const sentiment = new TimeSeries()
    .title('Sentiment per asset')
    .datasource(DS.news)
    .interval('15m')
    .withTarget(
      new InfluxQL(
        DS.news,
        `SELECT mean("sentiment_score") FROM "raw"."news_articles" WHERE $timeFilter AND ${FILTER} AND "related_asset" != 'none' ` +
          'GROUP BY time($__interval), "related_asset" fill(none)',
      ).alias('$tag_related_asset'),
    )
    .min(-1)
    .max(1)
    .gridPos(g.at(12, 9));

  const volume = new TimeSeries()
    .title('News volume by source')
    .description('Articles (distinct ids: one article mentioning two assets is stored twice).')
    .datasource(DS.news)
    .interval('1h')
    .withTarget(
      new InfluxQL(DS.news, `SELECT count(distinct("id")) FROM "raw"."news_articles" WHERE $timeFilter AND ${FILTER} GROUP BY time($__interval), "source" fill(0)`).alias(
        '$tag_source',
      ),
    )
    .drawStyle(GraphDrawStyle.Bars)
    .fillOpacity(80)
    .stacking(new StackingConfigBuilder().mode(StackingMode.Normal))
    .gridPos(g.at(12, 9));

  const d = terminalDashboard('news', 'News', 'now-24h')
    .withVariable(tagVariable('asset', DS.news, 'SHOW TAG VALUES FROM "raw"."news_articles" WITH KEY = "related_asset"', { multi: true }))
    .withVariable(tagVariable('source', DS.news, 'SHOW TAG VALUES FROM "raw"."news_articles" WITH KEY = "source"', { multi: true }));
  return finish(d, [headlines, sentiment, volume]);
}
