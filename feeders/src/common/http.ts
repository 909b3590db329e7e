// The one HTTP client of the feeders' polled sources and venue REST calls (docs/DEVELOPING.md
// "Conventions"): every failure becomes a typed error carrying its retry decision (TransportError,
// HttpStatusError with the server's Retry-After, ParseError), bodies are size-capped before they are
// buffered whole, and the retrying REST client paces and backs off the same way for every venue.
import type { Logger } from 'pino';
import { Backoff, HttpStatusError, ParseError, TransportError, isRetryable, parseRetryAfter, sleep } from '@mt/common';
import { errorKind, type SourceMetrics } from './metrics.js';

// Yahoo refuses some default client user agents; an honest browser-compatible one works (yahoo-finance2 does the same).
export const USER_AGENT = 'Mozilla/5.0 (compatible; market-terminal/0.1)';
/** Real feeds, API pages and REST answers are well under 1 MB; a larger body is refused before it is buffered whole. */
export const MAX_BODY_BYTES = 5 * 1024 * 1024;

export interface HttpResponse {
  status: number;
  headers: Headers;
  body: Buffer;
  /** The body as UTF-8. */
  readonly text: string;
}

export interface HttpGetOptions {
  signal: AbortSignal;
  /** Names the source in errors (`yahoo`, `binance_rest`). */
  source: string;
  headers?: Record<string, string>;
  /** A bound of its own beside `signal` (the REST clients; polled sources get theirs from the Poller). */
  timeoutMs?: number;
  /** Default `follow`; Yahoo's and CoinGecko's JSON endpoints never redirect, so they say `manual`. */
  redirect?: 'follow' | 'manual' | 'error';
  maxBytes?: number;
}

/**
 * One GET, never a bare fetch error: a transport problem is a TransportError (our own timeout with code
 * ETIMEDOUT), an abort of the caller's signal rethrows its reason (the Poller's TimeoutError), a body over
 * `maxBytes` a ParseError `too_large`. Any status is returned: the caller decides what a 404 means.
 */
export async function httpGet(url: string, o: HttpGetOptions): Promise<HttpResponse> {
  const own = o.timeoutMs !== undefined ? AbortSignal.timeout(o.timeoutMs) : undefined;
  const signal = own ? AbortSignal.any([o.signal, own]) : o.signal;
  let res: Response;
  let body: Buffer;
  try {
    res = await fetch(url, { signal, headers: { 'user-agent': USER_AGENT, ...o.headers }, redirect: o.redirect ?? 'follow' });
    body = await readCapped(res, o.source, o.maxBytes ?? MAX_BODY_BYTES);
  } catch (err) {
    if (err instanceof ParseError) throw err;
    if (o.signal.aborted) throw o.signal.reason ?? err;
    const path = safePath(url);
    if (own?.aborted) throw Object.assign(new TransportError(`${o.source} GET ${path}: timed out after ${o.timeoutMs} ms`, err), { code: 'ETIMEDOUT' });
    throw new TransportError(`${o.source} GET ${path}: ${(err as Error).message}`, err);
  }
  return {
    status: res.status,
    headers: res.headers,
    body,
    get text() {
      return body.toString('utf8');
    },
  };
}

/** Non-2xx → HttpStatusError (with Retry-After); a body that is not JSON → ParseError `invalid_json`. */
export function expectJson(res: HttpResponse, source: string): unknown {
  const text = res.text;
  if (res.status < 200 || res.status > 299) throw new HttpStatusError(res.status, text.slice(0, 500), parseRetryAfter(res.headers.get('retry-after')), source);
  try {
    return JSON.parse(text);
  } catch {
    throw new ParseError(`${source}: body is not JSON`, 'invalid_json', text.slice(0, 200));
  }
}

function safePath(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url.slice(0, 80);
  }
}

