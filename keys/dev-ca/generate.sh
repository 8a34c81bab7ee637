#!/usr/bin/env bash
# Development certification centre and demo citizens' certificates for the electronic
# signature login (issue 4). TEST AND DEVELOPMENT MATERIAL ONLY: the private keys are public.
#
# Usage: keys/dev-ca/generate.sh        (regenerates every file in keys/dev-ca/)
#        keys/dev-ca/generate.sh gost   (regenerates only the GOST files, gost-*)
# Needs the `openssl` command (3.x) and, for the GOST part, its gost engine (Debian:
# libengine-gost-openssl). The certificates are valid from 2025-01-01 for 20 years
# (the expired one from 2020-01-01 to 2021-01-01), so tests with an injected clock stay stable.
set -euo pipefail
cd "$(dirname "$0")"
only="${1:-all}"
if [ "$only" = all ]; then
rm -rf work && mkdir -p work
touch work/index.txt
echo 1000 > work/serial
echo 1000 > work/crlnumber

cat > work/ca.cnf <<'CNF'
[ ca ]
default_ca = dev_ca
[ dev_ca ]
dir = work
database = work/index.txt
new_certs_dir = work
serial = work/serial
crlnumber = work/crlnumber
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
string_mask = utf8only
default_crl_days = 7300
[ any ]
countryName = optional
commonName = supplied
surname = optional
givenName = optional
SNILS = optional
INN = optional
emailAddress = optional
[ ca_ext ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ citizen_ext ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ server_ext ]
basicConstraints = critical, CA:false
keyUsage = critical, keyEncipherment
CNF

selfsign() { # name subject
  openssl req -x509 -new -utf8 -key "$1.key" -out "$1.pem" -subj "$2" -sha256 \
    -not_before 20250101000000Z -not_after 20450101000000Z \
    -config work/ca.cnf -extensions ca_ext 2>/dev/null \
  || openssl req -x509 -new -utf8 -key "$1.key" -out "$1.pem" -subj "$2" -sha256 -days 7300 \
    -config work/ca.cnf -extensions ca_ext
}
issue() { # name keyfile ca subject start end
  openssl req -new -utf8 -key "$2" -subj "$4" -out "work/$1.csr"
  # The [ any ] policy lists every subject field (SNILS and INN are OpenSSL's names for
  # 1.2.643.100.3 and 1.2.643.3.131.1.1); fields outside it would be dropped.
  openssl ca -batch -config work/ca.cnf -cert "$3.pem" -keyfile "$3.key" \
    -extensions citizen_ext -startdate "$5" -enddate "$6" -preserveDN \
    -utf8 -in "work/$1.csr" -out "$1.pem" -notext 2>/dev/null
}

# The trusted development CA (RSA-2048) and a foreign CA nobody trusts.
openssl genrsa -out ca.key 2048 2>/dev/null
openssl genrsa -out unknown-ca.key 2048 2>/dev/null
selfsign ca "/C=RU/O=Dev Certification Centre/CN=Dev CA (development only)"
selfsign unknown-ca "/C=RU/O=Unknown Centre/CN=Unknown CA"

START=20250101000000Z
END=20450101000000Z
# SNILS 112-233-445 95 (checksum valid), INN 500100732259 (checksum valid).
SUBJ="/C=RU/CN=Иванов Иван Иванович/SN=Иванов/GN=Иван Иванович/1.2.643.100.3=11223344595/1.2.643.3.131.1.1=500100732259/emailAddress=ivanov@example.ru"
openssl genrsa -out citizen-rsa.key 2048 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out work/ec.key
openssl pkcs8 -topk8 -nocrypt -in work/ec.key -out citizen-ec.key
openssl genrsa -out expired.key 2048 2>/dev/null
openssl genrsa -out revoked.key 2048 2>/dev/null
openssl genrsa -out stranger.key 2048 2>/dev/null
openssl genrsa -out foreign.key 2048 2>/dev/null

issue citizen-rsa citizen-rsa.key ca "$SUBJ" $START $END
issue citizen-ec citizen-ec.key ca "$SUBJ" $START $END
issue expired expired.key ca "$SUBJ" 20200101000000Z 20210101000000Z
issue revoked revoked.key ca "$SUBJ" $START $END
# A valid certificate whose SNILS (987-654-321 00) belongs to no account.
issue stranger stranger.key ca "/C=RU/CN=Петров Пётр/SN=Петров/GN=Пётр/1.2.643.100.3=98765432100/emailAddress=nobody@example.ru" $START $END
# Same citizen, certificate from the unknown CA.
issue foreign foreign.key unknown-ca "$SUBJ" $START $END

