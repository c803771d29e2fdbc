// Batched UDP through the addon on loopback: sendmmsg/recvmmsg batches, source addresses,
// IPv6 and dual-stack, GSO sends (split or GRO-coalesced), truncation, errno results, misuse.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ADDR_SIZE, addrFrom, addrHost, addrPort, formatAddr } from '../../src/transport/addr.js';
import type { NativeAddon } from '../../src/native/index.js';
import { requireNative } from './require-native.js';

const SLOT = 2048;

/** Resolves true once fd is readable, false after `ms`. */
function readable(native: NativeAddon, fd: number, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      native.poll.unwatch(h);
      resolve(false);
    }, ms);
    const h = native.poll.watch(fd, native.poll.READABLE, () => {
      native.poll.unwatch(h);
      clearTimeout(timer);
      resolve(true);
    });
  });
}

interface Received {
  slab: Uint8Array;
  lengths: Uint32Array;
  addrs: Uint8Array;
  segSizes: Uint32Array;
  count: number;
}

/** Receives until `want` datagrams arrived or 2 s passed, slot i at i*slot. */
async function recvAll(native: NativeAddon, fd: number, want: number, slot = SLOT): Promise<Received> {
  const slab = new Uint8Array(want * slot);
  const offsets = new Uint32Array(want);
  const caps = new Uint32Array(want).fill(slot);
  const lengths = new Uint32Array(want);
  const addrs = new Uint8Array(want * ADDR_SIZE);
  const segSizes = new Uint32Array(want);
  const deadline = Date.now() + 2000;
  let count = 0;
  while (count < want && Date.now() < deadline) {
    const rest = want - count;
    for (let i = 0; i < rest; i++) offsets[i] = (count + i) * slot;
    const l = lengths.subarray(count);
    const a = addrs.subarray(count * ADDR_SIZE);
    const s = segSizes.subarray(count);
    const n = native.udp.recvBatch(fd, slab, offsets, caps, l, a, s, rest);
    assert.ok(n >= 0, `recvBatch returned ${n}`);
    count += n;
    if (n === 0 && !(await readable(native, fd, deadline - Date.now()))) break;
  }
  return { slab, lengths, addrs, segSizes, count };
}

function pair(
  native: NativeAddon,
  family: 4 | 6,
  host: string,
  rxOpts = {},
): { tx: number; rx: number; rxAddr: Uint8Array } {
  const tx = native.udp.socket(family);
  const rx = native.udp.socket(family, { rcvbuf: 1 << 21, ...rxOpts });
  native.udp.bind(tx, host, 0);
  native.udp.bind(rx, host, 0);
  return { tx, rx, rxAddr: addrFrom(host, native.udp.getsockname(rx)) };
}

async function batchRoundTrip(native: NativeAddon, family: 4 | 6, host: string): Promise<void> {
  const { tx, rx, rxAddr } = pair(native, family, host);
  try {
    const n = 64;
    const sizes = Array.from({ length: n }, (_, i) =>
      i === 0 ? 0 : 1 + ((i * 211 + randomBytes(1)[0]!) % 1500),
    );
    const slab = new Uint8Array(randomBytes(n * SLOT));
    const offsets = Uint32Array.from(sizes, (_, i) => i * SLOT + (i % 7));
    const lengths = Uint32Array.from(sizes);
    const addrs = new Uint8Array(n * ADDR_SIZE);
    for (let i = 0; i < n; i++) addrs.set(rxAddr, i * ADDR_SIZE);
    let sent = 0;
    while (sent < n) {
      const r = native.udp.sendBatch(
        tx,
        slab,
        offsets.subarray(sent),
        lengths.subarray(sent),
        addrs.subarray(sent * ADDR_SIZE),
        n - sent,
      );
      assert.ok(r > 0, `sendBatch returned ${r}`);
      sent += r;
    }
    const got = await recvAll(native, rx, n);
    assert.equal(got.count, n, 'all datagrams arrive on loopback');
    const txPort = native.udp.getsockname(tx);
    for (let i = 0; i < n; i++) {
      assert.equal(got.lengths[i], sizes[i], `length ${i}`);
      assert.deepEqual(
        got.slab.subarray(i * SLOT, i * SLOT + sizes[i]!),
        slab.subarray(offsets[i]!, offsets[i]! + sizes[i]!),
        `bytes ${i}`,
      );
      assert.equal(formatAddr(got.addrs, i * ADDR_SIZE), formatAddr(addrFrom(host, txPort)), `source ${i}`);
      assert.equal(got.segSizes[i], 0);
    }
  } finally {
    native.udp.close(tx);
    native.udp.close(rx);
  }
}

