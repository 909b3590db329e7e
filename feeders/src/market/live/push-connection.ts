// One kept-alive HTTP/1.1 connection for the Grafana Live pushes, written on a plain socket: a push is
// one write (head and body) and one small answer (Grafana answers 200 with an empty body,
// docs/GRAFANA_LIVE.md). node:http and undici spend several times the CPU per request on agent,
// parser and stream machinery (docs/BENCHMARKS.md §10), and the request rate, not the lines, sets
// what Live costs the feeder. One request at a time (the sink never overlaps them: no pipelining).
// The answer is read per RFC 9112: status line, headers, then a body framed by Transfer-Encoding:
// chunked, Content-Length, or the connection's close; 1xx interim answers are skipped; `Connection:
// close` (or HTTP/1.0 without keep-alive) closes the socket after the answer. Anything else that does
// not parse is a transport error and the socket is dropped; the next request opens a new one.
// Per request it allocates little: a plain-TCP answer is read into one reused buffer (`onread`, no
// stream or decoder machinery), and one deadline timer serves every request (checked when it fires,
// re-armed only then) instead of a timer set and cleared per request (docs/BENCHMARKS.md §10).
import net from 'node:net';
import tls from 'node:tls';

export interface PushAnswer {
  status: number;
  /** The first ~1000 characters of the body (for logs and errors). */
  body: string;
  retryAfter: string | undefined;
}

export class PushTransportError extends Error {
  constructor(
    message: string,
    readonly timedOut = false,
  ) {
    super(message);
  }
}

/** Bytes of an answer kept at most: an answer is a status and a short message, never a stream. */
const MAX_ANSWER = 1 << 20;
const KEEP_BODY = 1000;

type State = 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailers' | 'eof';

export class PushConnection {
  private sock: net.Socket | undefined;
  private cur:
    | {
        resolve: (a: PushAnswer) => void;
        reject: (e: Error) => void;
        /** When it times out (performance.now() ms), and its timeout for the message. */
        deadline: number;
        timeoutMs: number;
        request: Buffer;
        /** Sent on a kept-alive socket: if that socket turns out closed before any answer, send once more on a new one. */
        retry: boolean;
      }
    | undefined;
  // the answer being read (latin1: one char per byte, so lengths are byte counts)
  private buf = '';
  private state: State = 'head';
  private remaining = 0;
  private status = 0;
  private retryAfter: string | undefined;
  private body = '';
  private bytes = 0;
  private closeAfter = false;
  private readonly host: string;
  private readonly port: number;
  private readonly https: boolean;
  private readonly hostHeader: string;
  /** One timer for every request's deadline (see the top of this file); unref'd: a socket in use holds the process. */
  private timer: NodeJS.Timeout | undefined;
  private timerAt = 0;
  /** A plain-TCP answer is read into this (net.connect `onread`). */
  private readonly readBuf = Buffer.allocUnsafe(16 * 1024);

  /** tlsOptions: for https, e.g. a `ca` (the system's CAs and NODE_EXTRA_CA_CERTS otherwise, as node:https). */
  constructor(
    url: URL,
    private readonly tlsOptions: tls.ConnectionOptions = {},
  ) {
    this.https = url.protocol === 'https:';
    this.host = url.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(url.port) || (this.https ? 443 : 80);
    this.hostHeader = url.host;
  }

  /** Requests answered on a socket that was already open (keep-alive), for tests. */
  reused = 0;
  /** Sockets opened, for tests. */
  opened = 0;

