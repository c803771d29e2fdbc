// Hostile input: 1M+ random, mutated and replayed datagrams into the engine's receive path.
// Nothing may throw, nothing forged may reach the OS side, every datagram is accounted for
// (delivered, keepalive, control, or exactly one drop reason), and every slot comes back.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine.js';
import { MemoryHost } from '../../src/os/memory-host.js';
import { createAead } from '../../src/crypto/aead.js';
import { prepareSealV2 } from '../../src/protocol/data/aead-frame.js';
import { deriveStaticDataKeys, generateStaticKey, parseStaticKey } from '../../src/protocol/static-key.js';
import { applyStaticKey } from '../../src/engine/static-key.js';
import { newCounters } from '../../src/transport/types.js';
import type { ReceiveHandler, RxBatch, Transport, TxBatch } from '../../src/transport/types.js';
import { ADDR_SIZE, encodeAddr } from '../../src/transport/addr.js';
import { settle, sumDrops } from './helpers.js';

const SLOT = 2048;
const SLOTS = 4096;
const BATCH = 256;

/** A transport whose receive side the test drives directly; release() is checked. */
class InjectTransport implements Transport {
  readonly kind = 'udp';
  readonly rxSlab = new Uint8Array(SLOT * SLOTS);
  readonly rxSlotSize = SLOT;
  readonly rxSlotCount = SLOTS;
  readonly txHeadroom = 0;
  readonly maxDatagram = SLOT;
  readonly maxInFlight = 64;
  inFlight = 0;
  readonly counters = newCounters();
  handler: ReceiveHandler = () => {};
  readonly held = new Uint8Array(SLOTS);
  private readonly free: number[] = Array.from({ length: SLOTS }, (_, k) => SLOTS - 1 - k);
  onReceive(h: ReceiveHandler): void {
    this.handler = h;
  }
  release(slot: number): void {
    assert.equal(this.held[slot], 1, `slot ${slot} released twice or never lent`);
    this.held[slot] = 0;
    this.free.push(slot);
  }
  take(): number {
    const s = this.free.pop();
    if (s === undefined) return -1;
    this.held[s] = 1;
    return s;
  }
  get freeSlots(): number {
    return this.free.length;
  }
  send(b: TxBatch): number {
    return b.count; // keepalive/control from the engine: completed never (not needed here)
  }
  onSendComplete(): void {}
  onWritable(): void {}
  onError(): void {}
  async close(): Promise<void> {}
}

/** xorshift32: deterministic fuzz input. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

test('fuzz: 1M random, mutated and replayed datagrams; no exception, every datagram accounted for', async () => {
  const keyText = generateStaticKey();
  const host = new MemoryHost({ verifyPayload: false });
  const engine = await Engine.create({ host });
  const t = new InjectTransport();
  await engine.api.call('newPeer', { transport: t });
  await applyStaticKey(engine.api, { keyText, cipher: 'AES-256-GCM', direction: 1 });
  // Valid datagrams sealed with the other direction's key (what the real peer would send).
  const k = deriveStaticDataKeys(parseStaticKey(keyText), 'AES-256-GCM', 0);
  const seal = createAead('AES-256-GCM', k.encrypt.key, true);
  const VALID = 4000;
  const validSlab = new Uint8Array(VALID * 512);
  const validLen = new Uint32Array(VALID);
  const nonces = new Uint8Array(12);
  const desc = new Uint32Array(5);
  for (let i = 0; i < VALID; i++) {
    const base = i * 512;
    const len = 28 + (i % 400);
    const ip = validSlab.subarray(base + 24, base + 24 + len);
    ip[0] = 0x45;
    ip[2] = len >> 8;
    ip[3] = len & 0xff;
    ip[8] = 64;
    ip[9] = 17;
    prepareSealV2(validSlab, base + 24, len, 0, 0, i + 1, k.encrypt.implicitIv, nonces, 0, desc);
    seal.sealBatch(validSlab, nonces, desc, 1);
    validLen[i] = len + 24;
  }
  seal.free();

  const r = rng(0x5eed);
  const TOTAL = 1_000_000;
  const slots = new Uint32Array(BATCH);
  const offsets = new Uint32Array(BATCH);
  const lengths = new Uint32Array(BATCH);
  const addrs = new Uint8Array(BATCH * ADDR_SIZE);
  for (let i = 0; i < BATCH; i++) encodeAddr(addrs, i * ADDR_SIZE, '192.0.2.1', 1194);
  const batch: RxBatch = { count: 0, slots, offsets, lengths, addrs };
  let injected = 0;
  let validSent = 0;
  const kinds = { random: 0, mutated: 0, replayed: 0, fresh: 0 };
  while (injected < TOTAL) {
    while (t.freeSlots < BATCH) await settle(1);
    const n = Math.min(BATCH, TOTAL - injected);
    for (let i = 0; i < n; i++) {
      const slot = t.take();
      const off = slot * SLOT;
      const dice = r() % 100;
      let len: number;
      if (dice < 45) {
        len = r() % 1600; // random bytes, random length (0 included)
        for (let b = 0; b < len; b++) t.rxSlab[off + b] = r() & 0xff;
        if (len > 0 && dice < 15) t.rxSlab[off] = 0x48 | (r() & 7); // looks like DATA_V2
        kinds.random++;
      } else {
        const v = dice < 97 ? r() % VALID : validSent++ % VALID;
        len = validLen[v]!;
        t.rxSlab.set(validSlab.subarray(v * 512, v * 512 + len), off);
        if (dice < 85) {
          const flips = 1 + (r() % 3);
          for (let f = 0; f < flips; f++) t.rxSlab[off + (r() % len)]! ^= 1 + (r() % 255);
          if (r() % 4 === 0) len = r() % (len + 64); // truncated or extended
          kinds.mutated++;
        } else if (dice < 97) kinds.replayed++;
        else kinds.fresh++;
      }
      slots[i] = slot;
      offsets[i] = off;
      lengths[i] = len;
    }
    batch.count = n;
    t.handler(batch); // must never throw
    injected += n;
    if ((injected / BATCH) % 8 === 0) await settle(0);
  }
  await settle(200);
  const s = engine.counters.stats;
  const delivered = host.stats.rxPackets;
  const keepalive = engine.peerDetails()[0]?.keepaliveRx ?? 0;
  const drops = sumDrops(engine.drops());
  assert.equal(
    delivered + keepalive + s.receivedControlPackets + drops,
    TOTAL,
    JSON.stringify({ delivered, control: s.receivedControlPackets, drops: engine.drops() }),
  );
  assert.equal(delivered, s.receivedDataPackets);
  assert.ok(
    delivered > 0 && delivered <= VALID,
    `only authentic, never-seen packets are delivered (${delivered})`,
  );
  assert.ok((engine.drops().rxAuthFailed ?? 0) > 100_000, 'mutations fail authentication');
  assert.ok((engine.drops().rxReplay ?? 0) > 10_000, 'replays are caught after authentication');
  assert.equal(t.freeSlots, SLOTS, 'every slot released exactly once');
  assert.ok(kinds.random > 400_000 && kinds.mutated > 300_000, JSON.stringify(kinds));
  await engine.close();
});
