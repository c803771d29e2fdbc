import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createUdpTransport } from '../../src/transport/udp.js';
import { ADDR_SIZE, addrFrom, formatAddr } from '../../src/transport/addr.js';
import { TxStatus, type RxBatch } from '../../src/transport/types.js';
import { collect, completions, makeTxBatch, payloadId, waitFor } from './helpers.js';

for (const [fam, host] of [
  ['IPv4', '127.0.0.1'],
  ['IPv6', '::1'],
] as const) {
  test(`UDP ${fam} loopback: a batch of 64 arrives and is echoed back to the source address`, async () => {
    const a = await createUdpTransport({ bind: { address: host, port: 0 } });
    const b = await createUdpTransport({ bind: { address: host, port: 0 } });
    a.setRemote(b.localAddress());
    const atA = collect(a);
    const doneA = completions(a);
    const atB: number[] = [];
    const batchesB: number[] = [];
    // B echoes every datagram to its source, straight out of its receive slots, releasing each
    // slot only when its send completes (zero-copy turnaround).
    const echo = { count: 0, slab: b.rxSlab, offsets: new Uint32Array(64), lengths: new Uint32Array(64) };
    const tokens = new Uint32Array(64);
    const addrs = new Uint8Array(64 * ADDR_SIZE);
    b.onReceive((batch: RxBatch) => {
      batchesB.push(batch.count);
      for (let i = 0; i < batch.count; i++) {
        atB.push(payloadId(b.rxSlab, batch.offsets[i]!, batch.lengths[i]!));
        echo.offsets[i] = batch.offsets[i]!;
        echo.lengths[i] = batch.lengths[i]!;
        tokens[i] = batch.slots[i]!;
      }
      addrs.set(batch.addrs.subarray(0, batch.count * ADDR_SIZE));
      assert.equal(b.send({ ...echo, count: batch.count, tokens, addrs }), batch.count);
    });
    b.onSendComplete((toks, count) => {
      for (let i = 0; i < count; i++) b.release(toks[i]!);
    });

    assert.equal(a.send(makeTxBatch(64, 1200)), 64);
    await waitFor(() => atA.ids.length === 64, 3000, '64 echoes');
    assert.deepEqual(
      [...atB].sort((x, y) => x - y),
      Array.from({ length: 64 }, (_, i) => i),
    );
    assert.ok(batchesB.length < 64, `datagrams were batched (${batchesB.length} batches)`);
    assert.deepEqual(
      [...atA.ids].sort((x, y) => x - y),
      Array.from({ length: 64 }, (_, i) => i),
    );
    const bAddr = b.localAddress();
    assert.equal(atA.from[0], formatAddr(addrFrom(bAddr.address, bAddr.port)));
    assert.deepEqual(
      doneA.tokens,
      Array.from({ length: 64 }, (_, i) => i),
    );
    assert.ok(doneA.statuses.every((s) => s === TxStatus.OK));
    assert.equal(a.counters.txDatagrams, 64);
    assert.equal(a.counters.txBytes, 64 * 1200);
    assert.equal(b.counters.rxDatagrams, 64);
    assert.equal(a.counters.rxDatagrams, 64);
    await a.close();
    await b.close();
  });
}

test('UDP slot exhaustion drops and counts rxNoBuffer; release lets datagrams in again', async () => {
  const a = await createUdpTransport({ bind: { address: '127.0.0.1', port: 0 } });
  const b = await createUdpTransport({ bind: { address: '127.0.0.1', port: 0 }, rxSlotCount: 4 });
  a.setRemote(b.localAddress());
  const got = collect(b, true);
  a.send(makeTxBatch(10, 100));
  await waitFor(() => got.ids.length + b.counters.rxNoBuffer === 10);
  assert.equal(got.ids.length, 4);
  assert.equal(b.counters.rxNoBuffer, 6);
  for (const s of got.held) b.release(s);
  a.send(makeTxBatch(2, 100, 0, 50));
  await waitFor(() => got.ids.length === 6);
  assert.deepEqual(got.ids.slice(4), [50, 51]);
  await a.close();
  await b.close();
});

test('UDP back-pressure, oversize and no-route statuses', async () => {
  const a = await createUdpTransport({ bind: { address: '127.0.0.1', port: 0 }, maxInFlight: 8 });
  const b = await createUdpTransport({ bind: { address: '127.0.0.1', port: 0 } });
  collect(b);
  const done = completions(a);
  let writable = 0;
  a.onWritable(() => writable++);
  // No default remote yet: NO_ROUTE.
  assert.equal(a.send(makeTxBatch(1, 10, 0, 900)), 1);
  a.setRemote(b.localAddress());
  assert.equal(a.send(makeTxBatch(64, 100)), 7, 'one entry is still taken by the NO_ROUTE datagram');
  await waitFor(() => writable === 1);
  assert.equal(done.statuses[0], TxStatus.NO_ROUTE);
  const big = makeTxBatch(1, 65508, 0, 901);
  a.send(big);
  await waitFor(() => done.tokens.includes(901));
  assert.equal(done.statuses[done.tokens.indexOf(901)], TxStatus.TOO_BIG);
  assert.equal(a.counters.txNoRoute, 1);
  assert.equal(a.counters.txTooBig, 1);
  assert.equal(a.counters.txBackPressure, 1);
  await a.close();
  await b.close();
});

test('UDP close completes every taken datagram and leaves no handles', async () => {
  const a = await createUdpTransport({
    bind: { address: '127.0.0.1', port: 0 },
    remote: { address: '127.0.0.1', port: 9 },
  });
  const done = completions(a);
  a.send(makeTxBatch(32, 100));
  await a.close();
  a.send(makeTxBatch(2, 10, 0, 40));
  await waitFor(() => done.tokens.length === 34);
  assert.deepEqual(done.tokens.slice(32), [40, 41]);
  assert.equal(done.statuses[33], TxStatus.ABORTED);
  assert.deepEqual(
    process.getActiveResourcesInfo().filter((k) => /UDP/.test(k)),
    [],
  );
});
