export * from './defaults.js';
export * from './dashboards.js';
