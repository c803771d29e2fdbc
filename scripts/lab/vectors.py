#!/usr/bin/env python3
"""Turns one make-vectors.sh run (two verb-9 OpenVPN logs + a pcap) into a vector JSON file.

Keys come from the logs (see make-vectors.sh for the exact lines); packets from the pcap, keeping
only UDP payloads whose first byte has opcode 6 (P_DATA_V1) or 9 (P_DATA_V2). Both logs must agree
(client Outgoing == server Incoming, and so on), otherwise it exits non-zero. Standard library only.
"""
import argparse
import json
import re
import struct
import sys

HEX_WORDS = r'((?:[0-9a-f]{8} ?)+)'


def die(msg):
    print(f'vectors.py: {msg}', file=sys.stderr)
    sys.exit(1)


def one(values, what):
    """All occurrences must agree (one key, one implicit IV per direction in a run)."""
    uniq = sorted(set(values))
    if len(uniq) != 1:
        die(f'expected exactly one {what}, found {uniq}')
    return uniq[0]


def log_keys(path):
    text = open(path, encoding='utf-8', errors='replace').read()
    words = lambda m: m.replace(' ', '')
    get = lambda pat: [words(m) for m in re.findall(pat, text)]
    return {
        'out_key': one(get(r'Outgoing Data Channel: CIPHER KEY: ' + HEX_WORDS), f'Outgoing key in {path}'),
        'in_key': one(get(r'Incoming Data Channel: CIPHER KEY: ' + HEX_WORDS), f'Incoming key in {path}'),
        # "ENCRYPT IV: <pkt_id 4> <implicit iv 8>": keep the implicit part (hex chars 8..24).
        'out_iv': one([m[8:24] for m in get(r'ENCRYPT IV: ([0-9a-f]{8} [0-9a-f]{8} [0-9a-f]{8})')],
                      f'ENCRYPT implicit IV in {path}'),
        'in_iv': one([m[8:24] for m in get(r'DECRYPT IV: ([0-9a-f]{8} [0-9a-f]{8} [0-9a-f]{8})')],
                     f'DECRYPT implicit IV in {path}'),
    }


def pcap_udp_payloads(path):
    """Yields (src_ip, udp_payload) from a classic pcap of Ethernet frames carrying IPv4/UDP."""
    data = open(path, 'rb').read()
    if len(data) < 24:
        die(f'{path}: not a pcap file')
    magic = data[:4]
    if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1'):
        endian = '<'
    elif magic in (b'\xa1\xb2\xc3\xd4', b'\xa1\xb2\x3c\x4d'):
        endian = '>'
    else:
        die(f'{path}: unknown pcap magic {magic.hex()}')
    linktype = struct.unpack(endian + 'I', data[20:24])[0]
    if linktype != 1:
        die(f'{path}: link type {linktype}, expected 1 (Ethernet)')
    off = 24
    while off + 16 <= len(data):
        incl_len = struct.unpack(endian + 'I', data[off + 8:off + 12])[0]
        frame = data[off + 16:off + 16 + incl_len]
        off += 16 + incl_len
        if len(frame) < 14 + 20 or frame[12:14] != b'\x08\x00':
            continue
        ip = frame[14:]
        ihl = (ip[0] & 0x0F) * 4
        total = struct.unpack('>H', ip[2:4])[0]
        if ip[0] >> 4 != 4 or ip[9] != 17 or total > len(ip):
            continue
        udp = ip[ihl:total]
        yield '.'.join(str(b) for b in ip[12:16]), udp[8:]


def main():
    ap = argparse.ArgumentParser()
    for name in ('cipher', 'mode', 'client-log', 'server-log', 'pcap', 'client-addr', 'openvpn-version',
                 'openssl-version', 'out'):
        ap.add_argument('--' + name, required=True)
    ap.add_argument('--max-per-direction', type=int, default=14)
    a = ap.parse_args()

    c, s = log_keys(a.client_log), log_keys(a.server_log)
    # The TLS client sends with keys[0] (client-to-server); its peer must mirror every value.
    for mine, theirs in (('out_key', 'in_key'), ('in_key', 'out_key'), ('out_iv', 'in_iv'), ('in_iv', 'out_iv')):
        if c[mine] != s[theirs]:
            die(f'client {mine} {c[mine]} != server {theirs} {s[theirs]}')

    packets, counts = [], {'c2s': 0, 's2c': 0}
    for src, payload in pcap_udp_payloads(a.pcap):
        if not payload or (payload[0] >> 3) not in (6, 9):
            continue
        direction = 'c2s' if src == a.client_addr else 's2c'
        if counts[direction] >= a.max_per_direction:
            continue
        counts[direction] += 1
        packets.append({'direction': direction, 'hex': payload.hex()})
    if min(counts.values()) < 4:
        die(f'too few data packets captured: {counts}')

    vector = {
        'openvpnVersion': a.openvpn_version,
        'opensslVersion': a.openssl_version,
        'cipher': a.cipher,
        'mode': a.mode,
        'note': (
            'Captured from two real OpenVPN processes in network namespaces by scripts/make-vectors.sh '
            '(UDP, tls-crypt, disable-dco, allow-compression no, data-ciphers forced to this cipher, '
            'ping 1, verb 9). Keys: "Outgoing/Incoming Data Channel: CIPHER KEY:" log lines (verb >= 7); '
            'implicit IVs: bytes 4..11 of the "ENCRYPT IV:"/"DECRYPT IV:" nonce lines (verb 9); both peers\' '
            'logs agreed. packets: every P_DATA_V1/V2 UDP payload on the veth, in capture order, first '
            f'{a.max_per_direction} per direction; key_id 0, packet ids from 1. Plaintexts are IPv4/IPv6 '
            '(tunnel pings of several sizes, maybe IPv6 ND/MLD) or the keepalive magic. '
            'Regenerate: sudo scripts/make-vectors.sh (fresh keys each run), then '
            'node --import tsx --test test/protocol/openvpn-vectors.test.ts'
        ),
        'keys': {
            'clientToServer': {'key': c['out_key'], 'implicitIv': c['out_iv']},
            'serverToClient': {'key': c['in_key'], 'implicitIv': c['in_iv']},
        },
        'packets': packets,
    }
    with open(a.out, 'w', encoding='utf-8') as f:
        json.dump(vector, f, indent=2)
        f.write('\n')
    print(f'vectors.py: {a.out}: {counts["c2s"]} c2s + {counts["s2c"]} s2c packets')


if __name__ == '__main__':
    main()
