#!/bin/sh
# Container entrypoint (prom/alertmanager): render the config from the environment / Docker secrets,
# then run Alertmanager on it. Extra arguments are passed through.
set -eu
CONFIG=${ALERTMANAGER_CONFIG_OUT:-/alertmanager/alertmanager.yml}
/bin/sh /etc/alertmanager/render-config.sh /etc/alertmanager/alertmanager.yml.tmpl "$CONFIG"
exec /bin/alertmanager --config.file="$CONFIG" "$@"
