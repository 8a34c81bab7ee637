#!/usr/bin/env bash
# The whole test suite: unit tests, the integration suite on SQLite and on PostgreSQL + Redis,
# and the suites that use outside tools. PostgreSQL (127.0.0.1:5432, user postgres) and Redis
# (127.0.0.1:6379) must be reachable; this script starts the local services if they are down
# and stops with an error if it cannot reach them (tests never skip them).
set -euo pipefail
cd "$(dirname "$0")/.."

ensure_postgres() {
  if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then return 0; fi
  echo "PostgreSQL is down; starting it" >&2
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null && return 0; sleep 1; done
  echo "error: PostgreSQL is not reachable at 127.0.0.1:5432" >&2; exit 1
}

ensure_redis() {
  if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then return 0; fi
  echo "Redis is down; starting it" >&2
  if command -v redis-server >/dev/null 2>&1; then
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  fi
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && return 0; sleep 1; done
  echo "error: Redis is not reachable at 127.0.0.1:6379" >&2; exit 1
}

# The browser suite (tests/suite/browser.rs) drives Debian's Chromium with playwright-core.
ensure_browser() {
  if [ ! -x /usr/bin/chromium ]; then
    echo "Chromium is missing; installing Debian's chromium package" >&2
    if ! { apt-get install -y chromium || { apt-get update && apt-get install -y chromium; }; }; then
      echo "error: cannot install Chromium (apt-get install -y chromium failed); the browser suite needs /usr/bin/chromium" >&2
      exit 1
    fi
  fi
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "error: Node.js 20 and npm are required by the browser suite (tests/browser)" >&2; exit 1
  fi
  if [ ! -d tests/browser/node_modules/playwright-core ]; then
    npm ci --no-audit --no-fund --prefix tests/browser || {
      echo "error: npm ci --prefix tests/browser failed" >&2; exit 1; }
  fi
}

# The GOST suite (tests/suite/esia_gost.rs) checks our GOST R 34.10-2012 and Streebog code against
# the openssl command with Debian's gost engine.
ensure_gost_engine() {
  if openssl engine gost >/dev/null 2>&1; then return 0; fi
  echo "The openssl gost engine is missing; installing Debian's libengine-gost-openssl" >&2
  if ! { apt-get install -y libengine-gost-openssl || { apt-get update && apt-get install -y libengine-gost-openssl; }; } \
     || ! openssl engine gost >/dev/null 2>&1; then
    echo "error: cannot load the openssl gost engine (apt-get install -y libengine-gost-openssl failed); the GOST suite needs it" >&2
    exit 1
  fi
}

ensure_postgres
ensure_redis
ensure_gost_engine
ensure_browser

cargo test --workspace --locked
