// IPv4 / IPv6 header parsing for the data path: version, lengths, L3/L4 types in the framework's
// NET_PACKET_LAYOUT terms, addresses without strings. No allocation: results go into a reusable
// IpInfo (one per loop), addresses are read as u32 (v4) or copied into caller arrays (v6).
//
//   IPv4: [ver|ihl][tos][total len:2][id:2][flags|frag off:2][ttl][proto][csum:2][src:4][dst:4][opts]
//   IPv6: [ver|tc|flow:4][payload len:2][next hdr][hop limit][src:16][dst:16] [ext hdrs...]
//
// Validation (drop reasons): version 4 or 6 (IP_BAD_VERSION); the fixed header fits, IHL >= 5,
// IHL*4 <= total length <= buffer, IPv6 40 + payload length <= buffer (IP_BAD_LENGTH). Bytes
// past the IP total length (padding) are allowed; `totalLen` tells the caller where to trim.
// L4 classification never drops: a packet whose L4 header does not fit is L4 UNSPECIFIED.

import { Drop, IPV6_MAX_EXT_HEADERS, LAYOUT_L3_HEADER_LENGTH_MAX } from '../protocol/constants.js';

/** NET_PACKET_LAYOUT.Layer3Type. */
export const L3Type = {
  UNSPECIFIED: 0,
  IPV4_UNSPECIFIED_OPTIONS: 1,
  IPV4_WITH_OPTIONS: 2,
  IPV4_NO_OPTIONS: 3,
  IPV6_UNSPECIFIED_EXTENSIONS: 4,
  IPV6_WITH_EXTENSIONS: 5,
  IPV6_NO_EXTENSIONS: 6,
} as const;
export type L3Type = (typeof L3Type)[keyof typeof L3Type];

/** NET_PACKET_LAYOUT.Layer4Type. */
export const L4Type = {
  UNSPECIFIED: 0,
  TCP: 1,
  UDP: 2,
  IP_FRAGMENT: 3,
  IP_NOT_FRAGMENT: 4,
} as const;
export type L4Type = (typeof L4Type)[keyof typeof L4Type];

export const IPPROTO_HOPOPTS = 0;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ROUTING = 43;
export const IPPROTO_FRAGMENT = 44;
export const IPPROTO_AH = 51;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_DSTOPTS = 60;

export const IPV4_HEADER_MIN = 20;
export const IPV6_HEADER_SIZE = 40;
export const IPV4_SRC_OFFSET = 12;
export const IPV4_DST_OFFSET = 16;
export const IPV6_SRC_OFFSET = 8;
export const IPV6_DST_OFFSET = 24;
export const TCP_HEADER_MIN = 20;
export const TCP_HEADER_MAX = 60;
export const UDP_HEADER_SIZE = 8;

/** Parse result; all lengths in bytes, offsets relative to the packet start. */
export class IpInfo {
  version = 0;
  l3Type: L3Type = L3Type.UNSPECIFIED;
  l3HeaderLen = 0;
  l4Type: L4Type = L4Type.UNSPECIFIED;
  l4HeaderLen = 0;
  /** Final protocol (after IPv6 extension headers); -1 when the chain was not walked to the end. */
  protocol = -1;
  /** IP total length (v4 field; v6 40 + payload length). */
  totalLen = 0;
  /** Offset of the L4 header (= l3HeaderLen when known). */
  l4Off = 0;
  /** IPv4 only: addresses as u32 (network order value). */
  src4 = 0;
  dst4 = 0;
}

function u16(buf: Uint8Array, off: number): number {
  return ((buf[off] ?? 0) << 8) | (buf[off + 1] ?? 0);
}

export function readU32(buf: Uint8Array, off: number): number {
  return (
    (((buf[off] ?? 0) << 24) |
      ((buf[off + 1] ?? 0) << 16) |
      ((buf[off + 2] ?? 0) << 8) |
      (buf[off + 3] ?? 0)) >>>
    0
  );
}

/** IP version nibble of the packet at buf[off] (0 when empty). */
export function ipVersion(buf: Uint8Array, off: number, len: number): number {
  return len > 0 ? (buf[off] ?? 0) >>> 4 : 0;
}

export function ipv4Src(buf: Uint8Array, off: number): number {
  return readU32(buf, off + IPV4_SRC_OFFSET);
}

export function ipv4Dst(buf: Uint8Array, off: number): number {
  return readU32(buf, off + IPV4_DST_OFFSET);
}

/** Copy the 16-byte IPv6 source address into dst[dstOff..]. */
export function copyIpv6Src(buf: Uint8Array, off: number, dst: Uint8Array, dstOff: number): void {
  for (let k = 0; k < 16; k++) dst[dstOff + k] = buf[off + IPV6_SRC_OFFSET + k] ?? 0;
}

export function copyIpv6Dst(buf: Uint8Array, off: number, dst: Uint8Array, dstOff: number): void {
  for (let k = 0; k < 16; k++) dst[dstOff + k] = buf[off + IPV6_DST_OFFSET + k] ?? 0;
}

