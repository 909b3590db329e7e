export * from './real/proc.js';
export * from './fakes/http-fake.js';
export * from './fixtures.js';
export * from './real/influxdb.js';
export * from './real/service.js';
export * from './real/nginx.js';
export * from './real/postgres.js';
export * from './fakes/binance.js';
