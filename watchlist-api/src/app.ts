// Builds the Fastify app (no listening: tests drive it with app.inject(), server.ts listens).
import Fastify, { LogController } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Registry } from 'prom-client';
import { createLogger, createRegistry, type Logger } from '@mt/common';
import type { Config } from './config.js';
import { dbPlugin } from './plugins/db.js';
import { influxPlugin } from './plugins/influx.js';
import { metricsPlugin } from './plugins/metrics.js';
import { identities, requireIdentity } from './plugins/auth.js';
import { ApiProblem, problemPlugin, sendProblem, writeClientErrorProblem } from './problem.js';
import { alertEventRoutes } from './routes/alert-events.js';
import { alertRuleRoutes } from './routes/alert-rules.js';
import { healthRoutes } from './routes/health.js';
import { layoutRoutes } from './routes/layouts.js';
import { sessionRoutes } from './routes/session.js';
import { meRoutes, userRoutes } from './routes/users.js';
import { watchlistRoutes } from './routes/watchlists.js';

export interface BuildOptions {
  config: Config;
  log?: Logger;
  registry?: Registry;
  /** 'now' (default): migrate before ready, fail if the DB is down. 'background': retry until it works. */
  migrate?: 'now' | 'background';
}

export type App = Awaited<ReturnType<typeof buildApp>>;

export async function buildApp(opts: BuildOptions) {
  const { config } = opts;
  const app = Fastify({
    loggerInstance: opts.log ?? createLogger('watchlist-api', config.LOG_LEVEL),
    // one debug line per request comes from the metrics hook instead
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.BODY_LIMIT_BYTES,
    // ids in paths are UUIDs; anything longer is noise
    routerOptions: { maxParamLength: 100 },
    // errors raised during route lookup (an undecodable URL, an over-long parameter) bypass the error
    // handler: answer them as problems too
    frameworkErrors: (err, req, reply) => {
      sendProblem(reply, req, new ApiProblem(err.statusCode && err.statusCode < 500 ? err.statusCode : 400, err.message));
    },
    // and a request node's HTTP parser refuses (headers over 16 KB, malformed request line) never reaches fastify
    clientErrorHandler: writeClientErrorProblem,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // Clients often send `content-type: application/json` on a DELETE without a body: treat an empty body
  // as none (fastify would 400 it); anything else goes through the default, poisoning-safe parser.
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = body.toString();
    if (text === '') done(null, undefined);
    else jsonParser(req, text, done);
  });

  await app.register(problemPlugin);
  await app.register(metricsPlugin, { registry: opts.registry ?? createRegistry('watchlist-api') });
  await app.register(dbPlugin, { config, migrate: opts.migrate ?? 'now' });
  await app.register(influxPlugin, { config });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Market terminal watchlist API',
        version: '1.0.0',
        description:
          'Watchlists (the instruments the feeders collect) and price-alert rules. Every change reaches the feeders within a second. ' +
          'Errors are application/problem+json. List routes page with `limit`/`offset`. ' +
          'Users (admin/trader/viewer) each have their own tokens; watchlists, rules and layouts belong to a user and may be shared read-only.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(healthRoutes);
  const ids = identities(app, config.API_TOKEN, config.API_ADMIN_USER);
  await app.register(sessionRoutes, { ids });
  await app.register(
    async (api) => {
      requireIdentity(api, ids);
      // unknown /api paths also pass the token check first: no probing for which routes exist
      api.setNotFoundHandler((req, reply) => sendProblem(reply, req, new ApiProblem(404, `no route ${req.method} ${req.url.split('?')[0]}`)));
      api.addHook('preHandler', async (req, reply) => {
        if (!app.dbState.migrated) return sendProblem(reply, req, new ApiProblem(503, 'the database is not ready yet; retry shortly'));
      });
      await api.register(watchlistRoutes);
      await api.register(alertRuleRoutes);
      await api.register(alertEventRoutes);
      await api.register(layoutRoutes);
      await api.register(meRoutes);
      await api.register(userRoutes);
    },
    { prefix: '/api' },
  );
  return app;
}
