#!/usr/bin/env bash
# bench/run.sh: the provider's performance run (docs/performance.md).
#
# Builds release binaries, registers an RS256 client, starts `idp dev` on a fresh data dir
# pinned to core 0 (RUST_LOG=warn), waits for /health/ready, records its idle VmRSS, runs
# every scenario with `loadgen` pinned to core 1 (raw Argon2 on core 0), records VmRSS
# again, prints a markdown table, and stops the server.
#
# Knobs (environment):
#   BENCH_PORT=18931           port of the provider under test (127.0.0.1 only)
#   BENCH_SECONDS=10           measured window of each scenario
#   BENCH_WARMUP=2             uncounted warm-up before each window
#   BENCH_CONNECTIONS=64       keep-alive connections for the HTTP scenarios
#   BENCH_LOGIN_CONNECTIONS=8  connections for the password-login scenario
#   BENCH_SCENARIOS="..."      subset/order of scenarios (default: all)
#   BENCH_CLIENT=hyper         loadgen's HTTP client (hyper or reqwest)
#   BENCH_OUT=DIR              where results.jsonl, summary.md and server.log go (default: a temp dir)
#   BENCH_NO_BUILD=1           skip `cargo build --release` (binaries already built)
#   BENCH_SCHED=nice           `nice` runs server and load generator at nice -20 (as root), so
#                              builds and tests of others on this shared machine take little
#                              from them; `none` leaves the priority alone. (Real-time SCHED_FIFO
#                              is not offered: it starves sqlx's SQLite worker threads behind
#                              the busy tokio worker on the same core, and requests fail 503.)
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${BENCH_PORT:-18931}
WINDOW=${BENCH_SECONDS:-10}
WARMUP=${BENCH_WARMUP:-2}
CONNS=${BENCH_CONNECTIONS:-64}
LOGIN_CONNS=${BENCH_LOGIN_CONNECTIONS:-8}
CLIENT=${BENCH_CLIENT:-hyper}
SCHED=${BENCH_SCHED:-nice}
[[ $(id -u) -eq 0 ]] || SCHED=none
case "$SCHED" in
    nice) PRIO=(nice -n -20) ;;
    none) PRIO=() ;;
    *) echo "BENCH_SCHED must be nice or none" >&2; exit 1 ;;
esac
SCENARIOS=${BENCH_SCENARIOS:-"client-credentials client-credentials-rs256 refresh userinfo introspection argon2 login esia-refresh-v3"}
OUT=${BENCH_OUT:-$(mktemp -d /tmp/idp-bench-out.XXXXXX)}
mkdir -p "$OUT"
: >"$OUT/results.jsonl"

if [[ -z "${BENCH_NO_BUILD:-}" ]]; then
    cargo build --release -p idp -p bench
fi
TARGET_DIR=${CARGO_TARGET_DIR:-target}
IDP=$TARGET_DIR/release/idp
LOADGEN=$TARGET_DIR/release/loadgen

DATA=$(mktemp -d /tmp/idp-bench-data.XXXXXX)
SERVER_PID=""
cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID"
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$DATA"
}
trap cleanup EXIT

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# A client whose client-credentials access tokens are RS256 (the demo clients' are ES256).
"$IDP" clients create --data-dir "$DATA" --port "$PORT" \
    --id bench-rs256 --secret bench-rs256-secret --name "Bench RS256" \
    --grant-type client_credentials --scopes openid --access-token-alg RS256 >/dev/null
# An ESIA client system for esia-refresh-v3 (GOST client_secret, RS256 ESIA tokens).
"$IDP" clients create --data-dir "$DATA" --port "$PORT" \
    --id bench-esia --name "Bench ESIA" --redirect-uri http://127.0.0.1:8081/callback \
    --scopes "openid fullname" --esia-certificate keys/esia/systems/is-gost.pem >/dev/null

BASE="http://127.0.0.1:$PORT"
if curl -s -o /dev/null "$BASE/" 2>/dev/null; then
    echo "something already listens on port $PORT; set BENCH_PORT" >&2
    exit 1
fi

RUST_LOG=warn "${PRIO[@]}" taskset -c 0 "$IDP" dev --data-dir "$DATA" --port "$PORT" >"$OUT/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 300); do
    if curl -fsS "$BASE/health/ready" >/dev/null 2>&1; then break; fi
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$OUT/server.log" >&2; exit 1; }
    sleep 0.1
done
curl -fsS "$BASE/health/ready" >/dev/null
kill -0 "$SERVER_PID" 2>/dev/null || { cat "$OUT/server.log" >&2; exit 1; }
sleep 2 # let start-up work (demo seeding, key loading) settle before reading memory
IDLE_RSS=$(rss_kib "$SERVER_PID")
echo "server pid $SERVER_PID ready; idle VmRSS ${IDLE_RSS} KiB" >&2

for scenario in $SCENARIOS; do
    conns=$CONNS
    [[ "$scenario" == login ]] && conns=$LOGIN_CONNS
    # Raw Argon2 runs on the server's core (the server idles meanwhile): what hashing alone
    # allows there is what the login scenario is compared with.
    core=1
    [[ "$scenario" == argon2 ]] && core=0
    echo "== $scenario ($conns connections, ${WARMUP}s warm-up + ${WINDOW}s)" >&2
    "${PRIO[@]}" taskset -c "$core" "$LOADGEN" run --scenario "$scenario" --url "$BASE" \
        --seconds "$WINDOW" --warmup "$WARMUP" --connections "$conns" \
        --client "$CLIENT" --server-pid "$SERVER_PID" --json | tee -a "$OUT/results.jsonl" >&2
done

sleep 2
AFTER_RSS=$(rss_kib "$SERVER_PID")

{
    echo "Machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), $(uname -sr)"
    echo "Commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with local changes)')"
    echo "Server: idp dev (SQLite, in-process cache), taskset -c 0; load generator: taskset -c 1, $CLIENT client; scheduling: $SCHED"
    echo "Each scenario: ${WARMUP}s warm-up, ${WINDOW}s measured; $CONNS connections ($LOGIN_CONNS for login)"
    echo
    "$LOADGEN" summary "$OUT/results.jsonl" --idle-rss-kib "$IDLE_RSS" --after-rss-kib "$AFTER_RSS"
} | tee "$OUT/summary.md"
echo "results in $OUT" >&2
