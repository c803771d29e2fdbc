// TUN offloads without a device: the addon's TSO cutting (segmentFrame, the code readBatchGso
// runs) and TCP coalescing (coalesce, the code writeBatchGro runs), compared byte for byte with
// packets built independently here, and fed hostile frames.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  computeIpv4HeaderChecksum,
  computeL4Checksum,
  fold16,
  pseudoHeaderSum,
} from '../../src/net/checksum.js';
import { IpInfo, parseIp } from '../../src/net/ip.js';
import { GroCounter, GsoState, TUN_GSO_CARRY_BYTES } from '../../src/native/index.js';
import type { NativeAddon } from '../../src/native/index.js';
import { requireNative } from './require-native.js';

const GSO_TCPV4 = 1;
const GSO_TCPV6 = 4;
const NEEDS_CSUM = 1;
const ACK = 0x10;
const PSH = 0x08;
const FIN = 0x01;
const CWR = 0x80;

/** A small seeded generator (LCG): random cases that replay the same on every run. */
function lcg(seed: number): (n: number) => number {
  return (n) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
}

interface Seg {
  v6?: boolean;
  src?: number; // last address byte, to make flows
  sport?: number;
  seq: number;
  id?: number;
  flags?: number;
  payload: Uint8Array;
  options?: Uint8Array;
  window?: number;
}

/** A complete, correctly checksummed IPv4/IPv6 TCP packet built from scratch. */
function tcpPacket(s: Seg): Uint8Array {
  const opts = s.options ?? new Uint8Array(0);
  const l4 = s.v6 === true ? 40 : 20;
  const thl = 20 + opts.length;
  const len = l4 + thl + s.payload.length;
  const p = new Uint8Array(len);
  const dv = new DataView(p.buffer);
  if (s.v6 === true) {
    p[0] = 0x60;
    dv.setUint16(4, thl + s.payload.length);
    p[6] = 6;
    p[7] = 64;
    p.set([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, s.src ?? 1], 8);
    p.set([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9], 24);
  } else {
    p[0] = 0x45;
    dv.setUint16(2, len);
    dv.setUint16(4, s.id ?? 100);
    p[6] = 0x40; // DF
    p[8] = 64;
    p[9] = 6;
    p.set([10, 8, 0, s.src ?? 1, 10, 8, 0, 9], 12);
    dv.setUint16(10, computeIpv4HeaderChecksum(p, 0, 20));
  }
  dv.setUint16(l4, s.sport ?? 40000);
  dv.setUint16(l4 + 2, 5201);
  dv.setUint32(l4 + 4, s.seq >>> 0);
  dv.setUint32(l4 + 8, 777);
  p[l4 + 12] = (thl / 4) << 4;
  p[l4 + 13] = s.flags ?? ACK;
  dv.setUint16(l4 + 14, s.window ?? 500);
  p.set(opts, l4 + 20);
  p.set(s.payload, l4 + thl);
  dv.setUint16(l4 + 16, computeL4Checksum(p, 0, info(p)));
  return p;
}

function info(p: Uint8Array): IpInfo {
  const i = new IpInfo();
  assert.equal(parseIp(p, 0, p.length, i), 0, 'test packet parses');
  return i;
}

function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7) & 0xff;
  return b;
}

/**
 * What the kernel hands a TSO-enabled TUN: the super-segment with a virtio header, the TCP
 * checksum field holding the pseudo-header sum (CHECKSUM_PARTIAL).
 */
function superFrame(s: Seg, mss: number): Uint8Array {
  const p = tcpPacket(s);
  const i = info(p);
  const dv = new DataView(p.buffer);
  dv.setUint16(i.l4Off + 16, fold16(pseudoHeaderSum(p, 0, i, p.length - i.l4Off)));
  const f = new Uint8Array(10 + p.length);
  const h = new DataView(f.buffer);
  f[0] = NEEDS_CSUM;
  f[1] = s.v6 === true ? GSO_TCPV6 : GSO_TCPV4;
  h.setUint16(2, i.l4Off + 20 + (s.options?.length ?? 0), true);
  h.setUint16(4, mss, true);
  h.setUint16(6, i.l4Off, true);
  h.setUint16(8, 16, true);
  f.set(p, 10);
  return f;
}

/** The packets the kernel's software GSO would have made of that super-segment. */
function modelSegments(s: Seg, mss: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  const n = Math.max(1, Math.ceil(s.payload.length / mss));
  for (let k = 0; k < n; k++) {
    let flags = s.flags ?? ACK;
    if (k < n - 1) flags &= ~(FIN | PSH);
    if (k > 0) flags &= ~CWR;
    out.push(
      tcpPacket({
        ...s,
        seq: (s.seq + k * mss) >>> 0,
        id: ((s.id ?? 100) + k) & 0xffff,
        flags,
        payload: s.payload.subarray(k * mss, (k + 1) * mss),
      }),
    );
  }
  return out;
}

