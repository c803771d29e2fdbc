// TCP MSS clamping on SYN (like OpenVPN's --mssfix), IPv4 and IPv6, in place.
//
// Flow:
//   1. parseIp: must be TCP, not a fragment, with a complete TCP header.
//   2. SYN flag set (SYN and SYN-ACK both carry the option).
//   3. Walk the TCP options; for kind 2 (MSS, length 4) above maxMss, write maxMss and patch the
//      TCP checksum incrementally (RFC 1624): only one 16-bit word of the segment changed.
//
//   TCP: [sport:2][dport:2][seq:4][ack:4][doff|flags:2][win:2][csum:2][urg:2][options...]
//   MSS option: [2][4][mss:2]

import { updateChecksum16 } from './checksum.js';
import { IpInfo, L4Type, parseIp, TCP_HEADER_MIN } from './ip.js';
import { Drop } from '../protocol/constants.js';

const TCP_FLAG_SYN = 0x02;
const TCP_CSUM_OFFSET = 16;
const TCPOPT_EOL = 0;
const TCPOPT_NOP = 1;
const TCPOPT_MSS = 2;
const TCPOLEN_MSS = 4;

/** Scratch parse result: the data path is single-threaded, so one module instance suffices. */
const scratch = new IpInfo();

/**
 * Clamp the MSS option of a TCP SYN at buf[off, +len) to maxMss. Returns true if the packet was
 * changed. Anything that is not a well-formed TCP SYN is left alone (returns false).
 */
export function clampMss(buf: Uint8Array, off: number, len: number, maxMss: number): boolean {
  if (parseIp(buf, off, len, scratch) !== Drop.NONE || scratch.l4Type !== L4Type.TCP) return false;
  return clampMssTcp(buf, off + scratch.l4Off, scratch.l4HeaderLen, maxMss);
}

/** As clampMss, for a TCP header at buf[tcp] of length thl already located by the caller. */
export function clampMssTcp(buf: Uint8Array, tcp: number, thl: number, maxMss: number): boolean {
  if (((buf[tcp + 13] ?? 0) & TCP_FLAG_SYN) === 0) return false;
  const end = tcp + thl;
  let p = tcp + TCP_HEADER_MIN;
  while (p < end) {
    const kind = buf[p] ?? 0;
    if (kind === TCPOPT_EOL) return false;
    if (kind === TCPOPT_NOP) {
      p++;
      continue;
    }
    const olen = p + 1 < end ? (buf[p + 1] ?? 0) : 0;
    if (olen < 2 || p + olen > end) return false; // malformed options: leave the packet alone
    if (kind === TCPOPT_MSS && olen === TCPOLEN_MSS) return rewriteMss(buf, tcp, p + 2, maxMss);
    p += olen;
  }
  return false;
}

function rewriteMss(buf: Uint8Array, tcp: number, at: number, maxMss: number): boolean {
  const mss = ((buf[at] ?? 0) << 8) | (buf[at + 1] ?? 0);
  if (mss <= maxMss) return false;
  buf[at] = (maxMss >>> 8) & 0xff;
  buf[at + 1] = maxMss & 0xff;
  const c = tcp + TCP_CSUM_OFFSET;
  // The option's word starts at an even offset only if `at` is even relative to the TCP header.
  const csum = ((buf[c] ?? 0) << 8) | (buf[c + 1] ?? 0);
  const next = (at - tcp) % 2 === 0 ? updateChecksum16(csum, mss, maxMss) : updateOdd(csum, mss, maxMss);
  buf[c] = next >>> 8;
  buf[c + 1] = next & 0xff;
  return true;
}

/**
 * The MSS value straddles two 16-bit words when the option starts at an odd offset (after a lone
 * NOP, for example). Byte-swapped arithmetic handles that: the one's-complement sum is
 * byte-order independent, so the change is applied as the swapped word.
 */
function updateOdd(csum: number, oldMss: number, newMss: number): number {
  return updateChecksum16(csum, swap16(oldMss), swap16(newMss));
}

function swap16(v: number): number {
  return ((v & 0xff) << 8) | (v >>> 8);
}
