// Engine life cycle with traffic: keepalive and its timeout, deleting a peer under traffic, and
// cancel/stop with packets in flight in both directions (everything comes back).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/util/clock.js';
import type { Transport, TxBatch, SendCompleteHandler } from '../../src/transport/types.js';
import { TxStatus } from '../../src/transport/types.js';
import { makePair, pump, settle, waitFor } from './helpers.js';

test('keepalive: pings flow while idle and are swallowed; stopping one side raises the timeout event', async () => {
  const clock = new ManualClock(0);
  const p = await makePair({ clock, keepalive: { interval: 1, timeout: 3 } });
  try {
    for (let s = 0; s < 3; s++) {
      clock.advance(1000);
      await settle(20);
    }
    const [pa] = p.a.peerDetails();
    const [pb] = p.b.peerDetails();
    assert.ok(pa!.keepaliveTx >= 2 && pb!.keepaliveRx >= 2, `pings ${pa!.keepaliveTx}/${pb!.keepaliveRx}`);
    assert.equal(p.hostB.stats.rxPackets, 0, 'keepalives never reach the OS side');
    assert.deepEqual(p.eventsB, [], 'no timeout while pings arrive');
    await p.a.close(); // one side stops
    for (let s = 0; s < 4; s++) {
      clock.advance(1000);
      await settle(10);
    }
    assert.deepEqual(p.eventsB, [{ type: 'peerDeleted', peerId: 0, reason: 'expired' }]);
  } finally {
    await p.close();
  }
});

test('delete peer under traffic: no exception, later datagrams counted, queues drain', async () => {
  const p = await makePair({});
  try {
    await pump(p.hostA, 600, (sent) => p.hostB.stats.rxPackets === sent);
    p.hostA.generate(2000);
    await waitFor(() => p.hostB.stats.rxPackets > 700, 'traffic flowing');
    await p.b.api.call('delPeer', {});
    assert.deepEqual(p.eventsB, [{ type: 'peerDeleted', peerId: 0, reason: 'userspace' }]);
    await waitFor(
      () => p.a.counters.stats.sentDataPackets + (p.a.drops().txSendFailed ?? 0) === 2600,
      'A done',
    );
    assert.ok(p.hostB.stats.rxPackets < 2600, 'traffic stopped at the deleted peer');
    assert.equal(p.hostB.stats.rxCorrupt, 0);
    await assert.rejects(p.b.api.call('swapKeys', {}), { code: 'OVPN_ERR_NO_PEER' });
    // A new peer can be created after the delete.
    assert.equal(p.tb.isClosed, true);
  } finally {
    await p.close();
  }
});

/** A transport that holds send completions until flush(): Tx packets stay "in flight". */
function holding(t: Transport): Transport & { flush(): void; held: number } {
  let handler: SendCompleteHandler = () => {};
  const q: { tokens: Uint32Array; status: TxStatus }[] = [];
  const h = Object.create(t) as Transport & { flush(): void; held: number };
  Object.defineProperty(h, 'held', { get: () => q.length });
  h.onSendComplete = (fn) => {
    handler = fn;
    t.onSendComplete((tokens, count, status) => q.push({ tokens: tokens.slice(0, count), status }));
  };
  h.send = (b: TxBatch) => t.send(b);
  h.flush = () => {
    for (const c of q.splice(0)) handler(c.tokens, c.tokens.length, c.status);
  };
  return h;
}

test('cancel and stop with packets in flight both ways: pause waits until everything is back', async () => {
  // A's transport holds send completions (Tx packets stay in flight); B's OS side holds Rx buffers.
  let a: ReturnType<typeof holding> | null = null;
  const q = await makePair({
    host: { rxReturn: 'deferred' },
    wrapA: (t) => (a = holding(t)),
  });
  try {
    q.hostA.generate(200); // fewer than A's 256 Tx ring slots: all can be in flight at once
    await waitFor(() => q.hostB.stats.rxPackets === 200, 'delivery (B host holds the buffers)');
    assert.equal(q.hostB.heldRx, 200);
    assert.ok(a!.held > 0, 'A has sends whose completion is held');
    const txq = q.a.adapter.txQueues[0]!;
    assert.notEqual(txq.rings.packets.beginIndex, txq.rings.packets.endIndex, 'A owns Tx packets in flight');
    let aDone = false;
    let bDone = false;
    const pa = q.a.adapter.pause().then(() => (aDone = true));
    const pb = q.b.adapter.pause().then(() => (bDone = true));
    await settle(100);
    assert.equal(aDone, false, 'A waits for its in-flight Tx packets');
    assert.equal(bDone, false, 'B waits for the Rx buffers its OS side holds');
    a!.flush();
    q.hostB.releaseRx();
    await Promise.all([pa, pb]);
    assert.equal(txq.stats.completed, 200, 'every Tx packet returned to the OS');
    assert.equal(q.tb.rxSlotsFree, q.tb.rxSlotCount, 'every receive slot released back to the transport');
    // The datapath comes back after resume (as after low power) and carries traffic again.
    await q.a.adapter.resume();
    await q.b.adapter.resume();
    q.hostA.generate(50);
    await waitFor(() => (a!.flush(), q.hostB.stats.rxPackets === 250), 'traffic after resume');
    q.hostB.releaseRx();
  } finally {
    a!.flush();
    q.hostB.releaseRx();
    await q.close();
  }
});
