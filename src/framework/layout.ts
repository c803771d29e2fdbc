// Frame layout parsing (§4.7), what the OS does for Tx posts and for Rx packets whose Layout the
// driver left unspecified. Reads the first fragment only; never throws on bad bytes (unknown
// layers stay Unspecified with length 0).
//
//   IPv4: | ver/ihl | tos | total len | id | flags/frag off | ttl | proto | csum | src | dst | opts
//   IPv6: | ver/tc/flow (4) | payload len | next hdr | hop limit | src (16) | dst (16) |  = 40 bytes

import type { Medium } from './capabilities.js';
import { L2Type, L3Type, L4Type } from './packet.js';

/** A reusable output record (one per queue), so parsing allocates nothing. */
export class LayoutScratch {
  l2Type = 0;
  l2Length = 0;
  l3Type = 0;
  l3Length = 0;
  l4Type = 0;
  l4Length = 0;
}

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const PROTO_TCP = 6;
const PROTO_UDP = 17;

export function parseFrameLayout(
  buf: Uint8Array,
  off: number,
  len: number,
  medium: Medium,
  out: LayoutScratch,
): void {
  out.l3Type = L3Type.Unspecified;
  out.l3Length = 0;
  out.l4Type = L4Type.Unspecified;
  out.l4Length = 0;
  let p = off;
  let end = off + len;
  if (end > buf.length) end = buf.length;
  if (medium === 'ethernet') {
    out.l2Type = L2Type.Ethernet;
    out.l2Length = 14;
    if (end - p < 14) return;
    const et = (buf[p + 12]! << 8) | buf[p + 13]!;
    p += 14;
    if (et !== ETHERTYPE_IPV4 && et !== ETHERTYPE_IPV6) return;
  } else {
    out.l2Type = L2Type.Null;
    out.l2Length = 0;
  }
  if (end - p < 1) return;
  const ver = buf[p]! >> 4;
  if (ver === 4) parseIpv4(buf, p, end, out);
  else if (ver === 6) parseIpv6(buf, p, end, out);
}

function parseIpv4(buf: Uint8Array, p: number, end: number, out: LayoutScratch): void {
  if (end - p < 20) return;
  const ihl = (buf[p]! & 0x0f) * 4;
  if (ihl < 20 || end - p < ihl) return;
  out.l3Type = ihl === 20 ? L3Type.IPv4NoOptions : L3Type.IPv4WithOptions;
  out.l3Length = ihl;
  const fragField = ((buf[p + 6]! << 8) | buf[p + 7]!) & 0x3fff; // MF bit + fragment offset
  if (fragField !== 0) {
    out.l4Type = L4Type.IPFragment;
    return;
  }
  parseL4(buf, p + ihl, end, buf[p + 9]!, out);
}

function parseIpv6(buf: Uint8Array, p: number, end: number, out: LayoutScratch): void {
  if (end - p < 40) return;
  const next = buf[p + 6]!;
  if (next !== PROTO_TCP && next !== PROTO_UDP) {
    out.l3Type = L3Type.IPv6UnspecifiedExtensions; // extension headers are not walked
    out.l3Length = 0;
    return;
  }
  out.l3Type = L3Type.IPv6NoExtensions;
  out.l3Length = 40;
  parseL4(buf, p + 40, end, next, out);
}

function parseL4(buf: Uint8Array, p: number, end: number, proto: number, out: LayoutScratch): void {
  if (proto === PROTO_UDP) {
    if (end - p < 8) return;
    out.l4Type = L4Type.Udp;
    out.l4Length = 8;
  } else if (proto === PROTO_TCP) {
    if (end - p < 20) return;
    const doff = (buf[p + 12]! >> 4) * 4;
    if (doff < 20 || doff > 60 || end - p < doff) return;
    out.l4Type = L4Type.Tcp;
    out.l4Length = doff;
  }
}
