// Shared set-up for the API tests: a real PostgreSQL, a fresh database per app, and request helpers.
import { parseConfig } from '@mt/common';
import { buildApp, type App } from '../src/app.js';
import { configSchema, type Config } from '../src/config.js';

export const TOKEN = 'test-token-0123456789abcdef';
export const auth = { authorization: `Bearer ${TOKEN}` };

let dbCounter = 0;
export function uniqueDbName(prefix: string): string {
  return `${prefix}_${process.pid}_${++dbCounter}`;
}

export function testConfig(databaseUrl: string, extra: Record<string, string> = {}): Config {
  return parseConfig(configSchema, { NODE_ENV: 'test', DATABASE_URL: databaseUrl, API_TOKEN: TOKEN, LOG_LEVEL: 'silent', ...extra });
}

export async function testApp(databaseUrl: string, extra: Record<string, string> = {}): Promise<App> {
  const app = await buildApp({ config: testConfig(databaseUrl, extra) });
  await app.ready();
  return app;
}

/** app.inject with the bearer token and a JSON body; returns status, headers and parsed body. */
export async function call<T = Record<string, unknown>>(
  app: App,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  body?: unknown,
  headers: Record<string, string> = auth,
): Promise<{ status: number; body: T; headers: Record<string, unknown> }> {
  const res = await app.inject({ method, url, headers, ...(body === undefined ? {} : { payload: body as object }) });
  return { status: res.statusCode, body: (res.body ? JSON.parse(res.body) : undefined) as T, headers: res.headers };
}
