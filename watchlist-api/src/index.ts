export { buildApp, type App, type BuildOptions } from './app.js';
export { configSchema, type Config } from './config.js';
export { Db, migrate, isDbUnavailable } from './db.js';
