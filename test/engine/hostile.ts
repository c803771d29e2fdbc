// The hostile datagram mix of the engine fuzz test, shared with `npm run stress`
// (bench/stress.ts): a transport whose receive side the caller drives directly (InjectTransport),
// and HostileFeed, which fills its slots with random bytes, mutated, replayed and fresh
// authentic DATA_V2 datagrams sealed with the peer's static key, and hands them to the engine.

import assert from 'node:assert/strict';
import { createAead } from '../../src/crypto/aead.js';
import { prepareSealV2 } from '../../src/protocol/data/aead-frame.js';
import { deriveStaticDataKeys, parseStaticKey } from '../../src/protocol/static-key.js';
import { newCounters } from '../../src/transport/types.js';
import type { ReceiveHandler, RxBatch, Transport, TxBatch } from '../../src/transport/types.js';
import { ADDR_SIZE, encodeAddr } from '../../src/transport/addr.js';
import type { Engine } from '../../src/engine/engine.js';
import type { MemoryHost } from '../../src/os/memory-host.js';
import { settle, sumDrops } from './helpers.js';

const SLOT = 2048;
export const SLOTS = 4096;
const BATCH = 256;

/** A transport whose receive side the test drives directly; release() is checked. */
export class InjectTransport implements Transport {
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
export function rng(seed: number): () => number {
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

export interface HostileKinds {
  random: number;
  mutated: number;
  replayed: number;
  fresh: number;
}

/** Datagrams for an engine keyed with `keyText`, AES-256-GCM, direction 1 (we play direction 0). */
export class HostileFeed {
  readonly kinds: HostileKinds = { random: 0, mutated: 0, replayed: 0, fresh: 0 };
  private readonly validSlab: Uint8Array;
  private readonly validLen: Uint32Array;
  private readonly r: () => number;
  private validSent = 0;
  static readonly VALID = 4000;

  constructor(keyText: string, seed = 0x5eed) {
    this.r = rng(seed);
    // Valid datagrams sealed with the other direction's key (what the real peer would send).
    const k = deriveStaticDataKeys(parseStaticKey(keyText), 'AES-256-GCM', 0);
    const seal = createAead('AES-256-GCM', k.encrypt.key, true);
    const VALID = HostileFeed.VALID;
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
    this.validSlab = validSlab;
    this.validLen = validLen;
  }

  /** Feed `total` datagrams through `t` in batches of BATCH; resolves when all were handed over. */
  async feed(t: InjectTransport, total: number): Promise<void> {
    const { validSlab, validLen, kinds, r } = this;
    const VALID = HostileFeed.VALID;
    const slots = new Uint32Array(BATCH);
    const offsets = new Uint32Array(BATCH);
    const lengths = new Uint32Array(BATCH);
    const addrs = new Uint8Array(BATCH * ADDR_SIZE);
    for (let i = 0; i < BATCH; i++) encodeAddr(addrs, i * ADDR_SIZE, '192.0.2.1', 1194);
    const batch: RxBatch = { count: 0, slots, offsets, lengths, addrs };
    let injected = 0;
    const TOTAL = total;
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
          const v = dice < 97 ? r() % VALID : this.validSent++ % VALID;
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
  }
}

/** Every datagram fed lands somewhere: delivered, keepalive, control, or exactly one drop. */
export function accounted(
  engine: Engine,
  host: MemoryHost,
): { total: number; delivered: number; control: number; drops: number } {
  const delivered = host.stats.rxPackets;
  const keepalive = engine.peerDetails()[0]?.keepaliveRx ?? 0;
  const control = engine.counters.stats.receivedControlPackets;
  const drops = sumDrops(engine.drops());
  return { total: delivered + keepalive + control + drops, delivered, control, drops };
}
