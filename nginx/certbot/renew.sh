#!/bin/sh
# The `certbot` service (compose profile `letsencrypt`, docs/DEPLOYMENT.md "TLS"): issues the certificate of
# SERVER_NAME over HTTP-01 — nginx serves /.well-known/acme-challenge/ from the shared webroot volume — and
# then tries a renewal every RENEW_INTERVAL (12 h; certbot renews within 30 days of expiry, so a failed try
# has ~60 more chances). It writes into the certs volume; nginx switches to the new files and reloads
# (nginx/docker-entrypoint.d/45-letsencrypt.sh). LETSENCRYPT_STAGING=true: Let's Encrypt's staging CA.
set -eu
NAME="${SERVER_NAME:?SERVER_NAME}"
WEBROOT="${WEBROOT:-/var/www/certbot}"
LE_DIR="${LE_DIR:-/etc/letsencrypt}"
INTERVAL="${RENEW_INTERVAL:-12h}"
RETRY="${ISSUE_RETRY_INTERVAL:-1h}"
if [ -z "${LETSENCRYPT_EMAIL:-}" ] || [ "$NAME" = localhost ]; then
  echo "certbot: set SERVER_NAME (a public name pointing here) and LETSENCRYPT_EMAIL in .env" >&2
  exit 1
fi
staging=""
[ "${LETSENCRYPT_STAGING:-false}" = true ] && staging="--staging"
trap 'exit 0' TERM INT
while :; do
  if [ -s "$LE_DIR/live/$NAME/fullchain.pem" ]; then
    certbot renew --webroot -w "$WEBROOT" --quiet --no-random-sleep-on-renew $staging ||
      echo "certbot: renewal attempt failed; next attempt in $INTERVAL" >&2
    wait_for="$INTERVAL"
  elif certbot certonly --webroot -w "$WEBROOT" -d "$NAME" --cert-name "$NAME" --email "$LETSENCRYPT_EMAIL" \
      --agree-tos --non-interactive --keep-until-expiring $staging; then
    echo "certbot: issued the certificate of $NAME" >&2
    wait_for="$INTERVAL"
  else
    echo "certbot: issuing failed (does http://$NAME/.well-known/acme-challenge/ reach this host on port 80?); next attempt in $RETRY" >&2
    wait_for="$RETRY"
  fi
  sleep "$wait_for" &
  wait $!
done
