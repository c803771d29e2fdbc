#!/usr/bin/env bash
# Known-answer data-channel vectors from a real OpenVPN 2.6 pair.
#
# Regenerate (root; needs openvpn, tcpdump, python3, ping, openssl, iproute2):
#   sudo scripts/make-vectors.sh            # writes test/vectors/openvpn-*.json
#   OUT_DIR=/tmp/v scripts/make-vectors.sh  # elsewhere;  KEEP_WORK=1 keeps logs and pcaps
# then check them without root:
#   node --import tsx --test test/protocol/openvpn-vectors.test.ts
# Every run makes fresh keys, so the JSON changes completely each time (that is expected).
#
# What one run does (three runs, see the bottom):
#   1. Two namespaces of its own, ovt-vec-<rand>-s / -c, joined by a veth (10.99.77.1 / .2).
#   2. tcpdump -w on the client's veth end, UDP port 1194 only.
#   3. openvpn (foreground, by PID) in each namespace with disable-dco, allow-compression no,
#      data-ciphers forced to one cipher, `ping 1` so keepalives appear, and verb 9.
#   4. Pings through the tunnel, IPv4 in several sizes and one IPv6 each way, then 1.5 s idle so
#      keepalives go out; then both peers and tcpdump are stopped by PID.
#   5. vectors.py reads the keys from the logs and the P_DATA_V1/V2 datagrams (opcode 6/9) from
#      the pcap, cross-checks both logs, and writes the JSON.
# The namespaces and processes are removed on exit, including on error (trap).
#
# Where the keys come from (OpenVPN 2.6.14, checked on the actual logs):
#   verb >= 7 (D_SHOW_KEYS) logs, per peer,
#     "Outgoing Data Channel: CIPHER KEY: 083ef847 6c5f753b ..."   (this peer's send key)
#     "Incoming Data Channel: CIPHER KEY: c4183abc f2c40cdc ..."   (this peer's receive key)
#   and "Master Encrypt/Decrypt (cipher, ...)" with the same bytes. Under AEAD the HMAC half is
#   printed as "(hmac, [null-digest], 0 bits)" with no bytes, so verb 7 does NOT show the implicit
#   IV. verb 9 (D_PACKET_CONTENT) logs each nonce:
#     "ENCRYPT IV: 00000001 daf899ef e85acc35"   = pkt_id(4) || send implicit IV(8)
#     "DECRYPT IV: 00000002 655e271f 51be57f2"   = pkt_id(4) || receive implicit IV(8)
#   so verb 9 is used. The TLS client's Outgoing key/ENCRYPT IV are client-to-server.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT_DIR:-$repo/test/vectors}
max_per_dir=${MAX_PER_DIR:-14}

[ "$(id -u)" = 0 ] || { echo "make-vectors: needs root (namespaces, TUN)" >&2; exit 2; }
for c in openvpn tcpdump python3 ping openssl ip; do
  command -v "$c" >/dev/null || { echo "make-vectors: needs $c" >&2; exit 2; }
done

work=$(mktemp -d /tmp/ovt-vectors-XXXXXX)
tag=$(openssl rand -hex 3)
ns_s=ovt-vec-$tag-s
ns_c=ovt-vec-$tag-c
pids=()

stop_pid() { # PID: SIGTERM, up to 3 s, then SIGKILL. Only PIDs this script started.
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local pid
  for pid in "${pids[@]}"; do stop_pid "$pid"; done
  pids=()
  for ns in "$ns_s" "$ns_c"; do [ -e "/run/netns/$ns" ] && ip netns del "$ns"; done
  if [ "${KEEP_WORK:-0}" = 1 ]; then echo "make-vectors: work dir kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_log() { # FILE REGEX TIMEOUT_S
  local i
  for i in $(seq $(($3 * 10))); do grep -qE "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "make-vectors: timed out waiting for /$2/ in $1; tail:" >&2
  tail -20 "$1" >&2
  return 1
}

setup_namespaces() {
  ip netns add "$ns_s"
  ip netns add "$ns_c"
  ip link add veth-s netns "$ns_s" type veth peer name veth-c netns "$ns_c"
  ip -n "$ns_s" addr add 10.99.77.1/24 dev veth-s
  ip -n "$ns_c" addr add 10.99.77.2/24 dev veth-c
  for ns in "$ns_s" "$ns_c"; do ip -n "$ns" link set lo up; done
  ip -n "$ns_s" link set veth-s up
  ip -n "$ns_c" link set veth-c up
}

# Options both peers share (openvpn-protocol.md §H, plus the determinism knobs).
common_conf() { # CIPHER
  cat <<EOF
dev-type tun
proto udp4
ca $work/pki/ca.crt
tls-version-min 1.2
data-ciphers $1
tls-crypt $work/pki/tc.key
allow-compression no
disable-dco
reneg-sec 0
verb 9
EOF
}

