import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { LoopbackDriver } from '../../src/drivers/loopback/index.js';
import { MemoryHost } from '../../src/os/memory-host.js';

async function until(cond: () => boolean, what: string, maxTicks = 2000): Promise<void> {
  for (let i = 0; i < maxTicks && !cond(); i++) await tick();
  assert.ok(cond(), `timed out waiting for: ${what}`);
}

for (const rxMode of ['driver', 'system'] as const) {
  test(`life cycle with packets in flight both ways, ${rxMode}-managed Rx`, async () => {
    const drv = new LoopbackDriver({
      rxMode,
      txCompletion: 'manual',
      rxFragmentSize: 100, // 300-byte frames -> 3 Rx fragments each
      rxDropEvery: 7, // every 7th datagram comes back as an Ignore packet
      poolBuffers: 256,
      framework: {
        verifier: true,
        ringSize: { txPackets: 32, txFragments: 32, rxPackets: 16, rxFragments: 64 },
      },
    });
    const host = new MemoryHost({ frameSize: 300, rxReturn: 'deferred' });
    const a = drv.adapter;
    await a.start(host);
    host.generate(40);
    await until(() => drv.tx[0]!.stats.sent >= 31 && host.heldRx > 0, 'Tx in flight and Rx held by the host');

    // Pause with Tx packets awaiting completion and Rx packets held by the host.
    let paused = false;
    const pausing = a.pause().then(() => (paused = true));
    for (let i = 0; i < 20; i++) await tick();
    assert.equal(paused, false, 'pause waits for in-flight Tx and held Rx');
    assert.equal(a.state, 'pausing');
    drv.completeTx();
    host.releaseRx();
    await pausing;
    assert.equal(a.txQueues.length, 0, 'queues destroyed');
    const txq = drv.tx[0]!.queue;
    assert.equal(txq.stats.completed, txq.stats.posted, 'every posted Tx packet completed');
    assert.ok(host.pendingTx > 0, 'frames not yet posted stay queued in the host across the pause');

    // Resume and finish the traffic.
    await a.resume();
    await until(() => {
      drv.completeTx();
      host.releaseRx();
      return host.pendingTx === 0 && drv.tx[0]!.stats.sent === drv.tx[0]!.stats.completions;
    }, 'all frames sent');
    for (let i = 0; i < 20; i++) {
      host.releaseRx();
      await tick();
    }
    const stopping = a.stop();
    await until(() => {
      drv.completeTx();
      host.releaseRx();
      return a.state === 'stopped';
    }, 'stop');
    await stopping;

    assert.equal(host.stats.rxCorrupt, 0, 'payload intact across fragments');
    assert.ok(drv.stats.rxIgnored > 0, 'some packets were indicated as Ignore');
    assert.equal(host.stats.rxFragments, 3 * host.stats.rxPackets);
    if (rxMode === 'driver') {
      assert.equal(
        drv.stats.returnCalls,
        host.stats.rxFragments,
        'return callback once per indicated fragment, none for Ignore packets',
      );
    } else {
      assert.equal(drv.stats.returnCalls, 0, 'system-managed mode never calls the return callback');
    }
    assert.equal(drv.poolFree, 256, 'every driver buffer is back in the pool');
    assert.equal(host.heldRx, 0);
  });
}

test('loopback end to end with auto scheduling: backfill, tailroom, multi-fragment Tx, ordered and intact', async () => {
  const drv = new LoopbackDriver({
    payloadBackfill: 24,
    txTailroom: 16,
    framework: { verifier: true, txFragmentSplit: 3 },
  });
  const host = new MemoryHost({ frameSize: 1000 });
  await drv.adapter.start(host);
  host.generate(3000);
  await until(() => host.stats.rxPackets === 3000, '3000 packets looped');
  const txq = drv.adapter.txQueues[0]!;
  assert.equal(txq.stats.fragmentsPosted, 3 * 3000, 'frames posted as 3 fragments each');
  assert.equal(host.stats.rxBadSeq, 0, 'in order');
  assert.equal(host.stats.rxCorrupt, 0, 'bytes intact');
  assert.equal(txq.bufferSize, 24 + 1500 + 16);
  await drv.adapter.stop();
  assert.equal(drv.poolFree, drv.options.poolBuffers);
});

test('back-pressure: a tiny driver pool stalls Tx without losing packets', async () => {
  const drv = new LoopbackDriver({ poolBuffers: 4, framework: { verifier: true } });
  const host = new MemoryHost({ frameSize: 100 });
  await drv.adapter.start(host);
  host.generate(500);
  await until(() => host.stats.rxPackets === 500, '500 packets through a 4-buffer pool');
  assert.ok(drv.tx[0]!.stats.backPressure > 0, 'Tx hit back-pressure');
  assert.equal(host.stats.rxBadSeq, 0);
  await drv.adapter.stop();
});
