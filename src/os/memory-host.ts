// In-memory OS side for tests and benchmarks: a Tx traffic generator and an Rx sink.
//
// 1. generate(n) queues n synthetic IPv4/UDP frames and notifies the Tx queues.
// 2. pullTx writes up to `batch` frames per call straight into the offered Tx buffers.
// 3. deliverRx checks each packet (sequence, payload pattern, across fragments) and either
//    returns the buffers at once or keeps them until releaseRx() ('deferred').
//
// Frame (IP medium, no L2):
//   0        20       28        32
//   | IPv4   | UDP    | seq u32 | byte[k] = (seq + k) & 0xff ...
// Hot path: no allocation unless capture is on.

import type { HostOffloadRequest, HostQueueHandle, OsHost, RxDelivery, TxOffer } from './host.js';

export interface MemoryHostOptions {
  /** Generated frame length in bytes (>= 32). Default 512. */
  frameSize?: number;
  /** Max frames handed over per pullTx (the Tx batch size). Default: all offered. */
  batch?: number;
  /** 'immediate' (default): buffers return inside deliverRx; 'deferred': kept until releaseRx(). */
  rxReturn?: 'immediate' | 'deferred';
  /** Check every payload byte (default true). Off = sequence check only. */
  verifyPayload?: boolean;
  /** Keep a copy of every received frame in `captured` (tests only: allocates). */
  capture?: boolean;
  requestedOffloads?: HostOffloadRequest;
}

export const MEMORY_HOST_HEADER = 32;

export class MemoryHost implements OsHost {
  readonly requestedOffloads: HostOffloadRequest | undefined;
  readonly frameSize: number;
  batch: number;
  private readonly rxReturn: 'immediate' | 'deferred';
  private readonly verifyPayload: boolean;
  private readonly capture: boolean;
  readonly txHandles: HostQueueHandle[] = [];
  readonly rxHandles: HostQueueHandle[] = [];
  /** Frames still to generate. */
  pendingTx = 0;
  private nextSeq = 0;
  private readonly explicit: Uint8Array[] = [];
  readonly stats = {
    txFrames: 0,
    txArms: 0,
    rxPackets: 0,
    rxBytes: 0,
    rxFragments: 0,
    rxBadSeq: 0,
    rxCorrupt: 0,
    rxBatches: 0,
  };
  private expectSeq = 0;
  readonly captured: Uint8Array[] = [];
  private deferred: Uint32Array = new Uint32Array(1024);
  private deferredQueue: HostQueueHandle[] = [];
  private deferredCount = 0;

  constructor(o: MemoryHostOptions = {}) {
    this.frameSize = o.frameSize ?? 512;
    if (this.frameSize < MEMORY_HOST_HEADER)
      throw new RangeError(`frameSize ${this.frameSize} < ${MEMORY_HOST_HEADER}`);
    this.batch = o.batch ?? Number.MAX_SAFE_INTEGER;
    this.rxReturn = o.rxReturn ?? 'immediate';
    this.verifyPayload = o.verifyPayload ?? true;
    this.capture = o.capture ?? false;
    this.requestedOffloads = o.requestedOffloads;
  }

  queueStarted(h: HostQueueHandle): void {
    (h.direction === 'tx' ? this.txHandles : this.rxHandles).push(h);
  }
  queueStopped(h: HostQueueHandle): void {
    const list = h.direction === 'tx' ? this.txHandles : this.rxHandles;
    const k = list.indexOf(h);
    if (k >= 0) list.splice(k, 1);
  }

  /** Queue n generated frames for transmission. */
  generate(n: number): void {
    this.pendingTx += n;
    this.notifyTx();
  }

  /** Queue explicit frames (copied now; tests). Length 0 or > MTU posts as Ignore. */
  sendFrames(frames: readonly Uint8Array[]): void {
    for (const f of frames) this.explicit.push(f.slice());
    this.notifyTx();
  }

  private notifyTx(): void {
    for (let k = 0; k < this.txHandles.length; k++) this.txHandles[k]!.notify();
  }

  armTx(_h: HostQueueHandle): void {
    this.stats.txArms++;
  }

  pullTx(_h: HostQueueHandle, offer: TxOffer): number {
    let n = offer.count < this.batch ? offer.count : this.batch;
    let k = 0;
    while (k < n && this.explicit.length > 0) {
      const f = this.explicit.shift()!;
      const len = Math.min(f.length, offer.capacity[k]!);
      offer.slab.set(f.subarray(0, len), offer.offset[k]!);
      offer.length[k] = f.length; // > capacity is reported as is: the framework posts it as Ignore
      k++;
    }
    if (n - k > this.pendingTx) n = k + this.pendingTx;
    for (; k < n; k++) {
      writeFrame(offer.slab, offer.offset[k]!, this.frameSize, this.nextSeq);
      offer.length[k] = this.frameSize;
      this.nextSeq = (this.nextSeq + 1) >>> 0;
      this.pendingTx--;
    }
    this.stats.txFrames += n;
    return n;
  }

