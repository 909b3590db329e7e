// One kept-alive HTTP/1.1 connection for the Grafana Live pushes, written on a plain socket: a push is
// one write (head and body) and one small answer (Grafana answers 200 with an empty body,
// docs/GRAFANA_LIVE.md). node:http and undici spend several times the CPU per request on agent,
// parser and stream machinery (docs/BENCHMARKS.md §10), and the request rate, not the lines, sets
// what Live costs the feeder. One request at a time (the sink never overlaps them: no pipelining).
// The answer is read per RFC 9112: status line, headers, then a body framed by Transfer-Encoding:
// chunked, Content-Length, or the connection's close; 1xx interim answers are skipped; `Connection:
// close` (or HTTP/1.0 without keep-alive) closes the socket after the answer. Anything else that does
// not parse is a transport error and the socket is dropped; the next request opens a new one.
// Per request it allocates little (docs/BENCHMARKS.md §10): the request is written into one buffer kept
// from request to request (the head's constant part as bytes, made again only when the path or headers
// change, then the length's digits and the body); a plain-TCP answer is read into one reused buffer
// (`onread`, no stream or decoder machinery), and the common answer — `HTTP/1.1 2xx`, a whole head and
// its Content-Length body in one read — is scanned there as bytes; anything else (another status or
// version, chunked, a split read, a header the scan does not know how to judge) goes to the general
// parser below with the same bytes. One deadline timer serves every request (checked when it fires,
// re-armed only then) instead of a timer set and cleared per request.
import net from 'node:net';
import tls from 'node:tls';
import { writeInt } from './lines.js';

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

const noop = (): void => {};

/** Header names the byte scan looks at, lower-case ASCII. */
const CONTENT_LENGTH = Buffer.from('content-length', 'latin1');
const CONNECTION = Buffer.from('connection', 'latin1');
const CLOSE = Buffer.from('close', 'latin1');
const KEEP_ALIVE = Buffer.from('keep-alive', 'latin1');

/** RFC 9110 tchar: the bytes a header name is made of. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TCHAR[c.charCodeAt(0)] = 1;

/** b[at, at + word.length) equals `word` (lower-case ASCII letters and punctuation), letters in any case. */
function sameLower(b: Buffer, at: number, word: Buffer): boolean {
  for (let i = 0; i < word.length; i++) if ((b[at + i]! | 0x20) !== word[i]) return false;
  return true;
}

type State = 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailers' | 'eof';

export class PushConnection {
  private sock: net.Socket | undefined;
  /** The request in flight (one object, reused: `active` says whether a request is in flight). */
  private readonly cur: {
    active: boolean;
    resolve: (a: PushAnswer) => void;
    reject: (e: Error) => void;
    /** When it times out (performance.now() ms), and its timeout for the message. */
    deadline: number;
    timeoutMs: number;
    /** Its bytes, a view of `reqBuf`: left intact until the request ends, for a resend. */
    request: Buffer;
    /** Sent on a kept-alive socket: if that socket turns out closed before any answer, send once more on a new one. */
    retry: boolean;
  } = { active: false, resolve: noop, reject: noop, deadline: 0, timeoutMs: 0, request: Buffer.alloc(0), retry: false };
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
  /** The request is written into this, grown when a request does not fit. */
  private reqBuf = Buffer.allocUnsafeSlow(0);
  /** `POST path HTTP/1.1`, Host, the caller's headers and `Content-Length: ` as bytes, and the path and headers they were made for. */
  private prefix = Buffer.alloc(0);
  private prefixPath: string | undefined;
  private prefixHeaders: string | undefined;

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
  /** Answers read by the byte scan (the rest by the general parser), for tests. */
  scanned = 0;

