// CoinGecko `/coins/markets` → market caps per base asset. Pure; shape as recorded in
// testing/fixtures/coingecko (an array of coins with `id`, lowercase `symbol`, `market_cap` (null when unknown)).
import { HttpStatusError, ParseError } from '@mt/common';
import { isObject, num } from '../polled-source.js';

/** Base assets of common Binance pairs → CoinGecko coin id (tickers are ambiguous; ids are not). */
export const COINGECKO_IDS: Readonly<Record<string, string>> = {
  BTC: 'bitcoin',
  ETH: 'ethereum',
  USDT: 'tether',
  USDC: 'usd-coin',
  BNB: 'binancecoin',
  XRP: 'ripple',
  ADA: 'cardano',
  DOGE: 'dogecoin',
  SOL: 'solana',
  DOT: 'polkadot',
  MATIC: 'matic-network',
  POL: 'polygon-ecosystem-token',
  LTC: 'litecoin',
  TRX: 'tron',
  AVAX: 'avalanche-2',
  LINK: 'chainlink',
  SHIB: 'shiba-inu',
  UNI: 'uniswap',
  BCH: 'bitcoin-cash',
  XLM: 'stellar',
  ATOM: 'cosmos',
  NEAR: 'near',
  TON: 'the-open-network',
  ETC: 'ethereum-classic',
  FIL: 'filecoin',
  APT: 'aptos',
  ARB: 'arbitrum',
  OP: 'optimism',
  SUI: 'sui',
  PEPE: 'pepe',
  DAI: 'dai',
  WBTC: 'wrapped-bitcoin',
  BUSD: 'binance-usd',
  AAVE: 'aave',
  XMR: 'monero',
};

export interface CoinCap {
  id: string;
  /** Uppercase ticker, e.g. `BTC`: the base asset of `BTC/USDT`. */
  base: string;
  marketCap: number | undefined;
  rank: number | undefined;
  /** `last_updated`, epoch ms, when given. */
  ts: number | undefined;
}

/** Throws HttpStatusError for CoinGecko's in-body error envelope, ParseError for anything but an array of coins. */
export function parseMarkets(body: unknown): { coins: CoinCap[]; malformed: number } {
  // the free tier has answered over-quota requests with HTTP 200 and {"status":{"error_code":429,…}}
  if (isObject(body) && isObject(body.status) && typeof body.status.error_code === 'number') {
    throw new HttpStatusError(body.status.error_code, JSON.stringify(body), undefined, 'coingecko');
  }
  if (!Array.isArray(body)) throw new ParseError('coingecko: /coins/markets body is not an array', 'unexpected_shape', JSON.stringify(body)?.slice(0, 200));
  const coins: CoinCap[] = [];
  let malformed = 0;
  for (const c of body) {
    if (!isObject(c) || typeof c.id !== 'string' || typeof c.symbol !== 'string') {
      malformed++;
      continue;
    }
    const ts = typeof c.last_updated === 'string' ? Date.parse(c.last_updated) : NaN;
    coins.push({
      id: c.id,
      base: c.symbol.toUpperCase(),
      marketCap: num(c.market_cap),
      rank: num(c.market_cap_rank),
      ts: Number.isNaN(ts) ? undefined : ts,
    });
  }
  return { coins, malformed };
}
