import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMemoryPair } from '../../src/transport/memory.js';
import { TxStatus } from '../../src/transport/types.js';
import { collect, completions, makeTxBatch, tick, waitFor } from './helpers.js';

test('memory pair delivers batches both ways with sender addresses and in-order completions', async () => {
  const [a, b] = createMemoryPair({ addrA: { address: '192.0.2.1', port: 5000 } });
  const atB = collect(b);
  const atA = collect(a);
  const doneA = completions(a);
  assert.equal(a.send(makeTxBatch(10, 100)), 10);
  assert.equal(b.send(makeTxBatch(5, 60, 0, 100)), 5);
  assert.deepEqual(doneA.tokens, [], 'completion is asynchronous, never inside send()');
  await waitFor(() => atB.ids.length === 10 && atA.ids.length === 5);
  assert.deepEqual(atB.ids, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(atB.batches, [10], 'one send pass arrives as one batch');
  assert.equal(atB.from[0], '192.0.2.1:5000');
  assert.deepEqual(atA.ids, [100, 101, 102, 103, 104]);
  assert.deepEqual(doneA.tokens, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.ok(doneA.statuses.every((s) => s === TxStatus.OK));
  assert.equal(a.counters.txDatagrams, 10);
  assert.equal(a.counters.txBytes, 1000);
  assert.equal(b.counters.rxDatagrams, 10);
  assert.equal(b.counters.rxBytes, 1000);
  await a.close();
  await b.close();
});

test('sender Tx slab is never modified, even with corruption on the wire', async () => {
  const [a, b] = createMemoryPair({ seed: 7, aToB: { corrupt: 1 } });
  const got = collect(b);
  const batch = makeTxBatch(20, 64);
  const before = batch.slab.slice();
  a.send(batch);
  await waitFor(() => got.ids.length === 20);
  assert.deepEqual(batch.slab, before);
  assert.ok(
    got.ids.every((id) => id === -1),
    'every received copy has a flipped bit',
  );
  assert.equal(a.counters.impairCorrupted, 20);
  await a.close();
  await b.close();
});

async function runImpaired(seed: number): Promise<number[]> {
  const [a, b] = createMemoryPair({
    seed,
    rxSlotCount: 512,
    aToB: { loss: 0.1, reorder: 0.2, duplicate: 0.1 },
  });
  const got = collect(b);
  for (let round = 0; round < 4; round++) {
    a.send(makeTxBatch(50, 32, 0, round * 50));
    await tick();
  }
  await waitFor(() => got.ids.length >= 150 && b.counters.rxDatagrams === got.ids.length);
  await tick();
  const c = a.counters;
  assert.equal(got.ids.length, 200 - c.impairLost + c.impairDuplicated);
  await a.close();
  await b.close();
  return got.ids;
}

test('loss/reorder/duplication are deterministic by seed and actually happen', async () => {
  const r1 = await runImpaired(42);
  const r2 = await runImpaired(42);
  const r3 = await runImpaired(43);
  assert.deepEqual(r1, r2, 'same seed, same traffic: same outcome');
  assert.notDeepEqual(r1, r3, 'a different seed gives a different outcome');
  const unique = new Set(r1);
  assert.ok(unique.size < 200, 'some datagrams were lost');
  assert.ok(r1.length > unique.size, 'some datagrams were duplicated');
  const sorted = [...r1].sort((x, y) => x - y);
  assert.notDeepEqual(r1, sorted, 'some datagrams were reordered');
  assert.ok(
    r1.every((id) => id >= 0),
    'no corruption was configured',
  );
});

test('slot exhaustion drops with rxNoBuffer; release makes room again', async () => {
  const [a, b] = createMemoryPair({ rxSlotCount: 8 });
  const got = collect(b, true);
  a.send(makeTxBatch(12, 40));
  await waitFor(() => got.ids.length === 8);
  await tick();
  assert.equal(b.counters.rxNoBuffer, 4);
  assert.equal(b.rxSlotsFree, 0);
  assert.deepEqual(got.held, [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.throws(() => b.release(99), /not held/);
  b.release(got.held[3]!);
  b.release(got.held[5]!);
  assert.throws(() => b.release(got.held[3]!), /not held/, 'double release is a driver bug');
  a.send(makeTxBatch(2, 40, 0, 500));
  await waitFor(() => got.ids.length === 10);
  assert.deepEqual(got.held.slice(8).sort(), [3, 5], 'released slots are reused');
  assert.deepEqual(got.ids.slice(8), [500, 501]);
  await a.close();
  await b.close();
});

test('back-pressure: send takes a prefix at the in-flight cap and onWritable fires later', async () => {
  const [a, b] = createMemoryPair({ maxInFlight: 16 });
  collect(b);
  const done = completions(a);
  let writable = 0;
  a.onWritable(() => writable++);
  const batch = makeTxBatch(40, 32);
  assert.equal(a.send(batch), 16);
  assert.equal(a.inFlight, 16);
  assert.equal(a.counters.txBackPressure, 1);
  assert.equal(writable, 0);
  await waitFor(() => writable === 1);
  assert.equal(a.inFlight, 0);
  assert.equal(done.tokens.length, 16);
  await a.close();
  await b.close();
});

test('oversize datagrams complete TOO_BIG; after close sends complete ABORTED', async () => {
  const [a, b] = createMemoryPair({ rxSlotSize: 256 });
  collect(b);
  const done = completions(a);
  a.send(makeTxBatch(1, 300));
  await b.close();
  a.send(makeTxBatch(1, 10, 0, 1));
  await a.close();
  a.send(makeTxBatch(1, 10, 0, 2));
  await waitFor(() => done.tokens.length === 3);
  assert.deepEqual(done.statuses, [TxStatus.TOO_BIG, TxStatus.NO_ROUTE, TxStatus.ABORTED]);
  assert.equal(a.counters.txTooBig, 1);
});
