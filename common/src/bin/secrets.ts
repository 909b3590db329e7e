// `node common/dist/bin/secrets.js [init]` — the compose `secrets-init` one-shot at every start — and
// `… show`, what scripts/show-secrets runs. SECRETS_DIR: the root where the consumer volumes are mounted.
import { z } from 'zod';
import { commonEnv, int, loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { describeSecrets, initSecrets, SecretsError } from '../secrets-store.js';

const env = loadConfig(
  z.object({
    ...commonEnv,
    SECRETS_DIR: z.preprocess((v) => (v === '' ? undefined : v), z.string().default('/run/terminal-secrets')),
    /** Owner of the directories influxdb-tasks writes tokens into: the app image's `node` user. */
    SECRETS_WRITER_UID: int(1000, 0, 2 ** 31),
  }),
);
const cmd = process.argv[2] ?? 'init';
if (cmd === 'show') {
  process.stdout.write(`${describeSecrets(env.SECRETS_DIR).join('\n') || `no secrets under ${env.SECRETS_DIR}`}\n`);
} else if (cmd === 'init') {
  const log = createLogger('secrets-init', env.LOG_LEVEL);
  try {
    const res = initSecrets(env.SECRETS_DIR, process.env, { writerUid: env.SECRETS_WRITER_UID });
    log.info({ ...res, dir: env.SECRETS_DIR }, 'secrets ready (scripts/show-secrets prints them)');
  } catch (err) {
    if (!(err instanceof SecretsError)) throw err;
    process.stderr.write(`config error: ${err.message}\n`);
    process.exit(1);
  }
} else {
  process.stderr.write('usage: secrets.js [init|show]\n');
  process.exit(2);
}