  /**
   * POST `body` to `path`. Resolves with any complete answer (the caller judges the status); rejects
   * with PushTransportError on a refused or cut connection, an answer that does not parse, or no
   * complete answer within `timeoutMs` (the socket is then dropped).
   */
  post(path: string, headers: string, body: string | Uint8Array, timeoutMs: number): Promise<PushAnswer> {
    if (this.cur) return Promise.reject(new PushTransportError('grafana live: a request is already in flight'));
    // head and body copied into one buffer of this request's own (one write; the caller may reuse its body
    // at once, and a resend writes the same bytes); a text body is sent as UTF-8
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const head = `POST ${path} HTTP/1.1\r\nHost: ${this.hostHeader}\r\n${headers}Content-Length: ${bytes.length}\r\n\r\n`;
    const headLength = Buffer.byteLength(head);
    const request = Buffer.allocUnsafe(headLength + bytes.length);
    request.write(head, 0, 'utf8');
    request.set(bytes, headLength);
    return new Promise<PushAnswer>((resolve, reject) => {
      const deadline = performance.now() + timeoutMs;
      if (!this.timer || deadline < this.timerAt) this.arm(deadline);
      let sock = this.sock;
      const reuse = sock !== undefined && !sock.destroyed && sock.writable;
      if (reuse) this.reused++;
      else sock = this.connect();
      this.cur = { resolve, reject, request, retry: reuse, deadline, timeoutMs };
      this.resetAnswer();
      sock!.write(this.cur.request);
    });
  }

  /** The deadline timer: the request in flight fails if its deadline has passed, else the timer waits for it. */
  private readonly onDeadline = (): void => {
    this.timer = undefined;
    const cur = this.cur;
    if (!cur) return;
    if (cur.deadline > performance.now()) this.arm(cur.deadline);
    else this.fail(new PushTransportError(`grafana live: timeout after ${cur.timeoutMs} ms`, true));
  };

  private arm(at: number): void {
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(this.onDeadline, Math.max(1, at - performance.now())).unref();
  }

