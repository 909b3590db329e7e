// No Docker engine here, so the app image's runtime stage is rebuilt as a directory, from the
// Dockerfile's own lines: its production-only `npm ci` and its `COPY --from=build` list. Each service's
// entry point must then load all of its modules from that tree (it gets as far as validating its
// configuration), which catches a runtime dependency kept in devDependencies or a file the image misses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n\s*/g, ' ');

test('the production tree of the app image starts every service entry point', { timeout: 240_000 }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mt-image-'));
  try {
    // the manifests stage
    const manifests = [...dockerfile.matchAll(/^COPY (\S+\/)?package\.json (\S+)$/gm)].map((m) => `${m[1] ?? ''}package.json`);
    for (const f of ['package.json', 'package-lock.json', '.npmrc', ...manifests]) {
      mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      cpSync(path.join(ROOT, f), path.join(dir, f));
    }
    // the deps stage: exactly its npm ci command
    const ci = /RUN (npm ci [^&\n]*)/.exec(dockerfile.split(/^FROM /m).find((s) => s.startsWith('manifests AS deps'))!)![1]!.trim().split(/\s+/);
    assert.ok(ci.includes('--omit=dev'));
    execFileSync(ci[0]!, [...ci.slice(1), '--ignore-scripts', '--prefer-offline'], { cwd: dir, stdio: 'pipe' });
    // the runtime stage's copies from the build stage (dist must exist: the test command builds first)
    for (const [, from] of dockerfile.matchAll(/^COPY --from=build \/app\/(\S+) \S+$/gm)) {
      assert.ok(existsSync(path.join(ROOT, from!)), `${from} exists (run \`npm run build\` first)`);
      cpSync(path.join(ROOT, from!), path.join(dir, from!), { recursive: true });
    }
    const entries = [...readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8').matchAll(/command: \["node", "([^"]+)"\]/g)].map((m) => m[1]!);
    assert.ok(entries.length >= 4, `compose runs ${entries.join(', ')}`);
    for (const entry of entries) {
      assert.ok(existsSync(path.join(dir, entry)), `${entry} is in the image`);
      // an invalid LOG_LEVEL: the service must load every module, then stop at config validation
      const res = spawnSync(process.execPath, [entry], {
        cwd: dir,
        env: { PATH: process.env.PATH, NODE_ENV: 'production', LOG_LEVEL: 'loud' },
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(res.status, 1, `${entry}: ${res.stderr}`);
      assert.match(res.stderr, /^config error: .*LOG_LEVEL/m, `${entry} reached config validation: ${res.stderr}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
