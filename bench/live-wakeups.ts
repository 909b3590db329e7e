// Where the market feeder's CPU goes with Grafana Live on vs off (docs/BENCHMARKS.md §10, "Wake-ups"):
// the real feeder on the replay server (500 symbols, 5000 frames/s, as bench/live.ts's CPU runs), Live
// off and on in turn, and per variant over --seconds: CPU (user / sys), the main thread's wake-ups
// (voluntary context switches: each is a sleep in epoll_wait ended by a socket, a timer or a thread) and,
// with --perf, the syscalls by kind counted by `perf stat` tracepoints. --record DIR writes a
// `perf record -g` profile per variant (the feeder with --perf-basic-prof, so JS frames are named).
// A variant may set feeder env: `on:GRAFANA_LIVE_FLUSH_MS=100`.
//   node --conditions=source --import tsx bench/live-wakeups.ts --variants off,on,off,on --seconds 10 --perf
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { metricValue, startInflux, startService, waitFor } from '@mt/testing';
import { sleep } from './lib.js';
import { ReplayServer, replayFeederEnv } from './replay.js';

const { values } = parseArgs({
  options: {
    variants: { type: 'string', default: 'off,on,off,on' },
    seconds: { type: 'string', default: '10' },
    symbols: { type: 'string', default: '500' },
    rate: { type: 'string', default: '5000' },
    perf: { type: 'boolean', default: false },
    record: { type: 'string' },
  },
});
const TOKEN = 'glsa_bench_live';
const SECS = Number(values.seconds);
const N = Number(values.symbols);
const influx = await startInflux();
// the push fake on its own thread, as in bench/live.ts
const workerBoot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((t) => { t.register(); return import(${JSON.stringify(new URL('./grafana-live-worker.ts', import.meta.url).href)}); })`;
const grafanaWorker = new Worker(workerBoot, { eval: true, workerData: { token: TOKEN }, execArgv: ['--conditions=source'] });
const grafanaUrl = await new Promise<string>((r) => grafanaWorker.once('message', (m: { url: string }) => r(m.url)));

/** utime, stime (clock ticks) of the process and voluntary context switches of its main thread. */
function sample(pid: number): { user: number; sys: number; wakes: number } {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const status = readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8');
  return { user: Number(f[11]), sys: Number(f[12]), wakes: Number(/\nvoluntary_ctxt_switches:\s+(\d+)/.exec(status)![1]) };
}
/** A child process's stderr, without blocking this event loop (the replay server runs on it). */
const run = (cmd: string, args: string[]) =>
  new Promise<string>((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr!.on('data', (d) => (err += d));
    p.on('close', () => resolve(err));
  });
const SYSCALLS = ['epoll_pwait', 'read', 'write', 'writev', 'futex', 'mmap', 'munmap', 'madvise'];
/** /proc/<pid>/stat counts USER_HZ (100) ticks. */
const HZ = 100;

try {
  for (const spec of values.variants.split(',')) {
    const [variant, ...kvs] = spec.split(':') as [string, ...string[]];
    const env: Record<string, string> = Object.fromEntries(kvs.map((kv) => kv.split('=') as [string, string]));
    if (variant !== 'off') Object.assign(env, { GRAFANA_LIVE_URL: grafanaUrl, GRAFANA_LIVE_TOKEN: TOKEN, GRAFANA_LIVE_MAX_HZ: env.GRAFANA_LIVE_MAX_HZ ?? '5' });
    if (values.record) env.NODE_OPTIONS = '--perf-basic-prof';
    const replay = await new ReplayServer({ rate: Number(values.rate), kinds: ['trade', 'ticker', 'bookTicker'] }).listen();
    const svc = await startService('market-feeder', await replayFeederEnv(replay, influx.url, N, env));
    try {
      await waitFor(() => replay.stats().streams >= 4 * N, 60_000, 'subscribed');
      await sleep(3000);
      const pid = svc.proc.child.pid!;
      const m0 = await svc.metrics();
      const s0 = sample(pid);
      let perf = '';
      if (values.perf) {
        const events = ['task-clock', 'context-switches', ...SYSCALLS.map((s) => `syscalls:sys_enter_${s}`)].join(',');
        perf = await run('perf', ['stat', '-x', ',', '-e', events, '-p', String(pid), '--', 'sleep', String(SECS)]);
      } else if (values.record) await run('perf', ['record', '-F', '997', '-g', '-o', `${values.record}/live-${spec.replace(/[^\w=.-]/g, '_')}.data`, '-p', String(pid), '--', 'sleep', String(SECS)]);
      else await sleep(SECS * 1000);
      const s1 = sample(pid);
      const m1 = await svc.metrics();
      const rate = (name: string) => ((metricValue(m1, name) - metricValue(m0, name)) / SECS).toFixed(0);
      const pct = (ticks: number) => ((ticks / HZ / SECS) * 100).toFixed(1);
      let line = `${spec}: CPU user ${pct(s1.user - s0.user)} % + sys ${pct(s1.sys - s0.sys)} % of a core, main thread wake-ups ${((s1.wakes - s0.wakes) / SECS).toFixed(0)}/s, frames ${rate('feeder_messages_total')}/s, Live requests ${rate('grafana_live_requests_total')}/s, lines ${rate('grafana_live_lines_total')}/s`;
      if (perf) {
        const counts = Object.fromEntries(perf.split('\n').filter((l) => l.includes(',')).map((l) => { const f = l.split(','); return [f[2]!.replace('syscalls:sys_enter_', ''), Number(f[0])]; }));
        line += `; per second: ${['context-switches', ...SYSCALLS].map((k) => `${k} ${((counts[k] ?? NaN) / SECS).toFixed(0)}`).join(', ')}`;
      }
      process.stdout.write(`${line} (load ${os.loadavg()[0]!.toFixed(2)})\n`);
    } finally {
      await svc.stop();
      await replay.close();
    }
  }
} finally {
  grafanaWorker.postMessage({ cmd: 'close' });
  await influx.stop();
}
process.exit(0);
