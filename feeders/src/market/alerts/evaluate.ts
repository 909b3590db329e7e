// The rule evaluator lives in @mt/common (common/src/alerts/evaluate.ts) because the watchlist API's
// backtest replays stored series through the same code the feeder runs live.
export {
  RuleEvaluator,
  PriceWindow,
  invalidRule,
  marketOpen,
  newsAssetsOf,
  windowMs,
  DEFAULT_WINDOW_SECONDS,
  MAX_WINDOW_SAMPLES,
  MAX_WINDOW_SECONDS,
  TIMEFRAME_MS,
  type Firing,
  type PricePoint,
  type Bar,
  type BarIndicators,
  type NewsItem,
} from '@mt/common';
