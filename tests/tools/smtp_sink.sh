#!/usr/bin/env bash
# A real SMTP server for the tests: Python's aiosmtpd on 127.0.0.1:PORT, writing every message
# it receives to DIR as NNNN.json ({mail_from, rcpt_tos, subject, body} with the body decoded).
# Prints "ready" on stdout once it listens; stops when its standard input closes.
# The first run installs aiosmtpd from PyPI into a virtualenv under target/ (shared, locked).
#
#   tests/tools/smtp_sink.sh PORT DIR
set -euo pipefail

port="$1"
dir="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${SMTP_SINK_VENV:-$root/target/smtp-sink-venv}"

mkdir -p "$(dirname "$venv")" "$dir"
exec 9>"$venv.lock"
flock 9
if ! "$venv/bin/python" -c 'import aiosmtpd' >/dev/null 2>&1; then
    python3 -m venv "$venv" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check aiosmtpd >&2
fi
flock -u 9
exec 9>&-

exec "$venv/bin/python" "$here/smtp_sink.py" "$port" "$dir"
