// 20-byte socket address records, the format the addon reads and writes for every datagram
// (recvBatch fills them, sendBatch/sendGso read them), so a batch carries its addresses in one
// Uint8Array and no per-datagram objects exist:
//
//   0        1        2        4                                         20
//   +--------+--------+--------+-----------------------------------------+
//   | family |   0    |port BE | IPv4: bytes 4..7, bytes 8..19 zero      |
//   | 4 or 6 |        |        | IPv6: bytes 4..19                       |
//   +--------+--------+--------+-----------------------------------------+
//
// Family 0 means "no address". The addon reports IPv4-mapped IPv6 sources (::ffff:a.b.c.d on a
// dual-stack socket) as family 4, so one peer always has one record. Encoding/formatting allocate
// (setup and diagnostics); the accessors and addrEqual/addrCopy do not (hot path).
import { isIPv4, isIPv6 } from 'node:net';

export const ADDR_SIZE = 20;
export const ADDR_NONE = 0;
export const ADDR_V4 = 4;
export const ADDR_V6 = 6;

/** An address/port pair in text form (IPv6 without brackets or zone). */
export interface HostPort {
  address: string;
  port: number;
}

/** Thrown for text that is not an IP literal or a port outside 0..65535. */
export class AddrError extends TypeError {
  readonly code = 'OVPN_ERR_INVALID_ADDRESS';
}

/** Writes host:port into out[off .. off+20). Throws AddrError on a bad literal or port. */
export function encodeAddr(out: Uint8Array, off: number, host: string, port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) {
    throw new AddrError(`port: expected an integer 0..65535, got ${String(port)}`);
  }
  if (off < 0 || off + ADDR_SIZE > out.length) throw new AddrError(`off: ${off} leaves no room for 20 bytes`);
  out.fill(0, off, off + ADDR_SIZE);
  out[off + 2] = port >>> 8;
  out[off + 3] = port & 0xff;
  if (isIPv4(host)) {
    out[off] = ADDR_V4;
    writeV4(out, off + 4, host);
  } else if (isIPv6(host)) {
    out[off] = ADDR_V6;
    writeV6(out, off + 4, host);
  } else {
    throw new AddrError(`address: expected an IPv4 or IPv6 literal, got "${host}"`);
  }
}

/** A new 20-byte record for host:port. */
export function addrFrom(host: string, port: number): Uint8Array {
  const rec = new Uint8Array(ADDR_SIZE);
  encodeAddr(rec, 0, host, port);
  return rec;
}

/** Parses "1.2.3.4:1194" or "[2001:db8::1]:1194" into a new record. */
export function parseAddr(text: string): Uint8Array {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  if (!m) throw new AddrError(`address: expected "ipv4:port" or "[ipv6]:port", got "${text}"`);
  return addrFrom(m[1] ?? m[2] ?? '', Number(m[3]));
}

export function addrFamily(buf: Uint8Array, off = 0): number {
  return buf[off] ?? 0;
}

export function addrPort(buf: Uint8Array, off = 0): number {
  return ((buf[off + 2] ?? 0) << 8) | (buf[off + 3] ?? 0);
}

/** The IP text of a record ("10.0.0.1", "2001:db8::1"), or '' for family 0. */
export function addrHost(buf: Uint8Array, off = 0): string {
  const fam = buf[off];
  if (fam === ADDR_V4) return `${buf[off + 4]}.${buf[off + 5]}.${buf[off + 6]}.${buf[off + 7]}`;
  return fam === ADDR_V6 ? formatV6(buf, off + 4) : '';
}

export function decodeAddr(buf: Uint8Array, off = 0): HostPort {
  return { address: addrHost(buf, off), port: addrPort(buf, off) };
}

/** "10.0.0.1:1194", "[::1]:1194", or "none". */
export function formatAddr(buf: Uint8Array, off = 0): string {
  const fam = buf[off];
  if (fam === ADDR_V4) return `${addrHost(buf, off)}:${addrPort(buf, off)}`;
  if (fam === ADDR_V6) return `[${addrHost(buf, off)}]:${addrPort(buf, off)}`;
  return 'none';
}

/** Same family, port and address. Only the significant bytes are compared (4 for IPv4). */
export function addrEqual(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number): boolean {
  const fam = a[aOff];
  if (fam !== b[bOff]) return false;
  const end = fam === ADDR_V4 ? 8 : fam === ADDR_V6 ? ADDR_SIZE : 1;
  for (let i = 2; i < end; i++) if (a[aOff + i] !== b[bOff + i]) return false;
  return true;
}

/** Copies one record (no allocation). */
export function addrCopy(dst: Uint8Array, dstOff: number, src: Uint8Array, srcOff: number): void {
  for (let i = 0; i < ADDR_SIZE; i++) dst[dstOff + i] = src[srcOff + i] ?? 0;
}

function writeV4(out: Uint8Array, at: number, host: string): void {
  const parts = host.split('.');
  for (let i = 0; i < 4; i++) out[at + i] = Number(parts[i]);
}

/** Writes a validated (net.isIPv6) literal; handles '::' and a trailing dotted IPv4 part. */
function writeV6(out: Uint8Array, at: number, host: string): void {
  const text = host.split('%')[0] ?? '';
  const [head = '', tail] = text.split('::') as [string, string | undefined];
  const groups = (s: string): number[] => (s === '' ? [] : s.split(':').flatMap(group));
  const hi = groups(head);
  const lo = tail === undefined ? [] : groups(tail);
  const words =
    tail === undefined ? hi : [...hi, ...new Array<number>(8 - hi.length - lo.length).fill(0), ...lo];
  for (let i = 0; i < 8; i++) {
    const w = words[i] ?? 0;
    out[at + 2 * i] = w >>> 8;
    out[at + 2 * i + 1] = w & 0xff;
  }
}

/** One colon-separated piece: a hex word, or a dotted IPv4 tail worth two words. */
function group(piece: string): number[] {
  if (!piece.includes('.')) return [parseInt(piece, 16)];
  const b = piece.split('.').map(Number);
  return [((b[0] ?? 0) << 8) | (b[1] ?? 0), ((b[2] ?? 0) << 8) | (b[3] ?? 0)];
}

/** RFC 5952 text: lowercase, longest run (>= 2) of zero words as '::', mapped IPv4 dotted. */
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
    const s: string[] = [];
    for (let i = from; i < to; i++) s.push(w(i).toString(16));
    return s;
  };
  if (best < 0) return hex(0, 8).join(':');
  return `${hex(0, best).join(':')}::${hex(best + bestLen, 8).join(':')}`;
}