async function readCapped(res: Response, source: string, max: number): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length'));
  if (declared > max) {
    await res.body?.cancel();
    throw new ParseError(`${source}: body of ${declared} bytes is over ${max}`, 'too_large');
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body ?? []) {
    size += chunk.byteLength;
    if (size > max) {
      await res.body?.cancel().catch(() => {});
      throw new ParseError(`${source}: body over ${max} bytes`, 'too_large');
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

// ---- conditional GET (the news transports) ----

export type ConditionalResult =
  | { status: 'not_modified' }
  | {
      status: 'ok';
      body: Buffer;
      contentType: string | undefined;
      /**
       * Remember this response's validators. Call only once the body was understood: a feed that failed to
       * parse must be fetched in full next time, not answered 304 and taken as "nothing new".
       */
      commit: () => void;
    };

/** GET with conditional-request validators (ETag / Last-Modified → If-None-Match / If-Modified-Since). */
export class ConditionalGet {
  private validators = new Map<string, { etag?: string; lastModified?: string }>();

  constructor(
    private readonly source: string,
    private readonly userAgent = 'market-terminal-news-feeder/0.1 (+self-hosted)',
  ) {}

  async get(url: string, signal: AbortSignal, headers: Record<string, string> = {}): Promise<ConditionalResult> {
    const v = this.validators.get(url);
    const h: Record<string, string> = { 'user-agent': this.userAgent, ...headers };
    if (v?.etag) h['if-none-match'] = v.etag;
    if (v?.lastModified) h['if-modified-since'] = v.lastModified;
    const res = await httpGet(url, { signal, source: this.source, headers: h });
    if (res.status === 304) return { status: 'not_modified' };
    if (res.status < 200 || res.status > 299) throw new HttpStatusError(res.status, res.text.slice(0, 500), parseRetryAfter(res.headers.get('retry-after')), this.source);
    const etag = res.headers.get('etag') ?? undefined;
    const lastModified = res.headers.get('last-modified') ?? undefined;
    const commit = () => {
      if (etag || lastModified) this.validators.set(url, { etag, lastModified });
      else this.validators.delete(url);
    };
    return { status: 'ok', body: res.body, contentType: res.headers.get('content-type') ?? undefined, commit };
  }
}

// ---- the retrying REST client of the venues ----

export interface RestClientOptions {
  baseUrl: string;
  /** Name in the feeder_* metrics and errors (`binance_rest`, `coinbase_rest`, `kraken_rest`). */
  source: string;
  log: Logger;
  metrics: SourceMetrics;
  /** Per request (default 10 s). */
  timeoutMs?: number;
  backoff?: Backoff;
  headers?: Record<string, string>;
  /** Minimum spacing of this client's requests, so it stays under the venue's per-IP limit (default none). */
  minIntervalMs?: number;
  /** Awaited before each attempt (Binance: wait for the next weight minute at the budget). */
  beforeRequest?: (signal: AbortSignal) => Promise<void>;
  /** Every answer, before its status is looked at (Binance: the used-weight header). */
  onResponse?: (res: HttpResponse) => void;
  /** A 2xx JSON body that is an error (Kraken answers errors with HTTP 200): throw a typed error. */
  checkBody?: (body: unknown) => void;
  /** feeder_source_errors_total `kind` of a failure (default errorKind). */
  errorKind?: (err: unknown) => string;
}

/** GET `path` → parsed JSON; retries what is retryable (429/418 after Retry-After, 5xx, network) until `signal` aborts. */
export class RestClient {
  private readonly backoff: Backoff;
  private next = 0;
  private readonly base: string;

  constructor(private readonly o: RestClientOptions) {
    this.backoff = o.backoff ?? new Backoff({ initialMs: 500, maxMs: 60_000 });
    this.base = o.baseUrl.replace(/\/+$/, '');
  }

  async get(path: string, signal: AbortSignal): Promise<unknown> {
    const m = this.o.metrics;
    const source = this.o.source;
    for (;;) {
      await this.pace(signal);
      await this.o.beforeRequest?.(signal);
      if (signal.aborted) throw new TransportError('aborted');
      try {
        const body = await this.once(path, signal);
        this.backoff.reset();
        m.up.set({ source }, 1);
        m.lastMessage.set({ source }, Date.now() / 1000);
        return body;
      } catch (err) {
        if (signal.aborted) throw err;
        m.sourceErrors.inc({ source, kind: (this.o.errorKind ?? errorKind)(err) });
        m.up.set({ source }, 0);
        if (!isRetryable(err)) throw err;
        const retryAfterMs = (err as HttpStatusError).retryAfterMs;
        const wait = this.backoff.next(retryAfterMs);
        this.o.log.warn({ err: String(err), retryAfterMs, waitMs: wait }, `${source} failed, retrying`);
        m.reconnects.inc({ source });
        await sleep(wait, signal);
      }
    }
  }

  private async once(path: string, signal: AbortSignal): Promise<unknown> {
    const source = this.o.source;
    const res = await httpGet(`${this.base}${path}`, { signal, source, timeoutMs: this.o.timeoutMs ?? 10_000, headers: { accept: 'application/json', ...this.o.headers } });
    this.o.onResponse?.(res);
    if (res.status < 200 || res.status > 299) throw new HttpStatusError(res.status, res.text.slice(0, 500), parseRetryAfter(res.headers.get('retry-after')), source);
    this.o.metrics.messages.inc({ source });
    let body: unknown;
    try {
      body = JSON.parse(res.text) as unknown;
    } catch {
      this.o.metrics.parseErrors.inc({ source, reason: 'invalid_json' });
      throw new ParseError(`${source} ${path}: body is not JSON`, 'invalid_json', res.text.slice(0, 200));
    }
    this.o.checkBody?.(body);
    return body;
  }

  /** Reserves the next slot before waiting, so concurrent callers are spaced too. */
  private async pace(signal: AbortSignal): Promise<void> {
    if (!this.o.minIntervalMs) return;
    const now = Date.now();
    const at = Math.max(now, this.next);
    this.next = at + this.o.minIntervalMs;
    if (at > now) await sleep(at - now, signal);
  }
}
