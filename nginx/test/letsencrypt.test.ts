// Let's Encrypt automation, run as the containers run it (sh, with `certbot` and `nginx` stand-ins on PATH
// that record their calls): nginx/certbot/renew.sh issues once, retries a failed issue, then renews on its
// interval; nginx/docker-entrypoint.d/45-letsencrypt.sh switches nginx from the self-signed certificate to
// the issued one (certbot's live/ symlinks into archive/) and reloads exactly when the certificate changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@mt/testing';

const NGINX_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const NAME = 'terminal.example.org';

/** A directory on PATH with an executable `name` that appends its arguments to calls.log, then runs `body`. */
function stub(dir: string, name: string, body = 'exit 0'): string {
  mkdirSync(dir, { recursive: true });
  const f = path.join(dir, name);
  writeFileSync(f, `#!/bin/sh\necho "${name} $*" >> "${path.join(dir, 'calls.log')}"\n${body}\n`);
  chmodSync(f, 0o755);
  return path.join(dir, 'calls.log');
}
const calls = (log: string) => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) : []);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** certbot's layout: live/<name>/*.pem are relative symlinks to archive/<name>/*N.pem. */
function certbotIssue(le: string, n: number): void {
  const archive = path.join(le, 'archive', NAME);
  const live = path.join(le, 'live', NAME);
  mkdirSync(archive, { recursive: true });
  mkdirSync(live, { recursive: true });
  for (const f of ['fullchain', 'privkey']) {
    writeFileSync(path.join(archive, `${f}${n}.pem`), `${f} number ${n}\n`);
    rmSync(path.join(live, `${f}.pem`), { force: true });
    symlinkSync(`../../archive/${NAME}/${f}${n}.pem`, path.join(live, `${f}.pem`));
  }
}

