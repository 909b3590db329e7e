// /api/alert-rules: price alerts evaluated by the market feeder.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AlertRule as EvaluatedRule } from '@mt/common';
import { backtest } from '../backtest.js';
import { AlertRule, AlertRuleCreate, AlertRulePatch, BacktestRequest, BacktestResponse, IdParams, page, Pagination, problems } from '../schemas.js';

/** A rule as the evaluator takes it (defaults applied), from a stored rule or a draft. */
function evaluated(r: AlertRuleCreate | AlertRule, id: string): EvaluatedRule {
  return {
    id,
    symbol: r.symbol,
    condition: r.condition,
    threshold: r.threshold ?? null,
    window_seconds: r.window_seconds ?? null,
    cooldown_seconds: r.cooldown_seconds ?? 300,
    severity: r.severity ?? 'warning',
    timeframe: r.timeframe ?? null,
    params: r.params ?? {},
    trigger: r.trigger ?? 'every_time',
    hysteresis_pct: r.hysteresis_pct ?? 0,
  };
}

const errors = problems(400, 401, 403, 404, 503);

export const alertRuleRoutes: FastifyPluginAsyncZod = async (app) => {
  const tags = ['alert-rules'];
  const security = [{ bearerAuth: [] }];

  app.get('/alert-rules', {
    schema: { tags, security, summary: 'List alert rules (limit/offset pagination)', querystring: Pagination, response: { 200: page(AlertRule), ...errors } },
    handler: async (req) => ({ ...(await app.alertRules.list(req.actor, req.query.limit, req.query.offset)), limit: req.query.limit, offset: req.query.offset }),
  });

  app.post('/alert-rules', {
    schema: { tags, security, summary: 'Create an alert rule', body: AlertRuleCreate, response: { 201: AlertRule, ...problems(422), ...errors } },
    handler: async (req, reply) => reply.code(201).send(await app.alertRules.create(req.actor, req.body)),
  });

  app.post('/alert-rules/backtest', {
    schema: {
      tags,
      security,
      summary: 'Where a rule (stored or draft) would have fired: stored series replayed through the live evaluator',
      body: BacktestRequest,
      response: { 200: BacktestResponse, ...problems(502), ...errors },
    },
    handler: async (req) => {
      const { rule, rule_id: ruleId, days, to } = req.body;
      const r = rule ? evaluated(rule, 'draft') : evaluated(await app.alertRules.get(req.actor, ruleId!), ruleId!);
      return backtest(app.influxql, r, days, to ? Date.parse(to) : Date.now());
    },
  });

  app.get('/alert-rules/:id', {
    schema: { tags, security, summary: 'One alert rule', params: IdParams, response: { 200: AlertRule, ...errors } },
    handler: async (req) => app.alertRules.get(req.actor, req.params.id),
  });

  app.patch('/alert-rules/:id', {
    schema: { tags, security, summary: 'Change fields of an alert rule', params: IdParams, body: AlertRulePatch, response: { 200: AlertRule, ...errors } },
    handler: async (req) => app.alertRules.patch(req.actor, req.params.id, req.body),
  });

  app.delete('/alert-rules/:id', {
    schema: { tags, security, summary: 'Delete an alert rule', params: IdParams, response: { 204: z.undefined(), ...errors } },
    handler: async (req, reply) => {
      await app.alertRules.delete(req.actor, req.params.id);
      return reply.code(204).send();
    },
  });
};