write_confs() { # MODE CIPHER RUN
  local d=$work/$3
  mkdir -p "$d"
  { common_conf "$2"; echo "dev tun-vs"; echo "cert $work/pki/server.crt"; echo "key $work/pki/server.key"
    echo "dh none"; echo "local 10.99.77.1"; echo "port 1194"; } >"$d/server.conf"
  { common_conf "$2"; echo "dev tun-vc"; echo "cert $work/pki/client.crt"; echo "key $work/pki/client.key"
    echo "remote 10.99.77.1 1194"; echo "nobind"; echo "remote-cert-tls server"; } >"$d/client.conf"
  case $1 in
    p2p)
      printf 'tls-server\nping 1\nifconfig 10.200.0.1 10.200.0.2\nifconfig-ipv6 fd00:200::1 fd00:200::2\n' >>"$d/server.conf"
      printf 'tls-client\nping 1\nifconfig 10.200.0.2 10.200.0.1\nifconfig-ipv6 fd00:200::2 fd00:200::1\n' >>"$d/client.conf"
      echo "10.200.0.1 10.200.0.2 fd00:200::1 fd00:200::2" >"$d/addrs" ;;
    server | server-v1)
      printf 'mode server\ntls-server\ntopology subnet\nserver 10.8.0.0 255.255.255.0\nserver-ipv6 fd00:200::/64\nkeepalive 1 10\n' >>"$d/server.conf"
      echo "client" >>"$d/client.conf"
      # Dropping the pushed peer-id keeps the client on P_DATA_V1 (the server still sends V2).
      [ "$1" = server-v1 ] && echo 'pull-filter ignore "peer-id"' >>"$d/client.conf"
      echo "10.8.0.1 10.8.0.2 fd00:200::1 fd00:200::1000" >"$d/addrs" ;;
  esac
}

run_pair() { # MODE CIPHER RUN : handshake, traffic, stop; leaves server.log client.log cap.pcap
  local d=$work/$3 s4 c4 s6 c6 sz
  write_confs "$1" "$2" "$3"
  read -r s4 c4 s6 c6 <"$d/addrs"
  ip netns exec "$ns_c" tcpdump -Z root -i veth-c -n -U -s 0 -w "$d/cap.pcap" udp port 1194 2>"$d/tcpdump.log" &
  pids+=($!) # ip netns exec execs in place: $! is tcpdump's own PID
  local tcpdump_pid=$!
  wait_log "$d/tcpdump.log" 'listening on' 10
  ip netns exec "$ns_s" openvpn --config "$d/server.conf" >"$d/server.log" 2>&1 &
  pids+=($!)
  local server_pid=$!
  ip netns exec "$ns_c" openvpn --config "$d/client.conf" >"$d/client.log" 2>&1 &
  pids+=($!)
  local client_pid=$!
  wait_log "$d/client.log" 'Initialization Sequence Completed' 20
  wait_log "$d/server.log" 'Initialization Sequence Completed' 5
  for sz in 0 1400 56 300; do ip netns exec "$ns_c" ping -n -q -c 1 -W 2 -s "$sz" "$s4" >/dev/null; done
  ip netns exec "$ns_c" ping -n -q -c 1 -W 2 "$s6" >/dev/null
  for sz in 1200 100; do ip netns exec "$ns_s" ping -n -q -c 1 -W 2 -s "$sz" "$c4" >/dev/null; done
  ip netns exec "$ns_s" ping -n -q -c 1 -W 2 "$c6" >/dev/null
  sleep 1.5 # idle: each side sends a keepalive after 1 s without sending
  stop_pid "$client_pid"
  stop_pid "$server_pid"
  sleep 0.2
  stop_pid "$tcpdump_pid"
  pids=()
}

make_vector() { # MODE CIPHER FILE-NAME MODE-DESCRIPTION
  local run=${3%.json}
  echo "make-vectors: $2 ($1) -> $out/$3"
  run_pair "$1" "$2" "$run"
  python3 "$repo/scripts/lab/vectors.py" --cipher "$2" --mode "$4" --max-per-direction "$max_per_dir" \
    --client-log "$work/$run/client.log" --server-log "$work/$run/server.log" --pcap "$work/$run/cap.pcap" \
    --client-addr 10.99.77.2 --openvpn-version "$(openvpn --version | head -1)" \
    --openssl-version "$(openssl version)" --out "$out/$3"
}

mkdir -p "$out"
bash "$repo/scripts/lab/pki.sh" "$work/pki"
setup_namespaces
make_vector server AES-256-GCM openvpn-aes-256-gcm.json \
  "server/client: --mode server + client (pull); peer-id 0 pushed, both directions P_DATA_V2"
make_vector p2p CHACHA20-POLY1305 openvpn-chacha20-poly1305.json \
  "p2p TLS pair (tls-server/tls-client, no pull): peer-id from EKM, both directions P_DATA_V2"
make_vector server-v1 AES-256-GCM openvpn-aes-256-gcm-data-v1.json \
  "server/client with client 'pull-filter ignore \"peer-id\"': client sends P_DATA_V1, server P_DATA_V2 peer-id 0"
echo "make-vectors: done; check with: node --import tsx --test test/protocol/openvpn-vectors.test.ts"
