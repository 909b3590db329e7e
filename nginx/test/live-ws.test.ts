// Grafana Live's websocket through the real nginx with our config (docs/GRAFANA_LIVE.md "Behind nginx"),
// against a stand-in that speaks what Grafana 12.3's Live endpoint speaks: the centrifuge JSON protocol
// (connect → reply with `ping` interval and `pong: true`, the server's `{}` ping answered by the
// client's `{}` pong, publications pushed as `{"push":{"channel","pub":{"data":…}}}`).
// The pain users report — Live websockets cut behind a proxy after 30 or 60 s — is tested directly: one
// connection with Grafana-like pings and one with no frame at all stay open past nginx's 60 s default
// (proxy_read_timeout) and still deliver a publication afterwards.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, WebSocket } from 'ws';
import { startNginx, type NginxServer } from '@mt/testing';

/** Grafana's centrifuge pings every 25 s (protocol v2 server-side ping). */
const PING_MS = 25_000;
/** Past nginx's default proxy_read_timeout (60 s) and the 30 s of many proxies. */
const HOLD_MS = 65_000;

let nginx: NginxServer;
let grafana: http.Server;
let wss: WebSocketServer;
let ca: Buffer;
const upgrades: http.IncomingHttpHeaders[] = [];
const live = new Set<WebSocket>();

before(async () => {
  // also the API's identity check nginx asks before Grafana (docs/USERS.md): a signed-in trader
  grafana = http.createServer((req, res) =>
    req.url === '/auth/check' ? res.writeHead(204, { 'x-webauth-user': 'tina', 'x-webauth-role': 'Editor' }).end() : res.writeHead(404).end(),
  );
  wss = new WebSocketServer({ server: grafana, path: '/api/live/ws' });
  wss.on('connection', (ws, req) => {
    upgrades.push(req.headers);
    let timer: NodeJS.Timeout | undefined;
    ws.on('message', (raw) => {
      const m = JSON.parse(String(raw)) as { id?: number; connect?: unknown; subscribe?: { channel: string } };
      if (m.connect !== undefined) {
        const wantsPings = !String(req.url).includes('silent');
        ws.send(JSON.stringify({ id: m.id, connect: { client: `c${upgrades.length}`, version: '12.3.0', ping: wantsPings ? PING_MS / 1000 : 0, pong: wantsPings } }));
        if (wantsPings) timer = setInterval(() => ws.send('{}'), PING_MS);
        live.add(ws);
      } else if (m.subscribe) ws.send(JSON.stringify({ id: m.id, subscribe: {} }));
    });
    ws.on('close', () => {
      clearInterval(timer);
      live.delete(ws);
    });
  });
  await new Promise<void>((r) => grafana.listen(0, '127.0.0.1', r));
  const addr = `127.0.0.1:${(grafana.address() as AddressInfo).port}`;
  nginx = await startNginx({ grafanaUpstream: addr, apiUpstream: addr });
  ca = readFileSync(nginx.cert);
});

after(async () => {
  await nginx?.stop();
  for (const ws of live) ws.terminate();
  wss?.close();
  grafana?.closeAllConnections();
  await new Promise((r) => grafana?.close(r));
});

interface Client {
  ws: WebSocket;
  frames: string[];
  closedAt: number | undefined;
}

async function connect(query = ''): Promise<Client> {
  const ws = new WebSocket(`wss://127.0.0.1:${nginx.httpsPort}/api/live/ws${query}`, { ca, headers: { host: 'localhost', origin: 'https://localhost' } });
  const c: Client = { ws, frames: [], closedAt: undefined };
  ws.on('message', (m) => {
    const s = String(m);
    c.frames.push(s);
    if (s === '{}') ws.send('{}'); // the client's pong, as centrifuge-js answers a ping
  });
  ws.on('close', () => (c.closedAt = Date.now()));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ id: 1, connect: { name: 'js' } }));
  ws.send(JSON.stringify({ id: 2, subscribe: { channel: '1/stream/markets/ticker' } }));
  return c;
}

test('the upgrade reaches Grafana as a websocket with the public Host, Origin and forwarding headers', async () => {
  const c = await connect();
  await new Promise((r) => setTimeout(r, 300));
  const h = upgrades.at(-1)!;
  assert.equal(h.upgrade, 'websocket');
  assert.match(String(h.connection), /upgrade/i);
  assert.equal(h.host, 'localhost', 'Grafana builds its URLs from Host');
  assert.equal(h.origin, 'https://localhost', 'Grafana checks Origin against root_url / [live] allowed_origins');
  assert.equal(h['x-forwarded-proto'], 'https');
  assert.equal(h['x-forwarded-for'], '127.0.0.1', 'the client address, not the proxy, in Grafana’s logs');
  assert.deepEqual([h['x-webauth-user'], h['x-webauth-role']], ['tina', 'Editor'], 'the signed-in user, for Grafana’s auth proxy');
  assert.deepEqual(JSON.parse(c.frames[0]!).connect.pong, true);
  c.ws.close();
});

test(`a Live websocket stays open past ${HOLD_MS / 1000} s, with Grafana's pings and with no frame at all, and still delivers`, { timeout: HOLD_MS + 30_000 }, async () => {
  const pinged = await connect();
  const silent = await connect('?silent=1');
  const opened = Date.now();
  await new Promise((r) => setTimeout(r, HOLD_MS));
  assert.equal(pinged.closedAt, undefined, `pinged connection closed after ${((pinged.closedAt ?? 0) - opened) / 1000} s`);
  assert.equal(silent.closedAt, undefined, `silent connection closed after ${((silent.closedAt ?? 0) - opened) / 1000} s`);
  assert.ok(pinged.frames.filter((f) => f === '{}').length >= 2, 'Grafana-like pings went through');
  // a publication after the idle period reaches both
  const pub = JSON.stringify({ push: { channel: '1/stream/markets/ticker', pub: { data: { data: { values: [['symbol=BTC/USDT'], [Date.now()], [1.5], [64000]] } } } } });
  for (const ws of live) ws.send(pub);
  await new Promise((r) => setTimeout(r, 500));
  assert.ok(pinged.frames.includes(pub) && silent.frames.includes(pub), 'publications still delivered');
  pinged.ws.close();
  silent.ws.close();
});
