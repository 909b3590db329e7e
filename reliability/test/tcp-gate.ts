// A TCP forwarder that can be shut like the server behind it going down: close() stops listening and
// resets every open connection (clients get ECONNREFUSED), open() listens again on the same port.
// For servers whose launcher cannot restart them on the same address (Alertmanager).
import net from 'node:net';
import { freePort } from '@mt/testing';

export class TcpGate {
  port = 0;
  private server: net.Server | undefined;
  private sockets = new Set<net.Socket>();

  constructor(private readonly target: { host: string; port: number }) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async open(): Promise<this> {
    this.port ||= await freePort();
    this.server = net.createServer((down) => {
      const up = net.connect(this.target);
      for (const s of [down, up]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {
          down.destroy();
          up.destroy();
        });
      }
      down.pipe(up).pipe(down);
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', r));
    return this;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    const closed = new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    // after close() stops accepting: a connection accepted just before would otherwise hold it open
    for (const s of this.sockets) s.resetAndDestroy();
    await closed;
  }
}
