// The native (recvmmsg/sendmmsg) UDP transport against the Transport contract, on loopback.
// Skips when the addon is not built, except in CI (CI=true), where that fails.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createNativeUdpTransport, type NativeUdpOptions } from '../../src/transport/native-udp.js';
import { ADDR_SIZE, addrFrom, formatAddr } from '../../src/transport/addr.js';
import { TxStatus, type RxBatch, type TxBatch } from '../../src/transport/types.js';
import type { NativeAddon } from '../../src/native/index.js';
import { requireNative } from '../native/require-native.js';
import { collect, completions, fillPayload, makeTxBatch, payloadId, waitFor } from './helpers.js';
import type { TransportError } from '../../src/util/errors.js';

/** Datagram i is 20..1419 bytes (varied), payload identifies i. */
function variedBatch(count: number, first = 0): TxBatch {
  const sizes = Array.from({ length: count }, (_, i) => 20 + ((i * 389) % 1400));
  const slab = new Uint8Array(sizes.reduce((a, b) => a + b, 0));
  const offsets = new Uint32Array(count);
  const lengths = new Uint32Array(count);
  const tokens = new Uint32Array(count);
  let off = 0;
  for (let i = 0; i < count; i++) {
    offsets[i] = off;
    lengths[i] = sizes[i]!;
    tokens[i] = first + i;
    fillPayload(slab, off, sizes[i]!, first + i);
    off += sizes[i]!;
  }
  return { count, slab, offsets, lengths, tokens, addrs: null };
}

const range = (n: number, first = 0): number[] => Array.from({ length: n }, (_, i) => first + i);
const sorted = (a: number[]): number[] => [...a].sort((x, y) => x - y);

function open(t: TestContext, opts: NativeUdpOptions): ReturnType<typeof createNativeUdpTransport> | null {
  return requireNative(t) === null ? null : createNativeUdpTransport(opts);
}

for (const [fam, host] of [
  ['IPv4', '127.0.0.1'],
  ['IPv6', '::1'],
] as const) {
  test(`native UDP ${fam}: 64 varied datagrams each way, echoed from the slots to their source`, async (t) => {
    const a = open(t, { bind: { address: host, port: 0 } });
    if (a === null) return;
    const b = createNativeUdpTransport({ bind: { address: host, port: 0 } });
    a.setRemote(b.localAddress());
    const atA = collect(a);
    const doneA = completions(a);
    const atB: number[] = [];
    const batchesB: number[] = [];
    const echo = { slab: b.rxSlab, offsets: new Uint32Array(64), lengths: new Uint32Array(64) };
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

    const batch = variedBatch(64);
    assert.equal(a.send(batch), 64);
    assert.deepEqual(doneA.tokens, [], 'completions never arrive inside send()');
    await waitFor(() => atA.ids.length === 64, 3000, '64 echoes');
    assert.deepEqual(sorted(atB), range(64), 'B got every datagram intact');
    assert.ok(batchesB.length < 64, `datagrams were batched (${batchesB.length} batches)`);
    assert.deepEqual(sorted(atA.ids), range(64), 'A got every echo intact');
    const bAddr = b.localAddress();
    assert.ok(atA.from.every((f) => f === formatAddr(addrFrom(bAddr.address, bAddr.port))));
    assert.deepEqual(doneA.tokens, range(64));
    assert.ok(doneA.statuses.every((s) => s === TxStatus.OK));
    const bytes = batch.lengths.reduce((x, y) => x + y, 0);
    assert.equal(a.counters.txBytes, bytes);
    assert.equal(b.counters.rxBytes, bytes);
    assert.equal(b.counters.txDatagrams, 64);
    await waitFor(() => b.rxSlotsFree === b.rxSlotCount, 1000, 'B slots back');
    await a.close();
    await b.close();
  });
}

