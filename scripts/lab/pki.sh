#!/usr/bin/env bash
# Test PKI and OpenVPN keys for the namespace labs (openvpn-protocol.md §H).
#
#   scripts/lab/pki.sh DIR
#
# Idempotent: every file is made only if missing, so a second run costs a few stat()s. Concurrent
# runs on one DIR serialize on DIR/.lock. Needs openssl; openvpn is used for --genkey when present
# (without it the static keys are written in the same format from openssl rand, and the
# tls-crypt-v2 keys, which need openvpn's wrapping, are skipped with a note on stderr).
#
# Output (all EC P-256, SHA-256, PEM):
#   ca.crt ca.key                 "Test CA"
#   server.crt server.key         CN=server, EKU serverAuth   (valid 10 years)
#   client.crt client.key         CN=client, EKU clientAuth   (valid 10 years)
#   tc.key                        tls-crypt static key  (openvpn --genkey secret)
#   ta.key                        tls-auth static key   (same format)
#   tcv2-server.key tcv2-client.key  tls-crypt-v2 server key and a client key wrapped by it
# For negative tests:
#   expired-server.crt/.key       signed by ca, valid 2020-01-01 .. 2020-01-02 (expired)
#   expired-client.crt/.key       same, clientAuth
#   notyet-client.crt/.key        signed by ca, valid from 2099-01-01 (not yet valid)
#   other-ca.crt other-ca.key     unrelated CA "Other Test CA"
#   other-server.crt/.key         signed by other-ca (serverAuth): a client trusting ca must reject it
#   other-client.crt/.key         signed by other-ca (clientAuth): a server trusting ca must reject it
#
# How the out-of-range validity is made: OpenSSL 3.0's `x509 -req`/`req -x509` only take -days >= 1
# (the -not_before/-not_after options arrived in 3.4), so those certificates are signed with
# `openssl ca -startdate YYYYMMDDHHMMSSZ -enddate ...` against a throwaway CA database in
# DIR/.ca-db. No clock faking is involved.
set -euo pipefail

dir=${1:?usage: pki.sh DIR}
mkdir -p "$dir"
cd "$dir"
exec 9>.lock
flock -w 60 9

umask 077
have_openvpn=0
command -v openvpn >/dev/null 2>&1 && have_openvpn=1

# Writes a file atomically (tmp + rename) so an interrupted run never leaves a half file behind.
commit() { mv -f "$1.tmp" "$1"; }

ec_key() { # NAME
  [ -s "$1.key" ] && return 0
  openssl ecparam -name prime256v1 -genkey -noout -out "$1.key.tmp"
  commit "$1.key"
}

self_ca() { # NAME CN
  ec_key "$1"
  [ -s "$1.crt" ] && return 0
  openssl req -x509 -new -key "$1.key" -sha256 -days 3650 -subj "/CN=$2" -out "$1.crt.tmp" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
  commit "$1.crt"
}

ext_file() { # serverAuth|clientAuth -> path of an extension file
  local f=".$1.ext"
  [ -s "$f" ] || printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\nextendedKeyUsage=%s\n' "$1" >"$f"
  echo "$f"
}

leaf() { # NAME CN EKU CA
  ec_key "$1"
  [ -s "$1.crt" ] && return 0
  openssl req -new -key "$1.key" -subj "/CN=$2" -out ".$1.csr"
  openssl x509 -req -in ".$1.csr" -CA "$4.crt" -CAkey "$4.key" -set_serial "0x$(openssl rand -hex 8)" \
    -days 3650 -sha256 -extfile "$(ext_file "$3")" -out "$1.crt.tmp" 2>/dev/null
  commit "$1.crt"
}

leaf_dated() { # NAME CN EKU START END   (signed by ca via `openssl ca`; dates YYYYMMDDHHMMSSZ)
  ec_key "$1"
  [ -s "$1.crt" ] && return 0
  mkdir -p .ca-db/certs
  [ -f .ca-db/index.txt ] || : >.ca-db/index.txt
  [ -f .ca-db/serial ] || openssl rand -hex 8 >.ca-db/serial
  cat >.ca-db/ca.cnf <<EOF
[ ca ]
default_ca = lab
[ lab ]
database = .ca-db/index.txt
new_certs_dir = .ca-db/certs
serial = .ca-db/serial
default_md = sha256
policy = any
unique_subject = no
[ any ]
commonName = supplied
EOF
  openssl req -new -key "$1.key" -subj "/CN=$2" -out ".$1.csr"
  openssl ca -batch -notext -config .ca-db/ca.cnf -cert ca.crt -keyfile ca.key -in ".$1.csr" \
    -startdate "$4" -enddate "$5" -extfile "$(ext_file "$3")" -out "$1.crt.tmp" 2>/dev/null
  commit "$1.crt"
}

static_key() { # NAME : 2048-bit OpenVPN static key (tls-crypt / tls-auth)
  [ -s "$1" ] && return 0
  if [ "$have_openvpn" = 1 ]; then
    openvpn --genkey secret "$1.tmp" >/dev/null
  else
    { echo '-----BEGIN OpenVPN Static key V1-----'
      openssl rand -hex 256 | fold -w 32
      echo '-----END OpenVPN Static key V1-----'; } >"$1.tmp"
  fi
  commit "$1"
}

self_ca ca "Test CA"
leaf server server serverAuth ca
leaf client client clientAuth ca
static_key tc.key
static_key ta.key

if [ "$have_openvpn" = 1 ]; then
  if [ ! -s tcv2-server.key ]; then
    openvpn --genkey tls-crypt-v2-server tcv2-server.key.tmp >/dev/null
    commit tcv2-server.key
  fi
  if [ ! -s tcv2-client.key ]; then
    openvpn --tls-crypt-v2 tcv2-server.key --genkey tls-crypt-v2-client tcv2-client.key.tmp >/dev/null
    commit tcv2-client.key
  fi
else
  echo "pki.sh: openvpn not found; tls-crypt-v2 keys not generated" >&2
fi

leaf_dated expired-server server serverAuth 20200101000000Z 20200102000000Z
leaf_dated expired-client client clientAuth 20200101000000Z 20200102000000Z
leaf_dated notyet-client client clientAuth 20990101000000Z 20991231000000Z
self_ca other-ca "Other Test CA"
leaf other-server server serverAuth other-ca
leaf other-client client clientAuth other-ca
rm -f .*.csr
