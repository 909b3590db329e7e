// /api/alert-events: every fired alert, as the market feeder stored it (alert_events in InfluxDB).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AlertEvent, AlertEventQuery, problems } from '../schemas.js';

/** What `since` defaults to: the raw bucket's retention, i.e. everything still stored. */
const DEFAULT_LOOKBACK_MS = 7 * 86_400_000;

export const alertEventRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get('/alert-events', {
    schema: {
      tags: ['alert-events'],
      security: [{ bearerAuth: [] }],
      summary: 'Fired alerts, newest first',
      querystring: AlertEventQuery,
      response: { 200: z.object({ data: z.array(AlertEvent) }), ...problems(400, 401, 502, 503) },
    },
    handler: async (req) => {
      const since = req.query.since ? new Date(req.query.since) : new Date(Date.now() - DEFAULT_LOOKBACK_MS);
      // the desk's whole history for an admin; a trader's or viewer's only of the rules they can see
      const ruleIds = req.actor.role === 'admin' ? undefined : await app.alertRules.visibleIds(req.actor);
      return { data: await app.alertEvents.list({ symbol: req.query.symbol, since, limit: req.query.limit, ruleIds }) };
    },
  });
};
