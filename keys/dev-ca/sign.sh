#!/usr/bin/env bash
# Plays the browser signing plug-in: makes a CMS (PKCS#7) detached signature of CHALLENGE
# (the exact text shown on /login/signature) with CERT and KEY and prints it as base64,
# ready to paste into the page.
#
# Usage: keys/dev-ca/sign.sh CHALLENGE [CERT] [KEY]
#   e.g. keys/dev-ca/sign.sh "$challenge" keys/dev-ca/citizen-ec.pem keys/dev-ca/citizen-ec.key
set -euo pipefail
dir="$(dirname "$0")"
challenge="${1:?usage: sign.sh CHALLENGE [CERT] [KEY]}"
cert="${2:-$dir/citizen-rsa.pem}"
key="${3:-$dir/citizen-rsa.key}"
printf '%s' "$challenge" \
  | openssl cms -sign -binary -md sha256 -outform DER -signer "$cert" -inkey "$key" \
  | base64 -w0
echo
