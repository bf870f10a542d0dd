#!/usr/bin/env bash
# Generates the Go, Python and TypeScript clients from proto/warden/v1 (see
# buf.gen.yaml) and runs each one's scenario against the real `warden` binary.
# Installs what it needs first: Debian's Go packages, a venv with the pinned
# Python tools, and the TypeScript project's locked npm packages.
#
#   tests/clients/run.sh [path/to/warden]    (default: the debug build)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
clients=$root/tests/clients

bin=${1:-${CARGO_TARGET_DIR:-$root/target}/debug/warden}
if [[ ! -x $bin ]]; then
  echo "no warden binary at $bin: run cargo build (or cargo test) first" >&2
  exit 1
fi
export WARDEN_BIN=$(realpath "$bin")

STEP_PREFIX=clients
source .ci/steps.sh

step "toolchains"
# Name the -1-5- package: without it apt picks golang/protobuf 1.3, whose
# status details panic on the first call.
go_packages=(golang-go protoc-gen-go protoc-gen-go-grpc golang-google-grpc-dev
  golang-google-protobuf-dev golang-google-genproto-dev golang-github-golang-protobuf-1-5-dev)
missing=()
for package in "${go_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' \
    || missing+=("$package")
done
if ((${#missing[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [[ ! -x $clients/python/.venv/bin/python ]]; then
  python3 -m venv "$clients/python/.venv"
fi
"$clients/python/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$clients/python/requirements.txt"
(cd "$clients/typescript" && npm ci --no-audit --no-fund --loglevel=error)
if [[ ! -x $root/node_modules/.bin/buf ]]; then
  npm install --no-audit --no-fund --loglevel=error
fi

step "generate"
rm -rf "$clients/go/gen" "$clients/python/gen" "$clients/typescript/src/gen"
npx --no-install buf generate
(cd "$clients/typescript" && "$root/node_modules/.bin/buf" generate --template buf.gen.yaml)

step "go"
# Offline and module-free: imports resolve in a throwaway GOPATH holding this
# client, then in Debian's /usr/share/gocode.
gopath=$(mktemp -d)
trap 'rm -rf "$gopath"' EXIT
mkdir -p "$gopath/src"
ln -s "$clients/go" "$gopath/src/wardenclient"
(
  cd "$gopath/src/wardenclient"
  export GO111MODULE=off GOPATH="$gopath:/usr/share/gocode" GOPROXY=off GOFLAGS=
  go vet .
  go test -count=1 -v .
)

step "python"
(
  cd "$clients/python"
  .venv/bin/mypy
  .venv/bin/pytest
)

step "typescript"
(
  cd "$clients/typescript"
  npx --no-install tsc --noEmit
  npm test
)
step ""
