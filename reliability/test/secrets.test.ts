// No secret in the repository or in the image build context. Three checks:
// 1. every tracked file (and every untracked one that is not git-ignored, i.e. about to be committed) is
//    scanned for credentials with an unmistakable shape (private keys, cloud/API/bot tokens, credentials
//    in URLs);
// 2. secret-named settings in the deployment files (compose, .env.example, templates, shell, nginx) are
//    empty or references to the environment — no placeholder either: compose generates the secrets on
//    first start — and every service refuses a committed placeholder (`change-me-*`) outside tests;
// 3. the docker build context (the working tree minus .dockerignore, including untracked files such as
//    a real `.env` or the generated TLS key) holds no secret file and nothing matching (1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { ConfigError, parseConfig, schemaKeys } from '@mt/common';
import { marketSchema } from '../../feeders/src/market/config.ts';
import { newsSchema } from '../../feeders/src/news/config.ts';
import { configSchema as apiSchema } from '../../watchlist-api/src/config.ts';
import { DEMO_NEWS_TOKEN } from '../../bench/demo-sources.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const SHAPES: [string, RegExp][] = [
  ['private key', /-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----/],
  ['AWS access key id', /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/],
  ['GitHub token', /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b/],
  ['Slack token', /\bxox[abprs]-[A-Za-z0-9-]{10,}/],
  ['Telegram bot token', /\b\d{8,10}:AA[A-Za-z0-9_-]{33}\b/],
  ['Google API key', /\bAIza[0-9A-Za-z_-]{35}\b/],
  ['Stripe live key', /\b[sr]k_live_[0-9A-Za-z]{20,}/],
  ['npm token', /\bnpm_[A-Za-z0-9]{36}\b|_authToken\s*=\s*[^\s$]/],
  ['SendGrid key', /\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b/],
  // in a URL, unless the password is a placeholder or a variable (${VAR} or $VAR)
  ['password in a URL', /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@'"]+:(?!\$\{|\$[A-Z_]|terminal@|pass(?:word)?@|secret@|pw@|x@|change-me)[^\s:/@'"]{3,}@/],
];


const SECRET_NAME = /(PASSWORD|PASSWD|TOKEN|SECRET|API_KEY|APIKEY|PRIVATE_KEY|NEWSAPI_KEY)$/;

function scan(file: string, text: string): string[] {
  return SHAPES.filter(([, re]) => re.test(text)).map(([what]) => `${file}: ${what} (${re(text, SHAPES.find(([w]) => w === what)![1])})`);
}
const re = (text: string, r: RegExp) => (r.exec(text)?.[0] ?? '').slice(0, 12) + '…';

function readText(file: string): string | undefined {
  const buf = readFileSync(file);
  if (buf.length > 5_000_000 || buf.subarray(0, 8000).includes(0)) return undefined; // binary or huge
  return buf.toString('utf8');
}

const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 }).split('\n').filter(Boolean);

test('no credential-shaped string in any tracked or about-to-be-committed file', () => {
  const files = [...git('ls-files'), ...git('ls-files', '--others', '--exclude-standard')];
  assert.ok(files.length > 100, `${files.length} files`);
  const found = files.flatMap((f) => {
    const text = statSync(path.join(ROOT, f), { throwIfNoEntry: false })?.isFile() ? readText(path.join(ROOT, f)) : undefined;
    return text === undefined ? [] : scan(f, text);
  });
  assert.deepEqual(found, []);
  // and no file that is a secret by its name
  assert.deepEqual(files.filter((f) => /(^|\/)(\.env|id_rsa|id_ed25519)$|\.(pem|key|p12|pfx)$/.test(f)), []);
});

