#!/bin/sh
# Creates the Secret `terminal-secrets` that the Kubernetes manifests read (docs/DEPLOYMENT.md,
# "Kubernetes" → "Secrets"), with random values for everything not given in the environment. Run once,
# before `kubectl apply -k`; nothing of it is committed. Values you pass win, e.g. for a managed
# PostgreSQL: DATABASE_URL='postgres://terminal:…@db.example.org:5432/terminal?sslmode=require' ./create-secrets.sh
#
# INFLUX_TOKEN (feeders: read+write) and INFLUX_READ_TOKEN (API, Grafana: read) default to the admin
# token the in-cluster InfluxDB is set up with; replace them with least-privilege tokens
# (`influx auth create --read-bucket … --write-bucket …`) for anything beyond a first look.
set -eu
NAMESPACE=${NAMESPACE:-market-terminal}
rand() { openssl rand -base64 33 | tr -d '\n' | tr '+/' '-_'; }
: "${INFLUX_ADMIN_PASSWORD:=$(rand)}"
: "${INFLUX_ADMIN_TOKEN:=$(rand)}"
: "${INFLUX_TOKEN:=$INFLUX_ADMIN_TOKEN}"
: "${INFLUX_READ_TOKEN:=$INFLUX_ADMIN_TOKEN}"
: "${POSTGRES_PASSWORD:=$(rand)}"
# The in-cluster database: the password goes apart as PGPASSWORD (any characters; the services
# percent-encode it into the URL). A DATABASE_URL you give carries its own password: PGPASSWORD stays
# empty unless you set it too.
if [ -z "${DATABASE_URL:-}" ]; then
  DATABASE_URL=postgres://terminal@postgres:5432/terminal
  : "${PGPASSWORD:=$POSTGRES_PASSWORD}"
fi
: "${PGPASSWORD:=}"
: "${API_TOKEN:=$(rand)}"
: "${GRAFANA_ADMIN_PASSWORD:=$(rand)}"
kubectl -n "$NAMESPACE" create secret generic terminal-secrets \
  --from-literal=INFLUX_ADMIN_PASSWORD="$INFLUX_ADMIN_PASSWORD" \
  --from-literal=INFLUX_ADMIN_TOKEN="$INFLUX_ADMIN_TOKEN" \
  --from-literal=INFLUX_TOKEN="$INFLUX_TOKEN" \
  --from-literal=INFLUX_READ_TOKEN="$INFLUX_READ_TOKEN" \
  --from-literal=POSTGRES_PASSWORD="$POSTGRES_PASSWORD" \
  --from-literal=DATABASE_URL="$DATABASE_URL" \
  --from-literal=PGPASSWORD="$PGPASSWORD" \
  --from-literal=API_TOKEN="$API_TOKEN" \
  --from-literal=GRAFANA_ADMIN_PASSWORD="$GRAFANA_ADMIN_PASSWORD"
echo "terminal-secrets created in namespace $NAMESPACE; the API token and Grafana's admin password:"
echo "  kubectl -n $NAMESPACE get secret terminal-secrets -o jsonpath='{.data.API_TOKEN}' | base64 -d"
