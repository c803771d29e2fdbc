// Wire-format edges at engine level: packet-id renewal and exhaustion, OCC EXIT, stub
// compression framing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketIdTx } from '../../src/protocol/data/packet-id.js';
import { CompressMode } from '../../src/protocol/data/compress.js';
import type { Engine } from '../../src/engine/engine.js';
import type { PeerTable } from '../../src/engine/peers.js';
import { makePair, pump, settle, waitFor } from './helpers.js';

/** Start A's Tx packet-id counter at `first` (as if that many packets had been sent). */
function fastForward(e: Engine, first: number): void {
  const key = (e as unknown as { peers: PeerTable }).peers.p2p!.primary!;
  (key as { txIds: PacketIdTx }).txIds = new PacketIdTx(first);
}

test('packet ids: renewal event at 0xFF000000 once; nothing sent past 0xFFFFFFFF (dropped, counted)', async () => {
  const p = await makePair({});
  try {
    fastForward(p.a, 0xff000000 - 10);
    await pump(p.hostA, 50, (sent) => p.hostB.stats.rxPackets === sent, 25);
    assert.deepEqual(
      p.eventsA.filter((e) => e.type === 'keyRenewalNeeded'),
      [{ type: 'keyRenewalNeeded', peerId: 0 }],
    );
    // B's replay window accepted the jump; the ids kept increasing.
    fastForward(p.a, 0xffffffff - 9); // ten ids left
    p.hostA.generate(30);
    await waitFor(() => (p.a.drops().txKeyExhausted ?? 0) === 20, 'exhausted drops');
    await settle(50);
    assert.equal(p.hostB.stats.rxPackets, 60, 'the last ten ids were used, none reused or wrapped');
    assert.equal(p.b.drops().rxReplay ?? 0, 0);
  } finally {
    await p.close();
  }
});

test('OCC EXIT inside the data channel is recognised and reported, not delivered', async () => {
  const p = await makePair({});
  try {
    assert.equal(p.a.sendExitNotify(), 1);
    await waitFor(() => p.eventsB.some((e) => e.type === 'exitNotify'), 'exitNotify at B');
    assert.deepEqual(p.eventsB, [{ type: 'exitNotify', peerId: 0 }]);
    assert.equal(p.hostB.stats.rxPackets, 0);
  } finally {
    await p.close();
  }
});

for (const mode of [CompressMode.LZO_NO, CompressMode.STUB, CompressMode.STUB_V2]) {
  test(`stub compression framing (mode ${mode}) both ways, packets intact`, async () => {
    const p = await makePair({ engine: { compress: mode } });
    try {
      await pump(p.hostA, 300, (sent) => p.hostB.stats.rxPackets === sent);
      await pump(p.hostB, 300, (sent) => p.hostA.stats.rxPackets === sent);
      assert.equal(p.hostB.stats.rxCorrupt + p.hostA.stats.rxCorrupt, 0);
      const framing = mode === CompressMode.STUB_V2 ? 0 : 1; // v2 adds nothing unless byte0 is 0x50
      assert.equal(p.a.counters.stats.transportBytesSent, 300 * (300 + 24 + framing));
    } finally {
      await p.close();
    }
  });
}

test('without a compression option, received stub framing is still accepted (as OpenVPN 2.6 does)', async () => {
  const p = await makePair({});
  try {
    p.a.setCompress(CompressMode.LZO_NO); // A frames, B was told nothing
    await pump(p.hostA, 100, (sent) => p.hostB.stats.rxPackets === sent);
    assert.equal(p.hostB.stats.rxCorrupt, 0);
    assert.deepEqual(p.b.drops(), {});
  } finally {
    await p.close();
  }
});
