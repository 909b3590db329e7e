// Who may see and change a watchlist, an alert rule or a layout (docs/USERS.md "Ownership"): its owner reads
// and writes it; everyone else reads it when it is shared and never sees it otherwise. The same holds for
// admins: they manage users, not other people's private lists.
import type pg from 'pg';
import type { Actor } from '../auth/identity.js';
import type { Queryable } from '../db.js';
import { ApiProblem, notFound } from '../problem.js';

/** SQL condition "visible to the user bound as parameter $n" for table alias `t`. */
export const VISIBLE = (t: string, n: number) => `(${t}.owner_id = $${n} OR ${t}.shared)`;

/** A page of the rows visible to `actor` (oldest first) and their count; `select` reads `table` as `alias`. */
export async function visiblePage<R extends pg.QueryResultRow>(
  q: Queryable,
  from: { select: string; table: string; alias: string },
  actor: Actor,
  limit: number,
  offset: number,
): Promise<{ rows: R[]; total: number }> {
  const a = from.alias;
  const [page, count] = await Promise.all([
    q.query<R>(`${from.select} WHERE ${VISIBLE(a, 3)} ORDER BY ${a}.created_at, ${a}.id LIMIT $1 OFFSET $2`, [limit, offset, actor.id]),
    q.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${from.table} ${a} WHERE ${VISIBLE(a, 1)}`, [actor.id]),
  ]);
  return { rows: page.rows, total: count.rows[0]!.n };
}

/** One row by id if `actor` may see it (null: any row, for reading back a change just made). */
export async function visibleRow<R extends pg.QueryResultRow>(q: Queryable, from: { select: string; alias: string }, actor: Actor | null, id: string): Promise<R | undefined> {
  const a = from.alias;
  const r = actor
    ? await q.query<R>(`${from.select} WHERE ${a}.id = $1 AND ${VISIBLE(a, 2)}`, [id, actor.id])
    : await q.query<R>(`${from.select} WHERE ${a}.id = $1`, [id]);
  return r.rows[0];
}

/** Lock the row for a change by `actor`: 404 when it does not exist or is private to someone else, 403 when shared but not theirs. */
export async function ownedForWrite(q: Queryable, table: 'watchlists' | 'alert_rules' | 'layouts', what: string, id: string, actor: Actor): Promise<void> {
  const r = await q.query<{ owner_id: string; shared: boolean }>(`SELECT owner_id, shared FROM ${table} WHERE id = $1 FOR UPDATE`, [id]);
  const row = r.rows[0];
  if (!row || (row.owner_id !== actor.id && !row.shared)) throw notFound(what, id);
  if (row.owner_id !== actor.id) throw new ApiProblem(403, `${what} ${id} is shared read-only: only its owner changes it`);
}
