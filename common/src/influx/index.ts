export { influxConfigFromEnv, createInfluxTransport, influxAuthHeader, toV1Path } from './transport.js';
export { createInfluxSink, partialWriteBad, INFLUX_SINK_DEFAULTS, type InfluxSinkOptions } from './sink.js';
export { createInfluxQLClient, influxQLIdent, influxQLString, InfluxQLError } from './query.js';
export { bootstrapInflux, isAlreadyExists, type BootstrapOptions } from './bootstrap.js';
export { ensureScopedCredentials, authorizationDescription, v1User, type ScopedCredential } from './credentials.js';
