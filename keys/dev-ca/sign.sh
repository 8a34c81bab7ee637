#!/usr/bin/env bash
# Plays the browser signing plug-in: makes a CMS (PKCS#7) detached signature of CHALLENGE
# (the exact text shown on /login/signature) with CERT and KEY and prints it as base64,
# ready to paste into the page.
#
# Usage: keys/dev-ca/sign.sh CHALLENGE [CERT] [KEY]
#   e.g. keys/dev-ca/sign.sh "$challenge" keys/dev-ca/citizen-ec.pem keys/dev-ca/citizen-ec.key
#        keys/dev-ca/sign.sh "$challenge" keys/dev-ca/gost-citizen.pem keys/dev-ca/gost-citizen.key
# A GOST R 34.10-2012 key is signed through openssl's gost engine (Streebog-256 digest).
set -euo pipefail
dir="$(dirname "$0")"
challenge="${1:?usage: sign.sh CHALLENGE [CERT] [KEY]}"
cert="${2:-$dir/citizen-rsa.pem}"
key="${3:-$dir/citizen-rsa.key}"
if openssl asn1parse -in "$key" 2>/dev/null | grep -qi 'gost\|1\.2\.643'; then
  printf '%s' "$challenge" \
    | openssl cms -sign -engine gost -binary -nosmimecap -outform DER -signer "$cert" \
      -inkey "$key" 2>/dev/null \
    | base64 -w0
else
  printf '%s' "$challenge" \
    | openssl cms -sign -binary -md sha256 -outform DER -signer "$cert" -inkey "$key" \
    | base64 -w0
fi
echo
