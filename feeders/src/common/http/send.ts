// The one place the feeders call fetch() for a source: every failure comes back as the typed errors of
// @mt/common, which carry their own retry decision (docs/SOURCES.md, "One HTTP helper"):
// refused/reset/timeout → TransportError (a timeout with code ETIMEDOUT), non-2xx → HttpStatusError with
// the server's Retry-After (expectJson), a body that is not JSON or over the size cap → ParseError.
import { HttpStatusError, ParseError, TransportError, parseRetryAfter } from '@mt/common';
import { HTTP_DEFAULTS, type RequestOptions } from './options.js';

export class HttpResponse {
  private decoded: string | undefined;
  constructor(
    readonly status: number,
    readonly headers: Headers,
    readonly body: Buffer,
  ) {}

  get ok(): boolean {
    return this.status >= 200 && this.status <= 299;
  }

  /** The body as UTF-8 text (decoded once). */
  get text(): string {
    return (this.decoded ??= this.body.toString('utf8'));
  }

  /** The server's Retry-After in ms (seconds or an HTTP date), or undefined. */
  get retryAfterMs(): number | undefined {
    return parseRetryAfter(this.headers.get('retry-after'));
  }
}

/** GET `url`: any answer (also non-2xx) resolves; a failure to get one rejects with TransportError or ParseError (too large). */
export async function httpGet(url: string, o: RequestOptions): Promise<HttpResponse> {
  const name = o.source ?? 'http';
  const what = `${name}: GET ${redact(pathOf(url), o.secret)}`;
  const timeout = o.timeoutMs === undefined ? undefined : AbortSignal.timeout(o.timeoutMs);
  const signal = timeout ? AbortSignal.any([o.signal, timeout]) : o.signal;
  let res: Response;
  try {
    res = await fetch(url, { signal, headers: o.headers, redirect: o.redirect ?? HTTP_DEFAULTS.redirect });
    return new HttpResponse(res.status, res.headers, await readCapped(res, o.maxBodyBytes ?? HTTP_DEFAULTS.maxBodyBytes, name));
  } catch (err) {
    if (err instanceof ParseError) throw err;
    throw transportError(what, err, signal);
  }
}

/** Non-2xx → HttpStatusError (with Retry-After); a body that is not JSON → ParseError `invalid_json`. */
export function expectJson(res: HttpResponse, source: string): unknown {
  if (!res.ok) throw statusError(res, source);
  try {
    return JSON.parse(res.text) as unknown;
  } catch {
    throw new ParseError(`${source}: body is not JSON`, 'invalid_json', res.text.slice(0, 200));
  }
}

/** The HttpStatusError of a non-2xx answer (body's first 500 characters): its status decides the retry (see @mt/common errors). */
export function statusError(res: HttpResponse, source: string): HttpStatusError {
  return new HttpStatusError(res.status, res.text.slice(0, 500), res.retryAfterMs, source);
}

function transportError(what: string, err: unknown, signal: AbortSignal): TransportError {
  const timedOut = signal.aborted && (signal.reason as Error | undefined)?.name === 'TimeoutError';
  if (timedOut) return new TransportError(`${what}: timeout`, err, 'ETIMEDOUT');
  if (signal.aborted) return new TransportError(`${what}: aborted`, err);
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return new TransportError(`${what}: ${(err as Error).message}${cause?.message ? ` (${cause.message})` : ''}`, err, cause?.code);
}

async function readCapped(res: Response, max: number, source: string): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length'));
  if (declared > max) {
    await res.body?.cancel().catch(() => {});
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

function redact(path: string, secret: string | undefined): string {
  return secret ? path.split(encodeURIComponent(secret)).join('<key>').split(secret).join('<key>') : path;
}

function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}
