// Runs inside a test-owned namespace (spawned by tun-host.test.ts). Opens a TunHost and drives it
// the way the framework does, with hand-built RxDelivery / TxOffer batches:
//   Rx: 3 single-fragment UDP packets in two slabs, 1 packet split over 3 fragments, 1 non-IP
//       frame -> a dgram socket receives the 4 valid ones; the bad one is counted, not thrown.
//   Tx: a datagram sent through the extra route is read into offered buffers; a 1000-byte datagram read
//       into 100-byte buffers is reported truncated and posted as length 0.
// Argument `no-offload`: the device without virtio-net headers (the default has them).
// Prints "RESULT <json>" and exits 0, or the error and exits 1. Bounded: 5 s.
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { TxOffer } from '../../../src/os/host.js';
import { TunHost } from '../../../src/os/linux/tun-host.js';
import { delivery, handle } from './tun-packets.js';

/** IPv4 + UDP (checksum 0) 10.201.0.2:7000 -> 10.201.0.1:7001 carrying `text`. */
function udp4(text: string): Uint8Array {
  const payload = new TextEncoder().encode(text);
  const p = new Uint8Array(28 + payload.length);
  const v = new DataView(p.buffer);
  p[0] = 0x45;
  v.setUint16(2, p.length);
  p[8] = 64;
  p[9] = 17;
  p.set([10, 201, 0, 2], 12);
  p.set([10, 201, 0, 1], 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += v.getUint16(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  v.setUint16(10, ~sum & 0xffff);
  v.setUint16(20, 7000);
  v.setUint16(22, 7001);
  v.setUint16(24, 8 + payload.length);
  p.set(payload, 28);
  return p;
}

async function main(): Promise<void> {
  // No IPv6 on new links in this (test-owned) namespace: no router solicitations or MLD reports
  // appear in the reads, so the Tx checks see only the datagrams sent here.
  writeFileSync('/proc/sys/net/ipv6/conf/default/disable_ipv6', '1');
  const offload = process.argv[2] !== 'no-offload';
  const host = TunHost.open({
    name: 'ovth%d',
    mtu: 1400,
    ipv4: '10.201.0.1/24',
    routes: ['10.202.0.0/16'],
    offload,
  });
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(7001, '10.201.0.1', () => r()));
  const got: string[] = [];
  sock.on('message', (m) => got.push(m.toString()));
  const split = udp4('split-in-three');
  const b = delivery(
    [new Uint8Array(4096), new Uint8Array(4096)],
    [
      [[0, udp4('one')]],
      [[0, udp4('two')]],
      [[1, udp4('three')]],
      [
        [1, split.subarray(0, 10)],
        [0, split.subarray(10, 30)],
        [1, split.subarray(30)],
      ],
      [[0, new Uint8Array(40)]], // version nibble 0: the kernel refuses it
    ],
  );
  const recycled = host.deliverRx(handle('rx'), b);
  await new Promise((r) => setTimeout(r, 200));

  // Tx: a datagram routed into the TUN is read into the offer (skip IPv6 noise: filter by dst).
  const tx = handle('tx');
  host.queueStarted(tx);
  const offer = new TxOffer(8);
  offer.slab = new Uint8Array(9 * 2048);
  const send = (n: number): Promise<void> =>
    new Promise((r) => sock.send(Buffer.alloc(n, 0x61), 9, '10.202.0.9', () => r()));
  const pull = (cap: number): number => {
    for (let k = 0; k < 8; k++) {
      offer.offset[k] = k * 2048 + 16;
      offer.capacity[k] = cap;
      offer.length[k] = 0;
    }
    offer.count = 8;
    return host.pullTx(tx, offer);
  };
  pull(2048); // drain anything the kernel sent on link-up
  await send(100);
  await new Promise((r) => setTimeout(r, 100));
  const n1 = pull(2048);
  const lens1 = Array.from(offer.length.subarray(0, n1));
  const dst = Array.from(offer.slab.subarray(16 + 16, 16 + 20)).join('.');
  await send(1000);
  await new Promise((r) => setTimeout(r, 100));
  const truncatedBefore = host.stats.readTruncated;
  const n2 = pull(100);
  const lens2 = Array.from(offer.length.subarray(0, n2));
  const stats = { ...host.stats, readTruncated: host.stats.readTruncated - truncatedBefore };
  host.queueStopped(tx);
  sock.close();
  host.close();
  host.close(); // idempotent
  console.log(
    `RESULT ${JSON.stringify({ name: host.name, recycled, got, n1, lens1, dst, n2, lens2, stats })}`,
  );
}

setTimeout(() => {
  console.error('helper timed out');
  process.exit(1);
}, 5000).unref();
main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
