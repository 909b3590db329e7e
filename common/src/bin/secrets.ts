// `node common/dist/bin/secrets.js init|show` — the compose `secrets` one-shot (init, at every start) and
// what scripts/show-secrets runs (show). SECRETS_DIR: the root where the consumer volumes are mounted.
import { createLogger } from '../logger.js';
import { describeSecrets, initSecrets, SecretsError } from '../secrets-store.js';

const root = process.env.SECRETS_DIR || '/run/terminal-secrets';
const cmd = process.argv[2] ?? 'init';
if (cmd === 'show') {
  process.stdout.write(`${describeSecrets(root).join('\n') || `no secrets under ${root}`}\n`);
} else if (cmd === 'init') {
  const log = createLogger('secrets');
  try {
    const res = initSecrets(root, process.env, { writerUid: Number(process.env.SECRETS_WRITER_UID || 1000) });
    log.info({ ...res, dir: root }, 'secrets ready (docker compose run --rm secrets show, or scripts/show-secrets, prints them)');
  } catch (err) {
    if (!(err instanceof SecretsError)) throw err;
    process.stderr.write(`config error: ${err.message}\n`);
    process.exit(1);
  }
} else {
  process.stderr.write('usage: secrets.js init|show\n');
  process.exit(2);
}