  deliverRx(h: HostQueueHandle, b: RxDelivery): boolean {
    this.stats.rxBatches++;
    for (let p = 0; p < b.count; p++) this.checkPacket(b, p);
    if (this.rxReturn === 'immediate') return true;
    this.keep(h, b);
    return false;
  }

  private checkPacket(b: RxDelivery, p: number): void {
    const first = b.firstFragment[p]!;
    const nf = b.fragmentCount[p]!;
    let pos = 0;
    let seq = 0;
    let bad = false;
    frags: for (let x = first; x < first + nf; x++) {
      const slab = b.slabs[b.fragSlab[x]!]!;
      const off = b.fragOffset[x]!;
      const len = b.fragLength[x]!;
      for (let i = 0; i < len; i++, pos++) {
        if (pos < 28) continue;
        if (pos < 32) seq = ((seq << 8) | slab[off + i]!) >>> 0;
        else if (!this.verifyPayload) break frags;
        else if (slab[off + i] !== ((seq + pos) & 0xff)) bad = true;
      }
    }
    this.stats.rxPackets++;
    this.stats.rxBytes += b.length[p]!;
    this.stats.rxFragments += nf;
    if (bad) this.stats.rxCorrupt++;
    if (seq !== this.expectSeq) this.stats.rxBadSeq++;
    this.expectSeq = (seq + 1) >>> 0;
    if (this.capture) this.captured.push(gather(b, p));
  }

  private keep(h: HostQueueHandle, b: RxDelivery): void {
    if (this.deferredCount + b.count > this.deferred.length) {
      const bigger = new Uint32Array((this.deferredCount + b.count) * 2);
      bigger.set(this.deferred);
      this.deferred = bigger;
    }
    for (let p = 0; p < b.count; p++) {
      this.deferred[this.deferredCount] = b.token[p]!;
      this.deferredQueue[this.deferredCount++] = h;
    }
  }

  /** Packets kept by the 'deferred' mode. */
  get heldRx(): number {
    return this.deferredCount;
  }

  /** Return up to max kept Rx packets (newest first, to exercise out-of-order returns). */
  releaseRx(max = Number.MAX_SAFE_INTEGER): number {
    let n = 0;
    const one = new Uint32Array(1);
    while (this.deferredCount > 0 && n < max) {
      const k = --this.deferredCount;
      one[0] = this.deferred[k]!;
      this.deferredQueue[k]!.returnRxBuffers(one, 1);
      n++;
    }
    this.deferredQueue.length = this.deferredCount;
    return n;
  }
}

/** Write a generated frame (IPv4/UDP, seq, pattern) at slab[off, off + len). */
export function writeFrame(slab: Uint8Array, off: number, len: number, seq: number): void {
  slab[off] = 0x45;
  slab[off + 1] = 0;
  slab[off + 2] = len >>> 8;
  slab[off + 3] = len & 0xff;
  for (let i = 4; i < 20; i++) slab[off + i] = 0;
  slab[off + 8] = 64; // ttl
  slab[off + 9] = 17; // udp
  slab[off + 12] = 10;
  slab[off + 15] = 1; // 10.0.0.1
  slab[off + 16] = 10;
  slab[off + 19] = 2; // 10.0.0.2
  const ul = len - 20;
  slab[off + 20] = 0x13;
  slab[off + 21] = 0x88; // 5000
  slab[off + 22] = 0x13;
  slab[off + 23] = 0x89;
  slab[off + 24] = ul >>> 8;
  slab[off + 25] = ul & 0xff;
  slab[off + 26] = 0;
  slab[off + 27] = 0;
  slab[off + 28] = seq >>> 24;
  slab[off + 29] = (seq >>> 16) & 0xff;
  slab[off + 30] = (seq >>> 8) & 0xff;
  slab[off + 31] = seq & 0xff;
  for (let i = 32; i < len; i++) slab[off + i] = (seq + i) & 0xff;
}

/** Copy packet p of a delivery into one new array (tests). */
export function gather(b: RxDelivery, p: number): Uint8Array {
  const out = new Uint8Array(b.length[p]!);
  let pos = 0;
  const first = b.firstFragment[p]!;
  for (let x = first; x < first + b.fragmentCount[p]!; x++) {
    const slab = b.slabs[b.fragSlab[x]!]!;
    const off = b.fragOffset[x]!;
    out.set(slab.subarray(off, off + b.fragLength[x]!), pos);
    pos += b.fragLength[x]!;
  }
  return out;
}