test('the scanner finds what it looks for (the shapes above are not dead)', () => {
  // built from pieces so that this file does not match itself
  const samples = [
    `-----BEGIN ${'PRIVATE'} KEY-----`,
    `${'AKIA'}IOSFODNN7EXAMPLE`,
    `ghp_${'a1'.repeat(18)}`,
    `${'xox'}b-1234567890-abcdefghij`,
    `123456789:AA${'b'.repeat(33)}`,
    `AIza${'c'.repeat(35)}`,
    `sk_live_${'d'.repeat(24)}`,
    `//registry.npmjs.org/:${'_auth'}Token=abc`,
    `SG.${'e'.repeat(22)}.${'f'.repeat(43)}`,
    `postgres://admin:${'hunter22'}@db:5432/x`,
  ];
  for (const s of samples) assert.equal(scan('sample', s).length, 1, s);
  assert.deepEqual(scan('sample', 'postgres://terminal:${POSTGRES_PASSWORD:-terminal}@postgres:5432/terminal'), []);
  assert.deepEqual(scan('sample', 'postgres://terminal:$POSTGRES_PASSWORD@postgres:5432/terminal'), []);
});

/** `KEY: value` / `KEY=value` lines with a secret-looking name whose value is a literal that is not a documented placeholder. */
function badSecretSettings(file: string, text: string, placeholders: Set<string>): string[] {
  const bad: string[] = [];
  for (const m of text.matchAll(/^[ \t-]*([A-Z][A-Z0-9_]*)[ \t]*[:=][ \t]*(.*)$/gm)) {
    const [, key, raw] = m as unknown as [string, string, string];
    if (!SECRET_NAME.test(key) || key.endsWith('_FILE') || key.endsWith('_PATH')) continue;
    const value = raw.replace(/\s+#.*$/, '').trim().replace(/^["']|["']$/g, '');
    const defaults = [...value.matchAll(/\$\{[A-Z0-9_]+(?::?-([^}]*))?\}/g)].map((d) => d[1] ?? '');
    const literal = value.replace(/\$\{[^}]*\}/g, '');
    // the demo profile's credentials for its own local fakes (bench/demo-sources.ts), not secrets
    if (key.startsWith('DEMO_') && value === DEMO_NEWS_TOKEN) continue;
    const ok = (v: string) => v === '' || placeholders.has(v) || /^\$[A-Z_]|^\$\{/.test(v);
    if (!defaults.every(ok) || !(ok(literal) || /^\$/.test(value))) bad.push(`${file}: ${key}=${value}`);
  }
  return bad;
}

