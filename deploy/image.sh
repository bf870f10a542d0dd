#!/usr/bin/env bash
# Builds Warden's image with buildah from a binary built on the host: stages
# the context deploy/Containerfile expects (the binary, the libraries ldd
# lists, CA certificates, a passwd entry for the non-root user) and tags
# localhost/warden:<version> and localhost/warden:latest.
#
#   deploy/image.sh [path/to/warden]    (default: the release build)
set -euo pipefail
cd "$(dirname "$0")/.."

binary=${1:-${CARGO_TARGET_DIR:-target}/release/warden}
if [[ ! -x $binary ]]; then
  echo "no warden binary at $binary: cargo build --release first" >&2
  exit 1
fi
if ! command -v buildah >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends buildah >/dev/null
fi

context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
rootfs=$context/rootfs
mkdir -p "$rootfs/usr/local/bin" "$rootfs/etc/ssl/certs" "$context/data"

# Debug info is for the build host; symbols stay, so backtraces still read.
objcopy --strip-debug "$binary" "$rootfs/usr/local/bin/warden"
# The dynamic loader and every library the binary links, at the same paths.
ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
  while read -r library; do
    cp --dereference --parents "$library" "$rootfs"
  done
cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/"
echo "warden:x:65532:65532:warden:/data:/nonexistent" >"$rootfs/etc/passwd"
echo "warden:x:65532:" >"$rootfs/etc/group"
# Names from /etc/hosts first, then DNS (glibc's default order differs).
echo "hosts: files dns" >"$rootfs/etc/nsswitch.conf"
cp deploy/Containerfile "$context/"

version=$("$binary" --version | awk '{ print $2 }')
buildah bud --isolation chroot --quiet \
  --build-arg VERSION="$version" \
  --build-arg REVISION="$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
  --build-arg CREATED="$(git log -1 --format=%cI 2>/dev/null || date -u +%FT%TZ)" \
  --tag "localhost/warden:$version" --tag localhost/warden:latest \
  --file "$context/Containerfile" "$context" >/dev/null
echo "built localhost/warden:$version ($(du -sh "$rootfs" | cut -f1) staged)"
