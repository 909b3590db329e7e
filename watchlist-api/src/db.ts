// PostgreSQL access: one pg Pool, a transaction helper that NOTIFYs the feeders inside the same
// transaction (so they are told exactly when a change commits, never about a rolled-back one), and
// the versioned migrations run at start-up.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Counter } from 'prom-client';
import { WATCHSET_CHANNEL } from '@mt/common';

/** A pool or a client inside a transaction. */
export interface Queryable {
  query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

export class Db {
  readonly pool: pg.Pool;

  constructor(
    databaseUrl: string,
    opts: { max: number; queryTimeoutMs: number; onIdleError: (err: Error) => void },
    private readonly notified?: Counter,
  ) {
    this.pool = new pg.Pool({
      connectionString: databaseUrl,
      max: opts.max,
      connectionTimeoutMillis: Math.min(opts.queryTimeoutMs, 3_000),
      query_timeout: opts.queryTimeoutMs,
      idleTimeoutMillis: 30_000,
    });
    // An idle client whose server went away emits here; without a listener the process would crash.
    this.pool.on('error', opts.onIdleError);
  }

  query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    return this.pool.query<R>(text, values);
  }

  /** Run `fn` in a transaction; with `notify`, the feeders are signalled when (and only if) it commits. */
  async tx<T>(fn: (c: Queryable) => Promise<T>, notify: string | false): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const res = await fn(client);
      if (notify) await client.query('SELECT pg_notify($1, $2)', [WATCHSET_CHANNEL, notify]);
      await client.query('COMMIT');
      if (notify) this.notified?.inc();
      return res;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw err;
    } finally {
      client.release(broken);
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'migrations');
// Any constant shared by every API instance: concurrent start-ups apply migrations one at a time.
const MIGRATION_LOCK = 7_246_001;

/** Apply `migrations/NNN_name.sql` files not yet recorded in schema_migrations, each in its own transaction. */
export async function migrate(db: Db, dir = MIGRATIONS_DIR): Promise<string[]> {
  const files = readdirSync(dir)
    .filter((f) => /^\d+_[\w-]+\.sql$/.test(f))
    .sort((a, b) => parseInt(a, 10) - parseInt(b, 10));
  const client = await db.pool.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
    for (const f of files) {
      const version = parseInt(f, 10);
      if (done.has(version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(readFileSync(path.join(dir, f), 'utf8'));
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [version, f]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw new Error(`migration ${f} failed: ${(err as Error).message}`, { cause: err });
      }
      applied.push(f);
    }
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
  } finally {
    client.release(true);
  }
  return applied;
}

const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);

/** True when `err` means "the database is not reachable right now" (→ 503), not a bad query. */
export function isDbUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (UNAVAILABLE_CODES.has(code)) return true;
    // class 08 connection exceptions; 57P01-57P03 admin/crash shutdown, cannot connect now
    if (code.startsWith('08') || /^57P0[1-3]$/.test(code)) return true;
  }
  return /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error/i.test(err.message);
}
