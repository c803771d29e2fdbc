import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMemoryNetwork, type MemoryNetworkEndpoint } from '../../src/transport/memory-network.js';
import { ADDR_SIZE, addrFrom } from '../../src/transport/addr.js';
import { TxStatus, type RxBatch, type TxBatch } from '../../src/transport/types.js';
import { collect, completions, makeTxBatch, payloadId, tick, waitFor } from './helpers.js';
import { isOvpnError } from '../../src/util/errors.js';

const SERVER = { address: '10.0.0.1', port: 1194 };
const client = (i: number): { address: string; port: number } => ({
  address: `192.0.2.${i + 10}`,
  port: 40000 + i,
});

/** Same batch with every datagram addressed to `to`. */
function addressed(batch: TxBatch, ...to: { address: string; port: number }[]): TxBatch {
  const addrs = new Uint8Array(batch.count * ADDR_SIZE);
  for (let i = 0; i < batch.count; i++)
    addrs.set(addrFrom(to[i % to.length]!.address, to[i % to.length]!.port), i * ADDR_SIZE);
  return { ...batch, addrs };
}

/** Server echoes each datagram back to its source, straight from its slots (release on completion). */
function echoServer(s: MemoryNetworkEndpoint): { from: string[]; ids: number[] } {
  const seen = { from: [] as string[], ids: [] as number[] };
  const out = { offsets: new Uint32Array(64), lengths: new Uint32Array(64), tokens: new Uint32Array(64) };
  const addrs = new Uint8Array(64 * ADDR_SIZE);
  s.onReceive((b: RxBatch) => {
    for (let i = 0; i < b.count; i++) {
      seen.ids.push(payloadId(s.rxSlab, b.offsets[i]!, b.lengths[i]!));
      const a = b.addrs.subarray(i * ADDR_SIZE, (i + 1) * ADDR_SIZE);
      seen.from.push(`${a[4]}.${a[5]}.${a[6]}.${a[7]}:${(a[2]! << 8) | a[3]!}`);
      out.offsets[i] = b.offsets[i]!;
      out.lengths[i] = b.lengths[i]!;
      out.tokens[i] = b.slots[i]!;
    }
    addrs.set(b.addrs.subarray(0, b.count * ADDR_SIZE));
    const batch = { count: b.count, slab: s.rxSlab, ...out, addrs };
    assert.equal(s.send(batch), b.count);
  });
  s.onSendComplete((toks, n) => {
    for (let i = 0; i < n; i++) s.release(toks[i]!);
  });
  return seen;
}

test('1 server + 3 clients: batches are routed by address both ways, sources are right', async () => {
  const net = createMemoryNetwork();
  const server = net.endpoint(SERVER);
  const seen = echoServer(server);
  const clients = [0, 1, 2].map((i) => net.endpoint(client(i), { remote: SERVER }));
  const got = clients.map((c) => collect(c));
  const done = clients.map((c) => completions(c));
  clients.forEach((c, i) => assert.equal(c.send(makeTxBatch(20, 100 + i, 0, i * 100)), 20));
  await waitFor(() => got.every((g) => g.ids.length === 20), 2000, 'echoes');
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(
      got[i]!.ids,
      Array.from({ length: 20 }, (_, k) => i * 100 + k),
      `client ${i} got its own echoes`,
    );
    assert.ok(got[i]!.from.every((f) => f === '10.0.0.1:1194'));
    assert.ok(done[i]!.statuses.every((s) => s === TxStatus.OK) && done[i]!.tokens.length === 20);
  }
  for (let k = 0; k < seen.ids.length; k++) {
    const i = Math.floor(seen.ids[k]! / 100);
    assert.equal(seen.from[k], `192.0.2.${i + 10}:${40000 + i}`, 'server saw each client at its address');
  }
  assert.equal(server.counters.rxDatagrams, 60);
  assert.equal(server.counters.txDatagrams, 60);
  assert.equal(server.rxSlotsFree, server.rxSlotCount, 'every slot came back');
  await Promise.all([server, ...clients].map((e) => e.close()));
});

test('one batch fans out to several destinations; unknown or missing destinations complete NO_ROUTE', async () => {
  const net = createMemoryNetwork();
  const server = net.endpoint(SERVER);
  const a = net.endpoint(client(0));
  const b = net.endpoint(client(1));
  const atA = collect(a);
  const atB = collect(b);
  const done = completions(server);
  const nowhere = { address: '203.0.113.9', port: 1 };
  server.send(addressed(makeTxBatch(6, 50), client(0), client(1), nowhere));
  server.send(makeTxBatch(1, 50, 0, 6)); // addrs null and no setRemote yet
  assert.deepEqual(done.tokens, [], 'completions come after send returns');
  await waitFor(() => done.tokens.length === 7);
  await tick();
  assert.deepEqual(atA.ids, [0, 3]);
  assert.deepEqual(atB.ids, [1, 4]);
  const N = TxStatus.NO_ROUTE;
  const O = TxStatus.OK;
  assert.deepEqual(done.statuses, [O, O, N, O, O, N, N]);
  assert.equal(server.counters.txNoRoute, 3);
  await b.close();
  server.setRemote(client(1));
  server.send(makeTxBatch(1, 50, 0, 7));
  await waitFor(() => done.tokens.length === 8);
  assert.equal(done.statuses[7], N, 'a closed endpoint is no route');
  await server.close();
  await a.close();
});

