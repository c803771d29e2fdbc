// Internet checksum helpers (RFC 1071 sum, RFC 1624 incremental update). All sums are kept as
// unfolded non-negative numbers until fold16; a packet up to 64 KiB of 16-bit words cannot reach
// 2^53, so plain numbers are exact.

import type { IpInfo } from './ip.js';
import { IPPROTO_TCP } from './ip.js';

/** Add the 16-bit big-endian words of buf[off, +len) to `sum` (odd tail padded with zero). */
export function sumWords(buf: Uint8Array, off: number, len: number, sum = 0): number {
  const end = off + len - 1;
  let p = off;
  for (; p < end; p += 2) sum += ((buf[p] ?? 0) << 8) | (buf[p + 1] ?? 0);
  if (p === end) sum += (buf[p] ?? 0) << 8;
  return sum;
}

/** Fold a sum to 16 bits with end-around carry. */
export function fold16(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** The checksum field value for data summing to `sum`. */
export function finishChecksum(sum: number): number {
  return ~fold16(sum) & 0xffff;
}

/**
 * RFC 1624 eqn. 3: new checksum after one 16-bit word of the covered data changed from oldWord to
 * newWord: HC' = ~(~HC + ~m + m').
 */
export function updateChecksum16(checksum: number, oldWord: number, newWord: number): number {
  return ~fold16((~checksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff)) & 0xffff;
}

/** Pseudo-header sum for the L4 segment of the parsed packet at buf[off] (v4 or v6). */
export function pseudoHeaderSum(buf: Uint8Array, off: number, info: IpInfo, l4Len: number): number {
  let sum = info.protocol + l4Len;
  if (info.version === 4) return sumWords(buf, off + 12, 8, sum);
  sum = sumWords(buf, off + 8, 32, sum);
  return sum;
}

/**
 * Full TCP/UDP checksum of the segment (the checksum field itself counted as zero), as it should
 * appear on the wire. For tests and for verifying incremental updates.
 */
export function computeL4Checksum(buf: Uint8Array, off: number, info: IpInfo): number {
  const l4 = off + info.l4Off;
  const l4Len = info.totalLen - info.l4Off;
  const csumOff = info.protocol === IPPROTO_TCP ? 16 : 6;
  const stored = ((buf[l4 + csumOff] ?? 0) << 8) | (buf[l4 + csumOff + 1] ?? 0);
  const sum = sumWords(buf, l4, l4Len, pseudoHeaderSum(buf, off, info, l4Len)) - stored;
  return finishChecksum(sum);
}

/** IPv4 header checksum value for the header at buf[off] of length hl (field counted as zero). */
export function computeIpv4HeaderChecksum(buf: Uint8Array, off: number, hl: number): number {
  const stored = ((buf[off + 10] ?? 0) << 8) | (buf[off + 11] ?? 0);
  return finishChecksum(sumWords(buf, off, hl) - stored);
}
