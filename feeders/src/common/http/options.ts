// Every default of the feeders' HTTP clients in one place (docs/SOURCES.md, "One HTTP helper"). A client
// passes only what differs for its venue or API; what it leaves out is this.

export type Redirect = 'follow' | 'manual' | 'error';

/** Real feeds, API pages and REST pages are well under 1 MB; a larger body is refused before it is buffered whole. */
export const MAX_BODY_BYTES = 5 * 1024 * 1024;

export const HTTP_DEFAULTS = {
  /** One request of a retrying REST client (a backfill page, a snapshot): a timeout is retried like a reset. */
  requestTimeoutMs: 10_000,
  /** One whole poll of a polled source, all its requests together: the Poller aborts it. */
  pollTimeoutMs: 20_000,
  /** Bodies over this are refused (ParseError `too_large`), never buffered whole. */
  maxBodyBytes: MAX_BODY_BYTES,
  /** Redirects are followed unless a client says otherwise (the polled market sources say `manual`). */
  redirect: 'follow' as Redirect,
  /** Spacing of a REST client's requests over the whole process (0 = none: the venue limits by weight). */
  minIntervalMs: 0,
  /** Retry waits of a REST client: exponential from `initialMs` to `maxMs`, full jitter; Retry-After is a floor. */
  backoff: { initialMs: 500, maxMs: 60_000 },
} as const;

/** What one request may set; every field defaults to HTTP_DEFAULTS (no per-request timeout unless given). */
export interface RequestOptions {
  signal: AbortSignal;
  headers?: Record<string, string>;
  /** Abort this one request after this many ms (besides `signal`). */
  timeoutMs?: number;
  redirect?: Redirect;
  maxBodyBytes?: number;
  /** Names the source in error messages and in HttpStatusError.source. */
  source?: string;
  /** A credential inside the URL's path (ExchangeRate-API's key): shown as `<key>` in error messages and logs. */
  secret?: string;
}
