// GET with conditional-request validators (ETag / Last-Modified → If-None-Match / If-Modified-Since),
// typed errors carrying the server's Retry-After. Shared by the three news transports.
import { HttpStatusError, ParseError, TransportError, parseRetryAfter } from '@mt/common';

/** Real feeds and API pages are well under 1 MB; a larger body is refused before it is buffered whole. */
export const MAX_BODY_BYTES = 5 * 1024 * 1024;

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
    let res: Response;
    try {
      res = await fetch(url, { headers: h, signal, redirect: 'follow' });
    } catch (err) {
      if (signal.aborted) throw Object.assign(new TransportError(`${this.source}: request aborted (timeout)`, err), { code: 'ETIMEDOUT' });
      throw new TransportError(`${this.source}: ${(err as Error).message}`, err);
    }
    if (res.status === 304) {
      await res.body?.cancel();
      return { status: 'not_modified' };
    }
    const body = await readCapped(res, this.source);
    if (!res.ok) {
      throw new HttpStatusError(res.status, body.toString('utf8').slice(0, 500), parseRetryAfter(res.headers.get('retry-after')), this.source);
    }
    const etag = res.headers.get('etag') ?? undefined;
    const lastModified = res.headers.get('last-modified') ?? undefined;
    const commit = () => {
      if (etag || lastModified) this.validators.set(url, { etag, lastModified });
      else this.validators.delete(url);
    };
    return { status: 'ok', body, contentType: res.headers.get('content-type') ?? undefined, commit };
  }
}

async function readCapped(res: Response, source: string): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length'));
  if (declared > MAX_BODY_BYTES) {
    await res.body?.cancel();
    throw new ParseError(`${source}: body of ${declared} bytes is over ${MAX_BODY_BYTES}`, 'too_large');
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body ?? []) {
    size += chunk.byteLength;
    if (size > MAX_BODY_BYTES) {
      await res.body?.cancel().catch(() => {});
      throw new ParseError(`${source}: body over ${MAX_BODY_BYTES} bytes`, 'too_large');
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
