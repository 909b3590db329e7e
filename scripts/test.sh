#!/usr/bin/env bash
# The README's test command (`npm test`): installs what is missing, builds, lints, then runs every
# unit and integration test against real servers started on loopback, and stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build
npm run lint

# Every server a test starts lives under this run's own TMPDIR; whatever is left when we exit
# (a crashed test, a timeout) is killed by path, then the directory is removed.
RUN_TMP=$(mktemp -d /tmp/mt-run-XXXXXX)
chmod 755 "$RUN_TMP"   # the PostgreSQL launcher runs initdb as the postgres user
cleanup() {
  pkill -KILL -f "$RUN_TMP" 2>/dev/null || true
  [ -n "${MT_KEEP_TMP:-}" ] || rm -rf "$RUN_TMP"
}
trap cleanup EXIT INT TERM
TMPDIR="$RUN_TMP" node scripts/run-tests.mjs "$@"
