#!/usr/bin/env bash
# Build Hangar's local Python base image `hangar/python:3` (Debian 12 minbase + python3).
#
# No registry is reachable, so the image is a debootstrap root file system
# brought in with `docker import`. The mirror is the one this host's apt uses.
# Idempotent: does nothing when the image already exists (pass --force to
# rebuild). The examples that are real Python servers start FROM it.
set -euo pipefail

IMAGE="hangar/python"
VERSION="3"
SUITE="bookworm"

force=0
case "${1:-}" in
    "") ;;
    --force) force=1 ;;
    *) echo "usage: $0 [--force]" >&2; exit 2 ;;
esac

image_exists() {
    docker image inspect "$1" >/dev/null 2>&1
}

# The first Debian mirror in this host's apt sources (deb822 or one-line style).
apt_mirror() {
    local uri
    uri=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list \
        | grep -v security | head -1 | awk '{ print ($1 == "deb") ? $2 : $2 }')
    if [ -z "$uri" ]; then
        echo "error: no Debian mirror found in /etc/apt/sources.list*" >&2
        exit 1
    fi
    echo "$uri"
}

build() {
    ROOTFS="$(mktemp -d)"
    trap 'rm -rf "$ROOTFS" "$ROOTFS.log"' EXIT
    local root=$ROOTFS
    command -v debootstrap >/dev/null || {
        echo "error: debootstrap is missing; apt-get install debootstrap" >&2
        exit 1
    }
    echo "debootstrap $SUITE with python3 (a few minutes, once)"
    if ! debootstrap --variant=minbase --include=python3 "$SUITE" "$root" "$(apt_mirror)" \
        >"$root.log" 2>&1; then
        tail -20 "$root.log" >&2
        echo "error: debootstrap failed (log above)" >&2
        exit 1
    fi
    rm -f "$root.log"
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    tar -C "$root" -c . | docker import \
        -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        -c 'ENV PYTHONUNBUFFERED=1' \
        -c 'CMD ["python3"]' \
        - "$IMAGE:$VERSION" >/dev/null
}

main() {
    if [ "$force" = 0 ] && image_exists "$IMAGE:$VERSION"; then
        echo "$IMAGE:$VERSION already exists"
        return 0
    fi
    build
    echo "built $IMAGE:$VERSION ($(docker image inspect -f '{{.Id}}' "$IMAGE:$VERSION"))"
}

main
