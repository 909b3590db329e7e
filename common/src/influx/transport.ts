// One HTTP layer for every InfluxDB call: the client library's node transport (keep-alive, gzip, token
// header, timeouts). With INFLUX_API=v1 a thin wrapper rewrites the 2.x write path to 1.x `/write`, so
// the sink speaks one protocol and the server version is a config switch.
import { InfluxDB, type Transport, type SendOptions, type CommunicationObserver, type ResponseStartedFn } from '@influxdata/influxdb-client';
import type { InfluxConfig } from './types.js';

export function influxConfigFromEnv(env: { INFLUX_URL: string; INFLUX_TOKEN: string; INFLUX_ORG: string; INFLUX_API: 'v1' | 'v2' }): InfluxConfig {
  return { url: env.INFLUX_URL.replace(/\/+$/, ''), token: env.INFLUX_TOKEN, org: env.INFLUX_ORG, api: env.INFLUX_API };
}

/** 2.x precision names → 1.x `/write` precision names (1.x reads unknown values, e.g. `us`, as ns). */
const V1_PRECISION: Record<string, string> = { ns: 'n', us: 'u', ms: 'ms', s: 's' };

/** `/api/v2/write?org=o&bucket=db/rp&precision=ms` → `/write?db=db&rp=rp&precision=ms`; other paths unchanged. */
export function toV1Path(path: string): string {
  const [p, qs = ''] = path.split('?', 2);
  if (p !== '/api/v2/write') return path;
  const q = new URLSearchParams(qs);
  const bucket = q.get('bucket') ?? '';
  const slash = bucket.indexOf('/');
  const out = new URLSearchParams({ db: slash < 0 ? bucket : bucket.slice(0, slash) });
  if (slash >= 0 && bucket.length > slash + 1) out.set('rp', bucket.slice(slash + 1));
  const precision = q.get('precision');
  if (precision) out.set('precision', V1_PRECISION[precision] ?? precision);
  return `/write?${out}`;
}

/** Delegates to the library transport with 2.x write paths mapped to 1.x. */
class V1Transport implements Transport {
  constructor(private readonly inner: Transport) {}
  get chunkCombiner() {
    return this.inner.chunkCombiner;
  }
  send(path: string, body: string, options: SendOptions, callbacks?: Partial<CommunicationObserver<Uint8Array>>): void {
    this.inner.send(toV1Path(path), body, options, callbacks);
  }
  request(path: string, body: unknown, options: SendOptions, responseStarted?: ResponseStartedFn): Promise<unknown> {
    return this.inner.request(toV1Path(path), body, options, responseStarted);
  }
  iterate(path: string, body: string, options: SendOptions): AsyncIterableIterator<Uint8Array> {
    return this.inner.iterate(toV1Path(path), body, options);
  }
}

/**
 * The Authorization header for `cfg`: 2.x `Token <token>`; 1.x with auth takes `user:password` as its
 * token (the bootstrap's scoped users, docs/DEPLOYMENT.md "Secrets") and gets Basic auth, which 1.x has
 * always accepted (the `Token user:password` form only came with 1.8). An empty token sends nothing.
 */
export function influxAuthHeader(cfg: Pick<InfluxConfig, 'api' | 'token'>): string | undefined {
  if (!cfg.token) return undefined;
  if (cfg.api === 'v1' && cfg.token.includes(':')) return `Basic ${Buffer.from(cfg.token).toString('base64')}`;
  return `Token ${cfg.token}`;
}

export function createInfluxTransport(cfg: InfluxConfig, opts: { timeoutMs?: number } = {}): Transport {
  const auth = influxAuthHeader(cfg);
  const base = new InfluxDB({ url: cfg.url, ...(auth ? { headers: { authorization: auth } } : {}), timeout: opts.timeoutMs ?? 10_000 }).transport;
  return cfg.api === 'v1' ? new V1Transport(base) : base;
}

export function writePath(cfg: InfluxConfig, bucket: string, precision = 'ms'): string {
  return `/api/v2/write?${new URLSearchParams({ org: cfg.org, bucket, precision })}`;
}
