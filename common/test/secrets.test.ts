// Secrets from `<NAME>_FILE`, the refusal of committed placeholders (one line naming the variable), and
// the compose `secrets` one-shot: first start generates strong secrets, later starts keep them, a value
// from `.env` wins, a placeholder in `.env` is refused before anything is written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ConfigError, influxEnv, parseConfig, watchEnv } from '../src/config.js';
import { placeholderIssues, readSecretFiles } from '../src/secrets.js';
import { GENERATED_SECRETS, describeSecrets, initSecrets } from '../src/secrets-store.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'mt-secrets-'));
const schema = z.object({ ...influxEnv, ...watchEnv });

test('<NAME>_FILE fills a secret variable from the file (trailing newlines dropped, as the postgres and influxdb images do); other _FILE variables are left alone', () => {
  const dir = tmp();
  writeFileSync(path.join(dir, 'tok'), 'tok/en@with:odd#chars%\n');
  writeFileSync(path.join(dir, 'pw'), 'p@ss w0rd\n\n');
  const c = parseConfig(schema, { INFLUX_TOKEN_FILE: path.join(dir, 'tok'), PGPASSWORD_FILE: path.join(dir, 'pw'), LOG_FILE: '/nonexistent' });
  assert.equal(c.INFLUX_TOKEN, 'tok/en@with:odd#chars%');
  assert.equal(c.PGPASSWORD, 'p@ss w0rd');
  assert.deepEqual(readSecretFiles({ LOG_FILE: '/nonexistent' }).issues, []);
});

test('a missing or empty secret file, or a secret set twice, stops the start naming the variable', () => {
  const dir = tmp();
  writeFileSync(path.join(dir, 'empty'), '');
  const msg = (env: Record<string, string>) => {
    try {
      parseConfig(schema, env);
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      return e.message;
    }
    assert.fail('accepted');
  };
  assert.match(msg({ INFLUX_TOKEN_FILE: path.join(dir, 'nope') }), /INFLUX_TOKEN_FILE: cannot read .*nope \(ENOENT\)/);
  assert.match(msg({ INFLUX_TOKEN_FILE: path.join(dir, 'empty') }), /INFLUX_TOKEN_FILE: .* is empty/);
  assert.match(msg({ INFLUX_TOKEN_FILE: path.join(dir, 'empty'), INFLUX_TOKEN: 'x' }), /INFLUX_TOKEN: set both INFLUX_TOKEN and INFLUX_TOKEN_FILE/);
});

test('committed placeholders are refused outside tests, naming the variable; NODE_ENV=test accepts them', () => {
  assert.deepEqual(placeholderIssues({ API_TOKEN: 'a-real-token-0123456789', INFLUX_TOKEN: 'x', DATABASE_URL: 'postgres://u:pw@h/db' }), []);
  const refused = placeholderIssues({ API_TOKEN: 'change-me-api-token', INFLUX_TOKEN: 'market-terminal-dev-token', DATABASE_URL: 'postgres://u:change-me-pg@h/db', SERVER_NAME: 'change-me' });
  assert.deepEqual(refused.map((i) => i.split(':')[0]), ['API_TOKEN', 'INFLUX_TOKEN', 'DATABASE_URL']);
  assert.match(refused[0]!, /"change-me-api-token" is the committed placeholder/);
  assert.deepEqual(placeholderIssues({ NODE_ENV: 'test', API_TOKEN: 'change-me-api-token' }), []);
  // from a file too
  const dir = tmp();
  writeFileSync(path.join(dir, 't'), 'change-me-influx\n');
  assert.throws(() => parseConfig(schema, { INFLUX_TOKEN_FILE: path.join(dir, 't') }), /INFLUX_TOKEN: "change-me-influx" is the committed placeholder/);
});

test('a service started with a placeholder exits 1 with one log line naming the variable', () => {
  const res = spawnSync(process.execPath, ['--conditions=source', '--import', import.meta.resolve('tsx'), path.join(ROOT, 'watchlist-api/src/server.ts')], {
    cwd: tmp(),
    env: { PATH: process.env.PATH, NODE_ENV: 'production', API_TOKEN: 'change-me-api-token', DATABASE_URL: 'postgres://127.0.0.1:1/x' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(res.status, 1, res.stderr);
  const lines = res.stderr.trim().split('\n');
  assert.equal(lines.length, 1, res.stderr);
  assert.match(lines[0]!, /^config error: API_TOKEN: "change-me-api-token" is the committed placeholder/);
});

test('first start generates distinct strong secrets; the next start keeps them; .env wins; a placeholder is refused', () => {
  const root = tmp();
  const first = initSecrets(root, {});
  assert.deepEqual(first.generated, GENERATED_SECRETS.map((s) => s.env));
  const values = GENERATED_SECRETS.map((s) => readFileSync(path.join(root, s.file), 'utf8'));
  for (const v of values) assert.match(v, /^[A-Za-z0-9_-]{43}\n$/, '32 random bytes, base64url');
  assert.equal(new Set(values).size, values.length);
  for (const s of GENERATED_SECRETS) assert.equal(statSync(path.join(root, s.file)).mode & 0o777, 0o444);

  const second = initSecrets(root, {});
  assert.deepEqual(second.kept, GENERATED_SECRETS.map((s) => s.env));
  assert.deepEqual(GENERATED_SECRETS.map((s) => readFileSync(path.join(root, s.file), 'utf8')), values);

  const own = 'my own p@ss/w:rd#%';
  const third = initSecrets(root, { POSTGRES_PASSWORD: own });
  assert.deepEqual(third.fromEnv, ['POSTGRES_PASSWORD']);
  assert.equal(readFileSync(path.join(root, 'postgres/password'), 'utf8'), `${own}\n`);

  assert.throws(() => initSecrets(root, { GRAFANA_ADMIN_PASSWORD: 'change-me-grafana-admin' }), /GRAFANA_ADMIN_PASSWORD: "change-me-grafana-admin" is the committed placeholder/);
  assert.equal(readFileSync(path.join(root, 'grafana/admin-password'), 'utf8'), values[1], 'nothing written');
});

test('the secrets one-shot: init, then show prints where each secret is and its value', () => {
  const root = tmp();
  const bin = path.join(ROOT, 'common/src/bin/secrets.ts');
  const run = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, ['--conditions=source', '--import', import.meta.resolve('tsx'), bin, ...args], { env: { PATH: process.env.PATH, SECRETS_DIR: root, ...env }, encoding: 'utf8', timeout: 30_000 });
  const init = run(['init']);
  assert.equal(init.status, 0, init.stderr);
  const line = JSON.parse(init.stdout.trim()) as { msg: string; generated: string[] };
  assert.equal(line.generated.length, GENERATED_SECRETS.length);
  const show = run(['show']);
  assert.equal(show.status, 0);
  const token = readFileSync(path.join(root, 'api/api-token'), 'utf8').trim();
  assert.match(show.stdout, new RegExp(`watchlist API bearer token.*\\n  ${root}/api/api-token\\n  ${token}`));
  assert.equal(describeSecrets(root).length, GENERATED_SECRETS.length);
  const refused = run(['init'], { API_TOKEN: 'change-me-api-token' });
  assert.equal(refused.status, 1);
  assert.equal(refused.stderr.trim().split('\n').length, 1);
  assert.match(refused.stderr, /^config error: API_TOKEN: /);
});
