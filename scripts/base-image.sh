#!/usr/bin/env bash
# Build Hangar's local base image `hangar/busybox:1` (also tagged :latest).
#
# No registry is reachable, so the image is made FROM scratch out of Debian's
# statically linked busybox (`apt-get install busybox-static`): /bin/busybox,
# one symlink per applet (what `busybox --install -s` would make), a minimal
# /etc/passwd and /etc/group, /root and a world-writable /tmp.
#
# Idempotent: does nothing when the image already exists (pass --force to
# rebuild). Needs only the local Docker Engine; nothing is pulled.
set -euo pipefail

IMAGE="hangar/busybox"
VERSION="1"
BUSYBOX="${BUSYBOX:-/bin/busybox}"

usage() {
    echo "usage: $0 [--force]" >&2
    exit 2
}

force=0
case "${1:-}" in
    "") ;;
    --force) force=1 ;;
    *) usage ;;
esac

image_exists() {
    docker image inspect "$1" >/dev/null 2>&1
}

require_busybox() {
    if ! "$BUSYBOX" --list-full >/dev/null 2>&1; then
        echo "error: no static busybox at $BUSYBOX" >&2
        echo "hint: apt-get install busybox-static (or set BUSYBOX=/path/to/busybox)" >&2
        exit 1
    fi
}

# Lay out the image's whole filesystem under $1/rootfs.
make_rootfs() {
    local root="$1/rootfs" applet
    mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" \
        "$root/etc" "$root/root" "$root/tmp" "$root/var/tmp"
    install -m 0755 "$BUSYBOX" "$root/bin/busybox"
    while read -r applet; do
        [ "$applet" = "bin/busybox" ] && continue
        mkdir -p "$root/$(dirname "$applet")"
        ln -sf /bin/busybox "$root/$applet"
    done < <("$BUSYBOX" --list-full)
    chmod 1777 "$root/tmp" "$root/var/tmp"
    chmod 0700 "$root/root"
    cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
www-data:x:33:33:www-data:/var/www:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
    cat >"$root/etc/group" <<'EOF'
root:x:0:
www-data:x:33:
nogroup:x:65534:
EOF
}

make_dockerfile() {
    cat >"$1/Dockerfile" <<EOF
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LABEL org.opencontainers.image.title="hangar/busybox" \\
      org.opencontainers.image.version="$VERSION" \\
      org.opencontainers.image.description="scratch + Debian busybox-static, built locally by Hangar"
CMD ["/bin/sh"]
EOF
}

build() {
    ctx="$(mktemp -d)"
    trap 'rm -rf "$ctx"' EXIT
    make_rootfs "$ctx"
    make_dockerfile "$ctx"
    # The legacy builder prints a deprecation notice: show output only on failure.
    if ! out="$(docker build --pull=false -t "$IMAGE:$VERSION" -t "$IMAGE:latest" "$ctx" 2>&1)"; then
        echo "$out" >&2
        echo "error: docker build of $IMAGE:$VERSION failed" >&2
        exit 1
    fi
}

main() {
    if [ "$force" = 0 ] && image_exists "$IMAGE:$VERSION"; then
        image_exists "$IMAGE:latest" || docker tag "$IMAGE:$VERSION" "$IMAGE:latest"
        echo "$IMAGE:$VERSION already exists"
        return 0
    fi
    require_busybox
    build
    echo "built $IMAGE:$VERSION ($(docker image inspect -f '{{.Id}}' "$IMAGE:$VERSION"))"
}

main
