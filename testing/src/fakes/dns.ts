// A tiny authoritative DNS server on loopback UDP (RFC 1035 §4), standing in for Docker's embedded DNS
// (127.0.0.11) that answers compose service names. It answers A queries for the names it holds, an empty
// NOERROR for other types of a known name, NXDOMAIN for the rest; `set()` moves a name to a new address the
// way a recreated container gets one. Every query is recorded.
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';

export interface DnsQuery {
  name: string;
  type: number;
  at: number;
}

const TYPE_A = 1;

export class DnsFake {
  readonly queries: DnsQuery[] = [];
  private readonly records = new Map<string, string>();
  private readonly socket = dgram.createSocket('udp4');
  port = 0;

  constructor(private readonly ttlSeconds = 1) {
    this.socket.on('message', (msg, rinfo) => {
      const reply = this.answer(msg);
      if (reply) this.socket.send(reply, rinfo.port, rinfo.address);
    });
  }

  /** `address:port`, as nginx's `resolver` takes it. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  set(name: string, ipv4: string): this {
    this.records.set(name.toLowerCase(), ipv4);
    return this;
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.socket.bind(0, '127.0.0.1', resolve));
    this.port = (this.socket.address() as AddressInfo).port;
    return this;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private answer(msg: Buffer): Buffer | undefined {
    if (msg.length < 12 || msg.readUInt16BE(4) !== 1) return undefined; // one question, as resolvers send
    let off = 12;
    const labels: string[] = [];
    while (off < msg.length && msg[off] !== 0) {
      const len = msg[off]!;
      labels.push(msg.subarray(off + 1, off + 1 + len).toString('ascii'));
      off += 1 + len;
    }
    const qEnd = off + 5; // zero label, QTYPE, QCLASS
    if (qEnd > msg.length) return undefined;
    const type = msg.readUInt16BE(off + 1);
    const name = labels.join('.').toLowerCase();
    this.queries.push({ name, type, at: Date.now() });
    const ip = this.records.get(name);
    const question = msg.subarray(12, qEnd);
    const header = Buffer.alloc(12);
    header.writeUInt16BE(msg.readUInt16BE(0), 0); // id
    // QR, opcode 0, AA, RD copied, RA; RCODE 3 (NXDOMAIN) for an unknown name
    header.writeUInt16BE(0x8400 | (msg.readUInt16BE(2) & 0x0100) | 0x0080 | (ip === undefined ? 3 : 0), 2);
    header.writeUInt16BE(1, 4);
    const withAnswer = ip !== undefined && type === TYPE_A;
    header.writeUInt16BE(withAnswer ? 1 : 0, 6);
    if (!withAnswer) return Buffer.concat([header, question]);
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0); // pointer to the question's name
    rr.writeUInt16BE(TYPE_A, 2);
    rr.writeUInt16BE(1, 4); // IN
    rr.writeUInt32BE(this.ttlSeconds, 6);
    rr.writeUInt16BE(4, 10);
    ip.split('.').forEach((o, i) => rr.writeUInt8(Number(o), 12 + i));
    return Buffer.concat([header, question, rr]);
  }
}
