#!/usr/bin/env bash
# Validates both overlays offline: `kubectl kustomize` renders them and
# kubernetes-validate --strict checks every object against the schemas of the
# oldest Kubernetes we support and the newest it knows (unknown fields and
# wrong types fail). Then proves the check bites: copies with a deliberate
# error must fail it.
#
#   deploy/kubernetes/validate.sh    (deploy/check.sh installs kubernetes-validate)
set -euo pipefail
cd "$(dirname "$0")"
validator=${KUBERNETES_VALIDATE:-../.venv/bin/kubernetes-validate}
versions=(1.30.0 1.37.0)

validate() {
  local rendered
  rendered=$(kubectl kustomize "$1")
  for version in "${versions[@]}"; do
    "$validator" --strict --quiet -k "$version" - <<<"$rendered" || return 1
  done
}

for overlay in overlays/dev overlays/production; do
  validate "$overlay"
  echo "$overlay: valid for Kubernetes ${versions[*]}"
done

# Each case: a file of the base, a line in it, the broken line, and what the
# rejection must name (so it fails for that error, not for another).
broken_cases=(
  "deployment.yaml|  replicas: 3|  replica: 3|'replica' was unexpected"
  "service.yaml|      port: 50051|      port: grpc-port|'grpc-port' is not of type 'integer'"
)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for case in "${broken_cases[@]}"; do
  IFS='|' read -r file line broken expected <<<"$case"
  rm -rf "${scratch:?}"/*
  cp -r base overlays "$scratch/"
  grep -qxF "$line" "$scratch/base/$file" || { echo "case '$case' no longer applies" >&2; exit 1; }
  sed -i "s/^$line\$/$broken/" "$scratch/base/$file"
  if output=$(validate "$scratch/overlays/production" 2>&1); then
    echo "a copy with '$broken' in $file passed validation: the check does not bite" >&2
    exit 1
  fi
  if ! grep -qF "$expected" <<<"$output"; then
    echo "a copy with '$broken' in $file failed, but not with \"$expected\":" >&2
    echo "$output" >&2
    exit 1
  fi
  echo "a copy with '$broken' in $file is rejected ($expected), as it must be"
done
