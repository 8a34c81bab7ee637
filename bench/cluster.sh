#!/usr/bin/env bash
# bench/cluster.sh: the provider's multi-node load figures and a soak (docs/performance.md,
# "Several nodes").
#
# Starts a PRIVATE PostgreSQL (initdb in a temp dir, as the postgres user when root, on a
# free port) and a PRIVATE Redis (free port) — the machine's own 5432 and 6379 are never
# touched — runs `idp migrate`, registers a client and a citizen, then for each node count
# N in BENCH_NODES starts N release `idp serve` nodes sharing them (one TOML file plus an
# IDP_SERVER__LISTEN overlay per node, as tests/src/cluster.rs does), runs the hot-path
# scenarios with `loadgen --url A,B,C` (connections round-robin over the nodes; codes and
# refresh chains made on one node are used on another), and stops the nodes. Then a soak:
# the largest N runs a mixed load (client credentials, refresh, userinfo, introspection and
# password logins at once) for BENCH_SOAK_SECONDS and reports each node's VmRSS at start and
# end and the error count. Prints markdown tables; everything is stopped at exit (trap).
#
# Knobs (environment):
#   BENCH_NODES="1 2 3"          node counts to measure
#   BENCH_SECONDS=5              measured window of each scenario
#   BENCH_WARMUP=1               uncounted warm-up before each window
#   BENCH_CONNECTIONS=64         keep-alive connections (spread over the nodes)
#   BENCH_SCENARIOS="client-credentials refresh userinfo introspection"
#   BENCH_SOAK_SECONDS=60        soak length (0: no soak); 600 for the issue's 10 minutes
#   BENCH_SOAK_LEG=300           longest single load-generator run in the soak (tokens live 600 s)
#   BENCH_SOAK_NODES=            node count of the soak (default: the largest of BENCH_NODES)
#   BENCH_DB_POOL=16             database.max_connections of each node
#   BENCH_SERVER_CPUS=0          taskset list for the nodes, PostgreSQL and Redis
#   BENCH_LOADGEN_CPUS=1         taskset list for the load generators
#   BENCH_OUT=DIR                where results, node logs and summary.md go (default: temp dir)
#   BENCH_NO_BUILD=1             skip `cargo build --release -p idp -p bench`
set -euo pipefail
cd "$(dirname "$0")/.."

NODES=${BENCH_NODES:-"1 2 3"}
WINDOW=${BENCH_SECONDS:-5}
WARMUP=${BENCH_WARMUP:-1}
CONNS=${BENCH_CONNECTIONS:-64}
SCENARIOS=${BENCH_SCENARIOS:-"client-credentials refresh userinfo introspection"}
SOAK=${BENCH_SOAK_SECONDS:-60}
SOAK_LEG=${BENCH_SOAK_LEG:-300}
POOL=${BENCH_DB_POOL:-16}
SERVER_CPUS=${BENCH_SERVER_CPUS:-0}
LOADGEN_CPUS=${BENCH_LOADGEN_CPUS:-1}
MAX_N=0
for n in $NODES; do if ((n > MAX_N)); then MAX_N=$n; fi; done
SOAK_N=${BENCH_SOAK_NODES:-$MAX_N}
OUT=${BENCH_OUT:-$(mktemp -d /tmp/idp-cluster-bench-out.XXXXXX)}
mkdir -p "$OUT"
: >"$OUT/results.jsonl"

if [[ -z "${BENCH_NO_BUILD:-}" ]]; then
    cargo build --release -p idp -p bench
fi
TARGET_DIR=${CARGO_TARGET_DIR:-target}
IDP=$(realpath "$TARGET_DIR/release/idp")
LOADGEN=$(realpath "$TARGET_DIR/release/loadgen")

WORK=$(mktemp -d /tmp/idp-cluster-bench.XXXXXX)
chmod 755 "$WORK" # the postgres user must reach $WORK/pg
PG_DATA=$WORK/pg/data
REDIS_PID=""
NODE_PIDS=()

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
if [[ $(id -u) -eq 0 ]]; then
    as_pg() { runuser -u postgres -- "$@"; }
