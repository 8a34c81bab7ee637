#!/bin/sh
# The ESIA emulator's own token-signing keys (DEV/TEST MATERIAL ONLY, committed on purpose):
#   rsa.key / rsa.cer   RSA-2048 PKCS#8 key and self-signed certificate (RS256 tokens)
#   gost.key / gost.cer GOST R 34.10-2012 256-bit key and
#                        self-signed certificate (GOST3410_2012_256 tokens)
# idp compiles these files in as the default `[esia]` signing keys; production configures its
# own files (`esia.rsa_key`, `esia.rsa_certificate`, `esia.gost_key`, `esia.gost_certificate`).
# Needs openssl with Debian's gost engine (libengine-gost-openssl). Run from any directory.
set -eu
cd "$(dirname "$0")"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key
openssl req -x509 -new -key rsa.key -sha256 -days 3650 \
  -subj "/C=RU/O=ESIA emulator (dev)/CN=esia-emulator RS256" -outform DER -out rsa.cer
# CryptoPro-A (= TC26 paramSetB), the set ESIA's own certificates use.
openssl genpkey -engine gost -algorithm gost2012_256 -pkeyopt paramset:A -out gost.key
openssl req -engine gost -x509 -new -key gost.key -md_gost12_256 -days 3650 \
  -subj "/C=RU/O=ESIA emulator (dev)/CN=esia-emulator GOST" -outform DER -out gost.cer
