import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoopbackDriver } from '../../src/drivers/loopback/index.js';
import { MemoryHost } from '../../src/os/memory-host.js';
import type { NetRing } from '../../src/framework/index.js';
import { Rand, testSeed } from '../util/rand.js';

function ringInvariants(r: NetRing, what: string): void {
  const owned = r.getRangeCount(r.beginIndex, r.endIndex);
  const returned = r.getRangeCount(r.osReserved0, r.beginIndex);
  assert.ok(
    owned + returned <= r.numberOfElements - 1,
    `${what}: driver+returned ${owned}+${returned} exceeds N-1`,
  );
  for (const v of [r.beginIndex, r.nextIndex, r.endIndex, r.osReserved0])
    assert.ok(v >= 0 && v < r.numberOfElements, `${what}: index ${v} unmasked`);
}

test('property: queues deliver exactly the generated frames, in order, over random operation sequences', async () => {
  const seed = testSeed(0x5eed);
  const rand = new Rand(seed);
  for (let trial = 0; trial < 12; trial++) {
    const pow = () => 1 << rand.range(2, 5);
    const drv = new LoopbackDriver({
      rxMode: rand.bool() ? 'driver' : 'system',
      txCompletion: 'manual',
      poolBuffers: rand.range(3, 40),
      rxFragmentSize: rand.pick([0, 0, 64, 150]),
      payloadBackfill: rand.pick([0, 8]),
      framework: {
        verifier: true,
        scheduling: 'manual',
        notificationStyle: rand.pick(['2004', '2100'] as const),
        txFragmentSplit: rand.range(1, 2),
        ringSize: { txPackets: pow(), txFragments: pow() * 2, rxPackets: pow(), rxFragments: pow() * 4 },
        budget: { rxIndicate: rand.range(1, 8), txReclaim: rand.range(1, 8), txPost: rand.range(1, 8) },
      },
    });
    const host = new MemoryHost({
      frameSize: rand.range(40, 300),
      rxReturn: rand.bool() ? 'deferred' : 'immediate',
      batch: rand.range(1, 10),
    });
    const a = drv.adapter;
    const started = a.start(host);
    a.runUntilIdle();
    await started;
    let generated = 0;
    const ctx = `seed ${seed} trial ${trial}`;
    for (let step = 0; step < 150; step++) {
      const op = rand.int(4);
      if (op === 0) {
        const k = rand.range(1, 20);
        host.generate(k);
        generated += k;
      } else if (op === 1) drv.completeTx();
      else if (op === 2) host.releaseRx(rand.range(0, 10));
      a.runUntilIdle();
      for (const q of [...a.txQueues, ...a.rxQueues]) {
        ringInvariants(q.rings.packets, `${ctx} ${q.direction} packets`);
        ringInvariants(q.rings.fragments, `${ctx} ${q.direction} fragments`);
      }
      assert.ok(host.stats.rxPackets <= generated, `${ctx}: more received than sent`);
    }
    for (let k = 0; k < 500 && host.stats.rxPackets < generated; k++) {
      drv.completeTx();
      host.releaseRx();
      a.runUntilIdle();
    }
    assert.equal(host.stats.rxPackets, generated, `${ctx}: every frame delivered`);
    assert.equal(host.stats.rxBadSeq, 0, `${ctx}: in order, no duplicates`);
    assert.equal(host.stats.rxCorrupt, 0, `${ctx}: bytes intact`);
    const stopping = a.stop();
    for (let k = 0; k < 50 && a.state !== 'stopped'; k++) {
      drv.completeTx();
      host.releaseRx();
      a.runUntilIdle();
      await Promise.resolve();
    }
    await stopping;
    assert.equal(drv.poolFree, drv.options.poolBuffers, `${ctx}: driver pool full after stop`);
    if (drv.options.rxMode === 'driver')
      assert.equal(drv.stats.returnCalls, host.stats.rxFragments, `${ctx}: one return per fragment`);
  }
});
