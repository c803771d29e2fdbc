// Receive slots holding several datagrams (UDP GRO: the segments of one super-datagram share a
// 64 KiB slot at offsets far beyond a fragment's 10-bit Offset field). The engine must deliver
// every segment intact and release the slot once per segment.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine.js';
import { applyStaticKey } from '../../src/engine/static-key.js';
import { MemoryHost } from '../../src/os/memory-host.js';
import { createAead } from '../../src/crypto/aead.js';
import { prepareSealV2 } from '../../src/protocol/data/aead-frame.js';
import { deriveStaticDataKeys, generateStaticKey, parseStaticKey } from '../../src/protocol/static-key.js';
import { newCounters } from '../../src/transport/types.js';
import type { ReceiveHandler, Transport } from '../../src/transport/types.js';
import { ADDR_SIZE, encodeAddr } from '../../src/transport/addr.js';
import { waitFor } from './helpers.js';

const SLOT = 65536;
const SLOTS = 4;

class GroTransport implements Transport {
  readonly kind = 'udp';
  readonly rxSlab = new Uint8Array(SLOT * SLOTS);
  readonly rxSlotSize = SLOT;
  readonly rxSlotCount = SLOTS;
  readonly txHeadroom = 0;
  readonly maxDatagram = 2048;
  readonly maxInFlight = 64;
  readonly inFlight = 0;
  readonly counters = newCounters();
  readonly refs = new Int32Array(SLOTS);
  handler: ReceiveHandler = () => {};
  onReceive(h: ReceiveHandler): void {
    this.handler = h;
  }
  release(slot: number): void {
    assert.ok(this.refs[slot]! > 0, `slot ${slot} released more often than lent`);
    this.refs[slot]!--;
  }
  send(): number {
    return 0;
  }
  onSendComplete(): void {}
  onWritable(): void {}
  onError(): void {}
  async close(): Promise<void> {}
}

test('GRO-style slots: 40 segments in one 64 KiB slot are all delivered and released', async () => {
  const keyText = generateStaticKey();
  const host = new MemoryHost({ capture: true, verifyPayload: false });
  const engine = await Engine.create({ host, verifier: true });
  const t = new GroTransport();
  await engine.api.call('newPeer', { transport: t });
  await applyStaticKey(engine.api, { keyText, cipher: 'AES-256-GCM', direction: 1 });
  const k = deriveStaticDataKeys(parseStaticKey(keyText), 'AES-256-GCM', 0);
  const seal = createAead('AES-256-GCM', k.encrypt.key, true);
  const SEG = 1424; // 1400-byte inner packets + 24 bytes of DATA_V2 overhead
  const N = 40;
  const slot = 2;
  const nonces = new Uint8Array(12);
  const desc = new Uint32Array(5);
  const batch = {
    count: N,
    slots: new Uint32Array(N).fill(slot),
    offsets: new Uint32Array(N),
    lengths: new Uint32Array(N).fill(SEG),
    addrs: new Uint8Array(N * ADDR_SIZE),
  };
  for (let i = 0; i < N; i++) {
    const off = slot * SLOT + i * SEG;
    const ip = t.rxSlab.subarray(off + 24, off + SEG);
    ip[0] = 0x45;
    ip[2] = 1400 >> 8;
    ip[3] = 1400 & 0xff;
    ip[8] = 64;
    ip[9] = 17;
    ip[1399] = i; // marks the segment
    prepareSealV2(t.rxSlab, off + 24, 1400, 0, 0, i + 1, k.encrypt.implicitIv, nonces, 0, desc);
    seal.sealBatch(t.rxSlab, nonces, desc, 1);
    batch.offsets[i] = off;
    encodeAddr(batch.addrs, i * ADDR_SIZE, '192.0.2.1', 1194);
  }
  seal.free();
  t.refs[slot] = N; // the transport lends the slot once per segment
  t.handler(batch);
  try {
    await waitFor(() => host.stats.rxPackets === N, 'delivery of every segment');
    assert.deepEqual(
      host.captured.map((f) => f[1399]),
      Array.from({ length: N }, (_, i) => i),
    );
    assert.ok(host.captured.every((f) => f.length === 1400));
    assert.deepEqual(engine.drops(), {});
    await waitFor(() => t.refs[slot] === 0, 'slot released once per segment');
  } finally {
    await engine.close();
  }
});
