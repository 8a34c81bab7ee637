#!/bin/sh
# Test material for ESIA client systems (issue 8, docs/esia-compat.md "Registering a client
# system"): keys and self-signed certificates a test client system signs its client_secret
# with. DEV/TEST ONLY — the private keys are public. Needs openssl with the gost engine
# (Debian: libengine-gost-openssl). Re-run to regenerate (the tests read whatever is here).
#
#   is-gost.{key,pem}   GOST R 34.10-2012 256 (CryptoPro-A paramset), 10 years
#   is-gost2.{key,pem}  a second GOST key (TC26 256 A paramset): rotation / not registered
#   is-rsa.{key,pem}    RSA 2048 (old systems signed the legacy client_secret with RSA)
set -eu
cd "$(dirname "$0")"
days=3650
openssl genpkey -engine gost -algorithm gost2012_256 -pkeyopt paramset:A -out is-gost.key
openssl req -engine gost -x509 -new -key is-gost.key -days $days \
    -subj "/CN=Тестовая ИС (ГОСТ)/O=Test IS" -utf8 -out is-gost.pem
openssl genpkey -engine gost -algorithm gost2012_256 -pkeyopt paramset:TCA -out is-gost2.key
openssl req -engine gost -x509 -new -key is-gost2.key -days $days \
    -subj "/CN=Test IS GOST 2/O=Test IS" -out is-gost2.pem
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out is-rsa.key
openssl req -x509 -new -key is-rsa.key -days $days -sha256 \
    -subj "/CN=Test IS RSA/O=Test IS" -out is-rsa.pem
