# Shared by scripts/backup and scripts/restore (docs/DEPLOYMENT.md "Backup and restore"). Each command runs
# where the data lives: by default inside the compose containers (`docker compose exec -T`), so the host
# needs no database tools; with MT_BACKUP_TARGET=local on this machine (a server run outside compose, and
# the tests: reliability/test/backup-restore.test.ts), configured by INFLUX_API, INFLUX_URL, INFLUX_TOKEN,
# INFLUX_BACKUP_HOST (1.x: the RPC bind address, default 127.0.0.1:8088), DATABASE_URL and PGPASSWORD.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TARGET="${MT_BACKUP_TARGET:-compose}"
COMPOSE="${MT_COMPOSE:-docker compose}"
ADMIN_TOKEN_FILE=/run/terminal-secrets/influx-admin/token

log() { printf '%s %s\n' "$(date -u +%FT%TZ)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
q() { printf '%q' "$1"; }

case "$TARGET" in
  compose)
    INFLUX_API=v2
    compose() { (cd "$ROOT" && $COMPOSE "$@"); }
    # run a shell command in a service's container, stdin/stdout passed through
    run_in() { compose exec -T "$1" sh -c "$2"; }
    ;;
  local)
    INFLUX_API="${INFLUX_API:-v2}"
    run_in() { sh -c "$2"; }
    ;;
  *) die "MT_BACKUP_TARGET must be compose or local, not $TARGET" ;;
esac

# The influx CLI arguments for 2.x: the admin token from the container's secrets, or INFLUX_URL/INFLUX_TOKEN.
influx2_args() {
  if [ "$TARGET" = compose ]; then printf -- '--host http://localhost:8086 -t "$(cat %s)"' "$ADMIN_TOKEN_FILE"
  else printf -- '--host %s -t %s' "$(q "${INFLUX_URL:?INFLUX_URL}")" "$(q "${INFLUX_TOKEN:?INFLUX_TOKEN}")"; fi
}

# pg_dump/pg_restore connection: the unix socket inside the postgres container, or DATABASE_URL here.
pg_conn() {
  if [ "$TARGET" = compose ]; then printf -- '-U terminal -d terminal'
  else printf -- '-d %s' "$(q "${DATABASE_URL:?DATABASE_URL}")"; fi
}
