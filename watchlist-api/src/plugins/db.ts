// The database and the repositories over it, decorated on the app. Migrations run either before the
// app is ready ('now': tests, a one-off command) or in the background with backoff ('background': the
// server, so it starts and answers /healthz even while PostgreSQL is still coming up).
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Backoff, pgConnectionString, sleep } from '@mt/common';
import type { Config } from '../config.js';
import { Db, migrate } from '../db.js';
import { AlertRuleRepo } from '../repos/alert-rules.js';
import { LayoutRepo } from '../repos/layouts.js';
import { UserRepo } from '../repos/users.js';
import { WatchlistRepo } from '../repos/watchlists.js';

declare module 'fastify' {
  interface FastifyInstance {
    db: Db;
    dbState: { migrated: boolean };
    watchlists: WatchlistRepo;
    alertRules: AlertRuleRepo;
    users: UserRepo;
    layouts: LayoutRepo;
  }
}

export interface DbPluginOptions {
  config: Config;
  migrate: 'now' | 'background';
}

export const dbPlugin = fp(async (app: FastifyInstance, opts: DbPluginOptions) => {
  const { config } = opts;
  const log = app.log.child({ component: 'db' });
  const db = new Db(
    pgConnectionString(config.DATABASE_URL, config.PGPASSWORD),
    { max: config.DB_POOL_MAX, queryTimeoutMs: config.DB_QUERY_TIMEOUT_MS, onIdleError: (err) => log.warn({ err: err.message }, 'idle database connection lost') },
    app.metrics.notify,
  );
  const state = { migrated: false };
  app.decorate('db', db);
  app.decorate('dbState', state);
  app.decorate('watchlists', new WatchlistRepo(db, { maxWatchlists: config.MAX_WATCHLISTS, maxItemsPerWatchlist: config.MAX_ITEMS_PER_WATCHLIST }));
  app.decorate('alertRules', new AlertRuleRepo(db, config.MAX_ALERT_RULES));
  const users = new UserRepo(db);
  app.decorate('users', users);
  app.decorate('layouts', new LayoutRepo(db, config.MAX_LAYOUTS_PER_USER));

  const stop = new AbortController();
  const runMigrations = async () => {
    const applied = await migrate(db);
    await users.nameAdmin(config.API_ADMIN_USER);
    state.migrated = true;
    log.info({ applied }, applied.length ? 'migrations applied' : 'schema up to date');
  };
  if (opts.migrate === 'now') {
    app.addHook('onReady', runMigrations);
  } else {
    app.addHook('onReady', async () => {
      void (async () => {
        const backoff = new Backoff({ initialMs: 500, maxMs: 10_000 });
        while (!stop.signal.aborted && !state.migrated) {
          try {
            await runMigrations();
          } catch (err) {
            log.warn({ err: (err as Error).message }, 'migrations not applied yet, retrying');
            await sleep(backoff.next(), stop.signal);
          }
        }
      })();
    });
  }
  app.addHook('onClose', async () => {
    stop.abort();
    await db.close();
  });
});
