// /healthz: the process is up (liveness). /readyz: the database answers and the schema is migrated
// (readiness: what a load balancer or compose healthcheck should gate traffic on).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isDbUnavailable } from '../db.js';

const Health = z.object({ ok: z.boolean(), database: z.enum(['up', 'down', 'migrating']).optional(), detail: z.string().optional() });

export const healthRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get('/healthz', {
    schema: { tags: ['ops'], summary: 'Liveness: the process answers', response: { 200: Health } },
    handler: async () => ({ ok: true }),
  });

  app.get('/readyz', {
    schema: { tags: ['ops'], summary: 'Readiness: PostgreSQL reachable and migrated', response: { 200: Health, 503: Health } },
    handler: async (_req, reply) => {
      try {
        await app.db.query('SELECT 1');
      } catch (err) {
        if (!isDbUnavailable(err)) app.log.error({ err }, 'readiness query failed');
        return reply.code(503).send({ ok: false, database: 'down' as const, detail: (err as Error).message });
      }
      if (!app.dbState.migrated) return reply.code(503).send({ ok: false, database: 'migrating' as const });
      return { ok: true, database: 'up' as const };
    },
  });
};
