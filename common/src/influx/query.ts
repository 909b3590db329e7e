// Read side: InfluxQL over `/query` (1.x natively, 2.x/3.x through DBRP mappings), times as epoch ms.
import { HttpError, RequestTimedOutError, type Transport } from '@influxdata/influxdb-client';
import { parseRetryAfter } from '../backoff.js';
import { HttpStatusError, RetryableAwareError, TransportError } from '../errors.js';
import { createInfluxTransport } from './transport.js';
import type { InfluxConfig, InfluxQLClient, InfluxQLSeries } from './types.js';

/** A statement InfluxDB refused (syntax, unknown database, …): the same query fails again. */
export class InfluxQLError extends RetryableAwareError {
  override readonly name = 'InfluxQLError';
  readonly retryable = false;
  constructor(
    message: string,
    readonly query: string,
  ) {
    super(`InfluxQL: ${message} (query: ${query.slice(0, 200)})`);
  }
}

/** An InfluxQL string literal: `it's` → `'it\\'s'` (backslash and quote escaped). */
export function influxQLString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** An InfluxQL quoted identifier (database, policy, measurement, tag or field): `a"b` → `"a\\"b"`. */
export function influxQLIdent(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

interface QueryResponse {
  results?: { statement_id?: number; series?: InfluxQLSeries[]; error?: string }[];
  error?: string;
}

/** Library transport errors → this project's typed errors (status, body, Retry-After in seconds). */
export function toTypedError(err: unknown, source = 'influxdb'): RetryableAwareError {
  if (err instanceof RetryableAwareError) return err;
  if (err instanceof HttpError) {
    // The library parses Retry-After as milliseconds; read the raw header as seconds instead.
    const ra = parseRetryAfter(err.headers?.['retry-after']);
    return new HttpStatusError(err.statusCode, err.body ?? err.message, ra, source);
  }
  const code = err instanceof RequestTimedOutError ? 'ETIMEDOUT' : (err as { code?: unknown } | null)?.code;
  return new TransportError(`${source}: ${err instanceof Error ? err.message : String(err)}`, err, typeof code === 'string' ? code : undefined);
}

export function createInfluxQLClient(cfg: InfluxConfig, transport: Transport = createInfluxTransport(cfg)): InfluxQLClient {
  return {
    async query(db: string, q: string): Promise<InfluxQLSeries[]> {
      const isRead = /^\s*(SELECT|SHOW)\b/i.test(q);
      const params = new URLSearchParams({ q, epoch: 'ms' });
      if (db) params.set('db', db);
      let body: QueryResponse | undefined;
      const request = new AbortController();
      try {
        // 1.x refuses writes (CREATE, ALTER, DROP) over GET; POST with a form body works on 1.x and 2.x.
        body = (await (isRead
          ? transport.request(`/query?${params}`, '', { method: 'GET', headers: { accept: 'application/json' }, signal: request.signal })
          : transport.request('/query', params.toString(), {
              method: 'POST',
              signal: request.signal,
              headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
            }))) as QueryResponse | undefined;
      } catch (err) {
        // the library leaves a timed-out request (and its socket) open
        if (err instanceof RequestTimedOutError) request.abort();
        if (err instanceof HttpError && err.statusCode === 400) {
          throw new InfluxQLError(errorText(err.body) ?? err.message, q);
        }
        throw toTypedError(err);
      }
      if (body?.error) throw new InfluxQLError(body.error, q);
      const series: InfluxQLSeries[] = [];
      for (const r of body?.results ?? []) {
        if (r.error) throw new InfluxQLError(r.error, q);
        series.push(...(r.series ?? []));
      }
      return series;
    },
  };
}

function errorText(body: string | undefined): string | undefined {
  if (!body) return undefined;
  try {
    const j = JSON.parse(body) as { error?: string; message?: string };
    return j.error ?? j.message ?? body;
  } catch {
    return body;
  }
}
