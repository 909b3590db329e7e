// GET with conditional-request validators (ETag / Last-Modified → If-None-Match / If-Modified-Since) on
// the one HTTP helper (typed errors carrying the server's Retry-After, bodies capped: docs/SOURCES.md,
// "One HTTP helper"). Shared by the three news transports.
import { MAX_BODY_BYTES, httpGet, statusError } from '../common/http/index.js';

export { MAX_BODY_BYTES };

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
    const res = await httpGet(url, { signal, headers: h, redirect: 'follow', maxBodyBytes: MAX_BODY_BYTES, source: this.source });
    if (res.status === 304) return { status: 'not_modified' };
    if (!res.ok) throw statusError(res, this.source);
    const etag = res.headers.get('etag') ?? undefined;
    const lastModified = res.headers.get('last-modified') ?? undefined;
    const commit = () => {
      if (etag || lastModified) this.validators.set(url, { etag, lastModified });
      else this.validators.delete(url);
    };
    return { status: 'ok', body: res.body, contentType: res.headers.get('content-type') ?? undefined, commit };
  }
}
