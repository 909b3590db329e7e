// `.env.example` is the one list of every variable: each service's zod schema and every ${VAR} the
// compose file reads must be in it, and its values must pass the schemas (the documented defaults work).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'dotenv';
import { parseConfig, schemaKeys } from '@mt/common';
import { marketSchema } from '../../feeders/src/market/config.ts';
import { newsSchema } from '../../feeders/src/news/config.ts';
import { configSchema as apiSchema } from '../../watchlist-api/src/config.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const example = parse(readFileSync(path.join(ROOT, '.env.example'), 'utf8'));

const schemas = { 'market feeder': marketSchema, 'news feeder': newsSchema, 'watchlist API': apiSchema } as const;

for (const [name, schema] of Object.entries(schemas)) {
  test(`.env.example lists every variable of the ${name}`, () => {
    const missing = schemaKeys(schema).filter((k) => k !== 'NODE_ENV' && !(k in example));
    assert.deepEqual(missing, []);
  });
  test(`the ${name} accepts the values documented in .env.example`, () => {
    // the secrets are empty by design (compose generates them and passes them as files): give the API its
    // token the way compose does
    const token = path.join(mkdtempSync(path.join(os.tmpdir(), 'mt-env-')), 'api-token');
    writeFileSync(token, 'a-generated-token-0123456789\n');
    assert.doesNotThrow(() => parseConfig(schema, name === 'watchlist API' ? { ...example, API_TOKEN: '', API_TOKEN_FILE: token } : example));
  });
}

test('.env.example lists every variable docker-compose.yml reads', () => {
  const compose = readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
  const used = new Set([...compose.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]!));
  assert.ok(used.size > 10);
  assert.deepEqual([...used].filter((k) => !(k in example)), []);
});

test('the contract variables (docs/API.md, docs/SOURCES.md) are all there', () => {
  const contract = [
    'INFLUX_URL', 'INFLUX_TOKEN', 'INFLUX_ORG', 'INFLUX_API', 'DATABASE_URL', 'BINANCE_WS_URL', 'BINANCE_REST_URL', 'YAHOO_URL',
    'COINGECKO_URL', 'FEAR_GREED_URL', 'CRYPTOPANIC_URL', 'CRYPTOPANIC_TOKEN', 'NEWSAPI_URL', 'NEWSAPI_KEY', 'RSS_FEEDS',
    'BACKFILL_HOURS', 'LOG_LEVEL', 'ALERTMANAGER_URL', 'API_TOKEN', 'METRICS_PORT', 'PORT',
    'COINBASE_WS_URL', 'COINBASE_REST_URL', 'KRAKEN_WS_URL', 'KRAKEN_REST_URL', 'BINANCE_FUTURES_WS_URL', 'BINANCE_FUTURES_REST_URL', 'DEPTH_BOOKS',
  ];
  assert.deepEqual(contract.filter((k) => !(k in example)), []);
});