class Slots {
  readonly slab: Uint8Array;
  readonly offsets: Uint32Array;
  readonly capacities: Uint32Array;
  readonly lengths: Uint32Array;
  readonly carry = new Uint8Array(TUN_GSO_CARRY_BYTES);
  readonly state = new Uint32Array(GsoState.WORDS);
  constructor(
    readonly n: number,
    readonly cap = 1500,
  ) {
    this.slab = new Uint8Array(n * (cap + 64));
    this.offsets = Uint32Array.from({ length: n }, (_, i) => i * (cap + 64) + 32);
    this.capacities = new Uint32Array(n).fill(cap);
    this.lengths = new Uint32Array(n);
  }
  /** Feeds one frame; then (frame = null) drains the carry; returns the packets produced. */
  cut(native: NativeAddon, frame: Uint8Array | null, max = this.n): Uint8Array[] {
    const empty = new Uint8Array(10);
    const got = native.tun.segmentFrame(
      frame ?? empty,
      this.slab,
      this.offsets,
      this.capacities,
      this.lengths,
      max,
      this.carry,
      this.state,
    );
    const out: Uint8Array[] = [];
    for (let i = 0; i < got; i++)
      out.push(this.slab.slice(this.offsets[i]!, this.offsets[i]! + this.lengths[i]!));
    return out;
  }
}

test('TSO read: a 64 KiB IPv4 super-segment is cut exactly as the kernel would', (t) => {
  const native = requireNative(t);
  if (native === null) return;
  const s: Seg = { seq: 0xfffff000, id: 0xfff0, flags: ACK | PSH | CWR, payload: bytes(65000, 1) };
  const mss = 1448;
  const slots = new Slots(64);
  const got = slots.cut(native, superFrame(s, mss));
  const want = modelSegments(s, mss);
  assert.equal(got.length, want.length); // 45 packets, sequence and ID wrapping on the way
  for (let k = 0; k < want.length; k++) assert.deepEqual(got[k], want[k], `segment ${k}`);
  assert.equal(slots.state[GsoState.SUPER], 1);
  assert.equal(slots.state[GsoState.SEGMENTS], want.length);
  assert.equal(slots.state[GsoState.LEN], 0, 'nothing left in the carry');
});

test('TSO read: IPv6 with TCP options, and segments carried over when the slots run out', (t) => {
  const native = requireNative(t);
  if (native === null) return;
  const options = Uint8Array.from([1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]); // NOP NOP timestamps
  const s: Seg = { v6: true, seq: 1000, flags: ACK | FIN, payload: bytes(10_000, 2), options };
  const mss = 1388;
  const slots = new Slots(3);
  const got = [...slots.cut(native, superFrame(s, mss))];
  assert.equal(got.length, 3);
  assert.notEqual(slots.state[GsoState.LEN], 0, 'the rest waits in the carry');
  for (let round = 0; round < 10 && slots.state[GsoState.LEN] !== 0; round++)
    got.push(...slots.cut(native, null));
  const want = modelSegments(s, mss);
  assert.equal(got.length, want.length);
  for (let k = 0; k < want.length; k++) assert.deepEqual(got[k], want[k], `segment ${k}`);
});

test('TSO read: a plain frame with a pending checksum is completed in place; oversize is Ignore', (t) => {
  const native = requireNative(t);
  if (native === null) return;
  // UDP with CHECKSUM_PARTIAL: the field holds the pseudo-header sum.
  const udp = new Uint8Array(20 + 8 + 333);
  const dv = new DataView(udp.buffer);
  udp[0] = 0x45;
  dv.setUint16(2, udp.length);
  udp[8] = 64;
  udp[9] = 17;
  udp.set([10, 0, 0, 1, 10, 0, 0, 2], 12);
  dv.setUint16(10, computeIpv4HeaderChecksum(udp, 0, 20));
  dv.setUint16(20, 53);
  dv.setUint16(22, 5353);
  dv.setUint16(24, 8 + 333);
  udp.set(bytes(333, 3), 28);
  const i = info(udp);
  dv.setUint16(26, fold16(pseudoHeaderSum(udp, 0, i, 8 + 333)));
  const frame = new Uint8Array(10 + udp.length);
  frame[0] = NEEDS_CSUM;
  new DataView(frame.buffer).setUint16(6, 20, true);
  new DataView(frame.buffer).setUint16(8, 6, true);
  frame.set(udp, 10);
  const slots = new Slots(2);
  const [got] = slots.cut(native, frame);
  assert.ok(got !== undefined);
  const want = udp.slice();
  new DataView(want.buffer).setUint16(26, 0);
  new DataView(want.buffer).setUint16(26, computeL4Checksum(want, 0, info(want)));
  assert.deepEqual(got, want);

  const small = new Slots(1, 200);
  const cut = small.cut(native, frame);
  assert.equal(cut.length, 1);
  assert.equal(cut[0]!.length, 0, 'a frame larger than its slot is posted with length 0 (Ignore)');
  assert.equal(small.state[GsoState.TRUNCATED], 1);
});

