#!/bin/sh
# Let's Encrypt without manual steps (docs/DEPLOYMENT.md "TLS"): the `certbot` service (compose profile
# `letsencrypt`) issues and renews into the certs volume (live/$SERVER_NAME/). This script points nginx's
# certificate at the issued one as soon as it exists, and from then on reloads nginx whenever certbot
# renewed it (checked every LE_CHECK_INTERVAL seconds, default 300: a renewal is live within minutes,
# weeks before the old certificate expires). Without certbot nothing changes: the self-signed one stays.
set -eu
CERTS="${CERTS_DIR:-/etc/nginx/certs}"
NAME="${SERVER_NAME:-localhost}"
INTERVAL="${LE_CHECK_INTERVAL:-300}"
LIVE="$CERTS/live/$NAME"

# prints what nginx serves now: the target and its modification time (changes on issue and on renewal)
served() { f=$(readlink -f "$CERTS/fullchain.pem" 2>/dev/null || true); [ -n "$f" ] && [ -e "$f" ] && echo "$f $(stat -c %Y "$f")" || echo none; }

# relative links, so they resolve in any container that mounts the volume
link_issued() {
  [ -s "$LIVE/fullchain.pem" ] && [ -s "$LIVE/privkey.pem" ] || return 0
  [ "$(readlink "$CERTS/fullchain.pem" 2>/dev/null || true)" = "live/$NAME/fullchain.pem" ] && return 0
  ln -sfn "live/$NAME/fullchain.pem" "$CERTS/fullchain.pem"
  ln -sfn "live/$NAME/privkey.pem" "$CERTS/privkey.pem"
  echo "45-letsencrypt: serving the Let's Encrypt certificate of $NAME"
}

watch() {
  last=$(served)
  while sleep "$INTERVAL"; do
    link_issued
    now=$(served)
    if [ "$now" != "$last" ]; then
      nginx -s reload && echo "45-letsencrypt: certificate changed ($now), nginx reloaded"
      last=$now
    fi
  done
}

link_issued
if [ "${LE_FOREGROUND:-0}" = 1 ]; then watch; else watch & fi