/** Parse the IP packet at buf[off, +len) into `out`. Returns Drop.NONE or a drop reason; never throws. */
export function parseIp(buf: Uint8Array, off: number, len: number, out: IpInfo): Drop {
  out.l3Type = L3Type.UNSPECIFIED;
  out.l3HeaderLen = 0;
  out.l4Type = L4Type.UNSPECIFIED;
  out.l4HeaderLen = 0;
  out.protocol = -1;
  out.l4Off = 0;
  out.src4 = 0;
  out.dst4 = 0;
  if (len < 1 || off < 0 || off + len > buf.length) return len < 1 ? Drop.IP_BAD_LENGTH : Drop.TRUNCATED;
  out.version = (buf[off] ?? 0) >>> 4;
  if (out.version === 4) return parseIpv4(buf, off, len, out);
  if (out.version === 6) return parseIpv6(buf, off, len, out);
  return Drop.IP_BAD_VERSION;
}

function parseIpv4(buf: Uint8Array, off: number, len: number, out: IpInfo): Drop {
  if (len < IPV4_HEADER_MIN) return Drop.IP_BAD_LENGTH;
  const hl = ((buf[off] ?? 0) & 0x0f) * 4;
  const total = u16(buf, off + 2);
  if (hl < IPV4_HEADER_MIN || total < hl || total > len) return Drop.IP_BAD_LENGTH;
  out.totalLen = total;
  out.l3Type = hl === IPV4_HEADER_MIN ? L3Type.IPV4_NO_OPTIONS : L3Type.IPV4_WITH_OPTIONS;
  out.l3HeaderLen = hl;
  out.l4Off = hl;
  out.protocol = buf[off + 9] ?? 0;
  out.src4 = ipv4Src(buf, off);
  out.dst4 = ipv4Dst(buf, off);
  const fragment = (u16(buf, off + 6) & 0x3fff) !== 0; // MF flag or a fragment offset
  classifyL4(buf, off, out, fragment);
  return Drop.NONE;
}

function parseIpv6(buf: Uint8Array, off: number, len: number, out: IpInfo): Drop {
  if (len < IPV6_HEADER_SIZE) return Drop.IP_BAD_LENGTH;
  const total = IPV6_HEADER_SIZE + u16(buf, off + 4);
  if (total > len) return Drop.IP_BAD_LENGTH;
  out.totalLen = total;
  let nh = buf[off + 6] ?? 0;
  let p = IPV6_HEADER_SIZE;
  let fragment = false;
  for (let n = 0; isIpv6Extension(nh); n++) {
    const extLen = ipv6ExtLength(buf, off + p, nh);
    if (n === IPV6_MAX_EXT_HEADERS || p + extLen > total || p + extLen > LAYOUT_L3_HEADER_LENGTH_MAX) {
      out.l3Type = L3Type.IPV6_UNSPECIFIED_EXTENSIONS; // OS parses it; length must stay 0
      return Drop.NONE;
    }
    if (nh === IPPROTO_FRAGMENT) fragment ||= (u16(buf, off + p + 2) & 0xfff9) !== 0; // offset or M
    nh = buf[off + p] ?? 0;
    p += extLen;
  }
  out.l3Type = p === IPV6_HEADER_SIZE ? L3Type.IPV6_NO_EXTENSIONS : L3Type.IPV6_WITH_EXTENSIONS;
  out.l3HeaderLen = p;
  out.l4Off = p;
  out.protocol = nh;
  classifyL4(buf, off, out, fragment);
  return Drop.NONE;
}

function isIpv6Extension(nh: number): boolean {
  return (
    nh === IPPROTO_HOPOPTS ||
    nh === IPPROTO_ROUTING ||
    nh === IPPROTO_FRAGMENT ||
    nh === IPPROTO_DSTOPTS ||
    nh === IPPROTO_AH
  );
}

/** Length of the extension header at buf[p] (8 for fragment; AH counts 4-byte units + 2). */
function ipv6ExtLength(buf: Uint8Array, p: number, nh: number): number {
  if (nh === IPPROTO_FRAGMENT) return 8;
  const hlen = buf[p + 1] ?? 0;
  return nh === IPPROTO_AH ? (hlen + 2) * 4 : (hlen + 1) * 8;
}

/** Fill l4Type / l4HeaderLen from out.protocol and out.l4Off (needs out.totalLen). */
function classifyL4(buf: Uint8Array, off: number, out: IpInfo, fragment: boolean): void {
  if (fragment) {
    out.l4Type = L4Type.IP_FRAGMENT;
    return;
  }
  const room = out.totalLen - out.l4Off;
  if (out.protocol === IPPROTO_TCP) {
    const thl = room >= TCP_HEADER_MIN ? ((buf[off + out.l4Off + 12] ?? 0) >>> 4) * 4 : 0;
    if (thl >= TCP_HEADER_MIN && thl <= room) {
      out.l4Type = L4Type.TCP;
      out.l4HeaderLen = thl;
    }
  } else if (out.protocol === IPPROTO_UDP) {
    if (room >= UDP_HEADER_SIZE) {
      out.l4Type = L4Type.UDP;
      out.l4HeaderLen = UDP_HEADER_SIZE;
    }
  } else {
    out.l4Type = L4Type.IP_NOT_FRAGMENT;
  }
}
