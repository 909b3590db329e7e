#!/bin/sh
# Renders alertmanager.yml.tmpl into a working Alertmanager config. Alertmanager cannot expand
# environment variables itself, and the Telegram bot token has no *_file field before v0.26 (Debian
# ships 0.25), so secrets come in here from the environment or from files (Docker secrets) and the
# rendered file is written with mode 0600 next to Alertmanager's data, never into the repository.
#
#   render-config.sh [template] [output]      (defaults: /etc/alertmanager/alertmanager.yml.tmpl,
#                                              /alertmanager/alertmanager.yml)
# Placeholders: ${VAR} (value inserted; inside "..." it is escaped for a YAML double-quoted string).
# Blocks between "#{ VAR" and "#} VAR" lines are kept only when VAR is non-empty.
# Each secret VAR may instead be given as VAR_FILE (a path whose content is the value).
set -eu

TEMPLATE=${1:-/etc/alertmanager/alertmanager.yml.tmpl}
OUT=${2:-/alertmanager/alertmanager.yml}

from_file() { # VAR: if VAR_FILE is set, VAR := content of that file (trailing newline stripped)
  eval "f=\${$1_FILE:-}"
  if [ -n "$f" ]; then
    [ -r "$f" ] || { echo "render-config: $1_FILE=$f is not readable" >&2; exit 1; }
    eval "$1=\$(cat \"\$f\")"
    export "$1"
  fi
}
from_file TELEGRAM_BOT_TOKEN
from_file TELEGRAM_CHAT_ID
from_file SMTP_PASSWORD
# a webhook URL carries its own credential (Discord's and Slack's token is part of the path)
from_file DISCORD_WEBHOOK_URL
from_file SLACK_WEBHOOK_URL
from_file ALERT_WEBHOOK_URL

: "${ALERTMANAGER_TEMPLATES_DIR:=$(dirname "$TEMPLATE")/templates}"
: "${TELEGRAM_API_URL:=https://api.telegram.org}"
: "${TELEGRAM_BOT_TOKEN:=}"
: "${TELEGRAM_CHAT_ID:=}"
: "${ALERT_EMAIL_TO:=}"
: "${ALERT_EMAIL_FROM:=alertmanager@localhost}"
: "${SMTP_SMARTHOST:=localhost:587}"
: "${SMTP_USERNAME:=}"
: "${SMTP_PASSWORD:=}"
: "${SMTP_REQUIRE_TLS:=true}"
: "${HEARTBEAT_URL:=}"
: "${DISCORD_WEBHOOK_URL:=}"
: "${SLACK_WEBHOOK_URL:=}"
: "${ALERT_WEBHOOK_URL:=}"
: "${GRAFANA_URL:=http://localhost:3000}"
# Telegram needs both the token and the chat
[ -n "$TELEGRAM_BOT_TOKEN" ] && [ -n "$TELEGRAM_CHAT_ID" ] && TELEGRAM_ENABLED=1 || TELEGRAM_ENABLED=
case "$TELEGRAM_CHAT_ID" in
  '' | -[0-9]* | [0-9]*) ;;
  *) echo "render-config: TELEGRAM_CHAT_ID must be a number (e.g. -1001234567890)" >&2; exit 1 ;;
esac
for v in DISCORD_WEBHOOK_URL SLACK_WEBHOOK_URL ALERT_WEBHOOK_URL; do
  eval "u=\$$v"
  case "$u" in
    '' | http://?* | https://?*) ;;
    *) echo "render-config: $v must be an http(s) URL" >&2; exit 1 ;;
  esac
done
case "$SMTP_REQUIRE_TLS" in true | false) ;; *) echo "render-config: SMTP_REQUIRE_TLS must be true or false" >&2; exit 1 ;; esac

umask 077
OUT_DIR=$(dirname "$OUT")
mkdir -p "$OUT_DIR"
# the password goes to a file next to the config: Alertmanager reads it through auth_password_file
SMTP_PASSWORD_PATH=
if [ -n "$SMTP_PASSWORD" ]; then
  SMTP_PASSWORD_PATH="$OUT_DIR/smtp_password"
  printf '%s' "$SMTP_PASSWORD" >"$SMTP_PASSWORD_PATH"
fi
export ALERTMANAGER_TEMPLATES_DIR TELEGRAM_API_URL TELEGRAM_BOT_TOKEN TELEGRAM_CHAT_ID TELEGRAM_ENABLED ALERT_EMAIL_TO \
  ALERT_EMAIL_FROM SMTP_SMARTHOST SMTP_USERNAME SMTP_PASSWORD_PATH SMTP_REQUIRE_TLS HEARTBEAT_URL GRAFANA_URL \
  DISCORD_WEBHOOK_URL SLACK_WEBHOOK_URL ALERT_WEBHOOK_URL

awk '
  # char by char: replacement-string escapes in gsub differ between gawk, mawk and busybox awk
  function esc(s,    out, i, c) {
    out = ""
    for (i = 1; i <= length(s); i++) { c = substr(s, i, 1); out = out ((c == "\\" || c == "\"") ? "\\" c : c) }
    return out
  }
  /^[ \t]*#\{ [A-Z_]+[ \t]*$/ { v = $2; stack[++depth] = (ENVIRON[v] == ""); if (ENVIRON[v] == "") skip++; next }
  /^[ \t]*#\} [A-Z_]+[ \t]*$/ { if (stack[depth--]) skip--; next }
  skip > 0 { next }
  {
    line = $0; out = ""
    while (match(line, /\$\{[A-Z_]+\}/)) {
      name = substr(line, RSTART + 2, RLENGTH - 3)
      pre = substr(line, 1, RSTART - 1)
      # inside a double-quoted YAML string when an odd number of quotes precede it
      q = gsub(/"/, "\"", pre)
      val = (q % 2 == 1) ? esc(ENVIRON[name]) : ENVIRON[name]
      out = out pre val
      line = substr(line, RSTART + RLENGTH)
    }
    print out line
  }
' "$TEMPLATE" >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "render-config: wrote $OUT (telegram: $([ -n "$TELEGRAM_ENABLED" ] && echo on || echo off), e-mail: $([ -n "$ALERT_EMAIL_TO" ] && echo on || echo off), \
discord: $([ -n "$DISCORD_WEBHOOK_URL" ] && echo on || echo off), slack: $([ -n "$SLACK_WEBHOOK_URL" ] && echo on || echo off), \
webhook: $([ -n "$ALERT_WEBHOOK_URL" ] && echo on || echo off))" >&2
