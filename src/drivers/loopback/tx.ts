// Loopback Tx queue (the seed's asynchronous-send pattern, §3.2 with an async completer).
//
// 1. post:  PostPackets; for each non-Ignore packet gather its fragments (skipping the payload
//           backfill in the first) into a pool buffer and push it on the wire; stop WITHOUT
//           advancing when no buffer is free (back-pressure, resumed when one is returned);
//           fragments.nextIndex = past the packet; Set (nextIndex).
// 2. send:  one completion per Advance is scheduled (setImmediate); it marks every packet sent
//           so far with Scratch = 1 and Notifies if notification is armed (one-shot flag).
// 3. drain: DrainPackets in order; stop at the first packet without Scratch; Ignore packets
//           drain at once; fragments.beginIndex = past each returned packet; Set (beginIndex).
// Cancel:   mark unsent packets Scratch (aborted) and move them to the drain section; packets
//           in flight still wait for their completion.

import { FragmentIterator, PacketIterator } from '../../framework/iterator.js';
import type { TxQueueInit } from '../../framework/queue.js';
import type { TxQueue } from '../../framework/tx-queue.js';
import type { LoopbackDriver, Wire } from './driver.js';

export class LoopbackTx {
  readonly queue: TxQueue;
  private readonly drv: LoopbackDriver;
  private readonly wire: Wire;
  private readonly pi = new PacketIterator();
  private readonly fi = new FragmentIterator();
  /** Notification armed (one-shot): set by SetNotificationEnabled(TRUE), consumed by a Notify. */
  private armed = false;
  private cancelled = false;
  /** Packets [completeFrom, sentUpTo) are sent but not yet completed. */
  private completeFrom = 0;
  private sentUpTo = 0;
  private completionScheduled = false;
  private blockedOnPool = false;
  private readonly completeBound: () => void;
  readonly stats = { sent: 0, completions: 0, backPressure: 0 };

  constructor(drv: LoopbackDriver, init: TxQueueInit, wire: Wire) {
    this.drv = drv;
    this.wire = wire;
    this.completeBound = () => {
      this.completionScheduled = false;
      this.complete();
    };
    this.queue = init.create({
      advance: () => this.advance(),
      setNotificationEnabled: (_q, on) => {
        this.armed = on;
      },
      cancel: () => this.cancel(),
      start: () => {
        this.completeFrom = 0;
        this.sentUpTo = 0;
        this.cancelled = false;
        this.armed = false;
      },
    });
  }

  private advance(): void {
    this.post();
    this.drain();
  }

  private post(): void {
    if (this.cancelled) return;
    const q = this.queue;
    const rings = q.rings;
    const p = rings.packets;
    const pi = this.pi.post(rings);
    let sent = 0;
    while (pi.hasAny()) {
      const i = pi.index;
      if (p.ignore[i] === 0) {
        if (!this.send(i)) break; // back-pressure: leave the packet posted, retry next Advance
        sent++;
        rings.fragments.nextIndex = p.fragmentEnd(i, rings.fragments);
      }
      pi.advance();
    }
    pi.set();
    this.sentUpTo = p.nextIndex;
    if (sent > 0) {
      this.stats.sent += sent;
      this.drv.rx[q.queueId]?.wireFilled();
      if (this.drv.options.txCompletion === 'async' && !this.completionScheduled) {
        this.completionScheduled = true;
        setImmediate(this.completeBound);
      }
    }
  }

  /** Gather packet i's frame into a pool buffer and put it on the wire. */
  private send(i: number): boolean {
    const b = this.drv.allocBuffer();
    if (b < 0 || this.wire.count === this.wire.capacity) {
      if (b >= 0) this.drv.freeBuffer(b);
      this.blockedOnPool = true;
      this.stats.backPressure++;
      return false;
    }
    const { fragments: f } = this.queue.rings;
    const va = this.queue.extensions.virtualAddress;
    const slabs = this.drv.adapter.slabs;
    const poolId = this.drv.poolSlabId;
    const base = b * this.drv.bufferSize;
    let len = 0;
    const fi = this.fi.ofPacketIndex(this.queue.rings, i);
    let skip = this.queue.payloadBackfill; // first fragment starts with the backfill
    while (fi.hasAny()) {
      const j = fi.index;
      const start = va.address[j]! + f.offset[j]! + skip;
      const n = f.validLength[j]! - skip;
      slabs.copy(poolId, base + len, va.slabId[j]!, start, n);
      len += n;
      skip = 0;
      fi.advance();
    }
    if (this.drv.rx[this.queue.queueId]?.accepting === true) this.wire.push(b, len);
    else {
      this.drv.freeBuffer(b); // no receiver: the loopback "wire" drops it
      this.drv.stats.wireDrops++;
    }
    return true;
  }

  /** The asynchronous send completion: Scratch = 1 on everything sent, then Notify if armed. */
  complete(): void {
    const p = this.queue.rings.packets;
    let n = 0;
    for (let i = this.completeFrom; i !== this.sentUpTo; i = p.incrementIndex(i)) {
      p.scratch[i] = 1;
      n++;
    }
    this.completeFrom = this.sentUpTo;
    this.stats.completions += n;
    if (n > 0) this.notifyIfArmed();
  }

  private drain(): void {
    const rings = this.queue.rings;
    const p = rings.packets;
    const pi = this.pi.drain(rings);
    while (pi.hasAny()) {
      const i = pi.index;
      if (p.ignore[i] === 0) {
        if (p.scratch[i] === 0) break; // in order: the oldest is still in flight
        rings.fragments.beginIndex = p.fragmentEnd(i, rings.fragments);
      }
      pi.advance();
    }
    pi.set();
  }

  private cancel(): void {
    this.cancelled = true;
    const rings = this.queue.rings;
    const p = rings.packets;
    const pi = this.pi.post(rings);
    while (pi.hasAny()) {
      p.scratch[pi.index] = 1; // aborted: drains like a completed packet
      pi.advance();
    }
    pi.set();
    rings.fragments.nextIndex = rings.fragments.endIndex;
  }

  /** A pool buffer came back: if Tx stalled on the pool, wake it. */
  poolFreed(): void {
    if (!this.blockedOnPool) return;
    this.blockedOnPool = false;
    this.notifyIfArmed();
  }

  private notifyIfArmed(): void {
    if (!this.armed) return;
    this.armed = false;
    this.queue.notifyMoreCompletedPacketsAvailable();
  }
}