test('native UDP slot exhaustion drops and counts rxNoBuffer; release lets datagrams in again', async (t) => {
  const a = open(t, { bind: { address: '127.0.0.1', port: 0 } });
  if (a === null) return;
  const b = createNativeUdpTransport({ bind: { address: '127.0.0.1', port: 0 }, rxSlotCount: 4 });
  a.setRemote(b.localAddress());
  const got = collect(b, true);
  a.send(makeTxBatch(10, 100));
  await waitFor(() => got.ids.length + b.counters.rxNoBuffer === 10);
  assert.equal(got.ids.length, 4);
  assert.equal(b.counters.rxNoBuffer, 6);
  assert.equal(b.rxSlotsFree, 0);
  for (const s of got.held) b.release(s);
  assert.throws(() => b.release(got.held[0]!), /not held/, 'double release is a driver bug');
  a.send(makeTxBatch(2, 100, 0, 50));
  await waitFor(() => got.ids.length === 6);
  assert.deepEqual(got.ids.slice(4), [50, 51]);
  await a.close();
  await b.close();
});

test('native UDP back-pressure at the in-flight cap, oversize and no-route statuses', async (t) => {
  const a = open(t, { bind: { address: '127.0.0.1', port: 0 }, maxInFlight: 8 });
  if (a === null) return;
  const b = createNativeUdpTransport({ bind: { address: '127.0.0.1', port: 0 } });
  const got = collect(b);
  const done = completions(a);
  let writable = 0;
  a.onWritable(() => writable++);
  assert.equal(a.send(makeTxBatch(1, 10, 0, 900)), 1, 'no default remote yet');
  a.setRemote(b.localAddress());
  assert.equal(a.send(makeTxBatch(64, 100)), 7, 'one entry is still taken by the NO_ROUTE datagram');
  assert.equal(a.inFlight, 8);
  await waitFor(() => writable === 1);
  assert.equal(done.statuses[0], TxStatus.NO_ROUTE);
  a.send(makeTxBatch(1, 65508, 0, 901));
  await waitFor(() => done.tokens.includes(901));
  assert.equal(done.statuses[done.tokens.indexOf(901)], TxStatus.TOO_BIG);
  await waitFor(() => got.ids.length === 7);
  assert.deepEqual(got.ids, range(7));
  assert.equal(a.counters.txNoRoute, 1);
  assert.equal(a.counters.txTooBig, 1);
  assert.equal(a.counters.txBackPressure, 1);
  await a.close();
  await b.close();
});

/** The real addon, except that sendmmsg lets `after` datagrams out, then reports EAGAIN; `times` times. */
function eagainAddon(native: NativeAddon, after: number, times: number): NativeAddon {
  let left = times;
  let allowed = after;
  const sendBatch: NativeAddon['udp']['sendBatch'] = (fd, slab, offsets, lengths, addrs, n) => {
    if (left === 0) return native.udp.sendBatch(fd, slab, offsets, lengths, addrs, n);
    if (allowed === 0) {
      left--;
      allowed = after;
      return 0;
    }
    const sent = native.udp.sendBatch(fd, slab, offsets, lengths, addrs, Math.min(n, allowed));
    allowed -= Math.max(sent, 0);
    return sent;
  };
  const udp = { ...native.udp, sendBatch };
  return { ...native, udp, caps: () => native.caps(), errnoName: (e: number) => native.errnoName(e) };
}