test('TSO read: hostile virtio headers and frames never throw and never write past a slot', (t) => {
  const native = requireNative(t);
  if (native === null) return;
  const slots = new Slots(8, 1500);
  const rnd = lcg(12345);
  const guard = 0xa5;
  for (let iter = 0; iter < 3000; iter++) {
    slots.slab.fill(guard);
    const len = 10 + rnd(iter % 10 === 0 ? 65000 : 200);
    const f = new Uint8Array(len);
    for (let i = 0; i < len; i++) f[i] = rnd(256);
    if (rnd(2) === 0 && len > 40) {
      // plausible: a real IP/TCP header shape with random GSO fields
      f[1] = rnd(2) === 0 ? GSO_TCPV4 : GSO_TCPV6;
      f[10] = f[1] === GSO_TCPV4 ? 0x45 : 0x60;
      f[10 + 9] = 6;
      f[10 + 6] = 6;
    }
    slots.state.fill(0, 0, 3); // the carry state may be hostile too: no pending frame
    let produced = slots.cut(native, f);
    for (let r = 0; r < 50 && slots.state[GsoState.LEN] !== 0; r++)
      produced = produced.concat(slots.cut(native, null));
    for (const p of produced) assert.ok(p.length <= 1500);
    for (let i = 0; i < slots.n; i++) {
      const end = slots.offsets[i]! + slots.capacities[i]!;
      for (let g = end; g < end + 32; g++) assert.equal(slots.slab[g], guard, `slot ${i} overrun`);
    }
  }
});

interface Frame {
  gsoType: number;
  gsoSize: number;
  packet: Uint8Array;
}

function coalesce(native: NativeAddon, packets: Uint8Array[]): { frames: Frame[]; counters: Uint32Array } {
  const total = packets.reduce((a, p) => a + p.length, 0);
  const slab = new Uint8Array(total + 16);
  const offsets = new Uint32Array(packets.length);
  const lengths = new Uint32Array(packets.length);
  let pos = 8;
  packets.forEach((p, i) => {
    slab.set(p, pos);
    offsets[i] = pos;
    lengths[i] = p.length;
    pos += p.length;
  });
  const counters = new Uint32Array(GroCounter.WORDS);
  const out = new Uint8Array(total + packets.length * 200);
  const outLengths = new Uint32Array(packets.length);
  const n = native.tun.coalesce(slab, offsets, lengths, packets.length, counters, out, outLengths);
  const frames: Frame[] = [];
  let at = 0;
  for (let i = 0; i < n; i++) {
    const f = out.subarray(at, at + outLengths[i]!);
    const h = new DataView(f.buffer, f.byteOffset);
    frames.push({ gsoType: f[1]!, gsoSize: h.getUint16(4, true), packet: f.slice(10) });
    at += outLengths[i]!;
  }
  return { frames, counters };
}

/** Cuts a written frame back into packets with the (separately tested) TSO path. */
function resegment(native: NativeAddon, f: Frame): Uint8Array[] {
  if (f.gsoType === 0) return [f.packet];
  const i = info(f.packet);
  const raw = new Uint8Array(10 + f.packet.length);
  const h = new DataView(raw.buffer);
  raw[0] = NEEDS_CSUM;
  raw[1] = f.gsoType;
  h.setUint16(4, f.gsoSize, true);
  h.setUint16(6, i.l4Off, true);
  h.setUint16(8, 16, true);
  raw.set(f.packet, 10);
  return new Slots(64).cut(native, raw);
}

