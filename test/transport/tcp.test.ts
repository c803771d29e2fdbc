import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { FEED_BAD_LENGTH, FrameReassembler } from '../../src/transport/tcp-framing.js';
import { RxSlotPool } from '../../src/transport/slots.js';
import { createTcpClient, createTcpServer, TCP_HEADROOM } from '../../src/transport/tcp.js';
import { ADDR_SIZE, addrFrom } from '../../src/transport/addr.js';
import { TxStatus } from '../../src/transport/types.js';
import type { TransportError } from '../../src/util/errors.js';
import { collect, completions, fillPayload, makeTxBatch, payloadId, waitFor } from './helpers.js';

/** A stream of framed packets with ids first.. and the given sizes. */
function stream(sizes: number[], first = 0): Uint8Array {
  const total = sizes.reduce((s, n) => s + n + 2, 0);
  const out = new Uint8Array(total);
  let p = 0;
  sizes.forEach((n, i) => {
    out[p] = n >>> 8;
    out[p + 1] = n & 0xff;
    fillPayload(out, p + 2, n, first + i);
    p += n + 2;
  });
  return out;
}

function reassembler(slots = 16, maxFrame = 2048): { r: FrameReassembler; pool: RxSlotPool; got: number[] } {
  const pool = new RxSlotPool(2048, slots);
  const got: number[] = [];
  const r = new FrameReassembler(pool, maxFrame, (slot, len) => {
    got.push(payloadId(pool.slab, pool.offsetOf(slot), len));
    pool.release(slot);
  });
  return { r, pool, got };
}

test('reassembler: every split point of a 3-packet stream yields the same packets', () => {
  const s = stream([5, 300, 2]);
  for (let cut1 = 0; cut1 <= s.length; cut1++) {
    for (const cut2 of [cut1, Math.min(s.length, cut1 + 1), Math.min(s.length, cut1 + 7)]) {
      const { r, pool, got } = reassembler();
      for (const chunk of [s.subarray(0, cut1), s.subarray(cut1, cut2), s.subarray(cut2)]) {
        assert.equal(r.feed(chunk, 0), chunk.length);
      }
      assert.deepEqual(got, [0, 1, 2], `cuts at ${cut1}/${cut2}`);
      assert.equal(pool.available, 16, 'no slot leaked');
    }
  }
});

test('reassembler: one byte at a time, and many packets in one chunk', () => {
  const sizes = Array.from({ length: 40 }, (_, i) => 2 + ((i * 37) % 1500));
  const s = stream(sizes);
  const one = reassembler();
  for (let i = 0; i < s.length; i++) one.r.feed(s.subarray(i, i + 1), 0);
  assert.deepEqual(
    one.got,
    sizes.map((_, i) => i),
  );
  const all = reassembler();
  assert.equal(all.r.feed(s, 0), s.length);
  assert.deepEqual(all.got, one.got);
});

test('reassembler: length 0 and length > max are framing errors', () => {
  const zero = reassembler();
  assert.equal(zero.r.feed(new Uint8Array([0, 0, 1, 2]), 0), FEED_BAD_LENGTH);
  assert.equal(zero.r.badLength, 0);
  const big = reassembler(4, 1500);
  const s = stream([10]);
  assert.equal(big.r.feed(s, 0), s.length);
  assert.equal(big.r.feed(new Uint8Array([0x05, 0xdd]), 0), FEED_BAD_LENGTH, '1501 > 1500');
  assert.equal(big.r.badLength, 1501);
  assert.deepEqual(big.got, [0]);
});

test('reassembler: stalls without a free slot and continues after a release', () => {
  const pool = new RxSlotPool(2048, 2);
  const held: number[] = [];
  const r = new FrameReassembler(pool, 2048, (slot) => held.push(slot));
  const s = stream([10, 10, 10, 10]);
  const stop = r.feed(s, 0);
  assert.equal(held.length, 2);
  assert.ok(r.stalled && stop === 26, `stalled after two packets and the third header (at ${stop})`);
  pool.release(held.shift()!);
  const stop2 = r.feed(s, stop);
  assert.equal(held.length, 2);
  pool.release(held.shift()!);
  pool.release(held.shift()!);
  assert.equal(r.feed(s, stop2), s.length);
  assert.equal(held.length, 1);
});

test('TCP: client ⇄ server round trip with batches, headroom only touched before packets', async () => {
  const server = await createTcpServer({ listen: { address: '127.0.0.1', port: 0 } });
  const port = server.localAddress()!.port;
  const client = await createTcpClient({ remote: { address: '127.0.0.1', port } });
  const atServer = collect(server);
  const atClient = collect(client);
  const done = completions(client);
  const batch = makeTxBatch(50, 700, TCP_HEADROOM);
  const before = batch.slab.slice();
  assert.equal(client.send(batch), 50);
  await waitFor(() => atServer.ids.length === 50 && done.tokens.length === 50);
  assert.deepEqual(
    atServer.ids,
    Array.from({ length: 50 }, (_, i) => i),
  );
  assert.ok(done.statuses.every((s) => s === TxStatus.OK));
  for (let i = 0; i < 50; i++) {
    const off = batch.offsets[i]!;
    assert.deepEqual(
      batch.slab.subarray(off, off + 700),
      before.subarray(off, off + 700),
      'payload untouched',
    );
    assert.deepEqual(
      [...batch.slab.subarray(off - 2, off)],
      [700 >>> 8, 700 & 0xff],
      'length in the headroom',
    );
  }
  // Reply to the address the server saw.
  const reply = makeTxBatch(3, 40, TCP_HEADROOM, 100);
  reply.addrs = new Uint8Array(3 * ADDR_SIZE);
  for (let i = 0; i < 3; i++) reply.addrs.set(server.remotes()[0]!, i * ADDR_SIZE);
  assert.equal(server.send(reply), 3);
  await waitFor(() => atClient.ids.length === 3);
  assert.deepEqual(atClient.ids, [100, 101, 102]);
  await client.close();
  await server.close();
});

