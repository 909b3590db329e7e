// Venues and symbols, shared by the watchlist API (validation) and the feeders (subscriptions, wire names).
// Contract (docs/API.md "Venues and symbols"): unified symbols `BASE/QUOTE` on every crypto venue
// (Kraken's `XBT` is `BTC`, `XDG` is `DOGE`), USDⓈ-M perpetuals `BASE/QUOTE:SETTLE` (`BTC/USDT:USDT`) on
// binance-futures, stocks `AAPL`, indices `^GSPC`, forex `EUR/USD` (Yahoo `EURUSD=X`), all on yahoo.

export const ASSET_TYPES = ['crypto', 'stock', 'index', 'forex'] as const;
export type AssetType = (typeof ASSET_TYPES)[number];

/** Every venue a point's `exchange` tag and a watchlist item's `exchange` may name. */
export const EXCHANGES = ['binance', 'binance-futures', 'coinbase', 'kraken', 'yahoo'] as const;
export type Exchange = (typeof EXCHANGES)[number];

/** What each venue serves: a watchlist item naming a venue for another asset type is refused. */
export const EXCHANGE_ASSET_TYPES: Record<Exchange, readonly AssetType[]> = {
  binance: ['crypto'],
  'binance-futures': ['crypto'],
  coinbase: ['crypto'],
  kraken: ['crypto'],
  yahoo: ['stock', 'index', 'forex'],
};
export const CRYPTO_EXCHANGES = EXCHANGES.filter((e) => EXCHANGE_ASSET_TYPES[e].includes('crypto'));

/** The venue of an item that names none. */
export const DEFAULT_EXCHANGE: Record<AssetType, Exchange> = {
  crypto: 'binance',
  stock: 'yahoo',
  index: 'yahoo',
  forex: 'yahoo',
};

export const isExchange = (s: string): s is Exchange => (EXCHANGES as readonly string[]).includes(s);

/** Why `exchange` cannot serve `assetType`, or undefined when it can. */
export function exchangeIssue(exchange: string, assetType: AssetType): string | undefined {
  if (!isExchange(exchange)) return `unknown exchange "${exchange}": one of ${EXCHANGES.join(', ')}`;
  if (EXCHANGE_ASSET_TYPES[exchange].includes(assetType)) return undefined;
  const venues = EXCHANGES.filter((e) => EXCHANGE_ASSET_TYPES[e].includes(assetType));
  return `${exchange} does not serve ${assetType}: ${assetType} symbols are collected from ${venues.join(', ')}`;
}

// Quote assets used to split a pair written without a separator, longest first so `BTCFDUSD` splits as
// BTC/FDUSD and not BTCF/DUSD. Binance's list is the one the API has always used (unchanged).
const BINANCE_QUOTES = ['FDUSD', 'USDT', 'USDC', 'TUSD', 'BUSD', 'USD', 'EUR', 'TRY', 'BRL', 'BTC', 'ETH', 'BNB'];
const COINBASE_QUOTES = ['USDC', 'USDT', 'USD', 'EUR', 'GBP', 'DAI', 'BTC', 'ETH'];
const KRAKEN_QUOTES = ['USDC', 'USDT', 'USD', 'EUR', 'GBP', 'CAD', 'JPY', 'AUD', 'CHF', 'DAI', 'BTC', 'XBT', 'ETH'];
/** USDⓈ-M perpetuals settle in their quote asset. */
const FUTURES_QUOTES = ['USDT', 'USDC'];

export class SymbolError extends Error {
  override readonly name = 'SymbolError';
}

const PAIR = /^([A-Z0-9]{2,15})\/([A-Z0-9]{2,10})$/;

function splitConcatenated(s: string, quotes: readonly string[]): [string, string] | undefined {
  if (!/^[A-Z0-9]{4,20}$/.test(s)) return undefined;
  const q = quotes.find((q) => s.endsWith(q) && s.length > q.length + 1);
  return q ? [s.slice(0, -q.length), q] : undefined;
}

// Kraken's ISO-4217-style names of a few assets; its websocket v2 and every other venue use the common ones.
const KRAKEN_ASSET_ALIASES: Record<string, string> = { XBT: 'BTC', XDG: 'DOGE' };
const KRAKEN_WIRE_ASSET: Record<string, string> = { BTC: 'XBT', DOGE: 'XDG' };
const krakenAsset = (a: string) => KRAKEN_ASSET_ALIASES[a] ?? a;

/** `XXBT` → `BTC`, `ZUSD` → `USD`, `XETH` → `ETH`, `XXDG` → `DOGE`: Kraken's legacy 4-letter REST asset codes. */
function krakenLegacyAsset(a: string): string {
  return krakenAsset(a.slice(1));
}

