import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AssetTagger } from '../../src/news/tagger.js';

const tagger = new AssetTagger();

test('tickers are word-boundary aware: ETH is not in "Ethernet", Apple is not in "Pineapple"', () => {
  assert.deepEqual(tagger.tag('New Ethernet standard ships'), []);
  assert.deepEqual(tagger.tag('Pineapple prices climb'), []);
  assert.deepEqual(tagger.tag('ETH tops $4,500 for first time since 2021'), ['ETH']);
  assert.deepEqual(tagger.tag('ETHE discount narrows'), []);
  assert.deepEqual(tagger.tag('Bitcoin plunges 12% after US probe and South Korean hack'), ['BTC']);
  assert.deepEqual(tagger.tag("Bitcoin's price plunges $800 in one hour over hacking scare"), ['BTC']);
  assert.deepEqual(tagger.tag('Ethereum Smashes Record Price as Investors Eye Fed Rate Cuts'), ['ETH']);
});

test('names, cashtags and tickers: one entry per asset, several assets per headline', () => {
  assert.deepEqual(tagger.tag('Apple shares rally nearly 5% after Q2 earnings beat expectations'), ['AAPL']);
  assert.deepEqual(tagger.tag('Options flow: $AAPL calls, $TSLA puts'), ['AAPL', 'TSLA']);
  assert.deepEqual(tagger.tag('Is Solana set to mirror Ethereum? Analyst forecasts $2,800 for SOL'), ['ETH', 'SOL']);
  assert.deepEqual(tagger.tag('ETH/BTC ratio hits a 2-year high'), ['BTC', 'ETH']);
  assert.deepEqual(tagger.tag('Dow jumps as Apple looks to jumpstart jobs day party; S&P 500 and Nasdaq follow'), ['AAPL', '^GSPC', '^IXIC']);
});

test('ambiguous tickers count only as cashtags; all-caps headlines match names and cashtags only', () => {
  assert.deepEqual(tagger.tag('DOT fines airline over delays'), []);
  assert.deepEqual(tagger.tag('$DOT rallies 10%'), ['DOT']);
  assert.deepEqual(tagger.tag('SEC APPROVES BITCOIN ETFs'), ['BTC']);
  assert.deepEqual(tagger.tag('WHY IT IS TIME TO SELL'), []);
});

test('watch set adds its tickers (crypto base, stock symbol, forex pair); source hints are added', () => {
  const t = new AssetTagger();
  t.setWatch([
    { symbol: 'PEPE/USDT', asset_type: 'crypto', exchange: 'binance' },
    { symbol: 'IBM', asset_type: 'stock', exchange: 'yahoo' },
    { symbol: 'EUR/USD', asset_type: 'forex', exchange: 'yahoo' },
  ]);
  assert.deepEqual(t.tag('PEPE and IBM move; EURUSD steady'), ['PEPE', 'IBM', 'EUR/USD']);
  assert.deepEqual(t.tag('Apple Vision Pro reviews'), ['AAPL']); // built-ins stay
  assert.deepEqual(t.tag('VeChain ($VEN) price is up 10.86%', ['VEN']), ['VEN']);
  assert.deepEqual(tagger.tag('Nothing to see here'), []);
});
