// The committed Alertmanager template, rendered the way the container renders it, checked by Debian's
// amtool (config check, route tests) and by a real Alertmanager (inhibition).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderAlertmanagerConfig, startAlertmanager, tmpDir, waitFor, which, ALERTMANAGER_DIR, type AlertmanagerServer } from '@mt/testing';

const FULL_ENV = {
  TELEGRAM_API_URL: 'http://127.0.0.1:1',
  TELEGRAM_BOT_TOKEN: '123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11',
  TELEGRAM_CHAT_ID: '-1001234567890',
  ALERT_EMAIL_TO: 'ops@example.org',
  ALERT_EMAIL_FROM: 'alerts@example.org',
  SMTP_SMARTHOST: '127.0.0.1:2',
  SMTP_USERNAME: 'alerts',
  SMTP_PASSWORD: 'p"ss\\word',
  DISCORD_WEBHOOK_URL: 'https://discord.com/api/webhooks/1180000000000000001/tok_en',
  SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/secret',
  ALERT_WEBHOOK_URL: 'http://127.0.0.1:3/alerts?token=a&b=c',
};

function amtool(...args: string[]): string {
  try {
    return execFileSync(which('amtool'), args, { encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new Error(`amtool ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

describe('alertmanager config', () => {
  test('amtool check-config: rendered with Telegram and e-mail', () => {
    const file = renderAlertmanagerConfig(FULL_ENV);
    const out = amtool('check-config', file);
    assert.match(out, /SUCCESS/);
    assert.match(out, /2 inhibit rules/);
    assert.match(out, /1 templates/);
  });

  test('amtool check-config: rendered with nothing configured (compose defaults) still starts', () => {
    const file = renderAlertmanagerConfig({});
    assert.match(amtool('check-config', file), /SUCCESS/);
    const text = readFileSync(file, 'utf8');
    assert.doesNotMatch(text, /telegram_configs|email_configs/);
  });

  test('secrets: read from *_FILE, escaped, written 0600, never in the committed files', () => {
    const dir = tmpDir('am-secrets');
    const tokenFile = path.join(dir, 'token');
    writeFileSync(tokenFile, '999:from"file\n');
    const file = renderAlertmanagerConfig({ ...FULL_ENV, TELEGRAM_BOT_TOKEN: '', TELEGRAM_BOT_TOKEN_FILE: tokenFile }, { dir });
    const text = readFileSync(file, 'utf8');
    assert.match(text, /bot_token: "999:from\\"file"/);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    // the SMTP password goes to a 0600 file that Alertmanager reads (auth_password_file)
    assert.match(text, new RegExp(`smtp_auth_password_file: "${dir}/smtp_password"`));
    assert.equal(readFileSync(path.join(dir, 'smtp_password'), 'utf8'), FULL_ENV.SMTP_PASSWORD);
    assert.equal(statSync(path.join(dir, 'smtp_password')).mode & 0o777, 0o600);
    assert.doesNotMatch(text, /p"ss/);
    const committed = readFileSync(path.join(ALERTMANAGER_DIR, 'alertmanager.yml.tmpl'), 'utf8');
    assert.doesNotMatch(committed, /bot_token: "[^$]/);
    assert.match(amtool('check-config', file), /SUCCESS/);
  });

  test('the renderer gives the same config with gawk and mawk (the container has busybox awk)', () => {
    const awks = ['/usr/bin/gawk', '/usr/bin/mawk'].filter((a) => existsSync(a));
    assert.ok(awks.length >= 1);
    const rendered = awks.map((awk) => {
      const dir = tmpDir('am-awk');
      mkdirSync(path.join(dir, 'bin'));
      symlinkSync(awk, path.join(dir, 'bin', 'awk'));
      const env = { ...FULL_ENV, PATH: `${dir}/bin:/usr/bin:/bin`, TELEGRAM_BOT_TOKEN: 'a"b\\c&d' };
      // the output dir is part of the text (password file path): render both into same-named dirs
      const text = readFileSync(renderAlertmanagerConfig(env, { dir: path.join(dir, 'out') }), 'utf8');
      return text.replaceAll(dir, 'DIR');
    });
    for (const r of rendered) assert.match(r, /bot_token: "a\\"b\\\\c&d"/);
    if (rendered.length === 2) assert.equal(rendered[0], rendered[1]);
  });

  test('a non-numeric chat id is refused at render time', () => {
    assert.throws(() => renderAlertmanagerConfig({ ...FULL_ENV, TELEGRAM_CHAT_ID: '@channel' }));
  });

  test('amtool config routes test: each kind of alert reaches its receiver', () => {
    const file = renderAlertmanagerConfig(FULL_ENV);
    const cases: [string, string[]][] = [
      ['price', ['alertname=PriceAlert', 'severity=warning', 'symbol=BTC/USDT', 'rule_id=1']],
      ['price', ['alertname=PriceAlert', 'severity=critical', 'symbol=BTC/USDT', 'rule_id=2']],
      ['price-silent', ['alertname=PriceAlert', 'severity=info', 'symbol=AAPL', 'rule_id=3']],
      ['heartbeat', ['alertname=Watchdog', 'severity=none']],
      ['telegram-email', ['alertname=TargetDown', 'severity=critical', 'job=market-feeder', 'instance=market-feeder:9464']],
      ['telegram', ['alertname=HostDiskSpaceLow', 'severity=warning', 'instance=node-exporter:9100']],
      ['email', ['alertname=SymbolTickStale', 'severity=info', 'symbol=AAPL']],
      // no severity: the default route still reaches a human
      ['telegram-email', ['alertname=Unknown']],
    ];
    for (const [receiver, labels] of cases) {
      const out = amtool('config', 'routes', 'test', `--config.file=${file}`, `--verify.receivers=${receiver}`, ...labels);
      assert.equal(out.trim(), receiver, labels.join(' '));
    }
    // and a wrong expectation does fail (the check is real)
    assert.throws(() => amtool('config', 'routes', 'test', `--config.file=${file}`, '--verify.receivers=email', 'alertname=PriceAlert', 'severity=warning'));
  });
});

describe('alertmanager inhibition (real Alertmanager)', () => {
  let am: AlertmanagerServer;
  before(async () => {
    // nothing configured: no notification leaves, we only look at the alert states
    am = await startAlertmanager(renderAlertmanagerConfig({}, { timings: { group_wait: '1s', group_interval: '1s' } }));
  });
  after(async () => am?.stop());

  test('critical inhibits warning of the same alert and target; TargetDown inhibits staleness; price alerts inhibit nothing', async () => {
    const now = new Date().toISOString();
    const a = (labels: Record<string, string>) => ({ labels, annotations: { summary: 's', description: 'd' }, startsAt: now });
    const res = await fetch(`${am.url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        a({ alertname: 'HostDiskSpaceLow', severity: 'critical', instance: 'h1', mountpoint: '/' }),
        a({ alertname: 'HostDiskSpaceLow', severity: 'warning', instance: 'h1', mountpoint: '/' }),
        a({ alertname: 'HostDiskSpaceLow', severity: 'warning', instance: 'h2', mountpoint: '/' }),
        a({ alertname: 'TargetDown', severity: 'critical', job: 'market-feeder', instance: 'market-feeder:9464' }),
        a({ alertname: 'SymbolTickStale', severity: 'warning', instance: 'market-feeder:9464', symbol: 'BTC/USDT' }),
        a({ alertname: 'PriceAlert', severity: 'critical', symbol: 'ETH/USDT', rule_id: '1' }),
        a({ alertname: 'PriceAlert', severity: 'warning', symbol: 'BTC/USDT', rule_id: '2' }),
      ]),
    });
    assert.equal(res.status, 200);
    const state = async () => {
      const all = await am.alerts();
      return new Map(all.map((x) => [`${x.labels.alertname}/${x.labels.severity}/${x.labels.instance ?? x.labels.symbol}`, x.status.state]));
    };
    const s = await waitFor(
      async () => {
        const m = await state();
        return m.size === 7 && ![...m.values()].includes('unprocessed') ? m : undefined;
      },
      10_000,
      'alerts processed',
    );
    assert.deepEqual(Object.fromEntries(s), {
      'HostDiskSpaceLow/critical/h1': 'active',
      'HostDiskSpaceLow/warning/h1': 'suppressed',
      'HostDiskSpaceLow/warning/h2': 'active',
      'TargetDown/critical/market-feeder:9464': 'active',
      'SymbolTickStale/warning/market-feeder:9464': 'suppressed',
      'PriceAlert/critical/ETH/USDT': 'active',
      'PriceAlert/warning/BTC/USDT': 'active',
    });
  });
});
