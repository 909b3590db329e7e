#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine: the real servers the project runs
# (InfluxDB 1.x, PostgreSQL, Prometheus + promtool, Alertmanager + amtool, nginx), docker-compose to
# validate the compose file, openssl for TLS test certificates, kubectl (Debian's kubernetes-client) for
# `kubectl kustomize` of deploy/kubernetes. Only what is missing is installed.
set -euo pipefail
need=()
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]; }
have influxd || need+=(influxdb)
have influx || need+=(influxdb-client)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
have promtool || need+=(prometheus)
have prometheus-alertmanager || need+=(prometheus-alertmanager)
have amtool || need+=(prometheus-alertmanager)
have nginx || need+=(nginx)
have docker-compose || need+=(docker-compose)
have openssl || need+=(openssl)
have kubectl || need+=(kubernetes-client)
have curl || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  # policy-rc.d 101: do not let the packages start their system services; tests start their own.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null; $SUDO chmod +x /usr/sbin/policy-rc.d; trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
echo "test dependencies present"
