// A man-in-the-middle between the feeder and the local Binance server: every websocket upgrade the
// feeder attempts is recorded (so backoff can be measured against Binance's connection limits, which
// count attempts, not successes), upgrades can be refused for a while (a reconnect storm), and frames
// can be injected into the live streams, including ones the fake would never send (invalid UTF-8 in a
// text frame, multi-megabyte messages).
import { createServer, STATUS_CODES, type Server } from 'node:http';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { freePort } from '@mt/testing';

export class WsProxy {
  /** Wall-clock time of every upgrade attempt, refused or not. */
  readonly attempts: number[] = [];
  private refuseStatus: number | undefined;
  private server: Server | undefined;
  private wss = new WebSocketServer({ noServer: true });
  private pairs = new Set<{ down: WebSocket; up: WebSocket }>();
  port = 0;

  constructor(private readonly upstream: string) {}

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  async listen(): Promise<this> {
    this.port = await freePort();
    this.server = createServer((_req, res) => res.writeHead(404).end());
    this.server.on('upgrade', (req, socket, head) => {
      this.attempts.push(Date.now());
      if (this.refuseStatus) {
        socket.end(`HTTP/1.1 ${this.refuseStatus} ${STATUS_CODES[this.refuseStatus]}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (down) => this.pipe(down, req.url ?? '/'));
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', r));
    return this;
  }

  private pipe(down: WebSocket, path: string): void {
    const up = new WebSocket(this.upstream + path);
    const pair = { down, up };
    this.pairs.add(pair);
    const pending: { data: RawData; isBinary: boolean }[] = [];
    up.on('open', () => {
      for (const p of pending.splice(0)) up.send(p.data, { binary: p.isBinary });
    });
    up.on('message', (data, isBinary) => down.readyState === WebSocket.OPEN && down.send(data, { binary: isBinary }));
    down.on('message', (data, isBinary) => (up.readyState === WebSocket.OPEN ? up.send(data, { binary: isBinary }) : pending.push({ data, isBinary })));
    const end = () => {
      this.pairs.delete(pair);
      up.terminate();
      down.terminate();
    };
    up.on('close', end);
    up.on('error', end);
    down.on('close', end);
    down.on('error', end);
  }

  /** Refuse every upgrade with `status` until allow(). */
  refuse(status = 503): void {
    this.refuseStatus = status;
  }

  allow(): void {
    this.refuseStatus = undefined;
  }

  /**
   * Send a text frame (a string, or raw bytes that need not be UTF-8) on the newest open feeder socket:
   * during an overlapping roll the older one is being retired and may ignore what it still receives.
   * Returns 1 when sent, 0 when no socket is open.
   */
  inject(frame: string | Buffer): number {
    const newest = [...this.pairs].filter((p) => p.down.readyState === WebSocket.OPEN).pop();
    newest?.down.send(frame, { binary: false });
    return newest ? 1 : 0;
  }

  open(): number {
    return [...this.pairs].filter((p) => p.down.readyState === WebSocket.OPEN).length;
  }

  /** Most attempts within any window of `ms`. */
  maxAttemptsWithin(ms: number, from = 0, to = Infinity): number {
    const a = this.attempts.filter((t) => t >= from && t <= to);
    let best = 0;
    for (let i = 0, j = 0; i < a.length; i++) {
      while (a[i]! - a[j]! >= ms) j++;
      best = Math.max(best, i - j + 1);
    }
    return best;
  }

  async close(): Promise<void> {
    for (const { up, down } of this.pairs) {
      up.terminate();
      down.terminate();
    }
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
