// Watchlists and their items in PostgreSQL. Every mutation runs in one transaction that also NOTIFYs
// the feeders (Db.tx), and the limits are checked under a lock so concurrent requests cannot exceed them.
import type { Actor } from '../auth/identity.js';
import type { Db, Queryable } from '../db.js';
import { ApiProblem, notFound } from '../problem.js';
import { ownedForWrite, visiblePage, visibleRow } from './ownership.js';
import type { Item, ItemInput, Watchlist } from '../schemas.js';

interface WatchlistRow {
  id: string;
  name: string;
  description: string | null;
  owner: string;
  shared: boolean;
  created_at: Date;
  updated_at: Date;
}
interface ItemRow {
  id: string;
  watchlist_id: string;
  symbol: string;
  asset_type: Item['asset_type'];
  exchange: string;
  created_at: Date;
}

export interface WatchlistLimits {
  maxWatchlists: number;
  maxItemsPerWatchlist: number;
}

const FROM = { select: 'SELECT w.*, u.name AS owner FROM watchlists w JOIN users u ON u.id = w.owner_id', table: 'watchlists', alias: 'w' };

// Serialises watchlist creation so the count check and the insert are atomic.
const CREATE_LOCK = 7_246_002;

const toItem = (r: ItemRow): Item => ({ id: r.id, symbol: r.symbol, asset_type: r.asset_type, exchange: r.exchange, created_at: r.created_at.toISOString() });

export class WatchlistRepo {
  constructor(
    private readonly db: Db,
    private readonly limits: WatchlistLimits,
  ) {}

  private async withItems(q: Queryable, rows: WatchlistRow[]): Promise<Watchlist[]> {
    if (!rows.length) return [];
    const items = await q.query<ItemRow>('SELECT * FROM watchlist_items WHERE watchlist_id = ANY($1::uuid[]) ORDER BY created_at, id', [rows.map((r) => r.id)]);
    const by = new Map<string, Item[]>();
    for (const i of items.rows) by.set(i.watchlist_id, [...(by.get(i.watchlist_id) ?? []), toItem(i)]);
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      description: r.description,
      owner: r.owner,
      shared: r.shared,
      items: by.get(r.id) ?? [],
      created_at: r.created_at.toISOString(),
      updated_at: r.updated_at.toISOString(),
    }));
  }

  /** The actor's own watchlists and the ones others share (docs/USERS.md "Ownership"). */
  async list(actor: Actor, limit: number, offset: number): Promise<{ data: Watchlist[]; total: number }> {
    const { rows, total } = await visiblePage<WatchlistRow>(this.db, FROM, actor, limit, offset);
    return { data: await this.withItems(this.db, rows), total };
  }

  /** Another user's private watchlist is a 404, as if it did not exist. */
  async get(actor: Actor | null, id: string, q: Queryable = this.db): Promise<Watchlist> {
    const row = await visibleRow<WatchlistRow>(q, FROM, actor, id);
    if (!row) throw notFound('watchlist', id);
    return (await this.withItems(q, [row]))[0]!;
  }

  create(actor: Actor, input: { name: string; description?: string | null | undefined; items?: ItemInput[] | undefined; shared?: boolean | undefined }): Promise<Watchlist> {
    const items = input.items ?? [];
    if (items.length > this.limits.maxItemsPerWatchlist) {
      throw new ApiProblem(422, `a watchlist holds at most ${this.limits.maxItemsPerWatchlist} items`);
    }
    return this.db.tx(async (q) => {
      await q.query('SELECT pg_advisory_xact_lock($1)', [CREATE_LOCK]);
      const n = (await q.query<{ n: number }>('SELECT count(*)::int AS n FROM watchlists')).rows[0]!.n;
      if (n >= this.limits.maxWatchlists) throw new ApiProblem(422, `at most ${this.limits.maxWatchlists} watchlists`);
      const w = await q.query<WatchlistRow>('INSERT INTO watchlists (name, description, owner_id, shared) VALUES ($1, $2, $3, $4) RETURNING id', [
        input.name,
        input.description ?? null,
        actor.id,
        input.shared ?? false,
      ]);
      const id = w.rows[0]!.id;
      // duplicates within the initial list collapse to one item rather than failing the whole create
      for (const i of items) {
        await q.query('INSERT INTO watchlist_items (watchlist_id, symbol, asset_type, exchange) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [
          id,
          i.symbol,
          i.asset_type,
          i.exchange,
        ]);
      }
      return this.get(null, id, q);
    }, 'watchlist_created');
  }

  patch(actor: Actor, id: string, input: { name?: string | undefined; description?: string | null | undefined; shared?: boolean | undefined }): Promise<Watchlist> {
    return this.db.tx(async (q) => {
      await ownedForWrite(q, 'watchlists', 'watchlist', id, actor);
      await q.query(
        `UPDATE watchlists SET name = COALESCE($2, name),
           description = CASE WHEN $3::boolean THEN $4 ELSE description END, shared = COALESCE($5, shared), updated_at = now()
         WHERE id = $1`,
        [id, input.name ?? null, input.description !== undefined, input.description ?? null, input.shared ?? null],
      );
      return this.get(null, id, q);
    }, 'watchlist_updated');
  }

  async delete(actor: Actor, id: string): Promise<void> {
    await this.db.tx(async (q) => {
      await ownedForWrite(q, 'watchlists', 'watchlist', id, actor);
      await q.query('DELETE FROM watchlists WHERE id = $1', [id]);
    }, 'watchlist_deleted');
  }

  addItem(actor: Actor, watchlistId: string, item: ItemInput): Promise<Item> {
    return this.db.tx(async (q) => {
      // lock the watchlist row: concurrent adds to one list are serialised, so the count check holds
      await ownedForWrite(q, 'watchlists', 'watchlist', watchlistId, actor);
      const n = (await q.query<{ n: number }>('SELECT count(*)::int AS n FROM watchlist_items WHERE watchlist_id = $1', [watchlistId])).rows[0]!.n;
      if (n >= this.limits.maxItemsPerWatchlist) throw new ApiProblem(422, `a watchlist holds at most ${this.limits.maxItemsPerWatchlist} items`);
      const r = await q.query<ItemRow>(
        `INSERT INTO watchlist_items (watchlist_id, symbol, asset_type, exchange) VALUES ($1, $2, $3, $4)
         ON CONFLICT ON CONSTRAINT watchlist_items_unique DO NOTHING RETURNING *`,
        [watchlistId, item.symbol, item.asset_type, item.exchange],
      );
      if (!r.rows[0]) throw new ApiProblem(409, `${item.exchange}:${item.symbol} is already in watchlist ${watchlistId}`);
      return toItem(r.rows[0]);
    }, 'item_added');
  }

  async deleteItem(actor: Actor, watchlistId: string, itemId: string): Promise<void> {
    await this.db.tx(async (q) => {
      await ownedForWrite(q, 'watchlists', 'watchlist', watchlistId, actor);
      const r = await q.query('DELETE FROM watchlist_items WHERE id = $1 AND watchlist_id = $2', [itemId, watchlistId]);
      if (!r.rowCount) throw notFound(`item ${itemId} in watchlist`, watchlistId);
    }, 'item_deleted');
  }
}
