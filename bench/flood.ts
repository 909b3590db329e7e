// What the flood servers share (bench/replay.ts for Binance, bench/venue-floods.ts for Binance USDⓈ-M,
// Coinbase and Kraken): pre-framed websocket writes and the flood pump that keeps a socket's buffer full,
// so the sender is not the bottleneck of what is measured; and a per-connection record of the URL and the
// control messages a client sent, so a floor client can open the same connections again
// (bench/clients/replay-floor.ts).
import type { Socket } from 'node:net';

/** Kernel + Node socket buffer above which the flood waits for 'drain'. */
export const HIGH_WATER = 1 << 20;
/** Frames per socket write in flood mode. */
export const FLOOD_BATCH = 256;

/** A client connection of a flood server: what it asked for, and what it was sent. */
export interface FloodConn {
  socket: Socket;
  /** The upgrade request's path and query (`/stream?streams=…`, `/v2`). */
  url: string;
  /** Every text message the client sent, in order. */
  control: string[];
  sent: number;
  pumping: boolean;
}

/** Unmasked text frames (RFC 6455 §5.2), all in one socket write. */
export function writeFrames(c: FloodConn, texts: string[]): void {
  if (c.socket.destroyed || texts.length === 0) return;
  let size = 0;
  const lens = texts.map((t) => {
    const len = Buffer.byteLength(t);
    size += len + (len < 126 ? 2 : len < 65_536 ? 4 : 10);
    return len;
  });
  const buf = Buffer.allocUnsafe(size);
  let off = 0;
  for (let i = 0; i < texts.length; i++) {
    const len = lens[i]!;
    buf[off++] = 0x81;
    if (len < 126) buf[off++] = len;
    else if (len < 65_536) {
      buf[off++] = 126;
      buf.writeUInt16BE(len, off);
      off += 2;
    } else {
      buf[off++] = 127;
      buf.writeBigUInt64BE(BigInt(len), off);
      off += 8;
    }
    off += buf.write(texts[i]!, off, 'utf8');
  }
  c.socket.write(buf);
  c.sent += texts.length;
}

/**
 * Flood `c`: write batches of `next(n)` while the socket's buffer is below HIGH_WATER, refill on 'drain';
 * a few batches per turn, so control messages and pings are still served. Stops when `on()` turns false.
 */
export function floodPump(c: FloodConn, on: () => boolean, next: (n: number) => string[]): void {
  if (c.pumping) return;
  c.pumping = true;
  const pump = () => {
    if (!on() || c.socket.destroyed) {
      c.pumping = false;
      return;
    }
    for (let i = 0; i < 16 && c.socket.writableLength < HIGH_WATER; i++) {
      const batch = next(FLOOD_BATCH);
      if (batch.length === 0) break;
      writeFrames(c, batch);
    }
    if (c.socket.writableLength >= HIGH_WATER) c.socket.once('drain', pump);
    else setImmediate(pump);
  };
  pump();
}

/** `new Date(ms).toISOString()` once per millisecond (frames of one millisecond share it). */
export function isoCache(): (ms: number) => string {
  let at = NaN;
  let s = '';
  return (ms) => {
    if (ms !== at) {
      at = ms;
      s = new Date(ms).toISOString();
    }
    return s;
  };
}