  /**
   * POST `body` to `path`. Resolves with any complete answer (the caller judges the status); rejects
   * with PushTransportError on a refused or cut connection, an answer that does not parse, or no
   * complete answer within `timeoutMs` (the socket is then dropped).
   */
  post(path: string, headers: string, body: string | Uint8Array, timeoutMs: number): Promise<PushAnswer> {
    const cur = this.cur;
    if (cur.active) return Promise.reject(new PushTransportError('grafana live: a request is already in flight'));
    // a text body is sent as UTF-8
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    let sock = this.sock;
    const open = sock !== undefined && !sock.destroyed;
    const reuse = open && sock!.writable;
    // head and body copied into the request buffer (one write; the caller may reuse its body at once, and
    // a resend writes the same bytes). Bytes of the last request still queued on the socket (a server
    // that answered before reading it all) are never overwritten: a new buffer then.
    const request = this.build(path, headers, bytes, open && sock!.writableLength > 0);
    const promise = new Promise<PushAnswer>(this.hold);
    const deadline = performance.now() + timeoutMs;
    if (!this.timer || deadline < this.timerAt) this.arm(deadline);
    if (reuse) this.reused++;
    else sock = this.connect();
    cur.active = true;
    cur.request = request;
    cur.retry = reuse;
    cur.deadline = deadline;
    cur.timeoutMs = timeoutMs;
    this.resetAnswer();
    sock!.write(request);
    return promise;
  }

  /** The executor of every request's promise (made once, not a closure per request). */
  private readonly hold = (resolve: (a: PushAnswer) => void, reject: (e: Error) => void): void => {
    this.cur.resolve = resolve;
    this.cur.reject = reject;
  };

  /** The request's bytes in `reqBuf`: the head's constant part, the body's length in digits, the body. */
  private build(path: string, headers: string, body: Uint8Array, fresh: boolean): Buffer {
    if (path !== this.prefixPath || headers !== this.prefixHeaders) {
      this.prefix = Buffer.from(`POST ${path} HTTP/1.1\r\nHost: ${this.hostHeader}\r\n${headers}Content-Length: `, 'utf8');
      this.prefixPath = path;
      this.prefixHeaders = headers;
    }
    const prefix = this.prefix;
    const n = body.length;
    // room for the prefix, the length's digits (at most 16), CRLF CRLF and the body
    const room = prefix.length + 20 + n;
    if (fresh || this.reqBuf.length < room) this.reqBuf = Buffer.allocUnsafeSlow(Math.max(room + (room >> 2), fresh ? 0 : 2 * this.reqBuf.length, 4096));
    const b = this.reqBuf;
    b.set(prefix, 0);
    let at = writeInt(b, prefix.length, n);
    b[at++] = 13;
    b[at++] = 10;
    b[at++] = 13;
    b[at++] = 10;
    b.set(body, at);
    return b.subarray(0, at + n);
  }

