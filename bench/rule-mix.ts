// The alert-rule mix of the rule benchmarks (bench/rules.ts in one process, bench/ingest.ts in the real
// feeder): `perSymbol` rules on one symbol whose price starts at `price` — levels from 90 % to 109 % of it
// (`above`, `below`, `crosses_above` with 0.5 % hysteresis, `crosses_below` once per 5-minute bar),
// `pct_change` over 5 minutes, and candle / news rules that ticks do not touch (`rsi_above`, `news_keyword`).
import type { AlertRule } from '@mt/common';

export function ruleMix(symbol: string, s: number, perSymbol: number, price = 100): AlertRule[] {
  const base = { symbol, window_seconds: null, cooldown_seconds: 60, severity: 'warning' as const };
  const out: AlertRule[] = [];
  for (let i = 0; i < perSymbol; i++) {
    const id = `${s}-${i}`;
    const level = price * (0.9 + 0.01 * i); // levels 90 … 109 %: a random walk from `price` crosses some of them
    switch (i % 10) {
      case 0:
      case 1:
        out.push({ ...base, id, condition: 'above', threshold: level });
        break;
      case 2:
      case 3:
        out.push({ ...base, id, condition: 'below', threshold: level });
        break;
      case 4:
      case 5:
        out.push({ ...base, id, condition: 'crosses_above', threshold: level, hysteresis_pct: 0.5 });
        break;
      case 6:
        out.push({ ...base, id, condition: 'crosses_below', threshold: level, hysteresis_pct: 0.5, trigger: 'once_per_bar', timeframe: '5m' });
        break;
      case 7:
        out.push({ ...base, id, condition: 'pct_change', threshold: i % 2 ? 2 : -2, window_seconds: 300 });
        break;
      case 8:
        out.push({ ...base, id, condition: 'rsi_above', threshold: 70, timeframe: '5m' });
        break;
      default:
        out.push({ ...base, id, condition: 'news_keyword', threshold: null, params: { keyword: 'ETF' } });
    }
  }
  return out;
}
