// Picks the watch-set source for a feeder: PostgreSQL LISTEN/NOTIFY when DATABASE_URL is set, plus any
// fixed items from WATCH_SYMBOLS (`[exchange:]SYMBOL:asset_type,...`, docs/API.md "Venues and symbols").
import type { Logger } from 'pino';
import { ASSET_TYPES, DEFAULT_EXCHANGE, EXCHANGES, exchangeIssue, normalizeSymbol, type AssetType, type Exchange } from '../symbols.js';
import { StaticWatchSet, type WatchItem, type WatchSetSource } from './types.js';
import { PgWatchSet } from './pg.js';

export * from './pg.js';

export function parseWatchSymbols(spec: string | undefined): WatchItem[] {
  if (!spec) return [];
  return spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const i = entry.lastIndexOf(':');
      const type = entry.slice(i + 1) as AssetType;
      if (i < 1 || !ASSET_TYPES.includes(type)) throw new Error(`WATCH_SYMBOLS entry "${entry}" must be [exchange:]SYMBOL:${ASSET_TYPES.join('|')}`);
      // an optional venue prefix (`kraken:BTC/USD:crypto`); symbols are upper case, venue names lower case
      const j = entry.indexOf(':');
      const prefix = entry.slice(0, j);
      const named = j < i && (EXCHANGES as readonly string[]).includes(prefix);
      const exchange = (named ? prefix : DEFAULT_EXCHANGE[type]) as Exchange;
      const why = exchangeIssue(exchange, type);
      if (why) throw new Error(`WATCH_SYMBOLS entry "${entry}": ${why}`);
      return { symbol: normalizeSymbol(entry.slice(named ? j + 1 : 0, i), type, exchange), asset_type: type, exchange };
    });
}

export function createWatchSetSource(opts: { databaseUrl?: string; watchSymbols?: string; log: Logger }): WatchSetSource {
  const fixed = parseWatchSymbols(opts.watchSymbols);
  if (opts.databaseUrl) return new PgWatchSet({ databaseUrl: opts.databaseUrl, fixed, log: opts.log.child({ component: 'watchset' }) });
  return new StaticWatchSet({ items: fixed, rules: [] });
}
