// InfluxDB reads (InfluxQL): the history of fired alerts and the stored series backtests replay.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { createInfluxQLClient, influxConfigFromEnv, type InfluxQLClient } from '@mt/common';
import type { Config } from '../config.js';
import { AlertEventRepo } from '../repos/alert-events.js';

declare module 'fastify' {
  interface FastifyInstance {
    influxql: InfluxQLClient;
    alertEvents: AlertEventRepo;
  }
}

export const influxPlugin = fp(async (app: FastifyInstance, opts: { config: Config; influxql?: InfluxQLClient }) => {
  const influxql = opts.influxql ?? createInfluxQLClient(influxConfigFromEnv(opts.config));
  app.decorate('influxql', influxql);
  app.decorate('alertEvents', new AlertEventRepo(influxql));
});
