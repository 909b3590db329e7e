// Saved terminal layouts (docs/USERS.md "Layouts"): which dashboards, symbols, variables and time range open
// together, each with a short code for /l/<code>. Owned like watchlists (repos/ownership.ts).
import type { Actor } from '../auth/identity.js';
import { newCode } from '../auth/identity.js';
import type { Db, Queryable } from '../db.js';
import { ApiProblem, notFound } from '../problem.js';
import type { Layout, LayoutCreate, LayoutPatch } from '../schemas-users.js';
import { ownedForWrite, VISIBLE, visiblePage, visibleRow } from './ownership.js';

interface LayoutRow {
  id: string;
  code: string;
  owner: string;
  name: string;
  dashboards: string[];
  symbols: string[];
  variables: Record<string, string | string[]>;
  time_from: string;
  time_to: string;
  refresh: string | null;
  shared: boolean;
  created_at: Date;
  updated_at: Date;
}

/** The Grafana URL that opens dashboard `n` of a layout: /d/<uid>?orgId=1&from=&to=&var-<name>=…&refresh= (Grafana's "Dashboard URL variables"). */
export function dashboardUrl(l: Pick<Layout, 'dashboards' | 'symbols' | 'variables' | 'from' | 'to' | 'refresh'>, n = 0): string {
  const p = new URLSearchParams({ orgId: '1', from: l.from, to: l.to });
  const vars: Record<string, string | string[]> = { ...l.variables };
  if (l.symbols.length && vars.symbol === undefined) vars.symbol = l.symbols;
  for (const [k, v] of Object.entries(vars)) for (const x of [v].flat()) p.append(`var-${k}`, x);
  if (l.refresh) p.append('refresh', l.refresh);
  return `/d/${encodeURIComponent(l.dashboards[n]!)}?${p}`;
}

const toLayout = (r: LayoutRow): Layout => {
  const l = { dashboards: r.dashboards, symbols: r.symbols, variables: r.variables, from: r.time_from, to: r.time_to, refresh: r.refresh };
  return {
    id: r.id,
    code: r.code,
    owner: r.owner,
    name: r.name,
    ...l,
    shared: r.shared,
    short_link: `/l/${r.code}`,
    links: r.dashboards.map((_, i) => dashboardUrl(l, i)),
    created_at: r.created_at.toISOString(),
    updated_at: r.updated_at.toISOString(),
  };
};

const SELECT = 'SELECT l.*, u.name AS owner FROM layouts l JOIN users u ON u.id = l.owner_id';
const FROM = { select: SELECT, table: 'layouts', alias: 'l' };
// input field → column
const COLUMN: Record<keyof LayoutCreate, string> = {
  name: 'name',
  dashboards: 'dashboards',
  symbols: 'symbols',
  variables: 'variables',
  from: 'time_from',
  to: 'time_to',
  refresh: 'refresh',
  shared: 'shared',
};
const value = (k: string, v: unknown) => (k === 'variables' ? JSON.stringify(v) : v);

export class LayoutRepo {
  constructor(
    private readonly db: Db,
    private readonly maxPerUser: number,
  ) {}

  async list(actor: Actor, limit: number, offset: number): Promise<{ data: Layout[]; total: number }> {
    const { rows, total } = await visiblePage<LayoutRow>(this.db, FROM, actor, limit, offset);
    return { data: rows.map(toLayout), total };
  }

  async get(actor: Actor | null, id: string, q: Queryable = this.db): Promise<Layout> {
    const row = await visibleRow<LayoutRow>(q, FROM, actor, id);
    if (!row) throw notFound('layout', id);
    return toLayout(row);
  }

  async byCode(actor: Actor, code: string): Promise<Layout> {
    const r = await this.db.query<LayoutRow>(`${SELECT} WHERE l.code = $1 AND ${VISIBLE('l', 2)}`, [code, actor.id]);
    if (!r.rows[0]) throw notFound('layout', code);
    return toLayout(r.rows[0]);
  }

  create(actor: Actor, input: LayoutCreate): Promise<Layout> {
    return this.db.tx(async (q) => {
      // per user: lock the user's row so two creates cannot both pass the count
      await q.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [actor.id]);
      const n = (await q.query<{ n: number }>('SELECT count(*)::int AS n FROM layouts WHERE owner_id = $1', [actor.id])).rows[0]!.n;
      if (n >= this.maxPerUser) throw new ApiProblem(422, `at most ${this.maxPerUser} layouts per user`);
      const r = await q.query<{ id: string }>(
        `INSERT INTO layouts (owner_id, code, name, dashboards, symbols, variables, time_from, time_to, refresh, shared)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10) RETURNING id`,
        [
          actor.id,
          newCode(),
          input.name,
          input.dashboards,
          input.symbols ?? [],
          JSON.stringify(input.variables ?? {}),
          input.from ?? 'now-6h',
          input.to ?? 'now',
          input.refresh ?? null,
          input.shared ?? false,
        ],
      );
      return this.get(null, r.rows[0]!.id, q);
    }, false);
  }

  patch(actor: Actor, id: string, input: LayoutPatch): Promise<Layout> {
    return this.db.tx(async (q) => {
      await ownedForWrite(q, 'layouts', 'layout', id, actor);
      const set = Object.entries(input).filter(([, v]) => v !== undefined);
      await q.query(
        `UPDATE layouts SET ${set.map(([k], i) => `${COLUMN[k as keyof LayoutCreate]} = $${i + 2}${k === 'variables' ? '::jsonb' : ''}`).join(', ')}, updated_at = now() WHERE id = $1`,
        [id, ...set.map(([k, v]) => value(k, k === 'symbols' || k === 'variables' ? (v ?? (k === 'symbols' ? [] : {})) : v))],
      );
      return this.get(null, id, q);
    }, false);
  }

  async delete(actor: Actor, id: string): Promise<void> {
    await this.db.tx(async (q) => {
      await ownedForWrite(q, 'layouts', 'layout', id, actor);
      await q.query('DELETE FROM layouts WHERE id = $1', [id]);
    }, false);
  }
}
