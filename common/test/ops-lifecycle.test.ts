// The ops server (/metrics with the service label, /healthz 200/503) and the Lifecycle: SIGTERM on a
// real child process closes in reverse registration order, the InfluxDB sink flushes, exit code 0.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Counter } from 'prom-client';
import { startInflux, type InfluxServer } from '@mt/testing';
import { Lifecycle, bootstrapInflux, createInfluxQLClient, createRegistry, startOpsServer, type Health } from '../src/index.js';
import { silentLog } from './helpers/influx.js';

const here = path.dirname(fileURLToPath(import.meta.url));
let influx: InfluxServer | undefined;
after(async () => {
  await influx?.stop();
});

test('ops server: /metrics carries the service label and default metrics; /healthz 200 then 503 while /livez stays 200; 404; 500', { timeout: 60_000 }, async () => {
  const registry = createRegistry('svc-under-test');
  new Counter({ name: 'demo_total', help: 'demo', registers: [registry] }).inc(3);
  let health: Health | Error = { ok: true, sources: 2 };
  const ops = await startOpsServer({
    port: 0,
    host: '127.0.0.1',
    registry,
    health: () => {
      if (health instanceof Error) throw health;
      return health;
    },
  });
  try {
    const base = `http://127.0.0.1:${ops.port}`;
    const m = await fetch(`${base}/metrics`);
    assert.equal(m.status, 200);
    assert.match(m.headers.get('content-type') ?? '', /text\/plain/);
    const text = await m.text();
    assert.match(text, /^demo_total\{service="svc-under-test"\} 3$/m);
    assert.match(text, /^process_cpu_user_seconds_total\{service="svc-under-test"\} /m);
    assert.match(text, /^nodejs_heap_size_used_bytes\{service="svc-under-test"\} /m);

    let h = await fetch(`${base}/healthz`);
    assert.equal(h.status, 200);
    assert.deepEqual(await h.json(), { ok: true, sources: 2 });
    health = { ok: false, reason: 'influx down' };
    h = await fetch(`${base}/healthz`);
    assert.equal(h.status, 503);
    assert.deepEqual(await h.json(), { ok: false, reason: 'influx down' });
    // liveness stays 200 while the service is unhealthy: Kubernetes must not restart a feeder holding a buffer
    const live = await fetch(`${base}/livez`);
    assert.equal(live.status, 200);
    assert.deepEqual(await live.json(), { ok: true });
    health = new Error('boom');
    h = await fetch(`${base}/healthz`);
    assert.equal(h.status, 500);
    await h.arrayBuffer();
    const nf = await fetch(`${base}/nope`);
    assert.equal(nf.status, 404);
    await nf.arrayBuffer();
  } finally {
    await ops.close();
  }
});

test('Lifecycle.shutdown: reverse order, a failing closer does not stop the others, a hanging one hits the deadline', { timeout: 60_000 }, async () => {
  const order: string[] = [];
  const lc = new Lifecycle(silentLog, 300);
  lc.add('a', () => void order.push('a'));
  lc.add('b', () => {
    order.push('b');
    throw new Error('b failed');
  });
  lc.add('c', async () => void order.push('c'));
  await assert.rejects(lc.shutdown(), /shutdown incomplete/);
  assert.deepEqual(order, ['c', 'b', 'a']);
  assert.equal(lc.shutdown(), lc.shutdown(), 'shutdown runs once');

  const hanging = new Lifecycle(silentLog, 300);
  const closed: string[] = [];
  hanging.add('first', () => void closed.push('first'));
  hanging.add('hang', () => new Promise<void>(() => {}));
  const started = Date.now();
  // the deadline timer is unref'd (it must not hold a service open); a live service has other handles
  const keepAlive = setInterval(() => {}, 1000);
  try {
    await assert.rejects(hanging.shutdown(), /shutdown incomplete/);
  } finally {
    clearInterval(keepAlive);
  }
  assert.ok(Date.now() - started < 2000);
  assert.deepEqual(closed, [], 'closers after a deadline are not awaited');
});

function runChild(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', path.join(here, 'fixtures/lifecycle-child.ts')], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => lines.push(...d.split('\n').filter(Boolean)));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const waitLine = async (re: RegExp, ms = 20_000) => {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const l = lines.find((x) => re.test(x));
      if (l) return l;
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no line ${re} from child; stdout: ${lines.join('\n')} stderr: ${stderr}`);
  };
  return { child, lines, exited, waitLine };
}

test('SIGTERM: closers run in reverse order, the sink flushes everything written, exit code 0', { timeout: 60_000 }, async () => {
  influx = await startInflux();
  await bootstrapInflux({ url: influx.url, token: '', org: '', api: 'v1' }, silentLog);
  const c = runChild({ INFLUX_URL: influx.url });
  try {
    const port = Number((await c.waitLine(/^READY /)).split(' ')[1]);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(metrics, /service="lifecycle-child"/);
    await new Promise((r) => setTimeout(r, 500));
    c.child.kill('SIGTERM');
    assert.equal(await c.exited, 0);
    const closed = c.lines.filter((l) => l.startsWith('CLOSED'));
    assert.equal(closed.length, 3, c.lines.join('\n'));
    assert.match(closed[0]!, /^CLOSED intake wrote=\d+$/);
    assert.equal(closed[1], 'CLOSED influx pending={"markets/raw":0}');
    assert.equal(closed[2], 'CLOSED ops');
    const wrote = Number(closed[0]!.split('=')[1]);
    assert.ok(wrote > 10);
    // nothing was sent before SIGTERM (1 h flush interval): every point arrived through close()
    const [s] = await createInfluxQLClient({ url: influx.url, token: '', org: '', api: 'v1' }).query('markets', 'SELECT count(seq) FROM lifecycle');
    assert.equal(s!.values[0]![1], wrote);
  } finally {
    c.child.kill('SIGKILL');
  }
});

test('a second SIGTERM while a closer hangs exits at once with code 1', { timeout: 60_000 }, async () => {
  const c = runChild({ INFLUX_URL: 'http://127.0.0.1:1', HANG: '1' });
  try {
    await c.waitLine(/^READY /);
    c.child.kill('SIGTERM');
    await c.waitLine(/^CLOSED intake/);
    c.child.kill('SIGTERM');
    assert.equal(await c.exited, 1);
    assert.ok(!c.lines.some((l) => l.startsWith('CLOSED influx')));
  } finally {
    c.child.kill('SIGKILL');
  }
});
