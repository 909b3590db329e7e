// Who may see and change a watchlist, an alert rule or a layout (docs/USERS.md "Ownership"): its owner reads
// and writes it; everyone else reads it when it is shared and never sees it otherwise. The same holds for
// admins: they manage users, not other people's private lists.
import type { Actor } from '../auth/identity.js';
import type { Queryable } from '../db.js';
import { ApiProblem, notFound } from '../problem.js';

/** SQL condition "visible to the user bound as parameter $n" for table alias `t`. */
export const VISIBLE = (t: string, n: number) => `(${t}.owner_id = $${n} OR ${t}.shared)`;

/** Lock the row for a change by `actor`: 404 when it does not exist or is private to someone else, 403 when shared but not theirs. */
export async function ownedForWrite(q: Queryable, table: 'watchlists' | 'alert_rules' | 'layouts', what: string, id: string, actor: Actor): Promise<void> {
  const r = await q.query<{ owner_id: string; shared: boolean }>(`SELECT owner_id, shared FROM ${table} WHERE id = $1 FOR UPDATE`, [id]);
  const row = r.rows[0];
  if (!row || (row.owner_id !== actor.id && !row.shared)) throw notFound(what, id);
  if (row.owner_id !== actor.id) throw new ApiProblem(403, `${what} ${id} is shared read-only: only its owner changes it`);
}