async function runLossy(seed: number, perLink: boolean): Promise<number[][]> {
  const imp = { loss: 0.1, reorder: 0.2, duplicate: 0.1 };
  const net = createMemoryNetwork({ seed, rxSlotCount: 512, ...(perLink ? {} : { impair: imp }) });
  if (perLink) net.setLink(client(1), SERVER, imp);
  const server = net.endpoint(SERVER);
  const perClient: number[][] = [[], [], []];
  server.onReceive((b) => {
    for (let i = 0; i < b.count; i++) {
      const id = payloadId(server.rxSlab, b.offsets[i]!, b.lengths[i]!);
      perClient[Math.floor(id / 1000)]!.push(id);
      server.release(b.slots[i]!);
    }
  });
  const clients = [0, 1, 2].map((i) => net.endpoint(client(i), { remote: SERVER }));
  for (let round = 0; round < 4; round++) {
    clients.forEach((c, i) => c.send(makeTxBatch(50, 32, 0, i * 1000 + round * 50)));
    await tick();
  }
  await waitFor(() => clients.every((c) => c.inFlight === 0));
  await tick();
  await tick();
  const sum = (k: 'impairLost' | 'impairDuplicated'): number =>
    clients.reduce((s, c) => s + c.counters[k], 0);
  assert.equal(server.counters.rxDatagrams, 600 - sum('impairLost') + sum('impairDuplicated'));
  await Promise.all([server, ...clients].map((e) => e.close()));
  return perClient;
}

test('network-wide impairments are deterministic by seed and actually happen on every link', async () => {
  const r1 = await runLossy(42, false);
  const r2 = await runLossy(42, false);
  const r3 = await runLossy(43, false);
  assert.deepEqual(r1, r2, 'same seed, same traffic: same outcome');
  assert.notDeepEqual(r1, r3, 'another seed: another outcome');
  for (const ids of r1) {
    assert.ok(new Set(ids).size < 200, 'losses on this link');
    assert.ok(ids.length > new Set(ids).size, 'duplicates on this link');
    assert.notDeepEqual(
      ids,
      [...ids].sort((x, y) => x - y),
      'reordering on this link',
    );
  }
});

test('per-link impairments hit only that link, deterministically', async () => {
  const r1 = await runLossy(5, true);
  const r2 = await runLossy(5, true);
  assert.deepEqual(r1, r2);
  const clean = (k: number): number[] => Array.from({ length: 200 }, (_, i) => k * 1000 + i);
  assert.deepEqual(r1[0], clean(0));
  assert.deepEqual(r1[2], clean(2));
  assert.notDeepEqual(r1[1], clean(1));
});

test('float: after setAddress the server sees the new source; the old address is no route', async () => {
  const net = createMemoryNetwork();
  const server = net.endpoint(SERVER);
  const seen = echoServer(server);
  const c = net.endpoint(client(0), { remote: SERVER });
  const other = net.endpoint(client(1));
  const got = collect(c);
  c.send(makeTxBatch(2, 40));
  await waitFor(() => got.ids.length === 2);
  const moved = { address: '198.51.100.7', port: 61000 };
  assert.throws(
    () => c.setAddress(client(1)),
    (e: unknown) => isOvpnError(e) && e.code === 'OVPN_ERR_ADDRESS_IN_USE',
  );
  c.setAddress(moved);
  assert.deepEqual(c.localAddress(), moved);
  c.send(makeTxBatch(2, 40, 0, 2));
  await waitFor(() => got.ids.length === 4);
  assert.deepEqual(seen.from, [
    '192.0.2.10:40000',
    '192.0.2.10:40000',
    '198.51.100.7:61000',
    '198.51.100.7:61000',
  ]);
  assert.deepEqual(got.ids, [0, 1, 2, 3], 'echoes follow the client to its new address');
  const done = completions(server);
  server.send(addressed(makeTxBatch(2, 40, 0, 9), client(0), moved));
  await waitFor(() => done.tokens.length === 2);
  assert.deepEqual(done.statuses, [TxStatus.NO_ROUTE, TxStatus.OK]);
  await Promise.all([server, c, other].map((e) => e.close()));
});

test('a closed endpoint frees its address for a restarted peer, which receives from then on', async () => {
  const net = createMemoryNetwork();
  const server = net.endpoint(SERVER, { remote: client(0) });
  const first = net.endpoint(client(0));
  const gotFirst = collect(first, true);
  assert.throws(() => net.endpoint(client(0)), /already taken/);
  server.send(makeTxBatch(3, 40));
  await waitFor(() => gotFirst.ids.length === 3);
  await first.close();
  assert.equal(net.size, 1);
  const restarted = net.endpoint(client(0));
  const gotNew = collect(restarted);
  server.send(makeTxBatch(3, 40, 0, 10));
  await waitFor(() => gotNew.ids.length === 3);
  assert.deepEqual(gotNew.ids, [10, 11, 12]);
  assert.equal(gotFirst.ids.length, 3, 'the closed endpoint got nothing more');
  await server.close();
  await restarted.close();
});

test('slots, back-pressure and oversize behave as in the memory pair', async () => {
  const net = createMemoryNetwork({ rxSlotCount: 4, maxInFlight: 8, rxSlotSize: 128 });
  const s = net.endpoint(SERVER);
  const c = net.endpoint(client(0), { remote: SERVER });
  const held = collect(s, true);
  const done = completions(c);
  let writable = 0;
  c.onWritable(() => writable++);
  assert.equal(c.send(makeTxBatch(10, 40)), 8, 'in-flight cap');
  await waitFor(() => writable === 1);
  await tick();
  assert.equal(held.ids.length, 4);
  assert.equal(s.counters.rxNoBuffer, 4);
  for (const slot of held.held) s.release(slot);
  c.send(makeTxBatch(1, 200, 0, 50));
  c.send(makeTxBatch(1, 40, 0, 51));
  await waitFor(() => held.ids.length === 5);
  assert.equal(done.statuses[8], TxStatus.TOO_BIG);
  assert.deepEqual(held.ids.slice(4), [51]);
  await s.close();
  await c.close();
});
