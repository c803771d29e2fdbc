// Runs inside a test-owned namespace (spawned by tun-host.test.ts): a real Linux TCP socket talks
// through an offload TunHost to a TCP peer played here by hand, so the kernel itself judges what
// the addon makes of its frames.
//   1. connect() to 10.204.0.9:5000 through the TUN; the SYN is read, a SYN-ACK written back.
//   2. The socket sends 200 000 bytes: Linux hands the TUN TSO super-segments, which are read as
//      MTU packets; each is checked (size, checksum, sequence) and ACKed; the stream must arrive
//      whole and in order.
//   3. The peer sends 40 000 bytes as 1000-byte segments in one deliverRx: they go up merged and
//      the socket must read exactly those bytes.
// Prints "RESULT <json>" and exits 0, or the error and exits 1. Bounded: 10 s.
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { computeIpv4HeaderChecksum, computeL4Checksum } from '../../../src/net/checksum.js';
import { IpInfo, parseIp } from '../../../src/net/ip.js';
import { TxOffer } from '../../../src/os/host.js';
import { TunHost } from '../../../src/os/linux/tun-host.js';
import { delivery, handle } from './tun-packets.js';

const LOCAL = [10, 203, 0, 1];
const PEER = [10, 204, 0, 9];
const PEER_PORT = 5000;
const SYN = 0x02;
const ACK = 0x10;
const PSH = 0x08;

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed + (i >> 8)) & 0xff;
  return b;
}

/** A peer -> local TCP segment with correct checksums. */
function segment(
  lport: number,
  seq: number,
  ack: number,
  flags: number,
  payload: Uint8Array,
  id: number,
): Uint8Array {
  const opts = flags & SYN ? Uint8Array.from([2, 4, 0x05, 0xb4]) : new Uint8Array(0); // MSS 1460
  const p = new Uint8Array(40 + opts.length + payload.length);
  const v = new DataView(p.buffer);
  p[0] = 0x45;
  v.setUint16(2, p.length);
  v.setUint16(4, id);
  p[6] = 0x40;
  p[8] = 64;
  p[9] = 6;
  p.set(PEER, 12);
  p.set(LOCAL, 16);
  v.setUint16(10, computeIpv4HeaderChecksum(p, 0, 20));
  v.setUint16(20, PEER_PORT);
  v.setUint16(22, lport);
  v.setUint32(24, seq >>> 0);
  v.setUint32(28, ack >>> 0);
  p[32] = ((20 + opts.length) / 4) << 4;
  p[33] = flags;
  v.setUint16(34, 65535);
  p.set(opts, 40);
  p.set(payload, 40 + opts.length);
  const info = new IpInfo();
  parseIp(p, 0, p.length, info);
  v.setUint16(36, computeL4Checksum(p, 0, info));
  return p;
}

