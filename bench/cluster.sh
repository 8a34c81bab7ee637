#!/usr/bin/env bash
# bench/cluster.sh: the provider's multi-node load figures and a soak (docs/performance.md,
# "Several nodes").
#
# Starts a PRIVATE PostgreSQL (initdb in a temp dir, as the postgres user when root, on a
# free port) and a PRIVATE Redis (free port) — the machine's own 5432 and 6379 are never
# touched — runs `idp migrate`, registers a client and a citizen, then for each node count
# N in BENCH_NODES starts N release `idp serve` nodes sharing them (one TOML file plus an
# IDP_SERVER__LISTEN overlay per node, as tests/src/cluster.rs does), runs the scenarios
# with `loadgen --url A,B,C` (connections round-robin over the nodes; codes and refresh
# chains made on one node are used on another) — by default `mixed` (a weighted mix of
# logins, code exchanges, refreshes, userinfo and introspection, reported per operation
# kind), `code` and the single hot paths — and stops the nodes. With BENCH_NODE_CPU each
# node runs in its own cpu cgroup capped at that fraction of a core, so the nodes, not the
# shared machine, are the bottleneck and their scaling 1→2→3 shows. Then a soak:
# the largest N runs a mixed load (client credentials, refresh, userinfo, introspection and
# password logins at once) for BENCH_SOAK_SECONDS and reports each node's VmRSS at start and
# end and the error count. Prints markdown tables; everything is stopped at exit (trap).
#
# Knobs (environment):
#   BENCH_NODES="1 2 3"          node counts to measure
#   BENCH_SECONDS=5              measured window of each scenario
#   BENCH_WARMUP=1               uncounted warm-up before each window
#   BENCH_CONNECTIONS=64         keep-alive connections (spread over the nodes)
#   BENCH_SCENARIOS="mixed code client-credentials refresh userinfo introspection"
#   BENCH_MIX=login=1,code=3,refresh=4,userinfo=8,introspection=4   weights of `mixed`
#   BENCH_NODE_CPU=              a fraction of a core per node (e.g. 0.3): each node in its
#                                own cgroup with a CPU quota (cgroup v1 cpu.cfs_quota_us or
#                                v2 cpu.max; needs root); the cgroups are removed at exit.
#                                Then BENCH_SERVER_CPUS and BENCH_LOADGEN_CPUS default to
#                                all cores (the quota, not pinning, bounds the nodes).
#   BENCH_SOAK_SECONDS=60        soak length (0: no soak); 600 for the issue's 10 minutes
#   BENCH_SOAK_LEG=300           longest single load-generator run in the soak (tokens live 600 s)
#   BENCH_SOAK_NODES=            node count of the soak (default: the largest of BENCH_NODES)
#   BENCH_DB_POOL=16             database.max_connections of each node
#   BENCH_SERVER_CPUS=0          taskset list for the nodes, PostgreSQL and Redis
#   BENCH_LOADGEN_CPUS=1         taskset list for the load generators (one thread each)
#   BENCH_OUT=DIR                where results, node logs and summary.md go (default: temp dir)
#   BENCH_NO_BUILD=1             skip `cargo build --release -p idp -p bench`
set -euo pipefail
cd "$(dirname "$0")/.."

NODES=${BENCH_NODES:-"1 2 3"}
WINDOW=${BENCH_SECONDS:-5}
WARMUP=${BENCH_WARMUP:-1}
CONNS=${BENCH_CONNECTIONS:-64}
SCENARIOS=${BENCH_SCENARIOS:-"mixed code client-credentials refresh userinfo introspection"}
MIX=${BENCH_MIX:-login=1,code=3,refresh=4,userinfo=8,introspection=4}
SOAK=${BENCH_SOAK_SECONDS:-60}
SOAK_LEG=${BENCH_SOAK_LEG:-300}
POOL=${BENCH_DB_POOL:-16}
NODE_CPU=${BENCH_NODE_CPU:-}
if [[ -n "$NODE_CPU" ]]; then
    ALL_CPUS="0-$(($(nproc) - 1))"
    SERVER_CPUS=${BENCH_SERVER_CPUS:-$ALL_CPUS}
    LOADGEN_CPUS=${BENCH_LOADGEN_CPUS:-$ALL_CPUS}
    # The quota in microseconds per 100 ms period (cgroup v1 needs at least 1 ms).
    QUOTA=$(awk -v c="$NODE_CPU" -v n="$(nproc)" \
        'BEGIN { q = int(c * 100000); if (c !~ /^[0-9]*\.?[0-9]+$/ || q < 1000 || c > n) exit 1; print q }') || {
        echo "BENCH_NODE_CPU must be a number of cores between 0.01 and $(nproc), e.g. 0.3 (got '$NODE_CPU')" >&2
        exit 1
    }
