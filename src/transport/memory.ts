// In-memory transport pair for tests (the wireguard-go `bindtest` idea): two endpoints joined by a
// simulated wire with seeded, deterministic impairments.
//
// Flow of one datagram A → B:
//   1. A.send(batch) takes up to A's free in-flight entries (back-pressure beyond that).
//   2. The wire decides, from A→B's seeded generator, loss / corruption / duplication / reordering.
//   3. The bytes are copied into a free slot of B (no slot: B counts rxNoBuffer, as UDP would).
//      A's Tx slab is only read, never written; corruption flips a bit in B's copy.
//   4. A's completion is queued at once (the memory is no longer needed) and delivered in a
//      microtask, i.e. after send() returns.
//   5. B's staged slots are delivered as RxBatches at the next check phase (setImmediate), so a
//      handler that replies from inside onReceive never recurses into the sender.
//
// Routing is a hook (`route`): the pair always picks its one peer; memory-network.ts overrides it
// to pick the endpoint owning TxBatch.addrs[i]. The sender's address is staged per datagram at
// send time, so a receiver sees the address the sender had then (a float shows up in order).

import { ADDR_SIZE, addrFrom, type SockAddr } from './addr.js';
import { RxBatcher, RxSlotPool, TxCompletionRing, checkCount } from './slots.js';
import {
  TxStatus,
  newCounters,
  type ReceiveHandler,
  type SendCompleteHandler,
  type Transport,
  type TransportCounters,
  type TxBatch,
} from './types.js';
import { ConfigError, type TransportError } from '../util/errors.js';

/** Probabilities in [0, 1], applied independently to each datagram. */
export interface Impairments {
  loss?: number;
  reorder?: number;
  duplicate?: number;
  corrupt?: number;
}

export interface MemoryPairOptions {
  rxSlotSize?: number;
  rxSlotCount?: number;
  rxBatchMax?: number;
  maxInFlight?: number;
  /** Seed for the impairment generators; same seed + same traffic = same outcome. */
  seed?: number;
  aToB?: Impairments;
  bToA?: Impairments;
  /** Addresses each side appears to have (what the other side sees in RxBatch.addrs). */
  addrA?: SockAddr;
  addrB?: SockAddr;
}

/** mulberry32: tiny, fast, good enough to drive test impairments. Returns [0, 1). */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One direction of a link: its impairment probabilities and seeded generator. */
export interface Wire {
  rand: () => number;
  loss: number;
  reorder: number;
  duplicate: number;
  corrupt: number;
}

export function makeWire(seed: number, imp: Impairments | undefined, name: string): Wire {
  const p = (k: keyof Impairments): number => {
    const v = imp?.[k] ?? 0;
    if (!(v >= 0 && v <= 1)) throw new ConfigError(`${name}.${k}`, `${name}.${k}: expected 0..1, got ${v}`);
    return v;
  };
  return {
    rand: seededRandom(seed),
    loss: p('loss'),
    reorder: p('reorder'),
    duplicate: p('duplicate'),
    corrupt: p('corrupt'),
  };
}

export class MemoryTransport implements Transport {
  readonly kind = 'memory' as const;
  readonly txHeadroom = 0;
  readonly counters: TransportCounters = newCounters();
  readonly rxSlab: Uint8Array;
  readonly rxSlotSize: number;
  readonly rxSlotCount: number;
  readonly maxDatagram: number;
  readonly maxInFlight: number;
  /** This side's own address (what the peer sees as the source). */
  readonly localAddr: Uint8Array;

  private readonly pool: RxSlotPool;
  private readonly batcher: RxBatcher;
  private readonly ring: TxCompletionRing;
  private readonly staged: Uint32Array; // held slots waiting for delivery, arrival order
  private readonly stagedLen: Uint32Array;
  private readonly stagedFrom: Uint8Array; // source record of staged[i] at 20*i
  private stagedCount = 0;
  private deliverScheduled = false;
  private peer: MemoryTransport | null = null;
  private wire: Wire | null = null;
  private closed = false;
  /** Set by route(): where the datagram being transmitted goes (fields, so routing allocates nothing). */
  protected hopPeer: MemoryTransport | null = null;
  protected hopWire: Wire | null = null;
  private readonly deliverNow = (): void => this.deliver();

  constructor(opts: MemoryPairOptions, localAddr: Uint8Array) {
    this.pool = new RxSlotPool(opts.rxSlotSize ?? 2048, opts.rxSlotCount ?? 256);
    this.rxSlab = this.pool.slab;
    this.rxSlotSize = this.pool.slotSize;
    this.rxSlotCount = this.pool.slotCount;
    this.maxDatagram = this.rxSlotSize;
    this.batcher = new RxBatcher(this.pool, this.counters, opts.rxBatchMax ?? 64);
    this.ring = new TxCompletionRing(opts.maxInFlight ?? 256, this.counters);
    this.maxInFlight = this.ring.cap;
    this.staged = new Uint32Array(this.rxSlotCount);
    this.stagedLen = new Uint32Array(this.rxSlotCount);
    this.stagedFrom = new Uint8Array(this.rxSlotCount * ADDR_SIZE);
    this.localAddr = localAddr;
  }

  /** Wire this endpoint to `peer`; used by createMemoryPair. */
  connect(peer: MemoryTransport, wire: Wire): void {
    this.peer = peer;
    this.wire = wire;
  }

  get inFlight(): number {
    return this.ring.inFlight;
  }

  /** True once close() was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Free receive slots (tests check slot accounting with this). */
  get rxSlotsFree(): number {
    return this.pool.available;
  }

  onReceive(handler: ReceiveHandler): void {
    this.batcher.setHandler(handler);
  }