test('secret settings in the deployment files are empty or from the environment; no committed placeholder anywhere', () => {
  // no value is allowed: not even a documented placeholder
  const placeholders = new Set<string>();
  const deploymentFiles = git('ls-files').filter((f) => /^(docker-compose[^/]*\.ya?ml|\.env\.example|Dockerfile|[^/]+\/Dockerfile|.*\.(tmpl|conf|sh))$/.test(f) && !f.includes('/test/'));
  assert.ok(deploymentFiles.includes('docker-compose.yml') && deploymentFiles.includes('.env.example'));
  const bad = deploymentFiles.flatMap((f) => badSecretSettings(f, readFileSync(path.join(ROOT, f), 'utf8'), placeholders));
  assert.deepEqual(bad, []);
  // the check itself flags a literal secret and a non-placeholder default
  assert.equal(badSecretSettings('x', `      API_TOKEN: s3cr3t-value-123\n      SMTP_PASSWORD: \${SMTP_PASSWORD:-hunter2}\n`, placeholders).length, 2);
  // .env.example holds no secret value at all
  const example = readFileSync(path.join(ROOT, '.env.example'), 'utf8');
  assert.deepEqual([...example.matchAll(/^([A-Z0-9_]+)=(.+)$/gm)].filter((m) => SECRET_NAME.test(m[1]!)).map((m) => m[0]), []);
  // and no deployment file carries a placeholder value the services would refuse
  assert.deepEqual(deploymentFiles.filter((f) => /(?:[=:][ \t]*|:-)["']?change-me|market-terminal-dev-token/.test(readFileSync(path.join(ROOT, f), 'utf8'))), []);
});

test('every service refuses a committed placeholder in any of its secret variables, with one issue naming it', () => {
  const schemas: [string, z.ZodType][] = [
    ['market feeder', marketSchema],
    ['news feeder', newsSchema],
    ['watchlist API', apiSchema],
  ];
  let checked = 0;
  for (const [name, schema] of schemas) {
    const secrets = schemaKeys(schema).filter((k) => SECRET_NAME.test(k));
    assert.ok(secrets.length >= 2, `${name} has secret variables (${secrets.join(', ')})`);
    for (const key of secrets) {
      const value = key === 'DATABASE_URL' ? 'postgres://terminal:change-me-postgres@postgres:5432/terminal' : 'change-me-please-0123456789';
      for (const env of [{ [key]: value }, { [key]: value, NODE_ENV: 'production' }]) {
        assert.throws(() => parseConfig(schema, { API_TOKEN: 'a-real-token-0123456789', ...env }), (e: unknown) => e instanceof ConfigError && e.issues.length === 1 && e.issues[0]!.startsWith(`${key}: `), `${name} ${key}`);
      }
      // and accepted in tests, where fixed values are the point
      assert.doesNotThrow(() => parseConfig(schema, { API_TOKEN: 'a-real-token-0123456789', [key]: value, NODE_ENV: 'test' }), `${name} ${key} in tests`);
      checked++;
    }
  }
  assert.ok(checked >= 8, `${checked} secret variables checked`);
});

/** Go filepath.Match-style .dockerignore patterns (with `**` and `!` exceptions) → a predicate over relative paths. */
function dockerignore(text: string): (rel: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const p = path.posix.normalize((negate ? l.slice(1) : l).replace(/^\/+/, '')).replace(/\/+$/, '');
      const rx = p
        .split('/')
        .map((seg) => (seg === '**' ? '(?:.*)' : seg.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')))
        .join('/')
        .replace(/\(\?:\.\*\)\//g, '(?:.*/)?');
      return { negate, re: new RegExp(`^${rx}(?:/.*)?$`) };
    });
  return (rel) => {
    let ignored = false;
    for (const r of rules) if (r.re.test(rel)) ignored = !r.negate;
    return ignored;
  };
}

test('the docker build context holds no secret file and no credential', () => {
  const ignored = dockerignore(readFileSync(path.join(ROOT, '.dockerignore'), 'utf8'));
  // the matcher reads the patterns the way docker does
  for (const p of ['.env', 'node_modules/x', 'feeders/node_modules/x', 'feeders/dist/a.js', 'nginx/certs/server.key', 'feeders/test/a.test.ts', '.git/config']) assert.ok(ignored(p), `${p} ignored`);
  for (const p of ['feeders/src/market/main.ts', 'package.json', '.npmrc', 'watchlist-api/migrations/001.sql']) assert.ok(!ignored(p), `${p} sent`);

  const context: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(path.join(ROOT, dir))) {
      const rel = dir ? `${dir}/${name}` : name;
      if (ignored(rel)) continue;
      const st = statSync(path.join(ROOT, rel), { throwIfNoEntry: false });
      if (st?.isDirectory()) walk(rel);
      else if (st?.isFile()) context.push(rel);
    }
  };
  walk('');
  assert.ok(context.includes('Dockerfile') && context.some((f) => f.startsWith('feeders/src/')), 'the context has the sources');
  assert.deepEqual(context.filter((f) => /(^|\/)(\.env(\..+)?|id_rsa|id_ed25519)$|\.(pem|key|p12|pfx|crt)$/.test(f) && !f.endsWith('.env.example')), [], 'no secret file in the context');
  assert.deepEqual(context.flatMap((f) => {
    const text = readText(path.join(ROOT, f));
    return text === undefined ? [] : scan(f, text);
  }), []);
  // .npmrc is copied into the image: it must carry no registry credential
  assert.doesNotMatch(readFileSync(path.join(ROOT, '.npmrc'), 'utf8'), /_auth|_password|token/i);
});
