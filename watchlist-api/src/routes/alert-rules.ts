// /api/alert-rules: price alerts evaluated by the market feeder.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AlertRule, AlertRuleCreate, AlertRulePatch, IdParams, page, Pagination, problems } from '../schemas.js';

const errors = problems(400, 401, 404, 503);

export const alertRuleRoutes: FastifyPluginAsyncZod = async (app) => {
  const tags = ['alert-rules'];
  const security = [{ bearerAuth: [] }];

  app.get('/alert-rules', {
    schema: { tags, security, summary: 'List alert rules (limit/offset pagination)', querystring: Pagination, response: { 200: page(AlertRule), ...errors } },
    handler: async (req) => ({ ...(await app.alertRules.list(req.query.limit, req.query.offset)), limit: req.query.limit, offset: req.query.offset }),
  });

  app.post('/alert-rules', {
    schema: { tags, security, summary: 'Create an alert rule', body: AlertRuleCreate, response: { 201: AlertRule, ...problems(422), ...errors } },
    handler: async (req, reply) => reply.code(201).send(await app.alertRules.create(req.body)),
  });

  app.get('/alert-rules/:id', {
    schema: { tags, security, summary: 'One alert rule', params: IdParams, response: { 200: AlertRule, ...errors } },
    handler: async (req) => app.alertRules.get(req.params.id),
  });

  app.patch('/alert-rules/:id', {
    schema: { tags, security, summary: 'Change fields of an alert rule', params: IdParams, body: AlertRulePatch, response: { 200: AlertRule, ...errors } },
    handler: async (req) => app.alertRules.patch(req.params.id, req.body),
  });

  app.delete('/alert-rules/:id', {
    schema: { tags, security, summary: 'Delete an alert rule', params: IdParams, response: { 204: z.undefined(), ...errors } },
    handler: async (req, reply) => {
      await app.alertRules.delete(req.params.id);
      return reply.code(204).send();
    },
  });
};
