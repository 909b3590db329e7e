// The peer: ccxt pro's binance (watchTradesForSymbols, watchTickers, watchBidsAsks,
// watchOHLCVForSymbols) pointed at the replay server; the same streams as the market feeder.
// Counted: messages ccxt parsed and handled (its handleMessage), i.e. frames turned into unified
// trades/tickers/candles. It writes nothing anywhere (the feeder also writes to InfluxDB).
import ccxt from 'ccxt';
import { benchSymbols } from '../replay.js';
import { serveSamples } from './common.js';

const [url, n] = [process.argv[2]!, Number(process.argv[3])];
const symbols = benchSymbols(n);
let frames = 0;
let errors = 0;

const ex = new ccxt.pro.binance({
  options: {
    // Binance allows 1024 streams per connection; ccxt's default cap is 200 per connection.
    subscriptionLimitByStream: { spot: 1024 },
    watchTickers: { name: 'ticker' },
  },
});
// Its WS base URL is urls.api.ws.spot (it appends /<connection number>).
(ex.urls as unknown as { api: { ws: Record<string, string> } }).api.ws.spot = `${url}/ws`;
// No REST: the markets as ccxt's own parser would build them from exchangeInfo.
ex.setMarkets(
  symbols.map((symbol) => {
    const [base, quote] = symbol.split('/') as [string, string];
    const id = `${base}${quote}`;
    return {
      id,
      lowercaseId: id.toLowerCase(),
      symbol,
      base,
      quote,
      baseId: base,
      quoteId: quote,
      type: 'spot',
      spot: true,
      margin: false,
      swap: false,
      future: false,
      option: false,
      contract: false,
      active: true,
      precision: { amount: 1e-8, price: 1e-8 },
      limits: { amount: {}, price: {}, cost: {} },
      info: {},
    };
  }) as never,
);
const orig = ex.handleMessage.bind(ex);
ex.handleMessage = (...args: Parameters<typeof orig>) => {
  frames++;
  return orig(...args);
};

// ccxt wants its http agent loaded before it opens a plain ws:// (non-TLS) URL
await ex.loadHttpProxyAgent();

async function loop(name: string, watch: () => Promise<unknown>): Promise<void> {
  for (;;) {
    try {
      await watch();
    } catch (err) {
      errors++;
      if (errors < 5) process.stderr.write(`ccxt ${name}: ${String(err)}\n`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
// ccxt takes at most 200 symbols per watch*ForSymbols call
for (let i = 0; i < symbols.length; i += 200) {
  const chunk = symbols.slice(i, i + 200);
  void loop('trades', () => ex.watchTradesForSymbols(chunk));
  void loop('tickers', () => ex.watchTickers(chunk));
  void loop('bidsasks', () => ex.watchBidsAsks(chunk));
  void loop('ohlcv', () => ex.watchOHLCVForSymbols(chunk.map((s) => [s, '1m'])));
}
serveSamples(() => ({ frames, errors }));
