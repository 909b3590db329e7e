// Base for the protocol-true local servers that stand in for internet services. Each fake registers
// routes that answer with real recorded payloads; tests script faults per route: a status with a
// Retry-After, a stall, a dropped socket, a malformed body. Every request is recorded for assertions.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  /** string/Buffer sent verbatim; anything else JSON-encoded. */
  body?: unknown;
}

export type Handler = (req: RecordedRequest) => Reply | Promise<Reply>;

export type Fault =
  | { kind: 'status'; status: number; body?: unknown; retryAfter?: string | number; headers?: Record<string, string> }
  | { kind: 'stall'; ms: number }
  | { kind: 'drop' }
  | { kind: 'malformed'; body?: string; contentType?: string };

interface Route {
  method: string;
  path: string | RegExp;
  handler: Handler;
}

export class HttpFake {
  readonly requests: RecordedRequest[] = [];
  private routes: Route[] = [];
  private faults: { match: string | RegExp | undefined; fault: Fault; times: number }[] = [];
  private server: http.Server;
  private sockets = new Set<import('node:net').Socket>();
  port = 0;

  constructor(readonly name: string) {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The underlying server, e.g. to attach a WebSocket upgrade handler (see fakes/binance.ts). */
  get httpServer(): http.Server {
    return this.server;
  }

  route(method: string, path: string | RegExp, handler: Handler): this {
    this.routes.push({ method: method.toUpperCase(), path, handler });
    return this;
  }

  /** The next `times` requests whose path matches `match` (all paths when undefined) get `fault`. */
  fail(fault: Fault, opts: { times?: number; path?: string | RegExp } = {}): this {
    this.faults.push({ match: opts.path, fault, times: opts.times ?? 1 });
    return this;
  }

  clearFaults(): void {
    this.faults = [];
  }

  requestsTo(path: string | RegExp): RecordedRequest[] {
    return this.requests.filter((r) => matches(path, r.path));
  }

  /** Loopback by default; the demo compose profile serves on every interface (`host = '0.0.0.0'`). */
  async listen(port = 0, host = '127.0.0.1'): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const u = new URL(req.url ?? '/', 'http://x');
    const rec: RecordedRequest = {
      method: req.method ?? 'GET',
      path: u.pathname,
      query: u.searchParams,
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
      at: Date.now(),
    };
    this.requests.push(rec);

    const fi = this.faults.findIndex((f) => f.match === undefined || matches(f.match, rec.path));
    if (fi >= 0) {
      const f = this.faults[fi]!;
      if (--f.times <= 0) this.faults.splice(fi, 1);
      const fault = f.fault;
      switch (fault.kind) {
        case 'drop':
          req.socket.destroy();
          return;
        case 'stall':
          await new Promise((r) => setTimeout(r, fault.ms));
          break; // then answer normally (a slow server), unless the client gave up
        case 'malformed':
          res.writeHead(200, { 'content-type': fault.contentType ?? 'application/json' }).end(fault.body ?? '{"truncated": [1, 2,');
          return;
        case 'status': {
          const headers: Record<string, string> = { 'content-type': 'application/json', ...fault.headers };
          if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
          send(res, { status: fault.status, headers, body: fault.body ?? { error: http.STATUS_CODES[fault.status] } });
          return;
        }
      }
      if (res.destroyed) return;
    }

    const route = this.routes.find((r) => r.method === rec.method && matches(r.path, rec.path));
    if (!route) {
      send(res, { status: 404, body: { error: `${this.name}: no route for ${rec.method} ${rec.path}` } });
      return;
    }
    try {
      send(res, await route.handler(rec));
    } catch (err) {
      send(res, { status: 500, body: { error: String(err) } });
    }
  }
}

function matches(p: string | RegExp, path: string): boolean {
  return typeof p === 'string' ? p === path : p.test(path);
}

function send(res: http.ServerResponse, r: Reply): void {
  if (res.destroyed) return;
  const isRaw = typeof r.body === 'string' || Buffer.isBuffer(r.body);
  const headers = { ...(isRaw ? {} : { 'content-type': 'application/json' }), ...r.headers };
  res.writeHead(r.status ?? 200, headers);
  res.end(r.body === undefined ? undefined : isRaw ? (r.body as string | Buffer) : JSON.stringify(r.body));
}