async function main(): Promise<void> {
  writeFileSync('/proc/sys/net/ipv6/conf/default/disable_ipv6', '1');
  const host = TunHost.open({ name: 'ovto%d', mtu: 1500, ipv4: '10.203.0.1/24', routes: ['10.204.0.0/16'] });
  const tx = handle('tx');
  const rx = handle('rx');
  host.queueStarted(tx);
  const offer = new TxOffer(64);
  offer.slab = new Uint8Array(64 * 2048);
  const info = new IpInfo();
  const problems: string[] = [];
  /** Reads what the kernel sent; returns the TCP packets from the socket, checked. */
  const pull = (): Uint8Array[] => {
    for (let k = 0; k < 64; k++) {
      offer.offset[k] = k * 2048 + 64;
      offer.capacity[k] = 1500;
      offer.length[k] = 0;
    }
    offer.count = 64;
    const n = host.pullTx(tx, offer);
    const out: Uint8Array[] = [];
    for (let k = 0; k < n; k++) {
      const p = offer.slab.slice(offer.offset[k]!, offer.offset[k]! + offer.length[k]!);
      if (p.length === 0 || parseIp(p, 0, p.length, info) !== 0 || info.protocol !== 6) continue;
      const v = new DataView(p.buffer);
      if (v.getUint16(10) !== computeIpv4HeaderChecksum(p, 0, 20)) problems.push('bad IPv4 header checksum');
      if (v.getUint16(36) !== computeL4Checksum(p, 0, info)) problems.push('bad TCP checksum');
      if (p.length > 1500) problems.push(`packet of ${p.length} bytes`);
      out.push(p);
    }
    return out;
  };
  const send = (pkts: Uint8Array[]): void => {
    const slab = new Uint8Array(pkts.reduce((a, p) => a + p.length + 8, 0));
    const d = delivery(
      [slab],
      pkts.map((p) => [[0, p]]),
    );
    host.deliverRx(rx, d);
  };
  const waitFor = async <T>(what: string, f: () => T | undefined): Promise<T> => {
    for (let i = 0; i < 400; i++) {
      const r = f();
      if (r !== undefined) return r;
      await new Promise((res) => setTimeout(res, 5));
    }
    throw new Error(`timed out waiting for ${what}`);
  };

  // 1. Handshake.
  const sock: Socket = connect(PEER_PORT, PEER.join('.'));
  sock.on('error', (e) => problems.push(`socket: ${e.message}`));
  const syn = await waitFor('the SYN', () => pull().find((p) => (p[33]! & SYN) !== 0));
  const dv = (p: Uint8Array): DataView => new DataView(p.buffer, p.byteOffset);
  const lport = dv(syn).getUint16(20);
  let localNext = (dv(syn).getUint32(24) + 1) >>> 0;
  let peerSeq = 1_000_000;
  let id = 1;
  send([segment(lport, peerSeq, localNext, SYN | ACK, new Uint8Array(0), id++)]);
  peerSeq++;
  await new Promise<void>((res, rej) => {
    sock.once('connect', () => res());
    setTimeout(() => rej(new Error('no connect')), 2000).unref();
  });

  // 2. Linux -> tunnel: TSO frames cut into packets.
  const upstream = pattern(200_000, 1);
  const received = new Uint8Array(upstream.length);
  let got = 0;
  sock.write(upstream);
  await waitFor('200000 bytes through the TUN', () => {
    for (const p of pull()) {
      const seq = dv(p).getUint32(24);
      const hl = 20 + (p[32]! >> 4) * 4;
      const data = p.subarray(hl);
      if (data.length === 0) continue;
      if (seq !== localNext) {
        problems.push(`out of order: ${seq} != ${localNext}`);
        continue;
      }
      received.set(data.subarray(0, Math.min(data.length, received.length - got)), got);
      got += data.length;
      localNext = (localNext + data.length) >>> 0;
    }
    send([segment(lport, peerSeq, localNext, ACK, new Uint8Array(0), id++)]);
    return got >= upstream.length ? true : undefined;
  });
  const streamIntact = got === upstream.length && Buffer.compare(received, upstream) === 0;
  const tso = { frames: host.stats.tsoFrames, segments: host.stats.tsoSegments };

  // 3. Tunnel -> Linux: 40 segments in one delivery, merged on the way up.
  const downstream = pattern(40_000, 2);
  const chunks: Buffer[] = [];
  sock.on('data', (c: Buffer) => chunks.push(c));
  const segs: Uint8Array[] = [];
  for (let off = 0; off < downstream.length; off += 1000) {
    const last = off + 1000 >= downstream.length;
    segs.push(
      segment(
        lport,
        peerSeq + off,
        localNext,
        last ? ACK | PSH : ACK,
        downstream.subarray(off, off + 1000),
        id++,
      ),
    );
  }
  send(segs);
  await waitFor('40000 bytes read by the socket', () =>
    chunks.reduce((a, c) => a + c.length, 0) >= downstream.length ? true : undefined,
  );
  const downIntact = Buffer.compare(Buffer.concat(chunks), downstream) === 0;
  const gro = { writes: host.stats.groWrites, packets: host.stats.groPackets };
  sock.destroy();
  host.queueStopped(tx);
  host.close();
  console.log(
    `RESULT ${JSON.stringify({ streamIntact, tso, downIntact, gro, problems: problems.slice(0, 5) })}`,
  );
}

setTimeout(() => {
  console.error('helper timed out');
  process.exit(1);
}, 10_000).unref();
main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
