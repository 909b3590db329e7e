// uid news: top stories (one row per story, however many outlets ran it, ranked like Bloomberg TOP), sentiment
// over time per asset, articles by source. Layout of the three news measurements: docs/INFLUXDB.md.
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as Table } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeSeries } from '@grafana/grafana-foundation-sdk/timeseries';
import { GraphDrawStyle, StackingConfigBuilder, StackingMode, TableCellDisplayMode } from '@grafana/grafana-foundation-sdk/common';
import { COLOR, DS, Grid, finish, InfluxQL, steps, tagIn, tagVariable, terminalDashboard } from '../defaults.js';
import { newsFrom } from '@mt/common';

/** A comma-separated list field (`assets`, `sources`) holding one of a multi-value variable's values. */
const listHas = (field: string, variable: string) => `"${field}" =~ /(^|,)$${variable}(,|$)/`;
const STORY_FILTER = `${listHas('assets', 'asset')} AND ${listHas('sources', 'source')}`;
export const SENTIMENT_STEPS = () => steps(COLOR.down, [-0.2, COLOR.neutral], [0.2, COLOR.up]);

/**
 * TOP: one row per story (the same headline from several outlets is one story), ranked (docs/SENTIMENT.md
 * "Rank"), sentiment coloured, title linking to the article. `where`: the InfluxQL WHERE clause.
 */
export function topStoriesTable(title: string, where: string, limit: number, show?: number): Table {
  const t = new Table()
    .title(title)
    .description('One row per story (the same headline from several outlets is one story), ranked by recency, outlets, relevance to the watch set and strength of sentiment.')
    .datasource(DS.news)
    .withTarget(
      new InfluxQL(DS.news, `SELECT "title", "sentiment_score", "assets", "publishers", "outlets", "rank", "url" FROM ${newsFrom('news_stories')} ${where} ORDER BY time DESC LIMIT ${limit}`).table(),
    )
    // rank is comparable across stories of any age (docs/SENTIMENT.md "Rank"): the highest first
    .withTransformation({ id: 'sortBy', options: { sort: [{ field: 'rank', desc: true }] } });
  // the newest `limit` stories, the `show` best ranked of them
  if (show !== undefined) t.withTransformation({ id: 'limit', options: { limitField: show } });
  return t
    .cellHeight('sm' as never)
    .overrideByName('Time', [{ id: 'custom.width', value: 150 }, { id: 'unit', value: 'dateTimeAsIso' }])
    .overrideByName('url', [{ id: 'custom.hidden', value: true }])
    .overrideByName('title', [{ id: 'links', value: [{ title: 'Open article', url: '${__data.fields.url}', targetBlank: true }] }])
    .overrideByName('rank', [{ id: 'custom.hidden', value: true }])
    .overrideByName('outlets', [{ id: 'custom.width', value: 70 }])
    .overrideByName('publishers', [{ id: 'displayName', value: 'sources' }, { id: 'custom.width', value: 200 }])
    .overrideByName('assets', [{ id: 'displayName', value: 'assets' }, { id: 'custom.width', value: 90 }, { id: 'color', value: { mode: 'fixed', fixedColor: COLOR.amber } }, { id: 'custom.cellOptions', value: { type: TableCellDisplayMode.ColorText } }])
    .overrideByName('sentiment_score', [
      { id: 'displayName', value: 'sentiment' },
      { id: 'custom.width', value: 90 },
      { id: 'decimals', value: 2 },
      { id: 'custom.cellOptions', value: { type: TableCellDisplayMode.ColorBackground } },
      { id: 'thresholds', value: SENTIMENT_STEPS().build() },
    ]);
}

export function news(): Dashboard {
  const g = new Grid();
  const headlines = topStoriesTable('Top stories', `WHERE $timeFilter AND ${STORY_FILTER}`, 200).gridPos(g.at(24, 14));

  const sentiment = new TimeSeries()
    .title('Sentiment per asset')
    .datasource(DS.news)
    .interval('15m')
    .withTarget(
      new InfluxQL(
        DS.news,
        // one point per story and asset: a story counts once, however many outlets ran it
        `SELECT mean("sentiment_score") FROM ${newsFrom('news_story_assets')} WHERE $timeFilter AND ${tagIn('related_asset', 'asset')} AND ${listHas('sources', 'source')} AND "related_asset" != 'none' ` +
          'GROUP BY time($__interval), "related_asset" fill(none)',
      ).alias('$tag_related_asset'),
    )
    .min(-1)
    .max(1)
    .gridPos(g.at(12, 9));

  const volume = new TimeSeries()
    .title('News volume by source')
    .description('Articles (one point per article: a story run by three outlets counts three).')
    .datasource(DS.news)
    .interval('1h')
    .withTarget(
      new InfluxQL(DS.news, `SELECT count("id") FROM ${newsFrom('news_articles')} WHERE $timeFilter AND ${tagIn('source', 'source')} AND ${listHas('assets', 'asset')} GROUP BY time($__interval), "source" fill(0)`).alias(
        '$tag_source',
      ),
    )
    .drawStyle(GraphDrawStyle.Bars)
    .fillOpacity(80)
    .stacking(new StackingConfigBuilder().mode(StackingMode.Normal))
    .gridPos(g.at(12, 9));

  const d = terminalDashboard('news', 'News', 'now-24h')
    .withVariable(tagVariable('asset', DS.news, `SHOW TAG VALUES FROM ${newsFrom('news_story_assets')} WITH KEY = "related_asset"`, { multi: true }))
    .withVariable(tagVariable('source', DS.news, `SHOW TAG VALUES FROM ${newsFrom('news_articles')} WITH KEY = "source"`, { multi: true }));
  return finish(d, [headlines, sentiment, volume]);
}
