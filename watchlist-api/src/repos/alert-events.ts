// Fired alerts, as the market feeder stores them in InfluxDB (`alert_events` in `markets`, docs/INFLUXDB.md).
// Read with InfluxQL like every other read (1.x natively, 2.x through its DBRP mapping).
import { alertEventsQuery, MARKETS_DB, type InfluxQLClient } from '@mt/common';
import { ApiProblem } from '../problem.js';
import type { AlertEvent } from '../schemas.js';

/** An InfluxDB that cannot be reached is the client's "retry later", not our internal error. */
export function influxUnavailable(err: unknown): ApiProblem {
  const retryable = (err as { retryable?: boolean }).retryable;
  return new ApiProblem(retryable === false ? 502 : 503, `InfluxDB could not answer: ${(err as Error).message}`);
}

export class AlertEventRepo {
  constructor(private readonly influx: InfluxQLClient) {}

  /** Newest first. */
  /** `ruleIds`: only events of these rules (a non-admin's visible rules, docs/USERS.md); undefined: all. */
  async list(q: { symbol?: string | undefined; since: Date; limit: number; ruleId?: string; ruleIds?: string[] | undefined }): Promise<AlertEvent[]> {
    if (q.ruleIds && q.ruleIds.length === 0) return [];
    const sql = alertEventsQuery({ sinceMs: q.since.getTime(), limit: q.limit, symbol: q.symbol, ruleId: q.ruleId, ruleIds: q.ruleIds });
    let series;
    try {
      series = await this.influx.query(MARKETS_DB, sql);
    } catch (err) {
      throw influxUnavailable(err);
    }
    const out: AlertEvent[] = [];
    for (const s of series) {
      const at = (name: string) => s.columns.indexOf(name);
      for (const v of s.values) {
        const str = (name: string) => {
          const x = v[at(name)];
          return x === null || x === undefined ? null : String(x);
        };
        const num = (name: string) => {
          const x = v[at(name)];
          return typeof x === 'number' && Number.isFinite(x) ? x : null;
        };
        out.push({
          time: new Date(Number(v[at('time')])).toISOString(),
          symbol: str('symbol') ?? '',
          rule_id: str('rule_id') ?? '',
          severity: str('severity') ?? '',
          condition: str('condition') ?? '',
          threshold: num('threshold'),
          price: num('price'),
          value: num('value'),
          message: str('message') ?? '',
        });
      }
    }
    // one series without GROUP BY; sorted again in case a server splits it
    return out.sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0)).slice(0, q.limit);
  }
}
