#!/usr/bin/env bash
# Runs docs/examples/python_authlib.py against a running provider.
#
#   docs/examples/run_python_example.sh [ISSUER]      (default http://127.0.0.1:8080)
#
# Creates a virtual environment under target/docs-venv (or $VENV) with Authlib and requests
# from PyPI the first time. Start the provider first: cargo run -p idp -- dev
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VENV=${VENV:-$ROOT/target/docs-venv}
export ISSUER=${1:-${ISSUER:-http://127.0.0.1:8080}}

if ! "$VENV/bin/python" -c "import authlib, joserfc, requests" 2>/dev/null; then
  echo "creating $VENV with authlib and requests" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "authlib>=1.6,<2" "requests>=2.31,<3"
fi
exec "$VENV/bin/python" "$HERE/python_authlib.py"