test('45-letsencrypt.sh: self-signed until issued; then the issued certificate, one reload per issue or renewal', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mt-le-'));
  const certs = path.join(dir, 'certs');
  mkdirSync(certs);
  writeFileSync(path.join(certs, 'fullchain.pem'), 'self-signed\n');
  writeFileSync(path.join(certs, 'privkey.pem'), 'self-signed key\n');
  const bin = path.join(dir, 'bin');
  const log = stub(bin, 'nginx');
  const proc = spawn('sh', [path.join(NGINX_DIR, 'docker-entrypoint.d', '45-letsencrypt.sh')], {
    env: { PATH: `${bin}:${process.env.PATH}`, CERTS_DIR: certs, SERVER_NAME: NAME, LE_CHECK_INTERVAL: '1', LE_FOREGROUND: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  try {
    await sleep(2500);
    assert.deepEqual(calls(log), [], 'nothing issued: no reload');
    assert.equal(readFileSync(path.join(certs, 'fullchain.pem'), 'utf8'), 'self-signed\n');

    certbotIssue(certs, 1);
    await waitFor(() => calls(log).length === 1, 10_000, 'reload after issue');
    assert.deepEqual(calls(log), ['nginx -s reload']);
    assert.equal(readlinkSync(path.join(certs, 'fullchain.pem')), `live/${NAME}/fullchain.pem`, 'a relative link');
    assert.equal(readFileSync(path.join(certs, 'fullchain.pem'), 'utf8'), 'fullchain number 1\n');
    assert.equal(readFileSync(path.join(certs, 'privkey.pem'), 'utf8'), 'privkey number 1\n');

    await sleep(2500);
    assert.equal(calls(log).length, 1, 'no change: no reload');

    certbotIssue(certs, 2); // a renewal: new archive files, live links moved
    await waitFor(() => calls(log).length === 2, 10_000, 'reload after renewal');
    assert.equal(readFileSync(path.join(certs, 'fullchain.pem'), 'utf8'), 'fullchain number 2\n');
    // the script logs after the reload returns; its stdout can reach us after the stub's log line
    await waitFor(() => /certificate changed .*fullchain2\.pem.*nginx reloaded/.test(out), 10_000, 'the renewal logged').catch(() => undefined);
    assert.match(out, /serving the Let's Encrypt certificate of terminal\.example\.org/);
    assert.match(out, /certificate changed .*fullchain2\.pem.*nginx reloaded/);
  } finally {
    proc.kill('SIGTERM');
  }
});

test('45-letsencrypt.sh at container start: links a certificate issued earlier before nginx starts, then runs in the background', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mt-le-'));
  const certs = path.join(dir, 'certs');
  mkdirSync(certs);
  writeFileSync(path.join(certs, 'fullchain.pem'), 'self-signed\n');
  certbotIssue(certs, 3);
  // in its own process group (setsid), so the watcher it leaves behind can be stopped afterwards
  const res = spawnSync('setsid', ['sh', path.join(NGINX_DIR, 'docker-entrypoint.d', '45-letsencrypt.sh')], {
    env: { PATH: process.env.PATH, CERTS_DIR: certs, SERVER_NAME: NAME, LE_CHECK_INTERVAL: '3600' },
    timeout: 10_000,
    stdio: 'ignore',
  });
  try {
    assert.equal(res.status, 0, 'the entrypoint step returns at once (the watcher runs in the background)');
    assert.equal(readFileSync(path.join(certs, 'fullchain.pem'), 'utf8'), 'fullchain number 3\n');
    assert.equal(readFileSync(path.join(certs, 'privkey.pem'), 'utf8'), 'privkey number 3\n');
  } finally {
    try {
      process.kill(-res.pid!, 'SIGTERM');
    } catch {
      /* already gone */
    }
  }
});

test('certbot/renew.sh: refuses without a public name and e-mail; issues, retries a failed issue, then renews on its interval', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mt-certbot-'));
  const le = path.join(dir, 'letsencrypt');
  const bin = path.join(dir, 'bin');
  // the first `certonly` fails (port 80 not reachable yet), the second issues
  const log = stub(bin, 'certbot', `case "$1" in certonly) if [ -e "${dir}/failed-once" ]; then mkdir -p "${le}/live/${NAME}" && echo cert > "${le}/live/${NAME}/fullchain.pem"; else touch "${dir}/failed-once"; exit 1; fi ;; esac`);
  const script = path.join(NGINX_DIR, 'certbot', 'renew.sh');
  const base = { PATH: `${bin}:${process.env.PATH}`, LE_DIR: le, WEBROOT: '/var/www/certbot', RENEW_INTERVAL: '1', ISSUE_RETRY_INTERVAL: '1' };

  const refused = spawnSync('sh', [script], { env: { ...base, SERVER_NAME: 'localhost', LETSENCRYPT_EMAIL: 'ops@example.org' }, encoding: 'utf8' });
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /set SERVER_NAME .* and LETSENCRYPT_EMAIL/);
  assert.equal(spawnSync('sh', [script], { env: { ...base, SERVER_NAME: NAME }, encoding: 'utf8' }).status, 1);
  assert.deepEqual(calls(log), []);

  const proc = spawn('sh', [script], { env: { ...base, SERVER_NAME: NAME, LETSENCRYPT_EMAIL: 'ops@example.org' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  try {
    await waitFor(() => calls(log).filter((c) => c.startsWith('certbot renew')).length >= 2, 20_000, 'two renewal attempts');
  } finally {
    proc.kill('SIGTERM');
  }
  const seen = calls(log);
  assert.deepEqual(seen.slice(0, 2).map((c) => c.split(' ')[1]), ['certonly', 'certonly'], 'a failed issue is retried');
  assert.equal(seen[0], `certbot certonly --webroot -w /var/www/certbot -d ${NAME} --cert-name ${NAME} --email ops@example.org --agree-tos --non-interactive --keep-until-expiring`);
  assert.equal(seen[2], 'certbot renew --webroot -w /var/www/certbot --quiet --no-random-sleep-on-renew');
  assert.match(err, /issuing failed .*next attempt in 1/);
  assert.match(err, /issued the certificate of terminal\.example\.org/);
});
