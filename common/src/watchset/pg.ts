// The watch set from the watchlist API's PostgreSQL: LISTEN on a dedicated connection, and on every
// notification reload the FULL set (items union + alert rules) rather than applying deltas, so a
// notification missed while disconnected changes nothing: every (re)connect reloads too.
import pg from 'pg';
import type { Logger } from 'pino';
import { Backoff, sleep } from '../backoff.js';
import type { AssetType } from '../symbols.js';
import { watchItemKey, type AlertRule, type WatchItem, type WatchSet, type WatchSetSource } from './types.js';

/** NOTIFY channel the watchlist API signals on, in the same transaction as each change. */
export const WATCHSET_CHANNEL = 'watchset_changed';

/** Read the full watch set (tables are owned by the watchlist API's migrations). */
export async function loadWatchSet(db: Pick<pg.ClientBase, 'query'>): Promise<WatchSet> {
  const items = await db.query<{ symbol: string; asset_type: AssetType; exchange: string }>(
    'SELECT DISTINCT symbol, asset_type, exchange FROM watchlist_items ORDER BY exchange, symbol',
  );
  const rules = await db.query<AlertRule>(
    `SELECT id::text AS id, symbol, condition, threshold, window_seconds, cooldown_seconds, severity, timeframe, params, trigger, hysteresis_pct,
            to_json(expires_at) #>> '{}' AS expires_at, to_json(muted_until) #>> '{}' AS muted_until,
            to_json(fired_at) #>> '{}' AS fired_at
     FROM alert_rules r
     -- a disabled user's rules do not fire (docs/USERS.md); the built-in admin cannot be disabled
     WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = r.owner_id AND u.disabled_at IS NOT NULL)
     ORDER BY created_at, id`,
  );
  return { items: items.rows, rules: rules.rows };
}

/**
 * Record that a `trigger: once` rule fired (docs/ALERTING.md "Noise control"), so a restarted feeder does
 * not fire it again; the first firing's time is kept. It notifies like every change of the watch set: the
 * feeders then hold the rule as stored fired, and a later `fired_at: null` (re-arm) is a change they see.
 * False when the rule is gone (deleted meanwhile).
 */
export async function markRuleFired(db: Pick<pg.ClientBase, 'query'>, id: string, ts: number): Promise<boolean> {
  return (await markRulesFired(db, [[id, ts]])).has(id);
}

/**
 * markRuleFired for many once-rules in one statement and one NOTIFY (a burst of firings is one write, not
 * one round trip and one reload of every feeder's watch set per rule). Answers the ids that were stored
 * (or already were); the others are gone from the database.
 */
export async function markRulesFired(db: Pick<pg.ClientBase, 'query'>, fired: ReadonlyArray<readonly [id: string, ts: number]>): Promise<Set<string>> {
  if (!fired.length) return new Set();
  const r = await db.query<{ ids: string[] | null }>(
    `WITH f AS (SELECT * FROM unnest($1::uuid[], $2::timestamptz[]) AS f(id, at)),
          u AS (UPDATE alert_rules r SET fired_at = COALESCE(r.fired_at, f.at) FROM f WHERE r.id = f.id RETURNING r.id)
     SELECT array_agg(id::text) AS ids, pg_notify($3, 'rule_fired') FROM u`,
    [fired.map(([id]) => id), fired.map(([, ts]) => new Date(ts)), WATCHSET_CHANNEL],
  );
  return new Set(r.rows[0]?.ids ?? []);
}

/** Fixed items (WATCH_SYMBOLS) plus the database's, without duplicates. */
export function mergeWatchSets(fixed: WatchItem[], set: WatchSet): WatchSet {
  const byKey = new Map<string, WatchItem>();
  for (const i of [...fixed, ...set.items]) byKey.set(watchItemKey(i), i);
  return { items: [...byKey.values()], rules: set.rules };
}

export interface PgWatchSetOptions {
  databaseUrl: string;
  fixed?: WatchItem[];
  log: Logger;
  /** Reconnect backoff (defaults: 200 ms doubling to 5 s). */
  backoff?: Backoff;
}

export class PgWatchSet implements WatchSetSource {
  private client: pg.Client | undefined;
  private onChange: ((set: WatchSet) => void) | undefined;
  private readonly abort = new AbortController();
  private readonly backoff: Backoff;
  private last: string | undefined;
  private reloading: Promise<void> | undefined;
  private reloadAgain = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly o: PgWatchSetOptions) {
    this.backoff = o.backoff ?? new Backoff({ initialMs: 200, maxMs: 5_000 });
  }

  /** Resolves after the first set is delivered: the database's, or (database unreachable) the fixed items alone. */
  async start(onChange: (set: WatchSet) => void): Promise<void> {
    this.onChange = onChange;
    let first: (() => void) | undefined;
    const delivered = new Promise<void>((r) => (first = r));
    this.loop = this.run(() => {
      first?.();
      first = undefined;
    });
    await delivered;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.onChange = undefined;
    await this.client?.end().catch(() => {});
    await this.loop;
  }

  /** Connect, LISTEN, load; on connection loss wait (backoff) and do it again until stopped. */
  private async run(firstDelivery: () => void): Promise<void> {
    const { log } = this.o;
    while (!this.abort.signal.aborted) {
      const client = new pg.Client({ connectionString: this.o.databaseUrl, connectionTimeoutMillis: 5_000, keepAlive: true, application_name: 'watchset-listener' });
      this.client = client;
      const lost = new Promise<unknown>((resolve) => {
        client.on('error', resolve);
        client.on('end', () => resolve(new Error('connection ended')));
      });
      try {
        await client.connect();
        client.on('notification', () => {
          this.reload(client).catch((err: unknown) => log.warn({ err }, 'watch set: reload failed'));
        });
        // LISTEN before loading: a change committed in between is then both loaded and notified, never lost.
        await client.query(`LISTEN ${WATCHSET_CHANNEL}`);
        await this.reload(client);
        this.backoff.reset();
        log.info('watch set: listening for changes');
        firstDelivery();
        const err = await Promise.race([lost, new Promise((r) => this.abort.signal.addEventListener('abort', r, { once: true }))]);
        if (this.abort.signal.aborted) break;
        log.warn({ err }, 'watch set: database connection lost, reconnecting');
      } catch (err) {
        if (this.abort.signal.aborted) break;
        log.warn({ err }, 'watch set: database unavailable, retrying');
        if (this.last === undefined) {
          // nothing loaded yet: start with the fixed items rather than block the feeder
          this.deliver({ items: [], rules: [] });
          firstDelivery();
        }
      }
      client.removeAllListeners('notification');
      client.on('error', () => {});
      await client.end().catch(() => {});
      await sleep(this.backoff.next(), this.abort.signal);
    }
  }

  /** Coalesces bursts: one reload in flight, at most one more queued after it. */
  private reload(client: pg.Client): Promise<void> {
    if (this.reloading) {
      this.reloadAgain = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      try {
        do {
          this.reloadAgain = false;
          this.deliver(await loadWatchSet(client));
        } while (this.reloadAgain);
      } finally {
        this.reloading = undefined;
      }
    })();
    return this.reloading;
  }

  private deliver(set: WatchSet): void {
    const merged = mergeWatchSets(this.o.fixed ?? [], set);
    const key = JSON.stringify(merged);
    if (key === this.last) return;
    this.last = key;
    this.o.log.info({ items: merged.items.length, rules: merged.rules.length }, 'watch set changed');
    this.onChange?.(merged);
  }
}
