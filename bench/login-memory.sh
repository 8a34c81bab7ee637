#!/usr/bin/env bash
# bench/login-memory.sh: does a node give Argon2 memory back after logins? (docs/performance.md,
# "Soak", the fix of the +21 MiB.) Starts a release `idp dev` on a fresh SQLite data dir pinned
# to core 0, then ROUNDS times runs one second of password logins (`loadgen --scenario login`,
# two connections, core 1) and prints VmRSS right after the logins and after IDLE seconds.
# With the pool emptied when idle and large blocks mmapped, the second figure returns to the
# idle level every round. Knobs: ROUNDS=12 IDLE=5 PORT=18977; BENCH_NO_BUILD=1 skips the build.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-12}
IDLE=${IDLE:-5}
PORT=${PORT:-18977}
if [[ -z "${BENCH_NO_BUILD:-}" ]]; then
    cargo build --release -p idp -p bench
fi
TARGET_DIR=${CARGO_TARGET_DIR:-target}
DATA=$(mktemp -d /tmp/idp-login-memory.XXXXXX)
RUST_LOG=warn taskset -c 0 "$TARGET_DIR/release/idp" dev --data-dir "$DATA" --port "$PORT" \
    >"$DATA.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DATA" "$DATA.log"' EXIT
for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$PORT/health/ready" >/dev/null 2>&1 && break
    kill -0 "$PID" 2>/dev/null || { cat "$DATA.log" >&2; exit 1; }
    sleep 0.1
done
sleep 3
rss() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$PID/status"; }
echo "idle after start: $(rss) MiB"
for r in $(seq 1 "$ROUNDS"); do
    taskset -c 1 "$TARGET_DIR/release/loadgen" run --scenario login \
        --url "http://127.0.0.1:$PORT" --seconds 1 --warmup 0 --connections 2 >/dev/null
    busy=$(rss)
    sleep "$IDLE"
    echo "round $r: right after the logins $busy MiB, after ${IDLE} s idle $(rss) MiB"
done