/**
 * A crypto symbol as one venue lists it, in any spelling a user types, → the unified symbol.
 * binance `btcusdt`/`BTC/USDT` → `BTC/USDT`; coinbase `BTC-USD` → `BTC/USD`; kraken `XBT/USD`, `XBTUSD`,
 * `XXBTZUSD` → `BTC/USD`; binance-futures `BTCUSDT`, `BTC/USDT`, `BTC/USDT:USDT` → `BTC/USDT:USDT`.
 */
function normalizeCrypto(s: string, raw: string, exchange: Exchange): string {
  const perpetual = /^([A-Z0-9]{2,15}\/[A-Z0-9]{2,10}):([A-Z0-9]{2,10})$/.exec(s);
  if (exchange === 'binance-futures') {
    let base: string | undefined;
    let quote: string | undefined;
    if (perpetual) {
      [base, quote] = perpetual[1]!.split('/') as [string, string];
      if (perpetual[2] !== quote) throw new SymbolError(`binance-futures lists USDⓈ-M perpetuals, settled in their quote asset (${base}/${quote}:${quote}), got "${raw}"`);
    } else {
      const m = PAIR.exec(s);
      if (m) [base, quote] = [m[1]!, m[2]!];
      else [base, quote] = splitConcatenated(s, FUTURES_QUOTES) ?? [];
    }
    if (!base || !quote) throw new SymbolError(`binance-futures symbol must look like BTC/USDT:USDT (or BTCUSDT), got "${raw}"`);
    if (!FUTURES_QUOTES.includes(quote)) throw new SymbolError(`binance-futures perpetuals are quoted in ${FUTURES_QUOTES.join(' or ')}, got "${raw}"`);
    return `${base}/${quote}:${quote}`;
  }
  if (perpetual) throw new SymbolError(`"${raw}" is a perpetual: perpetuals are collected from binance-futures`);
  const example = exchange === 'coinbase' ? 'BTC/USD (or BTC-USD)' : exchange === 'kraken' ? 'BTC/USD (or XBT/USD)' : 'BTC/USDT';
  let pair: [string, string] | undefined;
  const m = /^([A-Z0-9]{2,15})[/-]([A-Z0-9]{2,10})$/.exec(s);
  if (m && (s.includes('/') || exchange === 'coinbase')) pair = [m[1]!, m[2]!];
  else if (exchange === 'binance') pair = splitConcatenated(s, BINANCE_QUOTES);
  else if (exchange === 'coinbase') pair = splitConcatenated(s, COINBASE_QUOTES);
  else if (exchange === 'kraken') {
    const legacy = /^(X[A-Z]{3})(Z[A-Z]{3}|XXBT|XETH)$/.exec(s); // REST result keys: XXBTZUSD, XETHXXBT
    pair = legacy ? [krakenLegacyAsset(legacy[1]!), krakenLegacyAsset(legacy[2]!)] : splitConcatenated(s, KRAKEN_QUOTES);
  }
  if (!pair) throw new SymbolError(`crypto symbol on ${exchange} must look like ${example}, got "${raw}"`);
  if (exchange === 'kraken') pair = [krakenAsset(pair[0]), krakenAsset(pair[1])];
  return `${pair[0]}/${pair[1]}`;
}

/**
 * Normalise a user-entered symbol for an asset type on a venue (default: the asset type's default venue);
 * throws SymbolError with a readable reason. The venue must serve the asset type (exchangeIssue).
 */
export function normalizeSymbol(raw: string, assetType: AssetType, exchange: Exchange = DEFAULT_EXCHANGE[assetType]): string {
  const s = raw.trim().toUpperCase();
  if (!s) throw new SymbolError('symbol is empty');
  switch (assetType) {
    case 'crypto':
      return normalizeCrypto(s, raw, exchange);
    case 'forex': {
      const m = /^([A-Z]{3})\/?([A-Z]{3})(=X)?$/.exec(s);
      if (m) return `${m[1]}/${m[2]}`;
      throw new SymbolError(`forex symbol must look like EUR/USD or EURUSD=X, got "${raw}"`);
    }
    case 'index': {
      if (/^\^[A-Z0-9.-]{1,15}$/.test(s)) return s;
      throw new SymbolError(`index symbol must start with ^ like ^GSPC, got "${raw}"`);
    }
    case 'stock': {
      if (/^[A-Z0-9][A-Z0-9.-]{0,14}$/.test(s)) return s;
      throw new SymbolError(`stock symbol must look like AAPL or BRK-B, got "${raw}"`);
    }
  }
}

/** `BTC/USDT:USDT` → { base: 'BTC', quote: 'USDT', settle: 'USDT' }; `BTC/USD` → settle undefined. */
export function splitSymbol(symbol: string): { base: string; quote: string; settle?: string } {
  const [pair = '', settle] = symbol.split(':');
  const i = pair.indexOf('/');
  const base = i < 0 ? pair : pair.slice(0, i);
  const quote = i < 0 ? '' : pair.slice(i + 1);
  return settle === undefined ? { base, quote } : { base, quote, settle };
}

// ---- wire symbols, one pair of functions per venue (unified ↔ what the venue sends and expects) ----

