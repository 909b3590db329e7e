// `trigger: once` across restarts: when a once-rule fires, its fired_at is stored on the rule in the
// watchlist API's PostgreSQL (markRuleFired), and the next load of the rules (a restart included) keeps it
// from firing again (docs/ALERTING.md "Noise control"). Written in the background, off the tick path:
// a write that fails (database down) is retried with backoff; on shutdown what is pending gets a bounded try.
// A firing's write starts at once when none is in flight; firings during a write go together in the next
// one (one UPDATE, one NOTIFY): a burst waits at most two round trips, never one per rule before it.
import pg from 'pg';
import type { Logger } from 'pino';
import { Backoff, markRulesFired, sleep } from '@mt/common';

export interface OnceFiredStoreOptions {
  /** A connection string for the watchlist API's database. */
  connectionString: string;
  log: Logger;
  /** Retry backoff (defaults: 500 ms doubling to 30 s). */
  backoff?: Backoff;
}

export class OnceFiredStore {
  private readonly pool: pg.Pool;
  private readonly pending = new Map<string, number>();
  private readonly backoff: Backoff;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;

  constructor(private readonly o: OnceFiredStoreOptions) {
    this.pool = new pg.Pool({ connectionString: o.connectionString, max: 1, connectionTimeoutMillis: 5_000, application_name: 'alerts-once' });
    this.pool.on('error', () => {}); // an idle connection lost: the next write reconnects
    this.backoff = o.backoff ?? new Backoff({ initialMs: 500, maxMs: 30_000 });
  }

  /** A once-rule fired at `ts` (the firing's exchange time): store it. */
  fired(ruleId: string, ts: number): void {
    if (!this.pending.has(ruleId)) this.pending.set(ruleId, ts);
    this.running ??= this.drain().finally(() => (this.running = undefined));
  }

  /** How many firings are not stored yet. */
  get unsaved(): number {
    return this.pending.size;
  }

  /** Try what is pending for up to `deadlineMs`, then stop. */
  async close(deadlineMs = 3_000): Promise<void> {
    if (this.running) await Promise.race([this.running, sleep(deadlineMs)]);
    this.abort.abort();
    if (this.pending.size) this.o.log.warn({ rules: [...this.pending.keys()] }, 'once-rule firings not stored: these rules may fire again after the restart');
    await this.pool.end().catch(() => {});
  }

  private async drain(): Promise<void> {
    // the firings of the same frame (one emit loop) go in the first write: a microtask, not a delay
    await Promise.resolve();
    while (this.pending.size && !this.abort.signal.aborted) {
      const batch = [...this.pending].slice(0, MAX_BATCH);
      try {
        const stored = await markRulesFired(this.pool, batch);
        for (const [id] of batch) {
          if (!stored.has(id)) this.o.log.info({ rule_id: id }, 'once-rule fired but is gone from the database');
          this.pending.delete(id);
        }
        this.backoff.reset();
      } catch (err) {
        const wait = this.backoff.next();
        this.o.log.warn({ err, rules: batch.length, retryInMs: wait }, 'could not store that once-rules fired; retrying');
        await sleep(wait, this.abort.signal);
      }
    }
  }
}

/** Rules per UPDATE: a bounded statement (two arrays of parameters) however large the burst. */
const MAX_BATCH = 1000;
