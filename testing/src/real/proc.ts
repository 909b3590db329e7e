// Base for launching the real servers (InfluxDB, PostgreSQL, Prometheus, Alertmanager, nginx) on
// loopback: a free port, a private temp dir, a tracked child that is killed when the test process
// exits for any reason, and readiness polling.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdtempSync, rmSync, createWriteStream, statSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const live = new Set<ChildProcess>();
let hooksInstalled = false;

function killAll(): void {
  for (const c of live) {
    try {
      // negative pid: the whole process group (servers that fork, e.g. pg_ctl → postgres)
      if (c.pid) process.kill(-c.pid, 'SIGKILL');
    } catch {
      try {
        c.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
  live.clear();
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      killAll();
      process.exit(128 + (os.constants.signals[sig] ?? 1));
    });
  }
}

/** The first port of the kernel's range for outgoing connections (and listen(0)). */
function ephemeralStart(): number {
  try {
    const lo = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (lo > 0) return lo;
  } catch {
    /* not Linux */
  }
  return 32768;
}
/** Where freePort draws from: below the ephemeral range, above the well-known services. */
const PORTS = ((): [number, number] => {
  const lo = ephemeralStart();
  return lo > 20_000 ? [15_000, lo - 1] : [0, 0];
})();

function listenOn(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(undefined));
    srv.listen(port, '127.0.0.1', () => {
      const got = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(got));
    });
  });
}

/**
 * A port free right now on 127.0.0.1, outside the kernel's ephemeral range: a server stopped and
 * started again on its port (the fault tests) would otherwise find it taken, now and then, by some
 * process's outgoing connection, which draws its local port from that range.
 */
export async function freePort(): Promise<number> {
  const [lo, hi] = PORTS;
  for (let i = 0; lo > 0 && i < 50; i++) {
    const port = await listenOn(lo + Math.floor(Math.random() * (hi - lo + 1)));
    if (port) return port;
  }
  const port = await listenOn(0);
  if (!port) throw new Error('no free port on 127.0.0.1');
  return port;
}

/** The last lines of a log file, for an error message. */
export function logTail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Waits for `ready`, but fails at once when the process exits first, with the end of its log: a server
 * that cannot start (a port taken, a bad setting) says why instead of a readiness wait running out.
 * 'exit' can come before the last output reached the log: waited for, bounded (a grandchild may hold the
 * pipe).
 */
export async function readyUnlessExited(p: Tracked, ready: Promise<unknown>, what: string, logFile: string): Promise<void> {
  const exited = p.exited.then(async (code) => {
    await Promise.race([p.logWritten, new Promise((r) => setTimeout(r, 2000).unref())]);
    throw new Error(`${what} exited with ${code} during start-up; log: ${logTail(logFile)}`);
  });
  exited.catch(() => {});
  await Promise.race([ready, exited]);
}

const tmpDirs: string[] = [];
/** A private temp dir removed when the process exits. */
export function tmpDir(prefix: string): string {
  const d = mkdtempSync(path.join(os.tmpdir(), `mt-${prefix}-`));
  tmpDirs.push(d);
  return d;
}
process.on('exit', () => {
  if (process.env.MT_KEEP_TMP) return;
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

export interface Tracked {
  child: ChildProcess;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL now. */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT: freeze without closing sockets (a stalled server). */
  pause(): void;
  resume(): void;
  exited: Promise<number | null>;
  /** Resolves once everything the process wrote is in `logFile` (at once when there is none). */
  logWritten: Promise<void>;
}

/** Spawn a child in its own process group; its output goes to `logFile` (kept for debugging). */
export function spawnTracked(cmd: string, args: string[], opts: SpawnOptions & { logFile?: string } = {}): Tracked {
  installHooks();
  const child = spawn(cmd, args, { ...opts, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  // Both streams into one file, ended once both are (pipe's own end would end it at the first EOF, and
  // whatever the other stream still held, such as a start-up error on stderr, would be lost).
  let logWritten: Promise<void> = Promise.resolve();
  if (opts.logFile) {
    const out = createWriteStream(opts.logFile, { flags: 'a' });
    const streams = [child.stdout, child.stderr].filter((x) => x !== null);
    let open = streams.length;
    logWritten = new Promise((resolve) => out.once('close', () => resolve()));
    for (const x of streams) {
      x.pipe(out, { end: false });
      x.once('close', () => {
        if (--open === 0) out.end();
      });
    }
  } else {
    child.stdout?.resume();
    child.stderr?.resume();
  }
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      live.delete(child);
      resolve(code);
    });
    child.once('error', () => {
      live.delete(child);
      resolve(null);
    });
  });
  const signal = (s: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, s);
    } catch {
      /* gone */
    }
  };
  return {
    child,
    exited,
    logWritten,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      signal('SIGTERM');
      const t = setTimeout(() => signal('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      signal('SIGKILL');
      await exited;
    },
    pause: () => {
      signal('SIGSTOP');
      if (child.pid) waitStopped(child.pid);
    },
    resume: () => signal('SIGCONT'),
  };
}

/**
 * kill(SIGSTOP) returns once the signal is queued, not once the process has stopped: a thread running on
 * the other core (or on a vCPU the host has descheduled) can still answer a request for a while, and a
 * test that writes right after pause() then sees it stored. Wait until every thread of `pid` is stopped
 * (/proc/<pid>/task/<tid>/stat state T or t), at most `timeoutMs`; a process that exited counts as stopped.
 */
export function waitStopped(pid: number, timeoutMs = 2000): void {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let running = false;
    try {
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        try {
          const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
          // "tid (comm) state …": comm may hold spaces and parentheses, so read after the last ')'
          const state = stat.charAt(stat.lastIndexOf(')') + 2);
          if (state !== 'T' && state !== 't' && state !== 'Z' && state !== 'X') running = true;
        } catch {
          /* thread gone */
        }
      }
    } catch {
      return; // process gone
    }
    if (!running) return;
    if (Date.now() > deadline) throw new Error(`process ${pid} did not stop within ${timeoutMs} ms of SIGSTOP`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
  }
}

/** Poll `check` until it returns truthy or `timeoutMs` passes. */
export async function waitFor<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000, what = 'condition', intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`);
}

/** Wait until an HTTP GET answers with one of `okStatus`. */
export async function waitHttp(url: string, timeoutMs = 30_000, okStatus: number[] = [200, 204]): Promise<void> {
  await waitFor(
    async () => {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      return okStatus.includes(res.status);
    },
    timeoutMs,
    `GET ${url}`,
  );
}

/** Find a Debian binary, trying each candidate path or name on PATH (and the sbin dirs). */
export function which(...candidates: string[]): string {
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/bin', '/sbin', '/usr/local/bin']);
  const isFile = (p: string) => {
    try {
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  for (const c of candidates) {
    if (c.includes('/') ? isFile(c) : false) return c;
    for (const d of dirs) if (!c.includes('/') && isFile(path.join(d, c))) return path.join(d, c);
  }
  throw new Error(`none of ${candidates.join(', ')} is installed: run the README's test command, which installs it`);
}