test('TCP server: two clients, each its own remote address; disconnect is reported', async () => {
  const server = await createTcpServer({ listen: { address: '::1', port: 0 } });
  const port = server.localAddress()!.port;
  const errors: TransportError[] = [];
  server.onError((e) => errors.push(e));
  const got = collect(server);
  const c1 = await createTcpClient({ remote: { address: '::1', port } });
  const c2 = await createTcpClient({ remote: { address: '::1', port } });
  c1.send(makeTxBatch(2, 30, TCP_HEADROOM, 10));
  c2.send(makeTxBatch(2, 30, TCP_HEADROOM, 20));
  await waitFor(() => got.ids.length === 4);
  assert.equal(new Set(got.from).size, 2, 'two distinct remote addresses');
  assert.equal(server.remotes().length, 2);
  const c1Port = c1.localAddress()!.port;
  await c1.close();
  await waitFor(() => errors.length === 1);
  assert.equal(errors[0]!.code, 'OVPN_ERR_TRANSPORT_DISCONNECT');
  assert.deepEqual(errors[0]!.remote, addrFrom('::1', c1Port));
  assert.equal(server.counters.disconnects, 1);
  // A send to the departed client completes NO_ROUTE; the other client still works.
  const done = completions(server);
  const b = makeTxBatch(1, 30, TCP_HEADROOM, 99);
  b.addrs = addrFrom('::1', c1Port);
  server.send(b);
  await waitFor(() => done.tokens.length === 1);
  assert.equal(done.statuses[0], TxStatus.NO_ROUTE);
  await c2.close();
  await server.close();
});

test('TCP: bad length drops the connection and reports a framing error', async () => {
  const server = await createTcpServer({ listen: { address: '127.0.0.1', port: 0 }, rxSlotSize: 1024 });
  const errors: TransportError[] = [];
  server.onError((e) => errors.push(e));
  const got = collect(server);
  const raw = net.connect(server.localAddress()!.port, '127.0.0.1');
  const closed = new Promise<void>((r) => raw.on('close', () => r()));
  raw.on('error', () => undefined);
  raw.write(stream([8]));
  raw.write(new Uint8Array([0x04, 0x01, 1, 2, 3])); // 1025 > 1024
  await closed;
  await waitFor(() => errors.length === 2);
  assert.deepEqual(got.ids, [0], 'the good packet before the bad length was delivered');
  assert.equal(errors[0]!.code, 'OVPN_ERR_TRANSPORT_FRAMING');
  assert.match(errors[0]!.message, /bad packet length 1025 \(expected 1\.\.1024\)/);
  assert.equal(errors[1]!.code, 'OVPN_ERR_TRANSPORT_DISCONNECT');
  assert.equal(server.counters.rxBadLength, 1);
  await server.close();
});

test('TCP: all slots held pauses the socket without losing data; back-pressure at the in-flight cap', async () => {
  const server = await createTcpServer({ listen: { address: '127.0.0.1', port: 0 }, rxSlotCount: 4 });
  const client = await createTcpClient({
    remote: { address: '127.0.0.1', port: server.localAddress()!.port },
    maxInFlight: 8,
  });
  const got = collect(server, true);
  let writable = 0;
  client.onWritable(() => writable++);
  const batch = makeTxBatch(20, 500, TCP_HEADROOM);
  assert.equal(client.send(batch), 8);
  await waitFor(() => writable === 1);
  const rest = {
    ...batch,
    count: 12,
    offsets: batch.offsets.subarray(8),
    lengths: batch.lengths.subarray(8),
    tokens: batch.tokens.subarray(8),
  };
  assert.equal(client.send(rest), 8);
  await waitFor(() => got.ids.length === 4);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(got.ids.length, 4, 'nothing more while every slot is held');
  assert.ok(server.counters.rxPaused >= 1);
  for (let round = 0; round < 10 && got.ids.length < 16; round++) {
    for (const s of got.held.splice(0)) server.release(s);
    await waitFor(() => got.held.length > 0 || got.ids.length === 16, 2000, 'more packets');
  }
  for (const s of got.held.splice(0)) server.release(s);
  assert.deepEqual(
    got.ids,
    Array.from({ length: 16 }, (_, i) => i),
  );
  assert.equal(server.counters.rxNoBuffer, 0, 'TCP never drops for lack of slots');
  await client.close();
  await server.close();
});

test('TCP client: connect failure is a typed error', async () => {
  const probe = await createTcpServer({ listen: { address: '127.0.0.1', port: 0 } });
  const port = probe.localAddress()!.port;
  await probe.close();
  await assert.rejects(createTcpClient({ remote: { address: '127.0.0.1', port } }), {
    code: 'OVPN_ERR_TRANSPORT_IO',
    message: new RegExp(`connect to 127\\.0\\.0\\.1:${port} failed`),
  });
});

test('close leaves no sockets or servers behind', async () => {
  const kinds = (): string[] => process.getActiveResourcesInfo().filter((k) => /TCP|UDP/.test(k));
  const server = await createTcpServer({ listen: { address: '127.0.0.1', port: 0 } });
  const client = await createTcpClient({
    remote: { address: '127.0.0.1', port: server.localAddress()!.port },
  });
  const done = completions(client);
  client.send(makeTxBatch(4, 100, TCP_HEADROOM));
  await client.close();
  await server.close();
  await waitFor(() => done.tokens.length === 4);
  assert.deepEqual(kinds(), []);
});