describe('native UDP', () => {
  it('IPv4: 64 datagrams of varied sizes in one sendBatch arrive intact with their source', async (t) => {
    const native = requireNative(t);
    if (native) await batchRoundTrip(native, 4, '127.0.0.1');
  });

  it('IPv6: the same over ::1', async (t) => {
    const native = requireNative(t);
    if (native) await batchRoundTrip(native, 6, '::1');
  });

  it('dual-stack IPv6 socket reports IPv4 sources as family 4 and can reply to them', async (t) => {
    const native = requireNative(t);
    if (!native) return;
    const v6 = native.udp.socket(6, { v6Only: false });
    const v4 = native.udp.socket(4);
    try {
      native.udp.bind(v6, '::', 0);
      native.udp.bind(v4, '127.0.0.1', 0);
      const slab = new Uint8Array([1, 2, 3, 4, 5]);
      const one = Uint32Array.of(0);
      assert.equal(
        native.udp.sendBatch(
          v4,
          slab,
          one,
          Uint32Array.of(5),
          addrFrom('127.0.0.1', native.udp.getsockname(v6)),
          1,
        ),
        1,
      );
      const got = await recvAll(native, v6, 1);
      assert.equal(got.count, 1);
      assert.equal(formatAddr(got.addrs), `127.0.0.1:${native.udp.getsockname(v4)}`);
      assert.equal(
        native.udp.sendBatch(v6, slab, one, Uint32Array.of(3), got.addrs, 1),
        1,
        'reply via a family-4 record',
      );
      const back = await recvAll(native, v4, 1);
      assert.equal(back.lengths[0], 3);
      assert.equal(addrHost(back.addrs), '127.0.0.1');
      assert.equal(addrPort(back.addrs), native.udp.getsockname(v6));
    } finally {
      native.udp.close(v6);
      native.udp.close(v4);
    }
  });

  it('GSO: one sendGso arrives as separate datagrams, or GRO-coalesced with its segment size', async (t) => {
    const native = requireNative(t);
    if (!native) return;
    if (!native.caps().udpGso) return t.skip('kernel lacks UDP_SEGMENT');
    const seg = 1000;
    const total = 9 * seg + 500;
    const slab = new Uint8Array(randomBytes(total + 16));
    for (const gro of [false, true]) {
      if (gro && !native.caps().udpGro) continue;
      const { tx, rx, rxAddr } = pair(native, 4, '127.0.0.1', { gro });
      try {
        assert.equal(native.udp.sendGso(tx, slab, 16, total, seg, rxAddr), 10);
        // Reassemble whatever arrives (10 datagrams, or fewer coalesced ones) and compare.
        const out = new Uint8Array(total);
        let have = 0;
        let datagrams = 0;
        const deadline = Date.now() + 2000;
        while (have < total && Date.now() < deadline) {
          const got = await recvAll(native, rx, 1, 65536);
          if (got.count === 0) break;
          const len = got.lengths[0]!;
          if (gro && got.segSizes[0] !== 0) assert.equal(got.segSizes[0], seg, 'GRO segment size');
          else assert.equal(len, Math.min(seg, total - have), 'unsegmented datagram size');
          out.set(got.slab.subarray(0, len), have);
          have += len;
          datagrams++;
        }
        assert.equal(have, total, `gro=${gro}: all bytes arrived`);
        assert.deepEqual(out, slab.subarray(16, 16 + total), `gro=${gro}: bytes`);
        if (!gro) assert.equal(datagrams, 10);
        t.diagnostic(`gro=${gro}: ${datagrams} datagram(s) received for 10 segments`);
      } finally {
        native.udp.close(tx);
        native.udp.close(rx);
      }
    }
  });

  it('truncation shows as a length above the capacity', async (t) => {
    const native = requireNative(t);
    if (!native) return;
    const { tx, rx, rxAddr } = pair(native, 4, '127.0.0.1');
    try {
      native.udp.sendBatch(tx, new Uint8Array(300), Uint32Array.of(0), Uint32Array.of(300), rxAddr, 1);
      const got = await recvAll(native, rx, 1, 100);
      assert.equal(got.count, 1);
      assert.equal(got.lengths[0], 300);
    } finally {
      native.udp.close(tx);
      native.udp.close(rx);
    }
  });

  it('ECONNREFUSED on a connected socket comes back as -errno, not a throw', async (t) => {
    const native = requireNative(t);
    if (!native) return;
    const probe = native.udp.socket(4);
    native.udp.bind(probe, '127.0.0.1', 0);
    const deadPort = native.udp.getsockname(probe);
    native.udp.close(probe);
    const fd = native.udp.socket(4);
    try {
      native.udp.connect(fd, '127.0.0.1', deadPort);
      const slab = new Uint8Array(8);
      assert.equal(native.udp.sendBatch(fd, slab, Uint32Array.of(0), Uint32Array.of(8), null, 1), 1);
      // The ICMP port-unreachable is queued as a socket error; the next call reports it once.
      let r = 0;
      const deadline = Date.now() + 1000;
      while (r === 0 && Date.now() < deadline) {
        r = native.udp.recvBatch(
          fd,
          slab,
          Uint32Array.of(0),
          Uint32Array.of(8),
          new Uint32Array(1),
          null,
          null,
          1,
        );
        if (r === 0) await new Promise((res) => setTimeout(res, 5));
      }
      assert.ok(r < 0, `expected a negative errno, got ${r}`);
      assert.equal(native.errnoName(r), 'ECONNREFUSED');
      assert.equal(
        native.udp.recvBatch(
          fd,
          slab,
          Uint32Array.of(0),
          Uint32Array.of(8),
          new Uint32Array(1),
          null,
          null,
          1,
        ),
        0,
        'reported once, then EAGAIN',
      );
    } finally {
      native.udp.close(fd);
    }
  });

  it('misuse throws typed errors before any I/O', (t) => {
    const native = requireNative(t);
    if (!native) return;
    const fd = native.udp.socket(4);
    try {
      const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;
      const slab = new Uint8Array(100);
      assert.throws(
        () =>
          native.udp.sendBatch(fd, slab, Uint32Array.of(90), Uint32Array.of(11), addrFrom('127.0.0.1', 9), 1),
        code('OVPN_ERR_INVALID_ARG'),
      );
      assert.throws(
        () => native.udp.sendBatch(fd, slab, Uint32Array.of(0), Uint32Array.of(1), new Uint8Array(20), 1),
        code('OVPN_ERR_INVALID_ARG'),
        'family 0',
      );
      assert.throws(
        () =>
          native.udp.recvBatch(
            fd,
            slab,
            Uint32Array.of(0, 50),
            Uint32Array.of(50, 51),
            new Uint32Array(2),
            null,
            null,
            2,
          ),
        code('OVPN_ERR_INVALID_ARG'),
      );
      assert.throws(
        () =>
          native.udp.recvBatch(
            fd,
            slab,
            Uint32Array.of(0),
            Uint32Array.of(10),
            new Uint32Array(1),
            new Uint8Array(19),
            null,
            1,
          ),
        code('OVPN_ERR_INVALID_ARG'),
      );
      assert.throws(() => native.udp.sendGso(fd, slab, 0, 101, 10, null), code('OVPN_ERR_INVALID_ARG'));
      assert.throws(() => native.udp.bind(fd, 'localhost', 1), code('OVPN_ERR_INVALID_ARG'));
      assert.throws(() => native.udp.socket(5 as 4), code('OVPN_ERR_INVALID_ARG'));
    } finally {
      native.udp.close(fd);
    }
    assert.throws(
      () =>
        native.udp.recvBatch(
          fd,
          new Uint8Array(8),
          Uint32Array.of(0),
          Uint32Array.of(8),
          new Uint32Array(1),
          null,
          null,
          1,
        ),
      (e: unknown) => (e as { code?: string }).code === 'EBADF',
      'a closed fd throws EBADF',
    );
  });
});