  /** The deadline timer: the request in flight fails if its deadline has passed, else the timer waits for it. */
  private readonly onDeadline = (): void => {
    this.timer = undefined;
    const cur = this.cur;
    if (!cur.active) return;
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
      : net.connect({
          host: this.host,
          port: this.port,
          onread: {
            buffer: this.readBuf,
            callback: (n) => {
              // the common answer straight from the bytes; anything else as text to the general parser
              if (sock !== this.sock || !this.scan(n)) onChunk(this.readBuf.toString('latin1', 0, n));
              return true;
            },
          },
        });
    sock.setNoDelay(true);
    sock.setKeepAlive(true, 30_000);
    if (this.https) {
      sock.setEncoding('latin1');
      sock.on('data', onChunk);
    }
    sock.on('end', () => {
      // a close-delimited body ends here; otherwise the server closed an idle socket, or cut the answer
      if (sock === this.sock && this.cur.active && this.state === 'eof') this.done();
    });
    sock.on('error', (err) => {
      if (sock === this.sock && !this.resend()) this.fail(new PushTransportError(`grafana live: ${err.message}`));
    });
    sock.on('close', () => {
      if (sock !== this.sock) return;
      this.sock = undefined;
      if (this.cur.active && !this.resend()) this.fail(new PushTransportError('grafana live: answer cut short'));
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
    if (!cur.active || !cur.retry || this.bytes > 0) return false;
    cur.retry = false;
    this.sock?.destroy();
    this.resetAnswer();
    this.connect().write(cur.request);
    return true;
  }

  /**
   * The common answer read straight from the `onread` buffer's first n bytes: `HTTP/1.1 2xx`, the whole
   * head, and a Content-Length body ending the read. True when it was read and the request ended; false
   * (nothing changed) for anything else — the general parser then reads the same bytes. It accepts only
   * what the general parser reads to the same answer: header names of tchar bytes compared without case,
   * CRLF line ends (a lone CR or LF is left to the general parser), Content-Length as digits between
   * spaces or tabs, `Connection: close` or `keep-alive`; Transfer-Encoding, Retry-After or any other
   * Connection value are left to it.
   */
  private scan(n: number): boolean {
    if (!this.cur.active || this.bytes > 0) return false;
    const b = this.readBuf;
    // "HTTP/1.1 2" + two digits, then a space (the reason phrase) or the line's end
    if (n < 16 || b[0] !== 72 || b[1] !== 84 || b[2] !== 84 || b[3] !== 80 || b[4] !== 47 || b[5] !== 49 || b[6] !== 46 || b[7] !== 49 || b[8] !== 32 || b[9] !== 50) return false;
    const d1 = b[10]! - 48;
    const d2 = b[11]! - 48;
    if (d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9 || (b[12] !== 32 && b[12] !== 13)) return false;
    let length = -1;
    let close = false;
    let i = 12;
    for (;;) {
      // i is in the line that ends at the next CRLF: find it (a lone CR or LF: not ours)
      while (i < n && b[i] !== 13 && b[i] !== 10) i++;
      if (i + 1 >= n || b[i] !== 13 || b[i + 1] !== 10) return false;
      const s = i + 2;
      if (s + 1 < n && b[s] === 13 && b[s + 1] === 10) {
        i = s + 2;
        break; // the empty line: the head's end
      }
      let c = s;
      while (c < n && TCHAR[b[c]!] === 1) c++;
      if (c === s || c >= n || b[c] !== 58) return false;
      i = c + 1;
      if (c - s === 14 && sameLower(b, s, CONTENT_LENGTH)) {
        while (b[i] === 32 || b[i] === 9) i++;
        let v = 0;
        const d = i;
        while (i < n && b[i]! >= 48 && b[i]! <= 57 && i - d < 8) v = v * 10 + b[i++]! - 48;
        while (b[i] === 32 || b[i] === 9) i++;
        if (i === d || b[i] !== 13 || (length >= 0 && length !== v)) return false;
        length = v;
      } else if (c - s === 10 && sameLower(b, s, CONNECTION)) {
        while (b[i] === 32 || b[i] === 9) i++;
        let e = i;
        while (e < n && b[e] !== 13 && b[e] !== 32 && b[e] !== 9) e++;
        if (e - i === 5 && sameLower(b, i, CLOSE)) close = true;
        else if (!(e - i === 10 && sameLower(b, i, KEEP_ALIVE))) return false;
        while (b[e] === 32 || b[e] === 9) e++;
        if (b[e] !== 13) return false;
        i = e;
      } else if ((c - s === 17 && (b[s]! | 0x20) === 116) || (c - s === 11 && (b[s]! | 0x20) === 114)) {
        return false; // transfer-encoding, retry-after (or a name of their length and first letter)
      }
    }
    const status = 200 + d1 * 10 + d2;
    if (status === 204) length = 0;
    if (length < 0 || i + length !== n) return false;
    // the answer is whole, and nothing follows it: it ends as the general parser's does
    this.bytes = n;
    this.scanned++;
    this.status = status;
    this.closeAfter = close;
    if (length > 0) this.keep(b.toString('latin1', i, i + Math.min(length, KEEP_BODY)));
    this.done();
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
    if (!this.cur.active) throw new Error('data with no request in flight');
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
    const cur = this.cur;
    cur.active = false;
    // anything after the answer is not ours (we never pipeline): the socket cannot be trusted
    if (this.closeAfter || this.buf.length > 0) {
      this.sock?.destroy();
      this.sock = undefined;
    }
    cur.resolve({ status: this.status, body: this.body === '' ? '' : Buffer.from(this.body, 'latin1').toString('utf8'), retryAfter: this.retryAfter });
  }

  private fail(err: Error): void {
    const cur = this.cur;
    if (!cur.active) return;
    cur.active = false;
    // the socket may hold half an answer: never reuse it
    this.sock?.destroy();
    this.sock = undefined;
    cur.reject(err);
  }
}
