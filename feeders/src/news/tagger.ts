// Which assets a headline mentions: the current watch set plus a built-in list of well-known tickers and
// names. Word-boundary aware ("ETH" is not in "Ethernet", "Apple" is not in "Pineapple"); tickers are
// case-sensitive, names are not. The `related_asset` value is the base ticker (`BTC`, `AAPL`, `^GSPC`,
// `EUR/USD`): news is about Bitcoin, not about the BTC/USDT pair.
import type { WatchItem } from '@mt/common';

export interface AssetDef {
  asset: string;
  /** Upper-case tickers, matched case-sensitively, also as cashtags (`$BTC`). */
  tickers: string[];
  /** Names, matched case-insensitively (plural `s` and possessive allowed). */
  names: string[];
}

export const BUILTIN_ASSETS: AssetDef[] = [
  { asset: 'BTC', tickers: ['BTC', 'XBT'], names: ['bitcoin'] },
  { asset: 'ETH', tickers: ['ETH'], names: ['ethereum', 'ether'] },
  { asset: 'SOL', tickers: ['SOL'], names: ['solana'] },
  { asset: 'XRP', tickers: ['XRP'], names: ['ripple'] },
  { asset: 'BNB', tickers: ['BNB'], names: ['binance coin'] },
  { asset: 'ADA', tickers: ['ADA'], names: ['cardano'] },
  { asset: 'DOGE', tickers: ['DOGE'], names: ['dogecoin'] },
  { asset: 'DOT', tickers: ['DOT'], names: ['polkadot'] },
  { asset: 'AVAX', tickers: ['AVAX'], names: ['avalanche'] },
  { asset: 'LTC', tickers: ['LTC'], names: ['litecoin'] },
  { asset: 'LINK', tickers: ['LINK'], names: ['chainlink'] },
  { asset: 'TRX', tickers: ['TRX'], names: ['tron'] },
  { asset: 'XLM', tickers: ['XLM'], names: ['stellar lumens'] },
  { asset: 'SHIB', tickers: ['SHIB'], names: ['shiba inu'] },
  { asset: 'USDT', tickers: ['USDT'], names: ['tether'] },
  { asset: 'USDC', tickers: ['USDC'], names: [] },
  { asset: 'NEO', tickers: ['NEO'], names: [] },
  { asset: 'AAPL', tickers: ['AAPL'], names: ['apple'] },
  { asset: 'MSFT', tickers: ['MSFT'], names: ['microsoft'] },
  { asset: 'GOOGL', tickers: ['GOOGL', 'GOOG'], names: ['alphabet', 'google'] },
  { asset: 'AMZN', tickers: ['AMZN'], names: ['amazon.com'] },
  { asset: 'TSLA', tickers: ['TSLA'], names: ['tesla'] },
  { asset: 'NVDA', tickers: ['NVDA'], names: ['nvidia'] },
  { asset: 'META', tickers: ['META'], names: ['meta platforms'] },
  { asset: 'NFLX', tickers: ['NFLX'], names: ['netflix'] },
  { asset: 'COIN', tickers: ['COIN'], names: ['coinbase'] },
  { asset: 'MSTR', tickers: ['MSTR'], names: ['microstrategy'] },
  { asset: '^GSPC', tickers: ['^GSPC', 'SPX'], names: ['s&p 500', 's&p500'] },
  { asset: '^DJI', tickers: ['^DJI', 'DJIA'], names: ['dow jones'] },
  { asset: '^IXIC', tickers: ['^IXIC'], names: ['nasdaq composite', 'nasdaq'] },
];

// Tickers that are also ordinary upper-case words or abbreviations: only their cashtag counts.
const CASHTAG_ONLY = new Set(['DOT', 'LINK', 'COIN', 'META', 'ONE', 'ALL', 'NEO', 'ADA', 'SOL', 'GAS', 'CAT', 'ARE', 'IT']);

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * All assets in three regular expressions (tickers case-sensitive, cashtags, names case-insensitive),
 * each scanned once per headline, instead of three per asset: the tagger runs on every article of a burst.
 */
interface Matchers {
  order: Map<string, number>;
  ticker?: RegExp;
  tickerOf: Map<string, string>;
  cashtag?: RegExp;
  cashtagOf: Map<string, string>;
  name?: RegExp;
  nameOf: Map<string, string>;
}

