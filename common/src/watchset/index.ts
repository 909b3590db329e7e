// Picks the watch-set source for a feeder: PostgreSQL LISTEN/NOTIFY when DATABASE_URL is set, plus any
// fixed items from WATCH_SYMBOLS (`SYMBOL:asset_type,...`).
import type { Logger } from 'pino';
import { ASSET_TYPES, DEFAULT_EXCHANGE, normalizeSymbol, type AssetType } from '../symbols.js';
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
      if (i < 1 || !ASSET_TYPES.includes(type)) throw new Error(`WATCH_SYMBOLS entry "${entry}" must be SYMBOL:${ASSET_TYPES.join('|')}`);
      return { symbol: normalizeSymbol(entry.slice(0, i), type), asset_type: type, exchange: DEFAULT_EXCHANGE[type] };
    });
}

export function createWatchSetSource(opts: { databaseUrl?: string; watchSymbols?: string; log: Logger }): WatchSetSource {
  const fixed = parseWatchSymbols(opts.watchSymbols);
  if (opts.databaseUrl) return new PgWatchSet({ databaseUrl: opts.databaseUrl, fixed, log: opts.log.child({ component: 'watchset' }) });
  return new StaticWatchSet({ items: fixed, rules: [] });
}
