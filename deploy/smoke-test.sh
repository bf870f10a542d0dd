#!/usr/bin/env bash
# Smoke-tests an image from deploy/image.sh: `warden --version` runs inside
# it, and `warden serve` inside it answers grpc.health.v1 as SERVING. The
# chroot-isolated container shares the host's network, so the probe
# (deploy/health_probe.py, from the deploy venv) reaches it on loopback.
#
#   deploy/smoke-test.sh [image]    (default: localhost/warden:latest)
set -euo pipefail
cd "$(dirname "$0")/.."
image=${1:-localhost/warden:latest}
python=deploy/.venv/bin/python

container=$(buildah from --quiet "$image")
log=$(mktemp)
server=""
cleanup() {
  if [[ -n $server ]]; then
    kill -TERM "$server" 2>/dev/null || true
    wait "$server" || true
  fi
  buildah rm "$container" >/dev/null
  rm -f "$log"
}
trap cleanup EXIT

version=$(buildah run --isolation chroot "$container" -- /usr/local/bin/warden --version)
if [[ $version != "warden "* ]]; then
  echo "unexpected --version output: $version" >&2
  exit 1
fi
echo "in the image, as $(buildah inspect --format '{{.OCIv1.Config.User}}' "$container"): $version"

port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
buildah run --isolation chroot "$container" -- \
  /usr/local/bin/warden serve --listen "127.0.0.1:$port" --data-dir /data >"$log" 2>&1 &
server=$!
if ! "$python" deploy/health_probe.py "127.0.0.1:$port" --timeout 60; then
  echo "warden serve in the image did not become SERVING; its output:" >&2
  cat "$log" >&2
  exit 1
fi
