// The real InfluxDB of a venue's influx test file, set up once for all venues: started and bootstrapped
// (markets, its retention policies) with a sink and an InfluxQL client before the tests; after them the
// sources stop, the sink flushes and closes, the fakes close and the server stops, in that order.
import { before, after } from 'node:test';
import { Registry } from 'prom-client';
import { startInflux, type InfluxServer } from '@mt/testing';
import { bootstrapInflux, createInfluxQLClient, createInfluxSink, createLogger, influxConfigFromEnv, type InfluxQLClient, type InfluxSink } from '@mt/common';

export interface VenueInflux {
  influx: InfluxServer;
  sink: InfluxSink;
  influxql: InfluxQLClient;
  /** The sink's metrics. */
  sinkRegistry: Registry;
  /** Stopped after the tests, before the sink closes. */
  sources: { stop(): Promise<void> }[];
  /** Closed after the sink. */
  fakes: { close(): Promise<void> }[];
}

/** Call at the top of a test file: the fields are set once its `before` hook ran. */
export function venueInflux(name: string): VenueInflux {
  const db = { sinkRegistry: new Registry(), sources: [], fakes: [] } as unknown as VenueInflux;
  before(async () => {
    db.influx = await startInflux();
    const cfg = influxConfigFromEnv({ INFLUX_URL: db.influx.url, INFLUX_TOKEN: '', INFLUX_ORG: '', INFLUX_API: 'v1' });
    const log = createLogger(name, 'silent');
    await bootstrapInflux(cfg, log);
    db.sink = createInfluxSink(cfg, { log, registry: db.sinkRegistry, flushIntervalMs: 200 });
    db.influxql = createInfluxQLClient(cfg);
  });
  after(async () => {
    for (const s of db.sources) await s.stop();
    await db.sink?.close();
    for (const f of db.fakes) await f.close();
    await db.influx?.stop();
  });
  return db;
}
