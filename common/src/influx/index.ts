export { influxConfigFromEnv, createInfluxTransport, toV1Path } from './transport.js';
export { createInfluxSink, partialWriteBad, type InfluxSinkOptions } from './sink.js';
export { createInfluxQLClient, influxQLString, InfluxQLError } from './query.js';
export { bootstrapInflux, type BootstrapOptions } from './bootstrap.js';
