import { test } from 'node:test';
import assert from 'node:assert/strict';
import { L2Type, L3Type, L4Type, RxDelivery } from '../../src/framework/index.js';
import type { HostQueueHandle } from '../../src/framework/index.js';
import { MemoryHost, writeFrame } from '../../src/os/memory-host.js';
import { ScriptDriver, ipv4Frame } from '../framework/helpers.js';

test('empty and oversize Tx frames are posted as Ignore packets and never reach the driver', async () => {
  const d = new ScriptDriver({}, {}, 16);
  await d.start();
  d.host.sendFrames([ipv4Frame(60, 1), new Uint8Array(0), ipv4Frame(1600, 2), ipv4Frame(70, 3)]);
  d.adapter.runUntilIdle();
  assert.deepEqual(
    d.sent.map((f) => [f.length, f[28]]),
    [
      [60, 1],
      [70, 3],
    ],
  );
  assert.equal(d.tx.stats.ignored, 2);
  assert.equal(d.tx.stats.completed, 4, 'Ignore packets are completed too');
  await d.stop();
});

test('Rx deliveries carry the parsed layout (IP medium: Null L2, IPv4, UDP)', async () => {
  const d = new ScriptDriver({}, { capture: true });
  await d.start();
  const gen = new Uint8Array(100);
  writeFrame(gen, 0, 100, 42);
  let seen: number[] = [];
  const orig = d.host.deliverRx.bind(d.host);
  d.host.deliverRx = (h: HostQueueHandle, b: RxDelivery) => {
    seen = [
      b.layer2Type[0]!,
      b.layer3Type[0]!,
      b.layer3HeaderLength[0]!,
      b.layer4Type[0]!,
      b.layer4HeaderLength[0]!,
      b.length[0]!,
    ];
    return orig(h, b);
  };
  d.receive(gen);
  d.adapter.runUntilIdle();
  assert.deepEqual(seen, [L2Type.Null, L3Type.IPv4NoOptions, 20, L4Type.Udp, 8, 100]);
  assert.deepEqual(d.host.captured[0], gen);
  assert.equal(d.host.stats.rxCorrupt, 0);
  await d.stop();
});

test('deferred Rx return: buffers stay with the host until releaseRx, and stop waits for them', async () => {
  const d = new ScriptDriver({}, { rxReturn: 'deferred' });
  await d.start();
  for (let k = 0; k < 5; k++) d.receive(ipv4Frame(60, k));
  d.adapter.runUntilIdle();
  assert.equal(d.host.heldRx, 5);
  assert.equal(d.rx.heldFragments, 5);
  const stopping = d.adapter.stop();
  d.adapter.runUntilIdle();
  await Promise.resolve();
  assert.equal(d.rx.state, 'cancelling', 'Rx cannot finish stopping while the host holds buffers');
  assert.equal(d.host.releaseRx(), 5);
  d.adapter.runUntilIdle();
  await stopping;
  assert.equal(d.rx.state, 'stopped');
  assert.throws(() => d.rx.returnRxBuffers(Uint32Array.of(0), 1), /returnRxBuffers/);
});

test('generator frames are valid IPv4/UDP with a sequence number', () => {
  const h = new MemoryHost({ frameSize: 64 });
  const b = new Uint8Array(64);
  writeFrame(b, 0, 64, 0x01020304);
  assert.equal(b[0], 0x45);
  assert.equal((b[2]! << 8) | b[3]!, 64);
  assert.deepEqual([...b.subarray(28, 32)], [1, 2, 3, 4]);
  assert.equal(h.frameSize, 64);
});
