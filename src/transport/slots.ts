// Building blocks shared by every transport implementation:
//   RxSlotPool      fixed receive slots with a free stack (who holds a slot is tracked per slot)
//   RxBatcher       collects filled slots into one preallocated RxBatch and hands it over
//   TxCompletionRing  bounded in-flight record; completes tokens strictly in send order
//
// None of them allocates after construction.

import { ADDR_SIZE } from './addr.js';
import type { RxBatch, SendCompleteHandler, TransportCounters, TxStatus } from './types.js';
import { ConfigError } from '../util/errors.js';

export function checkCount(option: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(option, `${option}: expected an integer ${min}..${max}, got ${String(value)}`);
  }
  return value;
}

const SLOT_FREE = 0;
const SLOT_HELD = 1;

/** Fixed receive slots. A slot is either free (on the stack) or held (by the transport or driver). */
export class RxSlotPool {
  readonly slab: Uint8Array;
  private readonly free: Uint32Array;
  private readonly state: Uint8Array;
  private top: number;

  constructor(
    readonly slotSize: number,
    readonly slotCount: number,
  ) {
    checkCount('rxSlotSize', slotSize, 64, 65536);
    checkCount('rxSlotCount', slotCount, 1, 65536);
    this.slab = new Uint8Array(slotSize * slotCount);
    this.free = new Uint32Array(slotCount);
    this.state = new Uint8Array(slotCount);
    // Lowest slot on top, so tests see slots handed out as 0, 1, 2...
    for (let i = 0; i < slotCount; i++) this.free[i] = slotCount - 1 - i;
    this.top = slotCount;
  }

  get available(): number {
    return this.top;
  }

  /** A free slot index, now held; -1 when all slots are held. */
  alloc(): number {
    if (this.top === 0) return -1;
    const slot = this.free[--this.top]!;
    this.state[slot] = SLOT_HELD;
    return slot;
  }

  /** Return a held slot. A slot that is not held is a caller bug (double release): throws. */
  release(slot: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.slotCount || this.state[slot] !== SLOT_HELD) {
      throw new RangeError(`release(${slot}): slot is not held (double release or bad index)`);
    }
    this.state[slot] = SLOT_FREE;
    this.free[this.top++] = slot;
  }

  offsetOf(slot: number): number {
    return slot * this.slotSize;
  }
}

/**
 * Accumulates received slots and delivers them as one RxBatch (at most `max` per batch).
 * Delivery happens on flush(); `add` flushes by itself when the batch is full.
 */
export class RxBatcher {
  private readonly batch: RxBatch;
  private handler: ((b: RxBatch) => void) | null = null;
  private scheduled = false;
  private readonly flushNow = (): void => {
    this.scheduled = false;
    this.flush();
  };

  constructor(
    private readonly pool: RxSlotPool,
    private readonly counters: TransportCounters,
    readonly max: number,
  ) {
    checkCount('rxBatchMax', max, 1, 4096);
    this.batch = {
      count: 0,
      slots: new Uint32Array(max),
      offsets: new Uint32Array(max),
      lengths: new Uint32Array(max),
      addrs: new Uint8Array(max * ADDR_SIZE),
    };
  }

  setHandler(h: (b: RxBatch) => void): void {
    this.handler = h;
  }

  get pending(): number {
    return this.batch.count;
  }

  /** Queue a filled, held slot with its source address (copied from addr[addrOff..+20)). */
  add(slot: number, length: number, addr: Uint8Array, addrOff: number): void {
    const b = this.batch;
    const i = b.count++;
    b.slots[i] = slot;
    b.offsets[i] = this.pool.offsetOf(slot);
    b.lengths[i] = length;
    b.addrs.set(addr.subarray(addrOff, addrOff + ADDR_SIZE), i * ADDR_SIZE);
    this.counters.rxDatagrams++;
    this.counters.rxBytes += length;
    if (b.count === this.max) this.flush();
  }

  /** Deliver at the next check phase, so datagrams read in one poll pass form one batch. */
  schedule(): void {
    if (this.scheduled || this.batch.count === 0) return;
    this.scheduled = true;
    setImmediate(this.flushNow);
  }