/** `BTC/USDT` → `btcusdt` (Binance stream names are lowercase). */
export function binanceStreamSymbol(symbol: string): string {
  return symbol.replace('/', '').toLowerCase();
}

/** `BTC/USDT` → `BTCUSDT` (Binance REST). */
export function binanceRestSymbol(symbol: string): string {
  return symbol.replace('/', '').toUpperCase();
}

/** Binance spot `BTCUSDT` (REST or an event's `s`) → `BTC/USDT`; undefined when no known quote ends it. */
export function fromBinanceSymbol(wire: string): string | undefined {
  const p = splitConcatenated(wire.toUpperCase(), BINANCE_QUOTES);
  return p && `${p[0]}/${p[1]}`;
}

/** `BTC/USDT:USDT` → `btcusdt` (Binance USDⓈ-M stream names, as `btcusdt@aggTrade`). */
export function binanceFuturesStreamSymbol(symbol: string): string {
  return binanceFuturesRestSymbol(symbol).toLowerCase();
}

/** `BTC/USDT:USDT` → `BTCUSDT` (Binance USDⓈ-M REST and an event's `s`). */
export function binanceFuturesRestSymbol(symbol: string): string {
  const { base, quote } = splitSymbol(symbol);
  return `${base}${quote}`.toUpperCase();
}

/** Binance USDⓈ-M `BTCUSDT` → `BTC/USDT:USDT`; undefined when it is not a USDT/USDC perpetual name. */
export function fromBinanceFuturesSymbol(wire: string): string | undefined {
  const p = splitConcatenated(wire.toUpperCase(), FUTURES_QUOTES);
  return p && `${p[0]}/${p[1]}:${p[1]}`;
}

/** `BTC/USD` → `BTC-USD` (Coinbase product id, websocket and REST). */
export function coinbaseProductId(symbol: string): string {
  return symbol.replace('/', '-');
}

/** Coinbase `BTC-USD` → `BTC/USD`; undefined when it is not a product id. */
export function fromCoinbaseProductId(productId: string): string | undefined {
  const m = /^([A-Z0-9]{1,15})-([A-Z0-9]{2,10})$/.exec(productId);
  return m ? `${m[1]}/${m[2]}` : undefined;
}

/** `BTC/USD` → `BTC/USD`: Kraken websocket v2 uses the common asset names (v1 used `XBT/USD`). */
export function krakenWsSymbol(symbol: string): string {
  return symbol;
}

/** `BTC/USD` → `XBTUSD`, `DOGE/USD` → `XDGUSD`: the pair's altname that Kraken REST (`/0/public/OHLC?pair=`) takes. */
export function krakenRestPair(symbol: string): string {
  const { base, quote } = splitSymbol(symbol);
  return `${KRAKEN_WIRE_ASSET[base] ?? base}${KRAKEN_WIRE_ASSET[quote] ?? quote}`;
}

/**
 * Any Kraken pair name → the unified symbol: v2 `BTC/USD`, v1 wsname `XBT/USD`, altname `XBTUSD`, REST
 * result key `XXBTZUSD` → `BTC/USD`. Undefined when it cannot be split.
 */
export function fromKrakenSymbol(wire: string): string | undefined {
  try {
    return normalizeCrypto(wire.toUpperCase(), wire, 'kraken');
  } catch {
    return undefined;
  }
}

/** Our symbol → Yahoo's: forex `EUR/USD` → `EURUSD=X`, others unchanged. */
export function toYahooSymbol(symbol: string, assetType: AssetType): string {
  return assetType === 'forex' ? `${symbol.replace('/', '')}=X` : symbol;
}

/** Yahoo's symbol → ours: `EURUSD=X` → `EUR/USD`. */
export function fromYahooSymbol(yahoo: string): string {
  const m = /^([A-Z]{3})([A-Z]{3})=X$/.exec(yahoo);
  return m ? `${m[1]}/${m[2]}` : yahoo;
}

/**
 * `DEPTH_BOOKS`: comma-separated `exchange:SYMBOL` (any spelling the venue accepts) → the watch-item keys
 * (`kraken:BTC/USD`, `binance-futures:BTC/USDT:USDT`) whose maintained L2 book is stored. Throws on a bad entry.
 */
export function parseDepthBooks(spec: string | undefined): Set<string> {
  const out = new Set<string>();
  for (const entry of (spec ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const i = entry.indexOf(':');
    const exchange = entry.slice(0, i);
    const why = i < 1 ? 'no exchange' : exchangeIssue(exchange, 'crypto');
    if (why) throw new SymbolError(`DEPTH_BOOKS entry "${entry}" must be exchange:SYMBOL of a crypto venue (${CRYPTO_EXCHANGES.join(', ')}): ${why}`);
    out.add(`${exchange}:${normalizeSymbol(entry.slice(i + 1), 'crypto', exchange as Exchange)}`);
  }
  return out;
}