else
    as_pg() { "$@"; }
fi
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
PG_BIN=${PG_BIN:-$(dirname "$(command -v pg_ctl)")}

stop_nodes() {
    local pid
    for pid in "${NODE_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${NODE_PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    NODE_PIDS=()
}
cleanup() {
    stop_nodes
    if [[ -n "$REDIS_PID" ]]; then
        kill "$REDIS_PID" 2>/dev/null || true
        wait "$REDIS_PID" 2>/dev/null || true
    fi
    if [[ -f "$PG_DATA/postmaster.pid" ]]; then
        as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate stop >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# --- private PostgreSQL ------------------------------------------------------------------
mkdir -p "$WORK/pg"
if [[ $(id -u) -eq 0 ]]; then chown -R postgres:postgres "$WORK/pg"; fi
as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust --no-sync -E UTF8 >"$OUT/initdb.log" 2>&1
PG_PORT=$(free_port)
# fsync off: the figures are about the provider, not the disk (as in tests/src/cluster.rs).
as_pg taskset -c "$SERVER_CPUS" "$PG_BIN/pg_ctl" -D "$PG_DATA" \
    -o "-p $PG_PORT -k $PG_DATA -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=$((POOL * MAX_N + 20))" \
    -l "$PG_DATA/server.log" -w -t 60 start >/dev/null
echo "private PostgreSQL on 127.0.0.1:$PG_PORT" >&2

# --- private Redis -----------------------------------------------------------------------
REDIS_PORT=$(free_port)
taskset -c "$SERVER_CPUS" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" \
    --appendonly no --daemonize no --dir "$WORK" >"$OUT/redis.log" 2>&1 &
REDIS_PID=$!
for _ in $(seq 1 100); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
    sleep 0.05
done
redis-cli -p "$REDIS_PORT" ping >/dev/null
echo "private Redis on 127.0.0.1:$REDIS_PORT" >&2

# --- configuration, migrations, a client and a citizen -----------------------------------
PORTS=()
for _ in $(seq 1 "$MAX_N"); do PORTS+=("$(free_port)"); done
# The issuer is the load balancer's address; here the first node's (as in tests/src/cluster.rs).
ISSUER="http://127.0.0.1:${PORTS[0]}"
CONFIG=$WORK/idp.toml
cat >"$CONFIG" <<EOF
[server]
listen = "127.0.0.1:${PORTS[0]}"
issuer = "$ISSUER"

[database]
url = "postgres://postgres@127.0.0.1:$PG_PORT/postgres"
max_connections = $POOL

[cache]
url = "redis://127.0.0.1:$REDIS_PORT/0"
prefix = "idp:"

[keys]
master_key = "$(head -c 32 /dev/urandom | base64)"

[verification]
worker = false

[dangerous]
allow_http_issuer = true
EOF
CLIENT_ID=bench-rp
CLIENT_SECRET=bench-rp-secret-0123456789abcdef
PHONE=+79000000001
PASSWORD=Gosuslugi-2026!
"$IDP" migrate --config "$CONFIG" >"$OUT/admin.log" 2>&1
"$IDP" clients create --config "$CONFIG" --id "$CLIENT_ID" --secret "$CLIENT_SECRET" \
    --name "Bench RP" --scopes "openid fullname email" \
    --redirect-uri http://127.0.0.1:8081/callback \
    --grant-type authorization_code --grant-type refresh_token \
    --grant-type client_credentials >>"$OUT/admin.log" 2>&1
"$IDP" users create --config "$CONFIG" --phone "$PHONE" --email bench@example.org \
    --password "$PASSWORD" --surname "Нагрузкин" --given-name "Тест" >>"$OUT/admin.log" 2>&1

# start_nodes N: N nodes on the first N ports; fills NODE_PIDS and URLS.
start_nodes() {
    local n=$1 i port
    URLS=()
    for ((i = 0; i < n; i++)); do
        port=${PORTS[$i]}
        IDP_SERVER__LISTEN="127.0.0.1:$port" RUST_LOG=warn taskset -c "$SERVER_CPUS" \
            "$IDP" serve --config "$CONFIG" >"$OUT/node$i-n$n.log" 2>&1 &
        NODE_PIDS+=($!)
        URLS+=("http://127.0.0.1:$port")
    done
    for ((i = 0; i < n; i++)); do
        for _ in $(seq 1 300); do
            curl -fsS "${URLS[$i]}/health/ready" >/dev/null 2>&1 && break
            kill -0 "${NODE_PIDS[$i]}" 2>/dev/null || { cat "$OUT/node$i-n$n.log" >&2; exit 1; }
            sleep 0.1
        done
        curl -fsS "${URLS[$i]}/health/ready" >/dev/null
    done
}

PG_PID=$(head -1 "$PG_DATA/postmaster.pid")
loadgen() {
    taskset -c "$LOADGEN_CPUS" "$LOADGEN" run --url "$(IFS=,; echo "${URLS[*]}")" \
        --server-pid "$(IFS=,; echo "${NODE_PIDS[*]}")" --backing-pid "$PG_PID,$REDIS_PID" \
        --client-id "$CLIENT_ID" --client-secret "$CLIENT_SECRET" \
        --login "$PHONE" --password "$PASSWORD" --json "$@"
}

# --- throughput per node count -----------------------------------------------------------
for n in $NODES; do
    start_nodes "$n"
    echo "== $n node(s): ${NODE_PIDS[*]} at ${URLS[*]}" >&2
    for scenario in $SCENARIOS; do
        echo "   $scenario ($CONNS connections, ${WARMUP}s warm-up + ${WINDOW}s)" >&2
        loadgen --scenario "$scenario" --seconds "$WINDOW" --warmup "$WARMUP" \
            --connections "$CONNS" | jq -c --argjson n "$n" '. + {nodes: $n}' \
            | tee -a "$OUT/results.jsonl" >&2
    done
    stop_nodes
done

# --- soak --------------------------------------------------------------------------------
: >"$OUT/soak.jsonl"
: >"$OUT/soak-rss.tsv"
SOAK_FAIL=0
if ((SOAK > 0)); then
    start_nodes "$SOAK_N"
    sleep 2
    START_RSS=()
    for pid in "${NODE_PIDS[@]}"; do START_RSS+=("$(rss_kib "$pid")"); done
    echo "== soak: $SOAK_N node(s), ${SOAK}s mixed load; start VmRSS ${START_RSS[*]} KiB" >&2
    SOAK_JOBS=()
    # Each load generator runs in legs of at most BENCH_SOAK_LEG seconds (fresh logins and
    # tokens each leg): user access tokens live 600 s (tokens.access_token_ttl), and a
    # userinfo worker must not keep sending one that expired.
    for spec in client-credentials:8 refresh:8 userinfo:8 introspection:8 login:2; do
        (
            left=$SOAK
            while ((left > 0)); do
                leg=$((left < SOAK_LEG ? left : SOAK_LEG))
                loadgen --scenario "${spec%%:*}" --seconds "$leg" --warmup 0 \
                    --connections "${spec##*:}" >>"$OUT/soak.jsonl" 2>>"$OUT/soak.err" || exit 1
                left=$((left - leg))
            done
        ) &
        SOAK_JOBS+=($!)
    done
    for job in "${SOAK_JOBS[@]}"; do wait "$job" || SOAK_FAIL=$((SOAK_FAIL + 1)); done
    sleep 2
    for i in "${!NODE_PIDS[@]}"; do
        printf '%s\t%s\t%s\n' "$i" "${START_RSS[$i]}" "$(rss_kib "${NODE_PIDS[$i]}")" >>"$OUT/soak-rss.tsv"
    done
    stop_nodes
fi

# --- report ------------------------------------------------------------------------------
{
    echo "Machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), $(uname -sr)"
    echo "Commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with local changes)')"
    echo "Nodes, PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') and Redis $(redis-server --version | awk '{print $3}' | tr -d v=): taskset -c $SERVER_CPUS; loadgen: taskset -c $LOADGEN_CPUS, one thread, hyper"
    echo "Each scenario: ${WARMUP}s warm-up, ${WINDOW}s measured, $CONNS connections round-robin over the nodes; pool $POOL per node"
    echo
    python3 - "$OUT/results.jsonl" "$OUT/soak.jsonl" "$OUT/soak-rss.tsv" "$SOAK" "$SOAK_N" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ns = sorted({r["nodes"] for r in rows})
scen = list(dict.fromkeys(r["scenario"] for r in rows))
by = {(r["scenario"], r["nodes"]): r for r in rows}
if ns:
    print("| scenario | " + " | ".join(f"{n} node{'s' if n > 1 else ''}: ops/s, p50/p99 ms, errors" for n in ns) + " |")
    print("|---" * (len(ns) + 1) + "|")
for s in scen:
    cells = []
    for n in ns:
        r = by.get((s, n))
        cells.append("—" if r is None else f"{r['rate']:.0f}, {r['p50_ms']:.2f}/{r['p99_ms']:.2f}, {r['errors']}")
    print(f"| {s} | " + " | ".join(cells) + " |")
if ns:
    print()
    print("| scenario | " + " | ".join(f"{n}: nodes / PostgreSQL+Redis / others' CPU" for n in ns) + " |")
    print("|---" * (len(ns) + 1) + "|")
fmt = lambda v: "?" if v is None else f"{v:.2f}"
for s in scen:
    cells = []
    for n in ns:
        r = by.get((s, n))
        cells.append("—" if r is None else f"{fmt(r.get('server_cpu'))} / {fmt(r.get('backing_cpu'))} / {fmt(r.get('other_cpu'))}")
    print(f"| {s} | " + " | ".join(cells) + " |")
soak = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
if soak:
    print()
    print(f"Soak: {sys.argv[5]} node(s), {sys.argv[4]} s of mixed load (all scenarios at once)")
    print()
    print("| scenario | connections | ops | ops/s | p50/p99 ms (worst leg) | errors | first error |")
    print("|---|---|---|---|---|---|---|")
    legs = {}
    for r in soak:
        legs.setdefault(r["scenario"], []).append(r)
    for name, rs in legs.items():
        ok = sum(r["ok"] for r in rs)
        secs = sum(r["seconds"] for r in rs)
        err = sum(r["errors"] for r in rs)
        first = next((r["first_error"] for r in rs if r.get("first_error")), "")
        # Several legs: the worst leg's p50 and p99.
        p50 = max(r["p50_ms"] for r in rs)
        p99 = max(r["p99_ms"] for r in rs)
        print(f"| {name} | {rs[0]['connections']} | {ok} | {ok / secs if secs else 0:.0f} | {p50:.2f}/{p99:.2f} | {err} | {first} |")
    print(f"| total | | {sum(r['ok'] for r in soak)} | | | {sum(r['errors'] for r in soak)} | |")
    print()
    print("| node | VmRSS at start (MiB) | VmRSS at end (MiB) | growth (MiB) |")
    print("|---|---|---|---|")
    for line in open(sys.argv[3]):
        i, a, b = line.split()
        a, b = int(a) / 1024, int(b) / 1024
        print(f"| {i} | {a:.1f} | {b:.1f} | {b - a:+.1f} |")
PY
    if [[ -s "$OUT/soak.err" ]]; then
        echo
        echo "Soak load generator errors ($SOAK_FAIL of its processes failed):"
        sed 's/^/    /' "$OUT/soak.err"
    fi
} | tee "$OUT/summary.md"
echo "results in $OUT" >&2
