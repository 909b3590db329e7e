// Price-alert rules in PostgreSQL; the feeders evaluate them (they arrive with the watch set).
import type { Actor } from '../auth/identity.js';
import type { Db, Queryable } from '../db.js';
import { ApiProblem, invalid, notFound } from '../problem.js';
import { ownedForWrite, VISIBLE, visiblePage, visibleRow } from './ownership.js';
import { ruleIssues, ruleShapeOf, type AlertRule, type AlertRuleCreate, type AlertRulePatch } from '../schemas.js';

interface RuleRow extends Omit<AlertRule, 'created_at' | 'updated_at' | 'expires_at' | 'muted_until' | 'fired_at'> {
  owner_id?: string;
  expires_at: Date | null;
  muted_until: Date | null;
  fired_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const CREATE_LOCK = 7_246_003;
const COLUMNS = [
  'symbol',
  'condition',
  'threshold',
  'window_seconds',
  'cooldown_seconds',
  'severity',
  'timeframe',
  'params',
  'trigger',
  'hysteresis_pct',
  'expires_at',
  'muted_until',
  'fired_at',
  'shared',
] as const;
const FROM = { select: 'SELECT r.*, u.name AS owner FROM alert_rules r JOIN users u ON u.id = r.owner_id', table: 'alert_rules', alias: 'r' };

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const toRule = ({ owner_id: _ownerId, ...r }: RuleRow): AlertRule => ({
  ...r,
  expires_at: iso(r.expires_at),
  muted_until: iso(r.muted_until),
  fired_at: iso(r.fired_at),
  created_at: r.created_at.toISOString(),
  updated_at: r.updated_at.toISOString(),
});

export class AlertRuleRepo {
  constructor(
    private readonly db: Db,
    private readonly maxRules: number,
  ) {}

  /** The actor's own rules and the ones others share (docs/USERS.md "Ownership"). */
  async list(actor: Actor, limit: number, offset: number): Promise<{ data: AlertRule[]; total: number }> {
    const { rows, total } = await visiblePage<RuleRow>(this.db, FROM, actor, limit, offset);
    return { data: rows.map(toRule), total };
  }

  /** Another user's private rule is a 404, as if it did not exist. */
  async get(actor: Actor | null, id: string, q: Queryable = this.db): Promise<AlertRule> {
    const row = await visibleRow<RuleRow>(q, FROM, actor, id);
    if (!row) throw notFound('alert rule', id);
    return toRule(row);
  }

  /** Ids of the rules `actor` can see (their alert history is theirs to read). */
  async visibleIds(actor: Actor): Promise<string[]> {
    const r = await this.db.query<{ id: string }>(`SELECT r.id::text AS id FROM alert_rules r WHERE ${VISIBLE('r', 1)}`, [actor.id]);
    return r.rows.map((x) => x.id);
  }

  create(actor: Actor, input: AlertRuleCreate): Promise<AlertRule> {
    return this.db.tx(async (q) => {
      await q.query('SELECT pg_advisory_xact_lock($1)', [CREATE_LOCK]);
      const n = (await q.query<{ n: number }>('SELECT count(*)::int AS n FROM alert_rules')).rows[0]!.n;
      if (n >= this.maxRules) throw new ApiProblem(422, `at most ${this.maxRules} alert rules`);
      const r = await q.query<RuleRow>(
        `INSERT INTO alert_rules (symbol, condition, threshold, window_seconds, cooldown_seconds, severity, timeframe, params, trigger, hysteresis_pct, expires_at, muted_until, owner_id, shared)
         VALUES ($1, $2, $3, $4, COALESCE($5, 300), COALESCE($6, 'warning'), $7, COALESCE($8::jsonb, '{}'::jsonb), COALESCE($9, 'every_time'), COALESCE($10::double precision, 0), $11, $12, $13, $14) RETURNING id`,
        [
          input.symbol,
          input.condition,
          input.threshold ?? null,
          input.window_seconds ?? null,
          input.cooldown_seconds ?? null,
          input.severity ?? null,
          input.timeframe ?? null,
          input.params === undefined ? null : JSON.stringify(input.params),
          input.trigger ?? null,
          input.hysteresis_pct ?? null,
          input.expires_at ?? null,
          input.muted_until ?? null,
          actor.id,
          input.shared ?? false,
        ],
      );
      return this.get(null, (r.rows[0] as { id: string }).id, q);
    }, 'rule_created');
  }

  patch(actor: Actor, id: string, input: AlertRulePatch): Promise<AlertRule> {
    return this.db.tx(async (q) => {
      await ownedForWrite(q, 'alert_rules', 'alert rule', id, actor);
      const cur = (await q.query<RuleRow>('SELECT * FROM alert_rules WHERE id = $1 FOR UPDATE', [id])).rows[0];
      if (!cur) throw notFound('alert rule', id);
      const next = { ...cur, ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) } as RuleRow;
      // null clears: params back to {}, hysteresis to 0
      next.params ??= {};
      next.hysteresis_pct ??= 0;
      const issues = ruleIssues(ruleShapeOf(next));
      if (issues.length) throw invalid(issues.map((i) => ({ in: 'body', field: i.path, message: i.message })));
      const r = await q.query<RuleRow>(
        `UPDATE alert_rules SET ${COLUMNS.map((c, i) => `${c} = $${i + 2}`).join(', ')}, updated_at = now() WHERE id = $1`,
        [id, ...COLUMNS.map((c) => (c === 'params' ? JSON.stringify(next.params) : next[c]))],
      );
      if (!r.rowCount) throw notFound('alert rule', id);
      return this.get(null, id, q);
    }, 'rule_updated');
  }

  async delete(actor: Actor, id: string): Promise<void> {
    await this.db.tx(async (q) => {
      await ownedForWrite(q, 'alert_rules', 'alert rule', id, actor);
      const r = await q.query('DELETE FROM alert_rules WHERE id = $1', [id]);
      if (!r.rowCount) throw notFound('alert rule', id);
    }, 'rule_deleted');
  }
}
