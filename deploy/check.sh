#!/usr/bin/env bash
# CI's deployment checks: build the container image from a warden binary and
# smoke-test it, then validate the Kubernetes overlays (and prove the
# validation bites). Installs its tools first: buildah from Debian, and a
# venv with deploy/requirements.txt. Removes the images it built at the end.
#
#   deploy/check.sh [path/to/warden]    (default: the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-${CARGO_TARGET_DIR:-target}/release/warden}

STEP_PREFIX=deploy
source .ci/steps.sh

step "tools"
if [[ ! -x deploy/.venv/bin/python ]]; then
  python3 -m venv deploy/.venv
fi
deploy/.venv/bin/pip install --quiet --disable-pip-version-check -r deploy/requirements.txt

step "image"
deploy/image.sh "$binary"
version=$("$binary" --version | awk '{ print $2 }')
trap 'buildah rmi "localhost/warden:$version" localhost/warden:latest >/dev/null 2>&1 || true' EXIT

step "image smoke test"
deploy/smoke-test.sh "localhost/warden:$version"

step "kubernetes manifests"
deploy/kubernetes/validate.sh
step ""
