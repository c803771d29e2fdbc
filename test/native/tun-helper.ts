// Runs inside a test-owned network namespace (spawned by tun.test.ts via `ip netns exec`).
// Opens a TUN with the addon, addresses it, and checks both directions:
//   kernel -> TUN: a dgram send to a peer on the TUN subnet is read by readBatch as IPv4/UDP;
//   TUN -> kernel: IPv4/UDP packets built here and written with writeBatch reach a dgram socket.
// Prints one line "RESULT <json>" and exits 0, or prints the error and exits 1. Bounded: 5 s.
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { loadNative, TUN_F } from '../../src/native/index.js';
import type { NativeAddon } from '../../src/native/index.js';

const LOCAL = [10, 200, 0, 1];
const PEER = [10, 200, 0, 2];
const SLOT = 2048;

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 5000 });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
}

/** Polls readBatch via a watcher until `match` accepts a frame; returns that frame. */
function readUntil(native: NativeAddon, fd: number, match: (p: Uint8Array) => boolean): Promise<Uint8Array> {
  const slab = new Uint8Array(8 * SLOT);
  const offsets = Uint32Array.from({ length: 8 }, (_, i) => i * SLOT);
  const caps = new Uint32Array(8).fill(SLOT);
  const lengths = new Uint32Array(8);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      native.poll.unwatch(h);
      reject(new Error('no matching frame within 3 s'));
    }, 3000);
    const h = native.poll.watch(fd, native.poll.READABLE, () => {
      const n = native.tun.readBatch(fd, slab, offsets, caps, lengths, 8);
      for (let i = 0; i < n; i++) {
        const frame = slab.slice(offsets[i]!, offsets[i]! + lengths[i]!);
        if (!match(frame)) continue;
        native.poll.unwatch(h);
        clearTimeout(timer);
        resolve(frame);
        return;
      }
    });
  });
}

/** IPv4 (20-byte header, checksum filled) + UDP (checksum 0, allowed over IPv4) + payload. */
function udp4(src: number[], sport: number, dst: number[], dport: number, payload: Uint8Array): Uint8Array {
  const p = new Uint8Array(28 + payload.length);
  const v = new DataView(p.buffer);
  p[0] = 0x45;
  v.setUint16(2, p.length);
  p[8] = 64;
  p[9] = 17;
  p.set(src, 12);
  p.set(dst, 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += v.getUint16(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  v.setUint16(10, ~sum & 0xffff);
  v.setUint16(20, sport);
  v.setUint16(22, dport);
  v.setUint16(24, 8 + payload.length);
  p.set(payload, 28);
  return p;
}

function collect(sock: Socket, want: number): Promise<{ data: string; from: string }[]> {
  const got: { data: string; from: string }[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`received ${got.length}/${want} datagrams in 3 s`)),
      3000,
    );
    sock.on('message', (msg, rinfo) => {
      got.push({ data: msg.toString(), from: `${rinfo.address}:${rinfo.port}` });
      if (got.length === want) {
        clearTimeout(timer);
        resolve(got);
      }
    });
  });
}

async function main(): Promise<void> {
  const native = loadNative();
  if (native === null) throw new Error('addon missing');
  const { fd, name } = native.tun.open({ name: 'ovt%d' });
  // Before the link is up nothing (not even IPv6 router solicitations) is queued.
  const empty = native.tun.readBatch(
    fd,
    new Uint8Array(SLOT),
    Uint32Array.of(0),
    Uint32Array.of(SLOT),
    new Uint32Array(1),
    1,
  );
  native.tun.setMtu(name, 1400);
  native.tun.setUp(name, true);
  ip('addr', 'add', '10.200.0.1/24', 'dev', name);

  // kernel -> TUN
  const tx = createSocket('udp4');
  await new Promise<void>((res) => tx.bind(0, '10.200.0.1', res));
  const reading = readUntil(native, fd, (p) => p[0] === 0x45 && p[9] === 17 && p[16] === 10 && p[19] === 2);
  tx.send('hello tun', 5555, '10.200.0.2');
  const frame = await reading;
  const fv = new DataView(frame.buffer);

  // TUN -> kernel, three packets in one writeBatch
  const rx = createSocket('udp4');
  await new Promise<void>((res) => rx.bind(0, '10.200.0.1', res));
  const port = rx.address().port;
  const packets = ['one', 'two', 'three'].map((s) =>
    udp4(PEER, 6666, LOCAL, port, new TextEncoder().encode(s)),
  );
  const slab = new Uint8Array(3 * SLOT);
  packets.forEach((p, i) => slab.set(p, i * SLOT));
  const arriving = collect(rx, 3);
  const written = native.tun.writeBatch(
    fd,
    slab,
    Uint32Array.of(0, SLOT, 2 * SLOT),
    Uint32Array.from(packets, (p) => p.length),
    3,
  );
  const received = await arriving;

  // vnet_hdr + multi-queue: two queues on one device, offloads accepted
  const q1 = native.tun.open({ name: 'ovtmq0', multiQueue: true, vnetHdr: true });
  const q2 = native.tun.open({ name: 'ovtmq0', multiQueue: true, vnetHdr: true });
  native.tun.setVnetHdrSize(q1.fd, 12);
  native.tun.setOffload(q1.fd, TUN_F.CSUM | TUN_F.TSO4 | TUN_F.TSO6);

  console.log(
    'RESULT ' +
      JSON.stringify({
        name,
        empty,
        frameLen: frame.length,
        totalLen: fv.getUint16(2),
        src: frame.slice(12, 16).join('.'),
        dst: frame.slice(16, 20).join('.'),
        dport: fv.getUint16(22),
        payload: Buffer.from(frame.subarray(28)).toString(),
        written,
        received,
        mq: [q1.name, q2.name],
      }),
  );
  tx.close();
  rx.close();
  for (const f of [fd, q1.fd, q2.fd]) native.tun.close(f);
}

const guard = setTimeout(() => {
  console.error('tun-helper: timed out');
  process.exit(1);
}, 5000);
main().then(
  () => clearTimeout(guard),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
