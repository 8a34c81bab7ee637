#!/usr/bin/env bash
# An independent TOTP implementation for the tests: Python's pyotp (RFC 6238, SHA-1,
# 6 digits, 30 s). Prints the code of base32 SECRET at Unix time TIME.
# The first run installs pyotp from PyPI into a virtualenv under target/ (shared, locked).
#
#   tests/tools/totp.sh SECRET TIME
set -euo pipefail

secret="$1"
time="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${TOTP_VENV:-$root/target/totp-venv}"

mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9
if ! "$venv/bin/python" -c 'import pyotp' >/dev/null 2>&1; then
    python3 -m venv "$venv" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check pyotp >&2
fi
flock -u 9
exec 9>&-

exec "$venv/bin/python" -c 'import sys, pyotp; print(pyotp.TOTP(sys.argv[1]).at(int(sys.argv[2])))' "$secret" "$time"
