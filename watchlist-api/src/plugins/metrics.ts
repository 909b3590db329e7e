// /metrics on the API port: request latency by route template (never the raw URL, which would explode
// cardinality with ids) and the count of change notifications sent to the feeders.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Histogram, type Registry } from 'prom-client';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: { registry: Registry; notify: Counter };
  }
}

export const metricsPlugin = fp(async (app: FastifyInstance, opts: { registry: Registry }) => {
  const { registry } = opts;
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const notify = new Counter({ name: 'watchlist_notify_total', help: 'Change notifications sent to the feeders (committed changes)', registers: [registry] });
  app.decorate('metrics', { registry, notify });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    duration.observe({ method: req.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
    req.log.debug({ method: req.method, url: req.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });

  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    return reply.type(registry.contentType).send(await registry.metrics());
  });
});
