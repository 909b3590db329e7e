// Yahoo Finance transport. Since 2023-04 `/v7/finance/quote` wants a session cookie plus a matching
// `crumb` query parameter, else 401 {"finance":{"error":{"code":"Unauthorized","description":"Invalid Crumb"}}}.
// The dance, as yahoo-finance2 and yfinance do it: GET the cookie endpoint (fc.yahoo.com answers 404 but
// sets the A3 cookie), GET `/v1/test/getcrumb` with that cookie (text body = crumb), then send both on
// every quote. On a 401 the session is renewed once and the request retried. `/v8/finance/chart` needs
// neither. All URLs are configurable so tests run this exact code against a local server.
import type { Logger } from 'pino';
import { HttpStatusError, ParseError } from '@mt/common';
import { expectJson, marketGet, type HttpResponse } from '../polled-source.js';

const SOURCE = 'yahoo';

export interface YahooClientOptions {
  baseUrl: string;
  cookieUrl: string;
  log: Logger;
}

export class YahooClient {
  private cookie: string | undefined;
  private crumb: string | undefined;
  /** Crumb dances done (health, tests). */
  sessions = 0;
  private readonly base: string;

  constructor(private readonly o: YahooClientOptions) {
    this.base = o.baseUrl.replace(/\/+$/, '');
  }

  /** v7 quote for up to a few dozen Yahoo symbols; the raw JSON body. */
  async quote(symbols: string[], signal: AbortSignal): Promise<unknown> {
    if (!this.crumb) await this.renewSession(signal);
    let res = await this.getQuote(symbols, signal);
    if (res.status === 401) {
      this.o.log.info({ body: res.text.slice(0, 120) }, 'quote refused (invalid crumb): renewing the session');
      await this.renewSession(signal);
      res = await this.getQuote(symbols, signal);
    }
    return expectJson(res, SOURCE);
  }

  /**
   * v8 chart for one Yahoo symbol: HTTP status and raw body, since a 404 is an answer here. Without `bars`
   * one daily bar (for its meta); with, the regular session's bars of `interval` over `range`, with splits.
   */
  async chart(symbol: string, signal: AbortSignal, bars?: { interval: string; range: string }): Promise<{ status: number; body: unknown }> {
    const q = new URLSearchParams(bars ? { ...bars, includePrePost: 'false', events: 'div,splits' } : { range: '1d', interval: '1d' });
    const res = await marketGet(`${this.base}/v8/finance/chart/${encodeURIComponent(symbol)}?${q}`, { signal, source: SOURCE, headers: this.headers() });
    // 404 carries a chart body {"chart":{"result":null,"error":{"code":"Not Found",…}}}; other errors throw
    if (res.status === 404) {
      try {
        return { status: 404, body: JSON.parse(res.text) };
      } catch {
        // not Yahoo's JSON 404: fall through to the generic error
      }
    }
    return { status: res.status, body: expectJson(res, SOURCE) };
  }

  private getQuote(symbols: string[], signal: AbortSignal): Promise<HttpResponse> {
    const q = new URLSearchParams({ symbols: symbols.join(','), crumb: this.crumb ?? '' });
    return marketGet(`${this.base}/v7/finance/quote?${q}`, { signal, source: SOURCE, headers: this.headers() });
  }

  private headers(): Record<string, string> {
    return this.cookie ? { cookie: this.cookie } : {};
  }

  private async renewSession(signal: AbortSignal): Promise<void> {
    this.crumb = undefined;
    // a 404 with Set-Cookie is the normal answer of fc.yahoo.com: only the cookies matter
    const c = await marketGet(this.o.cookieUrl, { signal, source: SOURCE, headers: { accept: 'text/html,application/xhtml+xml,application/xml' } });
    const cookies = c.headers.getSetCookie().map((s) => s.split(';', 1)[0]!.trim()).filter((s) => s.includes('='));
    if (!cookies.length) {
      if (c.status === 429 || c.status >= 500) throw new HttpStatusError(c.status, c.text.slice(0, 200), c.retryAfterMs, SOURCE);
      throw new ParseError(`yahoo: no Set-Cookie from the cookie endpoint (HTTP ${c.status})`, 'no_cookie');
    }
    this.cookie = cookies.join('; ');

    const r = await marketGet(`${this.base}/v1/test/getcrumb`, { signal, source: SOURCE, headers: { ...this.headers(), accept: '*/*' } });
    const crumb = r.text.trim();
    // when throttled Yahoo has answered the crumb request with the text "Too Many Requests" (yfinance checks for it)
    const retryAfterMs = r.retryAfterMs;
    if (r.status === 429 || crumb.includes('Too Many Requests')) throw new HttpStatusError(429, crumb, retryAfterMs, SOURCE);
    if (r.status !== 200) throw new HttpStatusError(r.status, crumb, retryAfterMs, SOURCE);
    if (!crumb || /[\s<{]/.test(crumb)) throw new ParseError('yahoo: getcrumb returned no usable crumb', 'no_crumb', crumb.slice(0, 100));
    this.crumb = crumb;
    this.sessions++;
    this.o.log.debug({ sessions: this.sessions }, 'yahoo session (cookie + crumb) renewed');
  }
}