// longest first, so "GOOGL" wins over "GOOG" and "nasdaq composite" over "nasdaq" at the same position
const alternation = (keys: Iterable<string>) => [...keys].sort((a, b) => b.length - a.length).map(escape).join('|');

function compile(defs: AssetDef[]): Matchers {
  const m: Matchers = { order: new Map(), tickerOf: new Map(), cashtagOf: new Map(), nameOf: new Map() };
  const first = (map: Map<string, string>, key: string, asset: string) => map.has(key) || map.set(key, asset);
  defs.forEach((d, i) => {
    if (!m.order.has(d.asset)) m.order.set(d.asset, i);
    for (const t of d.tickers) {
      if (!CASHTAG_ONLY.has(t)) first(m.tickerOf, t, d.asset);
      first(m.cashtagOf, t.replace(/^\^/, ''), d.asset);
    }
    for (const n of d.names) first(m.nameOf, n.toLowerCase(), d.asset);
  });
  // not inside a longer word: "ETH" is not in "ETHE" or "Ethernet"; "ETH/BTC" mentions both
  if (m.tickerOf.size) m.ticker = new RegExp(`(?<![\\w$^])(?:${alternation(m.tickerOf.keys())})(?![\\w])`, 'g');
  if (m.cashtagOf.size) m.cashtag = new RegExp(`\\$(?:${alternation(m.cashtagOf.keys())})(?![\\w])`, 'g');
  if (m.nameOf.size) m.name = new RegExp(`(?<![\\w])(${alternation(m.nameOf.keys())})(?:s|'s|’s)?(?![\\w])`, 'gi');
  return m;
}

/** Headlines in capitals ("SEC APPROVES BITCOIN ETFs") make every word look like a ticker. */
function mostlyUpperCase(text: string): boolean {
  const letters = text.replace(/[^A-Za-z]/g, '');
  return letters.length >= 8 && letters.replace(/[^A-Z]/g, '').length / letters.length > 0.6;
}

/** From a watch item: `BTC/USDT` crypto → BTC; `EUR/USD` forex → EUR/USD (and EURUSD); others as is. */
export function watchItemAsset(item: WatchItem): AssetDef {
  if (item.asset_type === 'crypto') {
    const base = item.symbol.split('/')[0]!;
    return { asset: base, tickers: [base], names: [] };
  }
  if (item.asset_type === 'forex') return { asset: item.symbol, tickers: [item.symbol, item.symbol.replace('/', '')], names: [] };
  return { asset: item.symbol, tickers: [item.symbol], names: [] };
}

export class AssetTagger {
  private matchers: Matchers = compile(BUILTIN_ASSETS);
  private watched = new Set<string>();

  /** Whether an asset (as `tag` returns it) is in the watch set: a story about it ranks higher. */
  isWatched(asset: string): boolean {
    return this.watched.has(asset);
  }

  /** Replace the watch-set part (called at start and on every NOTIFY). */
  setWatch(items: WatchItem[]): void {
    this.watched = new Set(items.map((it) => watchItemAsset(it).asset));
    const byAsset = new Map(BUILTIN_ASSETS.map((d) => [d.asset, { ...d, tickers: [...d.tickers] }]));
    for (const it of items) {
      const d = watchItemAsset(it);
      const known = byAsset.get(d.asset);
      if (known) known.tickers = [...new Set([...known.tickers, ...d.tickers])];
      else byAsset.set(d.asset, d);
    }
    this.matchers = compile([...byAsset.values()]);
  }

  /** Distinct assets mentioned, in first-definition order; `hints` (source-provided tickers) are added. */
  tag(text: string, hints: string[] = []): string[] {
    const m = this.matchers;
    const found = new Set<string>();
    for (const x of m.cashtag ? text.matchAll(m.cashtag) : []) found.add(m.cashtagOf.get(x[0].slice(1))!);
    if (m.ticker && !mostlyUpperCase(text)) for (const x of text.matchAll(m.ticker)) found.add(m.tickerOf.get(x[0])!);
    for (const x of m.name ? text.matchAll(m.name) : []) found.add(m.nameOf.get(x[1]!.toLowerCase())!);
    const out = [...found].sort((a, b) => m.order.get(a)! - m.order.get(b)!);
    for (const h of hints) if (/^[A-Z0-9^/.-]{1,15}$/.test(h) && !out.includes(h)) out.push(h);
    return out;
  }
}
