#!/bin/sh
# First start without a certificate: make a self-signed one so HTTPS works at once. Replace it with a
# Let's Encrypt certificate (docs/DEPLOYMENT.md) by putting fullchain.pem/privkey.pem in the certs volume.
set -eu
CERT="${TLS_CERT:-/etc/nginx/certs/fullchain.pem}"
KEY="${TLS_KEY:-/etc/nginx/certs/privkey.pem}"
NAME="${SERVER_NAME:-localhost}"
if [ -s "$CERT" ] && [ -s "$KEY" ]; then
  exit 0
fi
mkdir -p "$(dirname "$CERT")" "$(dirname "$KEY")"
umask 077
openssl req -x509 -nodes -newkey rsa:2048 -sha256 -days 825 \
  -subj "/CN=${NAME}" -addext "subjectAltName=DNS:${NAME},DNS:localhost,IP:127.0.0.1" \
  -keyout "$KEY" -out "$CERT" 2>/dev/null
echo "40-self-signed-cert: generated a self-signed certificate for ${NAME} at ${CERT}"
