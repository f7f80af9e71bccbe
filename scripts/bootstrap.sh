#!/usr/bin/env bash
# Installs what Hangar needs on Debian 12 (as root) and starts the Docker Engine.
# Idempotent: every step is skipped when it is already done.
set -euo pipefail
cd "$(dirname "$0")/.."
LOG_DIR=/var/log/hangar
PACKAGES=(docker.io haproxy busybox-static debootstrap postgresql python3-venv curl ca-certificates iptables iproute2 chromium pebble wrk)

log() { printf '\033[1m==> %s\033[0m\n' "$*"; }

install_packages() {
  local missing=()
  for pkg in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "Installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

start_docker() {
  if docker info >/dev/null 2>&1; then return; fi
  log "Starting dockerd (log: $LOG_DIR/dockerd.log)"
  mkdir -p "$LOG_DIR"
  nohup dockerd >"$LOG_DIR/dockerd.log" 2>&1 </dev/null &
  echo $! >/run/hangar-dockerd.pid
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && return
    sleep 1
  done
  echo "dockerd did not start; see $LOG_DIR/dockerd.log" >&2
  exit 1
}

make_venv() {
  local stamp=.venv/.installed
  if [ -f "$stamp" ] && [ "$stamp" -nt pyproject.toml ]; then return; fi
  log "Installing Hangar and its pinned dependencies into .venv"
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/pip install -q -e '.[dev]'
  touch "$stamp"
}

install_packages
start_docker
make_venv
log "Building the local base images"
scripts/base-image.sh
scripts/python-image.sh
