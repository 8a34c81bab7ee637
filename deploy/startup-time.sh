#!/usr/bin/env bash
# Measures `idp serve` from exec to the first 200 from /health/ready (docs/operations.md,
# "Startup time"). Usage:
#   deploy/startup-time.sh sqlite                      # a fresh SQLite file in a temp folder
#   deploy/startup-time.sh 'postgres://postgres@127.0.0.1:5432/idp_startup'   # an existing database
# Env: IDP=path/to/idp (default target/release/idp), RUNS=5, REDIS=redis://… (optional).
# The database is migrated first (`idp migrate`), so each run is a restart of a deployed node.
set -euo pipefail
cd "$(dirname "$0")/.."
IDP=${IDP:-target/release/idp}
RUNS=${RUNS:-5}
DB=${1:-sqlite}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
[ "$DB" = sqlite ] && DB="sqlite://$TMP/idp.db"
KEY=$(head -c32 /dev/urandom | base64)
{
  printf '[server]\nlisten = "127.0.0.1:%s"\nissuer = "http://127.0.0.1:%s"\n' "$PORT" "$PORT"
  printf '[database]\nurl = "%s"\n' "$DB"
  [ -n "${REDIS:-}" ] && printf '[cache]\nurl = "%s"\nprefix = "startup-%s:"\n' "$REDIS" "$$"
  printf '[keys]\nmaster_key = "%s"\n[verification]\nworker = false\n[dangerous]\nallow_http_issuer = true\n' "$KEY"
} >"$TMP/idp.toml"
"$IDP" migrate --config "$TMP/idp.toml" >/dev/null
for i in $(seq "$RUNS"); do
  start=$(date +%s%N)
  RUST_LOG=warn "$IDP" serve --config "$TMP/idp.toml" >"$TMP/log" 2>&1 &
  pid=$!
  until curl -fs -o /dev/null "http://127.0.0.1:$PORT/health/ready"; do
    kill -0 "$pid" 2>/dev/null || { cat "$TMP/log"; exit 1; }
    sleep 0.002
  done
  end=$(date +%s%N)
  echo "run $i: $(( (end - start) / 1000000 )) ms to ready"
  kill "$pid"; wait "$pid" 2>/dev/null || true
done