test('native UDP EAGAIN: the rest waits for writability, goes out in order, onWritable fires', async (t) => {
  const native = requireNative(t);
  if (native === null) return;
  const b = createNativeUdpTransport({ bind: { address: '127.0.0.1', port: 0 } });
  const a = createNativeUdpTransport({
    bind: { address: '127.0.0.1', port: 0 },
    remote: b.localAddress(),
    maxInFlight: 32,
    native: eagainAddon(native, 5, 2),
  });
  const got = collect(b);
  const done = completions(a);
  let writable = 0;
  a.onWritable(() => writable++);
  assert.equal(a.send(makeTxBatch(20, 200)), 20);
  assert.equal(a.counters.txWouldBlock, 1, 'EAGAIN after 5: the other 15 wait');
  assert.equal(a.send(makeTxBatch(20, 200, 0, 20)), 12, 'bounded: only the free entries are taken');
  await waitFor(() => done.tokens.length === 32 && got.ids.length === 32);
  assert.deepEqual(done.tokens, range(32));
  assert.ok(done.statuses.every((s) => s === TxStatus.OK));
  assert.deepEqual(got.ids, range(32), 'order kept across the EAGAIN');
  await waitFor(() => writable === 1);
  assert.equal(a.counters.txWouldBlock, 2, 'the writable retry met one more EAGAIN and re-armed');
  await a.close();
  await b.close();
});

test('native UDP ECONNREFUSED on a connected socket is counted and reported, never thrown', async (t) => {
  const native = requireNative(t);
  if (native === null) return;
  const gone = createNativeUdpTransport({ bind: { address: '127.0.0.1', port: 0 } });
  const deadPort = gone.localAddress().port;
  await gone.close();
  const peer = createNativeUdpTransport({ bind: { address: '127.0.0.1', port: 0 } });
  const a = createNativeUdpTransport({
    bind: { address: '127.0.0.1', port: 0 },
    remote: { address: '127.0.0.1', port: deadPort },
    connect: true,
  });
  const errors: TransportError[] = [];
  a.onError((e) => errors.push(e));
  const done = completions(a);
  for (let round = 0; round < 3; round++) {
    a.send(makeTxBatch(2, 50, 0, round * 2));
    await waitFor(() => done.tokens.length === (round + 1) * 2);
    await new Promise((r) => setTimeout(r, 5));
  }
  const c = a.counters;
  await waitFor(() => c.txErrors + c.rxErrors >= 1, 2000, 'the refusal to be counted');
  assert.ok(errors.length >= 1 && errors.every((e) => e.code === 'OVPN_ERR_TRANSPORT_IO'));
  assert.match(errors[0]!.message, /ECONNREFUSED/);
  // The socket still works: reconnect to a live peer and send.
  const got = collect(peer);
  a.setRemote(peer.localAddress());
  a.send(makeTxBatch(3, 50, 0, 100));
  await waitFor(() => got.ids.length === 3, 2000, 'delivery after the refusal');
  assert.deepEqual(got.ids, [100, 101, 102]);
  await a.close();
  await peer.close();
});

test('native UDP GSO send + GRO receive: segments arrive as datagrams sharing ref-counted slots', async (t) => {
  const native = requireNative(t);
  if (native === null) return;
  if (!native.caps().udpGso || !native.caps().udpGro) return t.skip('kernel lacks UDP GSO/GRO');
  assert.throws(
    () => createNativeUdpTransport({ bind: { address: '127.0.0.1', port: 0 }, gro: true }),
    /65536/,
  );
  const b = createNativeUdpTransport({
    bind: { address: '127.0.0.1', port: 0 },
    gro: true,
    rxSlotSize: 65536,
    rxSlotCount: 16,
  });
  const a = createNativeUdpTransport({
    bind: { address: '127.0.0.1', port: 0 },
    remote: b.localAddress(),
    gso: true,
  });
  assert.ok(b.gro && a.gso);
  const got = collect(b, true);
  const done = completions(a);
  a.send(makeTxBatch(40, 1400));
  await waitFor(() => got.ids.length === 40 && done.tokens.length === 40);
  assert.deepEqual(got.ids, range(40), 'every segment intact and in order');
  assert.ok(a.counters.txGsoSends >= 1, 'sent with UDP_SEGMENT');
  assert.ok(b.counters.rxGroBuffers >= 1, 'received coalesced and split');
  const slots = new Set(got.held);
  assert.ok(slots.size < 40, 'segments share slots');
  const free = b.rxSlotsFree;
  for (const s of got.held.slice(0, -1)) b.release(s);
  assert.equal(
    b.rxSlotsFree,
    free + slots.size - 1,
    'a slot returns only when all its segments are released',
  );
  b.release(got.held.at(-1)!);
  assert.equal(b.rxSlotsFree, b.rxSlotCount);
  await a.close();
  await b.close();
});