else
    SERVER_CPUS=${BENCH_SERVER_CPUS:-0}
    LOADGEN_CPUS=${BENCH_LOADGEN_CPUS:-1}
fi
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
CG_KIND="" # v1 or v2 once the per-node cgroups' parent exists
CG_BASE=""

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
    cgroups_remove
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# --- per-node CPU cgroups (BENCH_NODE_CPU) -----------------------------------------------
# One parent cgroup per run (idp-bench-PID) with a child per node, each with the quota.
# cgroup v2 (unified, /sys/fs/cgroup/cgroup.controllers) is used when mounted, else v1's cpu
# controller (/sys/fs/cgroup/cpu or cpu,cpuacct).
cgroups_setup() {
    local name="idp-bench-$$" root
    if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
        root=/sys/fs/cgroup
        if grep -qw cpu "$root/cgroup.controllers" &&
            { grep -qw cpu "$root/cgroup.subtree_control" ||
                echo +cpu >"$root/cgroup.subtree_control"; } 2>/dev/null &&
            mkdir "$root/$name" 2>/dev/null; then
            CG_KIND=v2
            CG_BASE=$root/$name
            echo +cpu >"$CG_BASE/cgroup.subtree_control" 2>/dev/null || true
            return
        fi
    else
        for root in /sys/fs/cgroup/cpu /sys/fs/cgroup/cpu,cpuacct; do
            if [[ -f "$root/cpu.cfs_quota_us" ]] && mkdir "$root/$name" 2>/dev/null; then
                CG_KIND=v1
                CG_BASE=$root/$name
                return
            fi
        done
    fi
    echo "BENCH_NODE_CPU=$NODE_CPU needs a writable cpu cgroup controller: cgroup v2 with" \
        "'cpu' in /sys/fs/cgroup/cgroup.controllers, or cgroup v1's /sys/fs/cgroup/cpu" \
        "(run as root; in a container, with the cgroup filesystem mounted read-write)." >&2
    exit 1
}

# cgroup_for_node I: the node's cgroup directory, made with the quota on first use.
cgroup_for_node() {
    local dir="$CG_BASE/node$1"
    if [[ ! -d "$dir" ]]; then
        mkdir "$dir"
        if [[ $CG_KIND == v2 ]]; then
            echo "$QUOTA 100000" >"$dir/cpu.max"
        else
            echo 100000 >"$dir/cpu.cfs_period_us"
            echo "$QUOTA" >"$dir/cpu.cfs_quota_us"
        fi
    fi
    echo "$dir"
}

# in_cgroup DIR CMD...: becomes CMD inside cgroup DIR (no DIR: as is). Moving itself before
# the exec means no thread of the node ever runs outside the quota.
in_cgroup() {
    local dir=$1
    shift
    if [[ -n "$dir" ]]; then
        echo "$BASHPID" >"$dir/cgroup.procs" || { echo "cannot enter cgroup $dir" >&2; exit 1; }
    fi
    exec "$@"
}

cgroups_remove() {
    [[ -n "$CG_BASE" && -d "$CG_BASE" ]] || return 0
    local dir
    for dir in "$CG_BASE"/node*; do
        [[ -d "$dir" ]] && { rmdir "$dir" || echo "could not remove cgroup $dir" >&2; }
    done
    rmdir "$CG_BASE" || echo "could not remove cgroup $CG_BASE" >&2
}

if [[ -n "$NODE_CPU" ]]; then
    cgroups_setup
    echo "nodes capped at $NODE_CPU core each (cgroup $CG_KIND, $CG_BASE)" >&2