  flush(): void {
    const b = this.batch;
    if (b.count === 0) return;
    if (this.handler === null) {
      for (let i = 0; i < b.count; i++) this.pool.release(b.slots[i]!);
      this.counters.rxNoHandler += b.count;
    } else {
      this.handler(b);
    }
    b.count = 0;
  }

  /** Drop everything pending (on close): slots go back to the pool. */
  discard(): void {
    for (let i = 0; i < this.batch.count; i++) this.pool.release(this.batch.slots[i]!);
    this.batch.count = 0;
  }
}

/**
 * Bounded in-flight record. Each taken datagram occupies one entry from push() until its
 * completion is delivered. Entries may finish in any order (complete()), but drain() hands
 * tokens to the driver strictly in push order, batched in runs of equal status.
 */
export class TxCompletionRing {
  private readonly tokens: Uint32Array;
  private readonly lengths: Uint32Array;
  private readonly status: Uint8Array;
  private readonly done: Uint8Array;
  private readonly out: Uint32Array;
  private head = 0; // oldest unfinished-or-undelivered entry (monotonic counter)
  private tail = 0; // next entry to push (monotonic counter)
  private handler: SendCompleteHandler | null = null;
  private writableHandler: (() => void) | null = null;
  /** A send() came up short; fire onWritable once space appears. */
  wantWritable = false;
  private scheduled = false;
  private readonly drainNow = (): void => {
    this.scheduled = false;
    this.drain();
  };

  constructor(
    readonly cap: number,
    private readonly counters: TransportCounters,
  ) {
    checkCount('maxInFlight', cap, 1, 65536);
    this.tokens = new Uint32Array(cap);
    this.lengths = new Uint32Array(cap);
    this.status = new Uint8Array(cap);
    this.done = new Uint8Array(cap);
    this.out = new Uint32Array(cap);
  }

  get inFlight(): number {
    return this.tail - this.head;
  }

  get space(): number {
    return this.cap - (this.tail - this.head);
  }

  setHandler(h: SendCompleteHandler): void {
    this.handler = h;
  }

  setWritableHandler(h: () => void): void {
    this.writableHandler = h;
  }

  /** Record a taken datagram; returns its entry index (for complete()). Caller checked space. */
  push(token: number, length: number): number {
    const idx = this.tail++ % this.cap;
    this.tokens[idx] = token;
    this.lengths[idx] = length;
    this.done[idx] = 0;
    return idx;
  }

  /** Mark entry `idx` finished and schedule an (asynchronous) drain. */
  complete(idx: number, status: TxStatus): void {
    this.done[idx] = 1;
    this.status[idx] = status;
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.drainNow);
    }
  }

  /** Finish every still-pending entry with `status` (close/abort paths). */
  completeAllPending(status: TxStatus): void {
    for (let n = this.head; n < this.tail; n++) {
      const idx = n % this.cap;
      if (this.done[idx] === 0) this.complete(idx, status);
    }
  }

  /** Deliver finished entries from the head, in order, stopping at the first unfinished one. */
  drain(): void {
    while (this.head < this.tail) {
      const first = this.head % this.cap;
      if (this.done[first] === 0) break;
      const st = this.status[first]! as TxStatus;
      let n = 0;
      while (this.head < this.tail) {
        const idx = this.head % this.cap;
        if (this.done[idx] === 0 || this.status[idx] !== st) break;
        this.out[n++] = this.tokens[idx]!;
        this.account(st, this.lengths[idx]!);
        this.head++;
      }
      this.handler?.(this.out, n, st);
    }
    if (this.wantWritable && this.space > 0) {
      this.wantWritable = false;
      this.writableHandler?.();
    }
  }

  private account(st: TxStatus, len: number): void {
    const c = this.counters;
    if (st === 0) {
      c.txDatagrams++;
      c.txBytes += len;
    } else if (st === 1) c.txErrors++;
    else if (st === 2) c.txNoRoute++;
    else if (st === 3) c.txTooBig++;
    else c.txAborted++;
  }
}
