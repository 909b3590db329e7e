// A real PostgreSQL (Debian's binaries) on loopback with its own data dir, trust auth and TCP only.
// Never touches a system instance on 5432. Can be stopped and started again on the same port and data
// (outage tests). When we run as root, initdb/postgres run as the `postgres` user (they refuse root).
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { freePort, readyUnlessExited, spawnTracked, tmpDir, waitFor, waitStopped, type Tracked } from './proc.js';

export interface StartPostgresOptions {
  /** Require this password (scram-sha-256) for every TCP connection instead of trust auth. */
  password?: string;
}

export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (with the percent-encoded password when one is required) */
  url: string;
  port: number;
  dir: string;
  /** Create a fresh empty database and return its URL (one per test file keeps suites independent). */
  createDatabase(name: string): Promise<string>;
  /** Start again after stop()/kill(), same port and data. */
  start(): Promise<void>;
  /** Fast shutdown (SIGINT): open sessions are terminated, like a server restart. */
  stop(): Promise<void>;
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT the server and every backend: connections stay open but nothing answers. */
  pause(): void;
  resume(): void;
}

function pgBinDir(): string {
  const root = '/usr/lib/postgresql';
  let versions: string[];
  try {
    versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  } catch {
    versions = [];
  }
  if (!versions.length) throw new Error('PostgreSQL is not installed (/usr/lib/postgresql/<ver>/bin): run the README\'s test command, which installs it');
  return path.join(root, versions[0]!, 'bin');
}

/** uid/gid to run the server as: ourselves, or `postgres` when we are root (postgres refuses to run as root). */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** Signal the postmaster and its children: each backend calls setsid(), so a process-group signal misses them. */
function signalAll(proc: Tracked | undefined, sig: NodeJS.Signals): void {
  const root = proc?.child.pid;
  if (!root) return;
  const pids = [root];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may contain spaces, so parse after the last ')'
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === root) pids.push(Number(d));
    } catch {
      /* exited meanwhile */
    }
  }
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      /* gone */
    }
  }
  if (sig === 'SIGSTOP') for (const pid of pids) waitStopped(pid);
}

export async function startPostgres(opts: StartPostgresOptions = {}): Promise<PostgresServer> {
  const bin = pgBinDir();
  const base = tmpDir('pg');
  const data = path.join(base, 'data');
  const user = runAs();
  mkdirSync(data, { mode: 0o700 });
  if (user) {
    // the postgres user must traverse the private temp dir and own the data dir
    chmodSync(base, 0o755);
    chownSync(data, user.uid, user.gid);
  }
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C' };
  const auth = ['-A', 'trust'];
  if (opts.password !== undefined) {
    const pwfile = path.join(base, 'pwfile');
    writeFileSync(pwfile, `${opts.password}\n`, { mode: 0o644 });
    auth.splice(0, 2, '--auth-host=scram-sha-256', '--auth-local=trust', `--pwfile=${pwfile}`);
  }
  execFileSync(path.join(bin, 'initdb'), ['-D', data, ...auth, '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync'], {
    env,
    cwd: base,
    stdio: 'pipe',
    ...user,
  });
  const port = await freePort();
  const userinfo = opts.password === undefined ? 'postgres' : `postgres:${encodeURIComponent(opts.password)}`;
  const url = `postgres://${userinfo}@127.0.0.1:${port}/postgres`;
  let proc: Tracked | undefined;

  const start = async () => {
    proc = spawnTracked(
      path.join(bin, 'postgres'),
      ['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=50'],
      { env, cwd: base, logFile: path.join(base, 'postgres.log'), ...user },
    );
    await readyUnlessExited(
      proc,
      waitFor(
        async () => {
          const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
          c.on('error', () => {});
          try {
            await c.connect();
            await c.query('SELECT 1');
            return true;
          } finally {
            await c.end().catch(() => {});
          }
        },
        30_000,
        `postgres on ${port}`,
      ),
      'postgres',
      path.join(base, 'postgres.log'),
    );
  };

  const stop = async () => {
    const p = proc;
    if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
    // SIGTERM would be a "smart" shutdown that waits for every client to disconnect; SIGINT is "fast".
    try {
      if (p.child.pid) process.kill(-p.child.pid, 'SIGINT');
    } catch {
      /* gone */
    }
    const t = setTimeout(() => void p.kill(), 10_000);
    await p.exited;
    clearTimeout(t);
  };

  await start();
  return {
    url,
    port,
    dir: base,
    start,
    stop,
    kill: async () => proc?.kill(),
    pause: () => signalAll(proc, 'SIGSTOP'),
    resume: () => signalAll(proc, 'SIGCONT'),
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE ${name}`);
      } finally {
        await c.end();
      }
      return url.replace(/\/postgres$/, `/${name}`);
    },
  };
}