fi

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
    local n=$1 i port cg
    URLS=()
    for ((i = 0; i < n; i++)); do
        port=${PORTS[$i]}
        cg=""
        if [[ -n "$NODE_CPU" ]]; then cg=$(cgroup_for_node "$i"); fi
        (in_cgroup "$cg" env IDP_SERVER__LISTEN="127.0.0.1:$port" RUST_LOG=warn \
            taskset -c "$SERVER_CPUS" "$IDP" serve --config "$CONFIG" >"$OUT/node$i-n$n.log" 2>&1) &
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
        --login "$PHONE" --password "$PASSWORD" --mix "$MIX" --json "$@"
}

# --- throughput per node count -----------------------------------------------------------
for n in $NODES; do
    start_nodes "$n"
    echo "== $n node(s): ${NODE_PIDS[*]} at ${URLS[*]}" >&2
    for scenario in $SCENARIOS; do
        echo "   $scenario ($CONNS connections, ${WARMUP}s warm-up + ${WINDOW}s)" >&2
        loadgen --scenario "$scenario" --seconds "$WINDOW" --warmup "$WARMUP" \
            --connections "$CONNS" |
            jq -c --argjson n "$n" --arg cap "$NODE_CPU" '. + {nodes: $n} + (if $cap == "" then {} else {node_cpu: ($cap | tonumber)} end)' \
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
    if [[ -n "$NODE_CPU" ]]; then
        echo "Each node capped at $NODE_CPU core (cgroup $CG_KIND CPU quota $QUOTA µs per 100 ms); PostgreSQL, Redis and loadgen uncapped"
    fi
    echo "Each scenario: ${WARMUP}s warm-up, ${WINDOW}s measured, $CONNS connections round-robin over the nodes; pool $POOL per node; mix $MIX"
    echo
    python3 - "$OUT/results.jsonl" "$OUT/soak.jsonl" "$OUT/soak-rss.tsv" "$SOAK" "$SOAK_N" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ns = sorted({r["nodes"] for r in rows})
scen = list(dict.fromkeys(r["scenario"] for r in rows))
by = {(r["scenario"], r["nodes"]): r for r in rows}
# One line per scenario, and for a run of several kinds (mixed) its total and each kind.
lines = []
for s in scen:
    kinds = list(dict.fromkeys(o["op"] for n in ns for o in (by.get((s, n)) or {}).get("ops", [])))
    lines.append((f"{s} (total)" if kinds else s, s, None))
    lines += [(f"{s} / {k}", s, k) for k in kinds]
def cell(s, n, kind):
    r = by.get((s, n))
    if r is not None and kind is not None:
        r = next((o for o in r.get("ops", []) if o["op"] == kind), None)
    return r
if ns:
    print("Throughput (operations/s; ×: against the fewest nodes), p50/p90/p99 latency in ms, errors:")
    print()
    print("| scenario / operation | " + " | ".join(f"{n} node{'s' if n > 1 else ''}" for n in ns) + " |")
    print("|---" * (len(ns) + 1) + "|")
for label, s, kind in lines:
    cells = []
    base = cell(s, ns[0], kind)
    for n in ns:
        r = cell(s, n, kind)
        if r is None:
            cells.append("—")
            continue
        x = f" (×{r['rate'] / base['rate']:.2f})" if n != ns[0] and base and base["rate"] > 0 else ""
        cells.append(f"{r['rate']:,.0f}/s{x}, {r['p50_ms']:.2f}/{r['p90_ms']:.2f}/{r['p99_ms']:.2f}, {r['errors']}")
    print(f"| {label} | " + " | ".join(cells) + " |")
errs = [(r["scenario"], r["nodes"], r["first_error"]) for r in rows if r.get("first_error")]
for s, n, e in errs:
    print(f"\nfirst error of {s} on {n} node(s): {e}")
if ns:
    print()
    caps = {r.get("node_cpu") for r in rows}
    cap = next(iter(caps)) if len(caps) == 1 else None
    print("CPU in cores over each window (nodes summed" + (f", capped at {cap} each" if cap else "") + " / PostgreSQL with its backends + Redis / every other process):")
    print()
    print("| scenario | " + " | ".join(f"{n}: nodes" + (f" (≤ {n * cap:.1f})" if cap else "") + " / PostgreSQL+Redis / others" for n in ns) + " |")
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
