#!/usr/bin/env bash
# Sets up this Debian 12 host, starts `hangar server`, logs in, deploys the example app
# and prints its URL. Run as root. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DATA_DIR=${HANGAR_DATA_DIR:-/var/lib/hangar}
HTTP_PORT=${HANGAR_HTTP_PORT:-80}
HTTPS_PORT=${HANGAR_HTTPS_PORT:-443}
API_URL=${HANGAR_API_URL:-http://127.0.0.1:4280}
EMAIL=${HANGAR_EMAIL:-admin@hangar.localhost}
LOG_DIR=/var/log/hangar
export HANGAR_API_URL=$API_URL

scripts/bootstrap.sh
hangar() { "$ROOT/.venv/bin/hangar" "$@"; }

if ! curl -fsS "$API_URL/healthz" >/dev/null 2>&1; then
  echo "==> Starting hangar server (log: $LOG_DIR/server.log)"
  mkdir -p "$LOG_DIR" "$DATA_DIR"
  chmod 700 "$LOG_DIR" "$DATA_DIR"
  touch "$LOG_DIR/server.log" && chmod 600 "$LOG_DIR/server.log"
  nohup "$ROOT/.venv/bin/hangar" server --data-dir "$DATA_DIR" --http-port "$HTTP_PORT" \
    --https-port "$HTTPS_PORT" \
    >"$LOG_DIR/server.log" 2>&1 </dev/null &
  echo $! >/run/hangar-server.pid
  for _ in $(seq 1 60); do
    curl -fsS "$API_URL/healthz" >/dev/null 2>&1 && break
    sleep 0.5
  done
  curl -fsS "$API_URL/healthz" >/dev/null || { tail -20 "$LOG_DIR/server.log"; exit 1; }
fi

PASSWORD_FILE=$DATA_DIR/admin-password
if [ ! -s "$PASSWORD_FILE" ]; then
  (umask 077; head -c 18 /dev/urandom | base64 >"$PASSWORD_FILE")
fi
export HANGAR_PASSWORD
HANGAR_PASSWORD=$(cat "$PASSWORD_FILE")
hangar auth login --email "$EMAIL" >/dev/null 2>&1 || hangar auth signup --email "$EMAIL"

cd examples/hello
hangar apps list --json | grep -q '"name": "hello"' || hangar apps create hello
hangar deploy
echo
echo "Hangar is up. Your example app: $(hangar open)"
echo "Its certificate is signed by this server's own CA: $(hangar certs ca --path)"
echo "  e.g. curl --cacert $(hangar certs ca --path) $(hangar open)"
echo "Dashboard: $API_URL/ (log in as $EMAIL with the password in $PASSWORD_FILE)"