  release(slot: number): void {
    this.pool.release(slot);
  }

  onSendComplete(handler: SendCompleteHandler): void {
    this.ring.setHandler(handler);
  }

  onWritable(handler: () => void): void {
    this.ring.setWritableHandler(handler);
  }

  onError(_handler: (err: TransportError) => void): void {
    // The in-memory wire has no connection to lose; nothing is ever reported.
  }

  send(batch: TxBatch): number {
    const n = Math.min(batch.count, this.ring.space);
    if (n < batch.count) {
      this.ring.wantWritable = true;
      this.counters.txBackPressure++;
    }
    for (let i = 0; i < n; i++) {
      const off = batch.offsets[i]!;
      const len = batch.lengths[i]!;
      const idx = this.ring.push(batch.tokens[i]!, len);
      this.ring.complete(idx, this.transmit(batch.slab, off, len, batch.addrs, i * ADDR_SIZE));
    }
    return n;
  }

  /**
   * Pick the receiver of one datagram: set hopPeer/hopWire and return true, or false for no route.
   * `dst` is TxBatch.addrs (null: default destination). The pair ignores it: it has one peer.
   */
  protected route(_dst: Uint8Array | null, _dOff: number): boolean {
    this.hopPeer = this.peer;
    this.hopWire = this.wire;
    return this.peer !== null && this.wire !== null;
  }

  private transmit(
    slab: Uint8Array,
    off: number,
    len: number,
    dst: Uint8Array | null,
    dOff: number,
  ): TxStatus {
    if (this.closed) return TxStatus.ABORTED;
    if (len > this.maxDatagram) return TxStatus.TOO_BIG;
    if (!this.route(dst, dOff)) return TxStatus.NO_ROUTE;
    const peer = this.hopPeer;
    const w = this.hopWire;
    if (peer === null || w === null || peer.closed) return TxStatus.NO_ROUTE;
    if (w.rand() < w.loss) {
      this.counters.impairLost++;
      return TxStatus.OK;
    }
    const corruptAt = w.rand() < w.corrupt && len > 0 ? Math.floor(w.rand() * len * 8) : -1;
    if (corruptAt >= 0) this.counters.impairCorrupted++;
    const swap = w.rand() < w.reorder;
    const copies = w.rand() < w.duplicate ? 2 : 1;
    if (copies === 2) this.counters.impairDuplicated++;
    for (let c = 0; c < copies; c++) {
      if (peer.accept(slab, off, len, corruptAt, swap && c === 0, this.localAddr)) {
        if (swap && c === 0) this.counters.impairReordered++;
      }
    }
    return TxStatus.OK;
  }

  /** Copy one datagram into a slot of this (receiving) side; false when it was dropped. */
  private accept(
    src: Uint8Array,
    off: number,
    len: number,
    corruptBit: number,
    swap: boolean,
    from: Uint8Array,
  ): boolean {
    const slot = this.pool.alloc();
    if (slot < 0) {
      this.counters.rxNoBuffer++;
      return false;
    }
    const base = this.pool.offsetOf(slot);
    this.rxSlab.set(src.subarray(off, off + len), base);
    if (corruptBit >= 0) this.rxSlab[base + (corruptBit >>> 3)]! ^= 1 << (corruptBit & 7);
    let i = this.stagedCount++;
    // Reordering: the new datagram overtakes the one staged just before it.
    const reordered = swap && i > 0;
    if (reordered) {
      this.staged[i] = this.staged[i - 1]!;
      this.stagedLen[i] = this.stagedLen[i - 1]!;
      this.stagedFrom.copyWithin(i * ADDR_SIZE, (i - 1) * ADDR_SIZE, i * ADDR_SIZE);
      i--;
    }
    this.staged[i] = slot;
    this.stagedLen[i] = len;
    for (let k = 0; k < ADDR_SIZE; k++) this.stagedFrom[i * ADDR_SIZE + k] = from[k]!;
    if (!this.deliverScheduled) {
      this.deliverScheduled = true;
      setImmediate(this.deliverNow);
    }
    return reordered;
  }

  private deliver(): void {
    this.deliverScheduled = false;
    if (this.closed) return;
    const n = this.stagedCount;
    this.stagedCount = 0;
    for (let i = 0; i < n; i++) {
      this.batcher.add(this.staged[i]!, this.stagedLen[i]!, this.stagedFrom, i * ADDR_SIZE);
    }
    this.batcher.flush();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (let i = 0; i < this.stagedCount; i++) this.pool.release(this.staged[i]!);
    this.stagedCount = 0;
    this.batcher.discard();
    // Every completion was queued at send time; let the microtask drain deliver them.
    await Promise.resolve();
    this.ring.drain();
  }
}

/** Two connected in-memory transports. Impairments per direction, deterministic from `seed`. */
export function createMemoryPair(opts: MemoryPairOptions = {}): [MemoryTransport, MemoryTransport] {
  const seed = checkCount('seed', opts.seed ?? 1, 0, 0xffffffff);
  const a = new MemoryTransport(opts, toAddr(opts.addrA, '10.255.0.1', 1194));
  const b = new MemoryTransport(opts, toAddr(opts.addrB, '10.255.0.2', 1194));
  a.connect(b, makeWire(seed, opts.aToB, 'aToB'));
  b.connect(a, makeWire((seed ^ 0x9e3779b9) >>> 0, opts.bToA, 'bToA'));
  return [a, b];
}

function toAddr(a: SockAddr | undefined, host: string, port: number): Uint8Array {
  return a === undefined ? addrFrom(host, port) : addrFrom(a.address, a.port);
}