test('GRO write: one flow of full segments becomes one GSO frame the kernel accepts', (t) => {
  const native = requireNative(t);
  if (native === null) return;
  const mss = 1400;
  const pkts = Array.from({ length: 20 }, (_, k) =>
    tcpPacket({
      seq: 5000 + k * mss,
      id: 7 + k,
      payload: bytes(k === 19 ? 600 : mss, k),
      flags: k === 19 ? ACK | PSH : ACK,
    }),
  );
  const { frames, counters } = coalesce(native, pkts);
  assert.equal(frames.length, 1);
  const f = frames[0]!;
  assert.equal(f.gsoType, GSO_TCPV4);
  assert.equal(f.gsoSize, mss);
  const i = info(f.packet);
  assert.equal(i.totalLen, 40 + 19 * mss + 600);
  const dv = new DataView(f.packet.buffer);
  assert.equal(dv.getUint16(10), computeIpv4HeaderChecksum(f.packet, 0, 20), 'IPv4 header checksum');
  assert.equal(
    dv.getUint16(36),
    fold16(pseudoHeaderSum(f.packet, 0, i, f.packet.length - 20)),
    'TCP checksum field holds the pseudo-header sum (CHECKSUM_PARTIAL)',
  );
  assert.equal(f.packet[33]! & PSH, PSH, 'PSH of the last segment is kept');
  assert.deepEqual(resegment(native, f), pkts, 'cut again, the frame gives back the very packets');
  assert.equal(counters[GroCounter.PACKETS], 20);
  assert.equal(counters[GroCounter.MERGED_WRITES], 1);
  assert.equal(
    counters[GroCounter.BYTES],
    pkts.reduce((a, p) => a + p.length, 0),
  );
});

test('GRO write: mixed batches keep every packet and each flow its order (differential)', (t) => {
  const native = requireNative(t);
  if (native === null) return;
  const rnd = lcg(99);
  for (let round = 0; round < 200; round++) {
    const flows = 1 + rnd(12); // more flows than the coalescer keeps open
    const seq = Array.from({ length: flows }, () => rnd(1 << 30));
    const id = Array.from({ length: flows }, () => rnd(65536));
    const mss = 500 + rnd(900);
    const pkts: Uint8Array[] = [];
    const flowOf: string[] = [];
    for (let k = 0; k < 1 + rnd(120); k++) {
      const fl = rnd(flows);
      const v6 = fl % 3 === 2;
      const kind = rnd(20);
      let p: Uint8Array;
      if (kind === 0) {
        p = tcpPacket({
          v6,
          src: fl,
          sport: 1000 + fl,
          seq: seq[fl]!,
          id: id[fl]!,
          payload: new Uint8Array(0),
        }); // pure ACK
      } else if (kind === 1) {
        p = tcpPacket({
          v6,
          src: fl,
          sport: 1000 + fl,
          seq: seq[fl]! + 5,
          id: id[fl]!,
          payload: bytes(mss, k),
        }); // a gap
      } else if (kind === 2) {
        p = tcpPacket({ v6, src: fl, sport: 1000 + fl, seq: seq[fl]!, id: id[fl]!, payload: bytes(mss, k) });
        p[p.length - 1]! ^= 1; // damaged: must not be merged, and still delivered (the kernel drops it)
      } else {
        const short = rnd(8) === 0;
        const len = short ? 1 + rnd(mss) : mss;
        p = tcpPacket({
          v6,
          src: fl,
          sport: 1000 + fl,
          seq: seq[fl]!,
          id: id[fl]!,
          payload: bytes(len, k),
          flags: rnd(10) === 0 ? ACK | PSH : ACK,
        });
        seq[fl] = (seq[fl]! + len) >>> 0;
      }
      id[fl] = (id[fl]! + 1) & 0xffff;
      pkts.push(p);
      flowOf.push(`${fl}`);
    }
    const { frames, counters } = coalesce(native, pkts);
    const back: Uint8Array[] = frames.flatMap((f): Uint8Array[] => resegment(native, f));
    assert.equal(back.length, pkts.length, `round ${round}: every packet written once`);
    assert.equal(counters[GroCounter.PACKETS], pkts.length);
    // Per flow, the same packets in the same order.
    const key = (p: Uint8Array): string => (p[0]! >> 4 === 6 ? `${p[23]}` : `${p[15]}`);
    for (let fl = 0; fl < flows; fl++) {
      const a = pkts.filter((p) => key(p) === `${fl}`);
      const b = back.filter((p) => key(p) === `${fl}`);
      assert.deepEqual(b, a, `round ${round} flow ${fl}`);
    }
    for (const f of frames) if (f.gsoType !== 0) assert.ok(f.packet.length <= 65535);
  }
});

test('GRO write: hostile packets are written as they are, never merged, never read past', (t) => {
  const native = requireNative(t);
  if (native === null) return;
  const rnd = lcg(7);
  for (let round = 0; round < 500; round++) {
    const pkts: Uint8Array[] = [];
    for (let k = 0; k < 1 + rnd(40); k++) {
      const p = new Uint8Array(rnd(100));
      for (let i = 0; i < p.length; i++) p[i] = rnd(256);
      if (p.length > 0) p[0] = rnd(2) === 0 ? 0x45 : 0x60;
      if (p.length > 9) p[9] = 6;
      if (p.length > 6) p[6] = 6;
      pkts.push(p);
    }
    const { frames, counters } = coalesce(native, pkts);
    assert.equal(counters[GroCounter.PACKETS], pkts.length);
    assert.equal(frames.length, pkts.length, 'nothing merged');
  }
});
