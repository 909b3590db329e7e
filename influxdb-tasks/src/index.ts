export * from './spec.js';
export * from './influxql.js';
export * from './flux.js';
export * from './rp-config.js';
export * from './apply.js';
