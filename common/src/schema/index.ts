// The storage schema (docs/INFLUXDB.md): measurement and field names, point builders, InfluxQL readers.
export * from './markets.js';
export * from './news.js';
