// Loopback Rx queue (software Rx, §3.4, one queue's datagrams per Advance).
//
// 1. AllFragments + AllPackets; while the wire has a datagram and BOTH rings have room:
//    - every rxDropEvery-th datagram: Ignore the packet (nothing else written), free the buffer;
//    - driver mode: point 1..n fragments at the pool buffer (VA = pool slab + offset,
//      Capacity, ValidLength, Offset 0, ReturnContext = buffer id), refs[buffer] = n;
//    - system mode: copy into the framework's fragment buffers (Capacity preset by the OS) and
//      free the pool buffer at once;
//    - bind the packet: FragmentIndex, FragmentCount, Layout = {} (the OS parses it).
// 2. Set both iterators. Unused fragments stay driver-owned with nothing attached.
// Cancel: Ignore every owned packet, return every fragment (Begin = End). Datagrams left on the
// wire are dropped at Stop.

import { FragmentIterator, PacketIterator } from '../../framework/iterator.js';
import type { RxQueueInit } from '../../framework/queue.js';
import type { RxQueue } from '../../framework/rx-queue.js';
import type { LoopbackDriver, Wire } from './driver.js';

export class LoopbackRx {
  readonly queue: RxQueue;
  private readonly drv: LoopbackDriver;
  private readonly wire: Wire;
  private readonly pi = new PacketIterator();
  private readonly fi = new FragmentIterator();
  private armed = false;
  /** Started and not cancelled: Tx may put datagrams on the wire. */
  accepting = false;
  private seen = 0;
  readonly stats = { bound: 0, ignored: 0, fragments: 0 };

  constructor(drv: LoopbackDriver, init: RxQueueInit, wire: Wire) {
    this.drv = drv;
    this.wire = wire;
    this.queue = init.create({
      advance: () => this.advance(),
      setNotificationEnabled: (_q, on) => {
        this.armed = on;
      },
      cancel: () => this.cancel(),
      start: () => {
        this.accepting = true;
        this.armed = false;
      },
      stop: () => this.dropWire(),
    });
  }

  /** Tx put something on the wire: Notify once if armed. */
  wireFilled(): void {
    if (!this.armed) return;
    this.armed = false;
    this.queue.notifyMoreReceivedPacketsAvailable();
  }

  private advance(): void {
    if (!this.accepting) return; // cancelled: everything was returned in cancel()
    const rings = this.queue.rings;
    const p = rings.packets;
    const pi = this.pi.all(rings);
    const fi = this.fi.all(rings);
    const w = this.wire;
    const dropEvery = this.drv.options.rxDropEvery;
    while (w.count > 0 && pi.hasAny()) {
      const b = w.buf[w.head]!;
      const len = w.len[w.head]!;
      const i = pi.index;
      if (dropEvery > 0 && ++this.seen % dropEvery === 0) {
        p.ignore[i] = 1; // a drop: the packet carries no data and nothing else is written
        this.drv.freeBuffer(b);
        this.stats.ignored++;
        this.drv.stats.rxIgnored++;
      } else {
        const first = fi.index;
        const n = this.bind(b, len, fi);
        if (n === 0) break; // not enough fragments: retry next Advance
        p.fragmentIndex[i] = first;
        p.fragmentCount[i] = n;
        p.clearLayout(i);
        this.stats.bound++;
      }
      w.shift();
      pi.advance();
    }
    fi.set();
    pi.set();
  }

  /** Attach datagram (buffer b, len bytes) to fragments at fi; returns fragments used, 0 = no room. */
  private bind(b: number, len: number, fi: FragmentIterator): number {
    const f = this.queue.rings.fragments;
    const driverMode = this.queue.driverManaged;
    const size = this.drv.options.rxFragmentSize;
    const piece = size > 0 ? size : len;
    const n = Math.max(1, Math.ceil(len / piece));
    if (fi.getCount() < n) return 0;
    const va = this.queue.extensions.virtualAddress;
    const rc = this.queue.extensions.returnContext;
    const src = b * this.drv.bufferSize;
    for (let k = 0; k < n; k++) {
      const j = fi.index;
      const m = Math.min(piece, len - k * piece);
      if (driverMode) {
        va.set(j, this.drv.poolSlabId, src + k * piece);
        f.capacity[j] = m;
        rc.handle[j] = b;
      } else {
        this.drv.adapter.slabs.copy(va.slabId[j]!, va.address[j]!, this.drv.poolSlabId, src + k * piece, m);
      }
      f.validLength[j] = m;
      f.offset[j] = 0;
      fi.advance();
    }
    if (driverMode) this.drv.refs[b] = n;
    else this.drv.freeBuffer(b);
    this.stats.fragments += n;
    return n;
  }

  /** §3.6 Rx cancel: Ignore every owned packet, return every fragment. */
  private cancel(): void {
    this.accepting = false;
    const rings = this.queue.rings;
    const pi = this.pi.all(rings);
    while (pi.hasAny()) {
      rings.packets.ignore[pi.index] = 1;
      pi.advance();
    }
    pi.set();
    const fi = this.fi.all(rings);
    fi.advanceToEnd();
    fi.set();
  }

  private dropWire(): void {
    const w = this.wire;
    while (w.count > 0) {
      this.drv.freeBuffer(w.buf[w.head]!);
      this.drv.stats.wireDrops++;
      w.shift();
    }
  }
}
