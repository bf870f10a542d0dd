#!/usr/bin/env bash
# UsersService load benchmarks against a real `warden serve` (release build):
# GetUser, ListUsers (filtered pages among 100,000 seeded users), CreateUser,
# and one long ImportUsers stream next to its in-process ceiling, on SQLite
# and/or PostgreSQL. Results go to stdout and to
# $LOAD_OUT_DIR/results.txt; copy the figures into BENCHMARKS.md.
#
#   crates/warden-load/run.sh              # sqlite and postgres
#   crates/warden-load/run.sh sqlite       # one backend
#
# For PostgreSQL a fresh database is created on $LOAD_POSTGRES_ADMIN_URL's server
# and dropped afterwards. Knobs (environment, all LOAD_*, since cargo and
# build scripts read OUT_DIR/PROFILE and the server rejects unknown WARDEN_*):
# LOAD_USERS=100000 LOAD_REQUESTS=20000 LOAD_PREFIX_REQUESTS=5000 (ListUsers by
# email prefix: the slowest page on SQLite, sized for a shared 2-core box)
# LOAD_CREATE_REQUESTS=5000 LOAD_IMPORT_ROWS=100000 (0 skips the import)
# LOAD_RPC_BENCHES=1 (0 skips GetUser/ListUsers/CreateUser: with LOAD_USERS=0, an
# import-only run on an empty database)
# LOAD_CONCURRENCY=16 LOAD_CONNECTIONS=4 LOAD_PORT=50071
# LOAD_POSTGRES_ADMIN_URL=postgres://postgres@127.0.0.1:5432/postgres
# LOAD_OUT_DIR=$(mktemp -d) LOAD_PROFILE=release (dev: a quick smoke run)
# LOAD_JOBS=2 (cargo -j); CARGO_TARGET_DIR is honoured.
set -euo pipefail

cd "$(dirname "$0")/../.."
USERS=${LOAD_USERS:-100000}
REQUESTS=${LOAD_REQUESTS:-20000}
PREFIX_REQUESTS=${LOAD_PREFIX_REQUESTS:-5000}
CREATE_REQUESTS=${LOAD_CREATE_REQUESTS:-5000}
IMPORT_ROWS=${LOAD_IMPORT_ROWS:-100000}
RPC_BENCHES=${LOAD_RPC_BENCHES:-1}
CONCURRENCY=${LOAD_CONCURRENCY:-16}
CONNECTIONS=${LOAD_CONNECTIONS:-4}
PORT=${LOAD_PORT:-50071}
POSTGRES_ADMIN_URL=${LOAD_POSTGRES_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
OUT_DIR=${LOAD_OUT_DIR:-$(mktemp -d -t warden-load.XXXXXX)}
PROFILE=${LOAD_PROFILE:-release}
BACKENDS=("$@")
[ ${#BACKENDS[@]} -gt 0 ] || BACKENDS=(sqlite postgres)

cargo build --profile "$PROFILE" -j "${LOAD_JOBS:-2}" -p warden-server -p warden-load
bin_dir=${CARGO_TARGET_DIR:-target}/$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")
WARDEN=$bin_dir/warden
LOAD=$bin_dir/warden-load
ADDR="http://127.0.0.1:$PORT"
RESULTS="$OUT_DIR/results.txt"
echo "results: $RESULTS (server logs and seed output beside it)"

server_pid=""
pg_db=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [ -n "$pg_db" ]; then psql "$POSTGRES_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" || true; fi
  server_pid=""
  pg_db=""
}
trap cleanup EXIT

bench() { # label rpc [extra args...]
  local label=$1 rpc=$2
  shift 2
  "$LOAD" bench --addr "$ADDR" --rpc "$rpc" --concurrency "$CONCURRENCY" \
    --connections "$CONNECTIONS" --label "$label" "$@" | tee -a "$RESULTS"
}

for backend in "${BACKENDS[@]}"; do
  data_dir="$OUT_DIR/$backend"
  mkdir -p "$data_dir"
  case $backend in
    sqlite) url="sqlite://$data_dir/warden.db?mode=rwc" ;;
    postgres)
      pg_db="warden_load_$$"
      psql "$POSTGRES_ADMIN_URL" -qc "CREATE DATABASE $pg_db"
      url="${POSTGRES_ADMIN_URL%/*}/$pg_db"
      ;;
    *) echo "unknown backend $backend (sqlite|postgres)" >&2; exit 2 ;;
  esac

  echo "== $backend: seeding $USERS users"
  export LOAD_API_KEY
  LOAD_API_KEY=$("$LOAD" seed --database-url "$url" --users "$USERS" \
    --ids-out "$data_dir/ids.txt" 2> >(tee "$data_dir/seed.log" >&2))

  "$WARDEN" serve --listen "127.0.0.1:$PORT" --data-dir "$data_dir" --database-url "$url" \
    > "$data_dir/server.log" 2>&1 &
  server_pid=$!
  "$LOAD" wait --addr "$ADDR" --timeout-seconds 120

  echo "== $backend: benchmarks" | tee -a "$RESULTS"
  if [ "$RPC_BENCHES" != 0 ]; then
    bench "$backend" get-user --requests "$REQUESTS" --ids-file "$data_dir/ids.txt"
    bench "$backend" list-users --requests "$PREFIX_REQUESTS" --seeded-users "$USERS" --filter email-prefix
    bench "$backend" list-users --requests "$REQUESTS" --seeded-users "$USERS" --filter role
    bench "$backend" create-user --requests "$CREATE_REQUESTS" --warmup 50
  fi
  if [ "$IMPORT_ROWS" != 0 ]; then
    # Over gRPC, then the same rows through the in-process Importer (the
    # ceiling), then gRPC again: the machine is noisy, pairs show the ratio.
    for mode in grpc direct grpc; do
      flag=()
      [ "$mode" = direct ] && flag=(--direct)
      "$LOAD" import --addr "$ADDR" --database-url "$url" --rows "$IMPORT_ROWS" \
        --label "$backend" "${flag[@]}" | tee -a "$RESULTS"
    done
  fi
  cleanup
done
grep '^RESULT' "$RESULTS"
