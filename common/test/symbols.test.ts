// Venues and symbols (docs/API.md "Venues and symbols"): every spelling a user types on a venue becomes the
// one unified symbol, each venue's wire name maps to it and back, and a symbol a venue cannot serve is
// refused with the reason. Wire names below are the ones the venues send (binance-futures `BTCUSDT`,
// `CTKUSDT`; Coinbase `BTC-GBP`, `DASH-BTC`; Kraken v2 `BTC/USD`, REST keys `USDCUSD`, `XXBTZUSD`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  binanceFuturesRestSymbol,
  binanceFuturesStreamSymbol,
  binanceRestSymbol,
  binanceStreamSymbol,
  coinbaseProductId,
  exchangeIssue,
  fromBinanceFuturesSymbol,
  fromBinanceSymbol,
  fromCoinbaseProductId,
  fromKrakenSymbol,
  krakenRestPair,
  krakenWsSymbol,
  normalizeSymbol,
  parseDepthBooks,
  splitSymbol,
  SymbolError,
} from '../src/symbols.js';
import { parseWatchSymbols } from '../src/watchset/index.js';

test('every spelling of a pair on a venue becomes the unified symbol', () => {
  const cases: [string, Parameters<typeof normalizeSymbol>[2], string][] = [
    ['btcusdt', 'binance', 'BTC/USDT'],
    [' btc/usdt ', 'binance', 'BTC/USDT'],
    ['BTCFDUSD', 'binance', 'BTC/FDUSD'],
    ['BTC-USD', 'coinbase', 'BTC/USD'],
    ['btc/usd', 'coinbase', 'BTC/USD'],
    ['DASH-BTC', 'coinbase', 'DASH/BTC'],
    ['BTCGBP', 'coinbase', 'BTC/GBP'],
    ['XBT/USD', 'kraken', 'BTC/USD'],
    ['BTC/USD', 'kraken', 'BTC/USD'],
    ['xbtusd', 'kraken', 'BTC/USD'],
    ['XXBTZUSD', 'kraken', 'BTC/USD'],
    ['XETHXXBT', 'kraken', 'ETH/BTC'],
    ['XDG/USD', 'kraken', 'DOGE/USD'],
    ['XDGUSD', 'kraken', 'DOGE/USD'],
    ['ETH/XBT', 'kraken', 'ETH/BTC'],
    ['USDCUSD', 'kraken', 'USDC/USD'],
    ['BTCUSDT', 'binance-futures', 'BTC/USDT:USDT'],
    ['btc/usdt', 'binance-futures', 'BTC/USDT:USDT'],
    ['BTC/USDT:USDT', 'binance-futures', 'BTC/USDT:USDT'],
    ['1000PEPEUSDT', 'binance-futures', '1000PEPE/USDT:USDT'],
    ['ETHUSDC', 'binance-futures', 'ETH/USDC:USDC'],
  ];
  for (const [raw, venue, want] of cases) assert.equal(normalizeSymbol(raw, 'crypto', venue), want, `${venue} ${raw}`);
  // the default crypto venue is binance, as before
  assert.equal(normalizeSymbol('ethusdt', 'crypto'), 'ETH/USDT');
  assert.equal(normalizeSymbol('EURUSD=X', 'forex'), 'EUR/USD');
});

test('a symbol a venue cannot list is refused with the reason', () => {
  const bad: [string, Parameters<typeof normalizeSymbol>[2], RegExp][] = [
    ['BTC/USDT:USDT', 'binance', /perpetual.*binance-futures/],
    ['BTC/USD:USD', 'kraken', /perpetual.*binance-futures/],
    ['BTC/USD:BTC', 'binance-futures', /settled in their quote asset/],
    ['BTC/EUR', 'binance-futures', /quoted in USDT or USDC/],
    ['BITCOIN', 'binance-futures', /BTC\/USDT:USDT/],
    ['BTC-USDT', 'binance', /BTC\/USDT/],
    ['BITCOIN', 'coinbase', /BTC\/USD \(or BTC-USD\)/],
    ['BTC_USD', 'kraken', /XBT\/USD/],
  ];
  for (const [raw, venue, why] of bad) assert.throws(() => normalizeSymbol(raw, 'crypto', venue), (e: Error) => e instanceof SymbolError && why.test(e.message), `${venue} ${raw}`);
});

