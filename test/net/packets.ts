// Test packet builders with an independent (naive, byte-array) checksum, so the code under test is
// checked against arithmetic it does not share.

export function naiveSum(bytes: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i]! << 8) + (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

function be16(v: number): number[] {
  return [(v >>> 8) & 0xff, v & 0xff];
}

function be32(v: number): number[] {
  return [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

export interface TcpSpec {
  flags: number;
  options?: number[];
  payload?: number[];
}

/** TCP header + payload with the checksum field zero (filled by the IP builders). */
export function tcpSegment(s: TcpSpec): number[] {
  const opts = [...(s.options ?? [])];
  while (opts.length % 4 !== 0) opts.push(0);
  const doff = (20 + opts.length) / 4;
  return [
    ...be16(40000),
    ...be16(443),
    ...be32(0x01020304),
    ...be32(0),
    (doff << 4) & 0xf0,
    s.flags,
    ...be16(65535),
    0,
    0,
    0,
    0,
    ...opts,
    ...(s.payload ?? []),
  ];
}

export function udpDatagram(payload: number[]): number[] {
  return [...be16(5353), ...be16(53), ...be16(8 + payload.length), 0, 0, ...payload];
}

function fillL4Checksum(l4: number[], proto: number, pseudo: number[]): void {
  const at = proto === 6 ? 16 : proto === 17 ? 6 : -1;
  if (at < 0 || l4.length < at + 2) return;
  const c = ~naiveSum([...pseudo, ...l4]) & 0xffff;
  l4[at] = c >>> 8;
  l4[at + 1] = c & 0xff;
}

export interface V4Spec {
  src?: number;
  dst?: number;
  proto: number;
  l4: number[];
  options?: number[];
  fragWord?: number;
}

export function ipv4(s: V4Spec): Uint8Array {
  const src = s.src ?? 0x0a080001;
  const dst = s.dst ?? 0xc0a80102;
  const opts = s.options ?? [];
  const hl = 20 + opts.length;
  const l4 = [...s.l4];
  fillL4Checksum(l4, s.proto, [...be32(src), ...be32(dst), 0, s.proto, ...be16(l4.length)]);
  const h = [
    0x40 | (hl / 4),
    0,
    ...be16(hl + l4.length),
    0x12,
    0x34,
    ...be16(s.fragWord ?? 0x4000),
    64,
    s.proto,
    0,
    0,
  ];
  const hdr = [...h, ...be32(src), ...be32(dst), ...opts];
  const c = ~naiveSum(hdr) & 0xffff;
  hdr[10] = c >>> 8;
  hdr[11] = c & 0xff;
  return Uint8Array.from([...hdr, ...l4]);
}

export interface V6Spec {
  src?: number[];
  dst?: number[];
  /** Extension headers as [nextHeaderValue, bytes without the first (next-header) byte]. */
  ext?: [number, number[]][];
  proto: number;
  l4: number[];
}

export const V6_SRC = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
export const V6_DST = [0xfd, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34];

export function ipv6(s: V6Spec): Uint8Array {
  const src = s.src ?? V6_SRC;
  const dst = s.dst ?? V6_DST;
  const l4 = [...s.l4];
  fillL4Checksum(l4, s.proto, [...src, ...dst, ...be32(l4.length), 0, 0, 0, s.proto]);
  const ext = s.ext ?? [];
  const chain: number[] = [];
  for (let i = 0; i < ext.length; i++)
    chain.push(i + 1 < ext.length ? ext[i + 1]![0] : s.proto, ...ext[i]![1]);
  const first = ext.length > 0 ? ext[0]![0] : s.proto;
  const payload = [...chain, ...l4];
  return Uint8Array.from([0x60, 0, 0, 0, ...be16(payload.length), first, 64, ...src, ...dst, ...payload]);
}

/** A hop-by-hop / destination-options header body (7 bytes after next-header: 8 bytes total). */
export const EXT8 = [0, 1, 4, 0, 0, 0, 0];