  /** Drop the socket (a request in flight fails). */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.fail(new PushTransportError('grafana live: connection closed'));
    this.sock?.destroy();
    this.sock = undefined;
  }

  private connect(): net.Socket {
    this.opened++;
    const onChunk = (chunk: string) => {
      if (sock !== this.sock) return;
      try {
        this.read(chunk);
      } catch (err) {
        this.fail(new PushTransportError(`grafana live: ${(err as Error).message}`));
      }
    };
    const sock: net.Socket = this.https
      ? tls.connect({ ...this.tlsOptions, host: this.host, port: this.port, servername: net.isIP(this.host) ? undefined : this.host, ALPNProtocols: ['http/1.1'] })
      : net.connect({ host: this.host, port: this.port, onread: { buffer: this.readBuf, callback: (n) => (onChunk(this.readBuf.toString('latin1', 0, n)), true) } });
    sock.setNoDelay(true);
    sock.setKeepAlive(true, 30_000);
    if (this.https) {
      sock.setEncoding('latin1');
      sock.on('data', onChunk);
    }
    sock.on('end', () => {
      // a close-delimited body ends here; otherwise the server closed an idle socket, or cut the answer
      if (sock === this.sock && this.cur && this.state === 'eof') this.done();
    });
    sock.on('error', (err) => {
      if (sock === this.sock && !this.resend()) this.fail(new PushTransportError(`grafana live: ${err.message}`));
    });
    sock.on('close', () => {
      if (sock !== this.sock) return;
      this.sock = undefined;
      if (this.cur && !this.resend()) this.fail(new PushTransportError('grafana live: answer cut short'));
    });
    this.sock = sock;
    return sock;
  }

  /**
   * The server closed a kept-alive socket while it was idle and our request crossed its close: nothing
   * of an answer came, so send it again, once, on a new socket (a push sent twice carries the same
   * values: harmless for Live).
   */
  private resend(): boolean {
    const cur = this.cur;
    if (!cur?.retry || this.bytes > 0) return false;
    cur.retry = false;
    this.sock?.destroy();
    this.resetAnswer();
    this.connect().write(cur.request);
    return true;
  }

  private resetAnswer(): void {
    this.buf = '';
    this.state = 'head';
    this.status = 0;
    this.retryAfter = undefined;
    this.body = '';
    this.bytes = 0;
    this.closeAfter = false;
  }

  private read(chunk: string): void {
    if (!this.cur) throw new Error('data with no request in flight');
    this.bytes += chunk.length;
    if (this.bytes > MAX_ANSWER) throw new Error(`answer longer than ${MAX_ANSWER} bytes`);
    this.buf += chunk;
    for (;;) {
      switch (this.state) {
        case 'head': {
          const end = this.buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          this.parseHead(this.buf.slice(0, end));
          this.buf = this.buf.slice(end + 4);
          break;
        }
        case 'length': {
          const n = Math.min(this.remaining, this.buf.length);
          this.keep(this.buf.slice(0, n));
          this.buf = this.buf.slice(n);
          this.remaining -= n;
          if (this.remaining > 0) return;
          return this.done();
        }
        case 'chunk-size': {
          const end = this.buf.indexOf('\r\n');
          if (end < 0) return;
          const size = /^([0-9a-fA-F]{1,8})[ \t]*(;.*)?$/.exec(this.buf.slice(0, end));
          if (!size) throw new Error('bad chunk size');
          this.buf = this.buf.slice(end + 2);
          this.remaining = parseInt(size[1]!, 16);
          this.state = this.remaining === 0 ? 'trailers' : 'chunk-data';
          break;
        }
        case 'chunk-data': {
          const n = Math.min(this.remaining, this.buf.length);
          this.keep(this.buf.slice(0, n));
          this.buf = this.buf.slice(n);
          this.remaining -= n;
          if (this.remaining > 0) return;
          this.state = 'chunk-end';
          break;
        }
        case 'chunk-end':
          if (this.buf.length < 2) return;
          if (!this.buf.startsWith('\r\n')) throw new Error('chunk not followed by CRLF');
          this.buf = this.buf.slice(2);
          this.state = 'chunk-size';
          break;
        case 'trailers': {
          const end = this.buf.indexOf('\r\n');
          if (end < 0) return;
          this.buf = this.buf.slice(end + 2);
          if (end === 0) return this.done(); // the empty line after the (usually absent) trailer fields
          break;
        }
        case 'eof':
          this.keep(this.buf);
          this.buf = '';
          return;
      }
    }
  }

  private parseHead(head: string): void {
    const lines = head.split('\r\n');
    const m = /^HTTP\/1\.([01]) (\d{3})(?: .*)?$/.exec(lines[0]!);
    if (!m) throw new Error(`bad status line ${JSON.stringify(lines[0]!.slice(0, 80))}`);
    const status = Number(m[2]);
    // interim answers (100 Continue, 103 Early Hints): the real one follows
    if (status >= 100 && status < 200) return;
    this.status = status;
    let length: number | undefined;
    let chunked = false;
    let connection = '';
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Error('bad header line');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'content-length') {
        if (!/^\d+$/.test(value) || (length !== undefined && length !== Number(value))) throw new Error('bad content-length');
        length = Number(value);
      } else if (name === 'transfer-encoding') chunked = /(^|,)\s*chunked\s*$/i.test(value);
      else if (name === 'connection') connection += `,${value.toLowerCase()}`;
      else if (name === 'retry-after') this.retryAfter = value;
    }
    this.closeAfter = /(^|,)\s*close\s*(,|$)/.test(connection) || (m[1] === '0' && !/(^|,)\s*keep-alive\s*(,|$)/.test(connection));
    if (status === 204 || status === 304 || (!chunked && length !== undefined)) {
      this.state = 'length';
      this.remaining = status === 204 || status === 304 ? 0 : length!;
    } else if (chunked) this.state = 'chunk-size';
    else {
      this.state = 'eof';
      this.closeAfter = true;
    }
  }

  private keep(s: string): void {
    if (this.body.length < KEEP_BODY) this.body += s.slice(0, KEEP_BODY - this.body.length);
  }

  private done(): void {
    const cur = this.cur!;
    this.cur = undefined;
    // anything after the answer is not ours (we never pipeline): the socket cannot be trusted
    if (this.closeAfter || this.buf.length > 0) {
      this.sock?.destroy();
      this.sock = undefined;
    }
    cur.resolve({ status: this.status, body: this.body === '' ? '' : Buffer.from(this.body, 'latin1').toString('utf8'), retryAfter: this.retryAfter });
  }

  private fail(err: Error): void {
    const cur = this.cur;
    if (!cur) return;
    this.cur = undefined;
    // the socket may hold half an answer: never reuse it
    this.sock?.destroy();
    this.sock = undefined;
    cur.reject(err);
  }
}
