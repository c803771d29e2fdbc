// Transport addresses as fixed 20-byte records, so batches carry addresses in one Uint8Array with
// no per-datagram objects. The native addon reads and writes the same format straight from and
// into sockaddrs (native/udp.c sa_to_rec), zeroing unused bytes:
//
//   0        1        2        4                                          20
//   +--------+--------+--------+------------------------------------------+
//   | family |   0    | port BE| address: IPv4 in bytes 4..7, rest zero;   |
//   | 4 | 6  |        |        | IPv6 in bytes 4..19                      |
//   +--------+--------+--------+------------------------------------------+
//
// A record with family 0 means "no address" (e.g. a connected socket's implicit peer).

import { isIP } from 'node:net';
import { ConfigError } from '../util/errors.js';

export const ADDR_SIZE = 20;
export const ADDR_FAMILY_NONE = 0;
export const ADDR_FAMILY_V4 = 4;
export const ADDR_FAMILY_V6 = 6;

export interface SockAddr {
  /** IPv4 dotted quad or IPv6 text (no brackets, no zone). */
  address: string;
  port: number;
}

/** Write `address`:`port` at `out[off..off+20)`. Throws ConfigError on text that is not an IP literal. */
export function encodeAddr(out: Uint8Array, off: number, address: string, port: number): void {
  const fam = isIP(address);
  if (fam === 0)
    throw new ConfigError('address', `address: expected an IPv4 or IPv6 literal, got "${address}"`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError('port', `port: expected an integer 0..65535, got ${String(port)}`);
  }
  out.fill(0, off, off + ADDR_SIZE);
  out[off] = fam;
  out[off + 2] = port >>> 8;
  out[off + 3] = port & 0xff;
  if (fam === 4) writeV4(out, off + 4, address);
  else writeV6(out, off + 4, address);
}

/** A fresh 20-byte record (allocates; for setup code, not per packet). */
export function addrFrom(address: string, port: number): Uint8Array {
  const a = new Uint8Array(ADDR_SIZE);
  encodeAddr(a, 0, address, port);
  return a;
}

export function addrFamily(buf: Uint8Array, off = 0): number {
  return buf[off] ?? 0;
}

export function addrPort(buf: Uint8Array, off = 0): number {
  return ((buf[off + 2] ?? 0) << 8) | (buf[off + 3] ?? 0);
}

/** Decode to text form (allocates; for control/diagnostic paths). */
export function decodeAddr(buf: Uint8Array, off = 0): SockAddr {
  return { address: addrHost(buf, off), port: addrPort(buf, off) };
}

/** The IP text of a record: "1.2.3.4", "::1", or "" for family 0. */
export function addrHost(buf: Uint8Array, off = 0): string {
  const fam = buf[off];
  if (fam === ADDR_FAMILY_V4) return `${buf[off + 4]}.${buf[off + 5]}.${buf[off + 6]}.${buf[off + 7]}`;
  if (fam !== ADDR_FAMILY_V6) return '';
  return formatV6(buf, off + 4);
}

/** "1.2.3.4:1194", "[::1]:1194", or "none". */
export function formatAddr(buf: Uint8Array, off = 0): string {
  const fam = buf[off];
  if (fam === ADDR_FAMILY_V4) return `${addrHost(buf, off)}:${addrPort(buf, off)}`;
  if (fam === ADDR_FAMILY_V6) return `[${addrHost(buf, off)}]:${addrPort(buf, off)}`;
  return 'none';
}

/** Parses "1.2.3.4:1194" or "[2001:db8::1]:1194" into a new record (ConfigError otherwise). */
export function parseAddr(text: string): Uint8Array {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  if (!m) throw new ConfigError('address', `address: expected "ipv4:port" or "[ipv6]:port", got "${text}"`);
  return addrFrom(m[1] ?? m[2] ?? '', Number(m[3]));
}

/** Copies one record (no allocation). */
export function addrCopy(dst: Uint8Array, dstOff: number, src: Uint8Array, srcOff: number): void {
  for (let i = 0; i < ADDR_SIZE; i++) dst[dstOff + i] = src[srcOff + i] ?? 0;
}

/** Byte equality of two records (family, port and the significant address bytes). */
export function addrEqual(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number): boolean {
  const n = a[aOff] === ADDR_FAMILY_V4 ? 8 : ADDR_SIZE;
  for (let i = 0; i < n; i++) if (a[aOff + i] !== b[bOff + i]) return false;
  return true;
}

const COMPARE_ORDER = [0, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 2, 3];

/** Total order (family, then address bytes, then port), for sorted tables. */
export function addrCompare(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number): number {
  for (const i of COMPARE_ORDER) {
    const d = (a[aOff + i] ?? 0) - (b[bOff + i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function writeV4(out: Uint8Array, off: number, text: string): void {
  const parts = text.split('.');
  for (let i = 0; i < 4; i++) out[off + i] = Number(parts[i]);
}

function writeV6(out: Uint8Array, off: number, text: string): void {
  let s = text;
  if (s.includes('.')) {
    // Embedded IPv4 tail ("::ffff:1.2.3.4"): rewrite it as two hex groups first.
    const c = s.lastIndexOf(':');
    const q = s
      .slice(c + 1)
      .split('.')
      .map(Number);
    const hi = ((q[0] ?? 0) << 8) | (q[1] ?? 0);
    const lo = ((q[2] ?? 0) << 8) | (q[3] ?? 0);
    s = `${s.slice(0, c + 1)}${hi.toString(16)}:${lo.toString(16)}`;
  }
  const [h = '', r] = s.split('::');
  const head = h ? h.split(':') : [];
  const back = r ? r.split(':') : [];
  const fill: string[] = new Array<string>(8 - head.length - back.length).fill('0');
  const groups = [...head, ...fill, ...back].map((x) => parseInt(x, 16));
  for (let i = 0; i < 8; i++) {
    out[off + 2 * i] = (groups[i] ?? 0) >>> 8;
    out[off + 2 * i + 1] = (groups[i] ?? 0) & 0xff;
  }
}

/** RFC 5952 text: lowercase, longest run (>= 2) of zero groups as "::", IPv4-mapped as ::ffff:a.b.c.d. */
function formatV6(buf: Uint8Array, at: number): string {
  const w = (i: number): number => ((buf[at + 2 * i] ?? 0) << 8) | (buf[at + 2 * i + 1] ?? 0);
  if (w(0) === 0 && w(1) === 0 && w(2) === 0 && w(3) === 0 && w(4) === 0 && w(5) === 0xffff) {
    return `::ffff:${buf[at + 12]}.${buf[at + 13]}.${buf[at + 14]}.${buf[at + 15]}`;
  }
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && w(j) === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = (from: number, to: number): string[] => {
    const g: string[] = [];
    for (let i = from; i < to; i++) g.push(w(i).toString(16));
    return g;
  };
  if (best < 0) return hex(0, 8).join(':');
  return `${hex(0, best).join(':')}::${hex(best + bestLen, 8).join(':')}`;
}