test('native UDP GSO from fixed-size driver slots: the run is staged, one UDP_SEGMENT send, every datagram intact', async (t) => {
  const native = requireNative(t);
  if (native === null) return;
  if (!native.caps().udpGso) return t.skip('kernel lacks UDP GSO');
  const b = createNativeUdpTransport({ bind: { address: '127.0.0.1', port: 0 }, rxSlotCount: 64 });
  const a = createNativeUdpTransport({
    bind: { address: '127.0.0.1', port: 0 },
    remote: b.localAddress(),
    gso: true,
  });
  const got = collect(b);
  const done = completions(a);
  // 30 equal datagrams 64 bytes apart (as in the engine's Tx slab: backfill between frames),
  // then a shorter one that cannot join the run.
  a.send(makeTxBatch(30, 1400, 64));
  a.send(makeTxBatch(1, 200, 0, 30));
  await waitFor(() => got.ids.length === 31 && done.tokens.length === 31);
  assert.deepEqual(got.ids, range(31), 'every datagram intact (no -1) and in order');
  assert.ok(done.statuses.every((s) => s === TxStatus.OK));
  assert.equal(a.counters.txGsoSends, 1, 'the 30 equal datagrams went out in one send');
  assert.equal(a.counters.txGsoCopied, 30, 'they were not adjacent, so they were staged');
  await a.close();
  await b.close();
});

test('native UDP close completes every taken datagram ABORTED or OK and leaves no handles', async (t) => {
  const native = requireNative(t);
  if (native === null) return;
  const a = createNativeUdpTransport({
    bind: { address: '127.0.0.1', port: 0 },
    remote: { address: '127.0.0.1', port: 9 },
    native: eagainAddon(native, 10, 1),
  });
  const done = completions(a);
  a.send(makeTxBatch(32, 100));
  await a.close();
  a.send(makeTxBatch(2, 10, 0, 40));
  await waitFor(() => done.tokens.length === 34);
  assert.deepEqual(done.tokens, [...range(32), 40, 41]);
  const st = done.statuses;
  assert.ok(st.slice(0, 10).every((s) => s === TxStatus.OK));
  assert.ok(
    st.slice(10).every((s) => s === TxStatus.ABORTED),
    'unsent ones (after EAGAIN) are aborted',
  );
  // A separate process proves the watcher and socket are gone: it exits on its own.
  // Compiled (dist/test, as CI runs) the module is .js next to this file's twin; under tsx, .ts.
  const compiled = import.meta.url.endsWith('.js');
  const mod = fileURLToPath(
    new URL(`../../src/transport/native-udp.${compiled ? 'js' : 'ts'}`, import.meta.url),
  );
  const script = `
    const { createNativeUdpTransport } = await import(${JSON.stringify(mod)});
    const a = createNativeUdpTransport({ bind: { address: '127.0.0.1', port: 0 }, remote: { address: '127.0.0.1', port: 9 } });
    a.onReceive(() => {});
    a.send({ count: 1, slab: new Uint8Array(8), offsets: new Uint32Array(1), lengths: new Uint32Array([8]), tokens: new Uint32Array(1), addrs: null });
    await a.close();
    console.log('closed');`;
  const t0 = Date.now();
  const r = spawnSync(
    process.execPath,
    [...(compiled ? [] : ['--import', 'tsx']), '--input-type=module', '-e', script],
    {
      encoding: 'utf8',
      timeout: 10000,
    },
  );
  assert.equal(r.status, 0, `child exited by itself (signal ${r.signal}, stderr ${r.stderr})`);
  assert.match(r.stdout, /closed/);
  assert.ok(Date.now() - t0 < 10000);
});