# The CRL of the dev CA revokes revoked.pem.
openssl ca -config work/ca.cnf -cert ca.pem -keyfile ca.key -revoke revoked.pem 2>/dev/null
openssl ca -gencrl -config work/ca.cnf -cert ca.pem -keyfile ca.key -out ca.crl.pem 2>/dev/null
openssl crl -in ca.crl.pem -outform DER -out ca.crl

rm -rf work
fi

# ---------------------------------------------------------------------------------------
# GOST R 34.10-2012 (256-bit keys, Streebog-256 digests) through openssl's gost engine:
# a GOST dev CA (CryptoPro-A parameters), the demo citizen (TC26 paramSetA), a revoked
# certificate (CryptoPro-A) in the GOST CA's CRL, and a certificate of the same person from
# an untrusted GOST CA (XchA; the person's key on CryptoPro-B). Serials start at 2000.
G="-engine gost"
rm -rf work-gost && mkdir -p work-gost
touch work-gost/index.txt
echo 2000 > work-gost/serial
echo 2000 > work-gost/crlnumber
cat > work-gost/ca.cnf <<'CNF'
[ ca ]
default_ca = gost_ca
[ gost_ca ]
dir = work-gost
database = work-gost/index.txt
new_certs_dir = work-gost
serial = work-gost/serial
crlnumber = work-gost/crlnumber
default_md = md_gost12_256
policy = any
unique_subject = no
copy_extensions = none
string_mask = utf8only
default_crl_days = 7300
[ any ]
countryName = optional
organizationName = optional
commonName = supplied
surname = optional
givenName = optional
SNILS = optional
INN = optional
emailAddress = optional
[ ca_ext ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ citizen_ext ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
gost_key() { # name paramset (A = CryptoPro-A, B, XA, TCA, …)
  openssl genpkey $G -algorithm gost2012_256 -pkeyopt "paramset:$2" -out "$1.key" 2>/dev/null
}
gost_csr() { # name subject
  openssl req -new -utf8 $G -key "$1.key" -md_gost12_256 -subj "$2" -out "work-gost/$1.csr" 2>/dev/null
}
gost_ca() { # name subject  (self-signed; `ca -selfsign` because req -x509 of openssl 3.0 has no dates)
  gost_csr "$1" "$2"
  openssl ca -batch $G -config work-gost/ca.cnf -selfsign -keyfile "$1.key" -extensions ca_ext \
    -startdate 20250101000000Z -enddate 20450101000000Z -preserveDN -utf8 \
    -in "work-gost/$1.csr" -out "$1.pem" -notext 2>/dev/null
}
gost_issue() { # name ca subject
  gost_csr "$1" "$3"
  openssl ca -batch $G -config work-gost/ca.cnf -cert "$2.pem" -keyfile "$2.key" \
    -extensions citizen_ext -startdate 20250101000000Z -enddate 20450101000000Z -preserveDN \
    -utf8 -in "work-gost/$1.csr" -out "$1.pem" -notext 2>/dev/null
}
GSUBJ="/C=RU/CN=Иванов Иван Иванович/SN=Иванов/GN=Иван Иванович/1.2.643.100.3=11223344595/1.2.643.3.131.1.1=500100732259/emailAddress=ivanov@example.ru"
gost_key gost-ca A
gost_key gost-unknown-ca XA
gost_key gost-citizen TCA
gost_key gost-revoked A
gost_key gost-foreign B
gost_ca gost-ca "/C=RU/O=Dev GOST Certification Centre/CN=Dev GOST CA (development only)"
gost_ca gost-unknown-ca "/C=RU/O=Unknown GOST Centre/CN=Unknown GOST CA"
gost_issue gost-citizen gost-ca "$GSUBJ"
gost_issue gost-revoked gost-ca "$GSUBJ"
gost_issue gost-foreign gost-unknown-ca "$GSUBJ"
# The GOST CA's CRL (signed with GOST R 34.10-2012 / Streebog-256) revokes gost-revoked.pem.
openssl ca $G -config work-gost/ca.cnf -cert gost-ca.pem -keyfile gost-ca.key \
  -revoke gost-revoked.pem 2>/dev/null
openssl ca -gencrl $G -config work-gost/ca.cnf -cert gost-ca.pem -keyfile gost-ca.key \
  -out gost-ca.crl.pem 2>/dev/null
openssl crl -in gost-ca.crl.pem -outform DER -out gost-ca.crl
rm -rf work-gost
echo "keys/dev-ca: generated ($only)"; ls
