// In-memory engine pairs: two full engines (framework + driver + crypto) joined by a simulated
// wire, configured through the control API in static-key mode.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { capturedSeqs, makePair, pump, settle, sumDrops, waitFor } from './helpers.js';

test('P2P: traffic both ways arrives intact, in order, and the counters agree', async () => {
  for (const cipher of ['AES-256-GCM', 'CHACHA20-POLY1305', 'AES-128-GCM'] as const) {
    const p = await makePair({ cipher });
    try {
      await Promise.all([
        pump(p.hostA, 2000, (sent) => p.hostB.stats.rxPackets === sent),
        pump(p.hostB, 1500, (sent) => p.hostA.stats.rxPackets === sent),
      ]);
      assert.equal(p.hostB.stats.rxCorrupt, 0);
      assert.equal(p.hostB.stats.rxBadSeq, 0, 'in order on a clean wire');
      assert.equal(p.hostA.stats.rxCorrupt, 0);
      const sa = await p.a.api.call('getStats', {});
      const sb = await p.b.api.call('getStats', {});
      await waitFor(() => p.a.counters.stats.sentDataPackets === 2000, 'A send completions');
      assert.equal(sb.receivedDataPackets, 2000);
      assert.equal(sa.receivedDataPackets, 1500);
      assert.equal(sa.tunBytesReceived, 2000 * 300);
      assert.equal(sb.tunBytesSent, 2000 * 300);
      assert.equal(sumDrops(p.a.drops()) + sumDrops(p.b.drops()), 0);
      // Every datagram carries 24 bytes of DATA_V2 overhead.
      assert.equal(p.a.counters.stats.transportBytesSent, 2000 * (300 + 24));
    } finally {
      await p.close();
    }
  }
});

test('loss, reordering and duplication: nothing delivered twice, every drop counted', async () => {
  const imp = { loss: 0.05, reorder: 0.2, duplicate: 0.1 };
  const p = await makePair({ seed: 7, aToB: imp, bToA: imp });
  try {
    const N = 3000;
    await pump(p.hostA, N, (sent) => p.a.counters.stats.sentDataPackets === sent && p.b.rx.pending === 0);
    await settle(100);
    assert.equal(p.tb.counters.rxNoBuffer, 0);
    const seqs = capturedSeqs(p.hostB);
    assert.equal(new Set(seqs).size, seqs.length, 'no frame delivered twice');
    const wire = p.ta.counters;
    assert.ok(
      wire.impairLost > 50 && wire.impairDuplicated > 100 && wire.impairReordered > 100,
      JSON.stringify(wire),
    );
    // Everything that arrived was either delivered or dropped as a replay (the duplicates).
    const arrived = N - wire.impairLost + wire.impairDuplicated;
    const drops = p.b.drops();
    assert.equal(p.hostB.stats.rxPackets + (drops.rxReplay ?? 0), arrived);
    assert.ok((drops.rxReplay ?? 0) >= wire.impairDuplicated, 'duplicates dropped as replays');
    assert.equal(p.hostB.stats.rxCorrupt, 0);
    assert.ok(p.hostB.stats.rxBadSeq > 0, 'reordering reached the OS side (window accepts it)');
  } finally {
    await p.close();
  }
});

test('forged (corrupted) datagrams fail authentication and are counted, never delivered', async () => {
  const p = await makePair({ seed: 3, aToB: { corrupt: 0.3 } });
  try {
    const N = 2000;
    await pump(p.hostA, N, (sent) => p.a.counters.stats.sentDataPackets === sent && p.b.rx.pending === 0);
    await settle(100);
    const corrupted = p.ta.counters.impairCorrupted;
    assert.ok(corrupted > 400, `corrupted ${corrupted}`);
    const drops = p.b.drops();
    const forged = (drops.rxAuthFailed ?? 0) + (drops.rxMalformed ?? 0) + (drops.rxNoKey ?? 0);
    assert.equal(forged + p.hostB.stats.rxPackets, N, 'each datagram delivered or counted once');
    assert.equal(p.hostB.stats.rxCorrupt, 0, 'no corrupted payload reached the OS');
    assert.equal(p.b.counters.stats.lostInDataPackets, forged);
  } finally {
    await p.close();
  }
});

test('key swap under traffic: zero loss, the old key keeps decrypting', async () => {
  const p = await makePair({});
  try {
    const total = 6000;
    let sent = 0;
    const send = async (n: number): Promise<void> => {
      const base = sent;
      sent += n;
      await pump(p.hostA, n, (k) => p.hostB.stats.rxPackets === base + k);
    };
    await send(2000);
    // New keys (key id 1) into the secondary slots of both sides, then swap while traffic flows.
    const { deriveStaticDataKeys, generateStaticKey, parseStaticKey } =
      await import('../../src/protocol/static-key.js');
    const block = parseStaticKey(generateStaticKey());
    for (const [eng, dir] of [
      [p.a, 0],
      [p.b, 1],
    ] as const) {
      const k = deriveStaticDataKeys(block, 'AES-256-GCM', dir);
      await eng.api.call('newKey', {
        cipher: 'AES-256-GCM',
        keyId: 1,
        slot: 'secondary',
        peerId: 0,
        encrypt: { key: k.encrypt.key, nonceTail: k.encrypt.implicitIv },
        decrypt: { key: k.decrypt.key, nonceTail: k.decrypt.implicitIv },
      });
    }
    p.hostA.generate(200);
    sent += 200;
    await p.a.api.call('swapKeys', {}); // A sends with key 1 while key-0 packets are still in flight
    await p.b.api.call('swapKeys', {});
    await waitFor(() => p.hostB.stats.rxPackets === sent, 'delivery across the swap');
    await send(total - sent);
    assert.equal(p.hostB.stats.rxPackets, total);
    assert.equal(sumDrops(p.b.drops()), 0, JSON.stringify(p.b.drops()));
    assert.deepEqual(
      p.eventsA.filter((e) => e.type === 'keySwapped'),
      [{ type: 'keySwapped', peerId: 0, keyId: 1 }],
    );
  } finally {
    await p.close();
  }
});
