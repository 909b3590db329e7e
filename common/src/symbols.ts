// Symbol normalisation shared by the watchlist API (validation) and the feeders (subscriptions).
// Contract (../shared/DESIGN.md): crypto `BTC/USDT` on binance, stocks `AAPL`, indices `^GSPC`,
// forex `EUR/USD` (Yahoo `EURUSD=X`), all on yahoo.

export const ASSET_TYPES = ['crypto', 'stock', 'index', 'forex'] as const;
export type AssetType = (typeof ASSET_TYPES)[number];

export const DEFAULT_EXCHANGE: Record<AssetType, string> = {
  crypto: 'binance',
  stock: 'yahoo',
  index: 'yahoo',
  forex: 'yahoo',
};

// Binance quote assets, longest first so `BTCFDUSD` splits as BTC/FDUSD and not BTCF/DUSD.
const CRYPTO_QUOTES = ['FDUSD', 'USDT', 'USDC', 'TUSD', 'BUSD', 'USD', 'EUR', 'TRY', 'BRL', 'BTC', 'ETH', 'BNB'];

export class SymbolError extends Error {
  override readonly name = 'SymbolError';
}

/** Normalise a user-entered symbol for an asset type; throws SymbolError with a readable reason. */
export function normalizeSymbol(raw: string, assetType: AssetType): string {
  const s = raw.trim().toUpperCase();
  if (!s) throw new SymbolError('symbol is empty');
  switch (assetType) {
    case 'crypto': {
      if (/^[A-Z0-9]{2,15}\/[A-Z0-9]{2,10}$/.test(s)) return s;
      if (/^[A-Z0-9]{4,20}$/.test(s)) {
        const q = CRYPTO_QUOTES.find((q) => s.endsWith(q) && s.length > q.length + 1);
        if (q) return `${s.slice(0, -q.length)}/${q}`;
      }
      throw new SymbolError(`crypto symbol must look like BTC/USDT, got "${raw}"`);
    }
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

/** `BTC/USDT` → `btcusdt` (Binance stream names are lowercase). */
export function binanceStreamSymbol(symbol: string): string {
  return symbol.replace('/', '').toLowerCase();
}

/** `BTC/USDT` → `BTCUSDT` (Binance REST). */
export function binanceRestSymbol(symbol: string): string {
  return symbol.replace('/', '').toUpperCase();
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