test('a venue serves only its asset types', () => {
  assert.equal(exchangeIssue('kraken', 'crypto'), undefined);
  assert.equal(exchangeIssue('yahoo', 'forex'), undefined);
  assert.match(exchangeIssue('yahoo', 'crypto')!, /yahoo does not serve crypto: .*binance, binance-futures, coinbase, kraken/);
  assert.match(exchangeIssue('coinbase', 'stock')!, /coinbase does not serve stock: stock symbols are collected from yahoo/);
  assert.match(exchangeIssue('nyse', 'stock')!, /unknown exchange "nyse"/);
});

test('wire symbols: unified → venue → unified round-trips', () => {
  assert.equal(binanceStreamSymbol('BTC/USDT'), 'btcusdt');
  assert.equal(binanceRestSymbol('BTC/USDT'), 'BTCUSDT');
  assert.equal(fromBinanceSymbol('BTCUSDT'), 'BTC/USDT');
  assert.equal(fromBinanceSymbol('NOQUOTE'), undefined);
  assert.equal(binanceFuturesStreamSymbol('BTC/USDT:USDT'), 'btcusdt');
  assert.equal(binanceFuturesRestSymbol('BTC/USDT:USDT'), 'BTCUSDT');
  assert.equal(fromBinanceFuturesSymbol('CTKUSDT'), 'CTK/USDT:USDT');
  assert.equal(fromBinanceFuturesSymbol('BTCUSDT_240329'), undefined, 'a delivery contract is not a perpetual');
  assert.equal(coinbaseProductId('BTC/GBP'), 'BTC-GBP');
  assert.equal(fromCoinbaseProductId('DASH-BTC'), 'DASH/BTC');
  assert.equal(fromCoinbaseProductId('BTCUSD'), undefined);
  assert.equal(krakenWsSymbol('BTC/USD'), 'BTC/USD');
  assert.equal(krakenRestPair('BTC/USD'), 'XBTUSD');
  assert.equal(krakenRestPair('DOGE/USD'), 'XDGUSD');
  assert.equal(krakenRestPair('USDC/USD'), 'USDCUSD');
  assert.equal(fromKrakenSymbol('XXBTZUSD'), 'BTC/USD');
  assert.equal(fromKrakenSymbol('USDCUSD'), 'USDC/USD');
  assert.equal(fromKrakenSymbol('BTC/USD'), 'BTC/USD');
  assert.equal(fromKrakenSymbol('???'), undefined);
  for (const s of ['BTC/USD', 'ETH/BTC', 'DOGE/USD', 'SOL/EUR']) assert.equal(fromKrakenSymbol(krakenRestPair(s)), s, s);
  assert.deepEqual(splitSymbol('BTC/USDT:USDT'), { base: 'BTC', quote: 'USDT', settle: 'USDT' });
  assert.deepEqual(splitSymbol('BTC/USD'), { base: 'BTC', quote: 'USD' });
});

test('WATCH_SYMBOLS takes an optional venue; DEPTH_BOOKS names exchange:SYMBOL', () => {
  assert.deepEqual(parseWatchSymbols('BTC/USDT:crypto, kraken:XBT/USD:crypto, binance-futures:BTCUSDT:crypto, coinbase:BTC-USD:crypto, AAPL:stock'), [
    { symbol: 'BTC/USDT', asset_type: 'crypto', exchange: 'binance' },
    { symbol: 'BTC/USD', asset_type: 'crypto', exchange: 'kraken' },
    { symbol: 'BTC/USDT:USDT', asset_type: 'crypto', exchange: 'binance-futures' },
    { symbol: 'BTC/USD', asset_type: 'crypto', exchange: 'coinbase' },
    { symbol: 'AAPL', asset_type: 'stock', exchange: 'yahoo' },
  ]);
  assert.throws(() => parseWatchSymbols('yahoo:BTC/USD:crypto'), /yahoo does not serve crypto/);
  assert.throws(() => parseWatchSymbols('BTC/USDT:USDT:crypto'), /perpetuals are collected from binance-futures/);
  assert.deepEqual([...parseDepthBooks('binance:btcusdt, kraken:XBT/USD,binance-futures:BTC/USDT:USDT')], ['binance:BTC/USDT', 'kraken:BTC/USD', 'binance-futures:BTC/USDT:USDT']);
  assert.deepEqual([...parseDepthBooks(undefined)], []);
  assert.deepEqual([...parseDepthBooks('')], []);
  assert.throws(() => parseDepthBooks('BTC/USDT'), /DEPTH_BOOKS entry "BTC\/USDT" must be exchange:SYMBOL/);
  assert.throws(() => parseDepthBooks('yahoo:AAPL'), /yahoo does not serve crypto/);
  assert.throws(() => parseDepthBooks('kraken:BITCOIN'), /kraken must look like/);
});
