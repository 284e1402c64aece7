#!/usr/bin/env bash
# Makes a local Debian bookworm base image and tags it `debian:bookworm`, for
# machines where no container registry is reachable (so `FROM debian:bookworm`
# in docker/Dockerfile can't be pulled) but a Debian package mirror is.
#
# It debootstraps a minimal bookworm root file system (--variant=minbase) from
# the mirror this machine's apt already uses, gives it the same apt sources as
# the official image (bookworm, bookworm-updates, bookworm-security), packs it
# into a tarball and `podman import`s (or `docker import`s) it.
#
# Idempotent: does nothing when the image already exists, unless FORCE=1.
# Needs root (debootstrap), debootstrap and podman or docker.
#
# Environment:
#   IMAGE=debian:bookworm   tag to create
#   MIRROR=URL              Debian mirror (default: the one in /etc/apt/sources.list*,
#                           else http://deb.debian.org/debian)
#   SECURITY_MIRROR=URL     security mirror (default: likewise, else
#                           http://deb.debian.org/debian-security)
#   ENGINE=podman|docker    container engine (default: podman if installed)
#   FORCE=1                 rebuild even if the image exists
#
# Usage: sudo docker/make-base-image.sh
set -euo pipefail

IMAGE=${IMAGE:-debian:bookworm}
SUITE=bookworm
ENGINE=${ENGINE:-$(command -v podman >/dev/null 2>&1 && echo podman || echo docker)}

if [ "$(id -u)" != 0 ]; then
    echo "make-base-image: debootstrap needs root; run with sudo" >&2
    exit 1
fi
for tool in debootstrap "$ENGINE"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "make-base-image: '$tool' is missing (apt-get install debootstrap podman)" >&2
        exit 1
    fi
done

if [ "${FORCE:-0}" != 1 ] && "$ENGINE" image inspect "$IMAGE" >/dev/null 2>&1; then
    echo "make-base-image: $IMAGE already exists (FORCE=1 to rebuild)" >&2
    exit 0
fi

# The mirror apt uses here: first URI (deb822 .sources) or URL (one-line .list)
# whose path ends in /debian or /debian-security.
apt_uri() { # $1: path suffix, e.g. /debian
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
        [ -r "$f" ] || continue
        grep -hoE '(https?://[^[:space:]]+)' "$f" | sed 's:/*$::' | grep -E "$1\$" | head -n1
    done | head -n1
}
MIRROR=${MIRROR:-$(apt_uri /debian)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${SECURITY_MIRROR:-$(apt_uri /debian-security)}
SECURITY_MIRROR=${SECURITY_MIRROR:-http://deb.debian.org/debian-security}

work=$(mktemp -d /tmp/csp11-base.XXXXXX)
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"

echo "make-base-image: debootstrap $SUITE from $MIRROR into $root" >&2
debootstrap --variant=minbase "$SUITE" "$root" "$MIRROR" >"$work/debootstrap.log" 2>&1 || {
    tail -n 30 "$work/debootstrap.log" >&2
    exit 1
}

# The apt sources of the official image, in deb822 form.
rm -f "$root/etc/apt/sources.list"
cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
# Keep images small, as the official image does.
cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
echo 'APT::Install-Recommends "false";' >"$root/etc/apt/apt.conf.d/docker-no-recommends"
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
       "$root"/var/log/*.log "$root"/tmp/* "$root"/root/.bash_history
: >"$root/etc/hostname"
: >"$root/etc/resolv.conf"   # the engine mounts its own

echo "make-base-image: packing the root file system" >&2
tar --numeric-owner --xattrs -C "$root" -cf "$work/rootfs.tar" .

echo "make-base-image: importing as $IMAGE with $ENGINE" >&2
"$ENGINE" import \
    --change 'CMD ["bash"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "$work/rootfs.tar" "$IMAGE" >/dev/null
"$ENGINE" image inspect --format '{{.Id}} {{.Size}}' "$IMAGE" 2>/dev/null || true
echo "make-base-image: done: $IMAGE" >&2
