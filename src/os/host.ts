// The OS side of a virtual adapter: what the framework's "stack" talks to. The in-memory host
// (memory-host.ts) and a Linux TUN host implement OsHost. All traffic crosses in batches held in
// preallocated typed arrays, so a native host can fill or drain many frames in one call.
//
// Contract (one host per adapter; every call happens on the queue's execution context, never
// re-entrantly, except notify()/returnRxBuffers() which are safe from anywhere at any time):
//
// Tx (host -> driver), once per Tx poll pass while the queue is started and not cancelling:
//   1. framework fills `offer`: `offer.count` free buffers in `offer.slab` (the framework's Tx
//      slab). Buffer k is `[offset[k], offset[k] + capacity[k])`; offset is the FRAME start (the
//      payload backfill lies just before it and belongs to the driver).
//   2. host.pullTx(h, offer) writes up to offer.count frames into buffers 0..n-1, sets length[k]
//      (0 or > the current max frame => posted as an Ignore packet), optionally checksumRequired[k]
//      / gsoMss[k], and returns n. Returning 0 means "nothing now"; call h.notify() when more
//      arrives (armTx(h) is a hint that the queue is going idle and wants exactly that).
//
// Rx (driver -> host), once per Rx poll pass with indicated packets:
//   1. framework fills `batch`: batch.count packets; packet p has fragments
//      [firstFragment[p], +fragmentCount[p]) in the fragment arrays; fragment f's bytes are
//      slabs[fragSlab[f]] [fragOffset[f], + fragLength[f]). Layout is parsed (§4.7).
//   2. host.deliverRx(h, batch) consumes them. Return true: done with every buffer now (the
//      framework recycles them at once). Return false: the host keeps ALL of them and must call
//      h.returnRxBuffers(tokens, n) later with each token[p] exactly once, in any order. The
//      queue cannot finish stopping until every token is back.

/** Offloads the OS side asks for; an extension is enabled only if the adapter also advertises it. */
export interface HostOffloadRequest {
  checksum?: boolean;
  gso?: boolean;
  rsc?: boolean;
  hash?: boolean;
}

/** A batch of free Tx buffers offered to the host (preallocated per Tx queue, reused). */
export class TxOffer {
  readonly max: number;
  /** Buffers offered this pass (<= max). */
  count = 0;
  /** The framework's Tx slab (all offered buffers live in it). */
  slab: Uint8Array = new Uint8Array(0);
  readonly offset: Uint32Array;
  readonly capacity: Uint32Array;
  /** Host writes: frame length per filled buffer. */
  readonly length: Uint32Array;
  /** Host writes (optional): 1 = request Tx checksum offload (L3 + L4) for this frame. */
  readonly checksumRequired: Uint8Array;
  /** Host writes (optional): GSO MSS for this frame, 0 = none. */
  readonly gsoMss: Uint32Array;

  constructor(max: number) {
    this.max = max;
    this.offset = new Uint32Array(max);
    this.capacity = new Uint32Array(max);
    this.length = new Uint32Array(max);
    this.checksumRequired = new Uint8Array(max);
    this.gsoMss = new Uint32Array(max);
  }
}

/** A batch of indicated Rx packets (preallocated per Rx queue, reused). */
export class RxDelivery {
  readonly maxPackets: number;
  readonly maxFragments: number;
  count = 0;
  fragmentTotal = 0;
  /** Slab registry: fragSlab[f] indexes it. */
  slabs: readonly Uint8Array[] = [];
  readonly token: Uint32Array;
  readonly firstFragment: Uint32Array;
  readonly fragmentCount: Uint16Array;
  /** Total frame bytes of the packet. */
  readonly length: Uint32Array;
  readonly layer2Type: Uint8Array;
  readonly layer3Type: Uint8Array;
  readonly layer4Type: Uint8Array;
  readonly layer2HeaderLength: Uint8Array;
  readonly layer3HeaderLength: Uint16Array;
  readonly layer4HeaderLength: Uint8Array;
  /** Rx checksum results (0 not checked, 1 valid, 2 invalid), only when the extension is on. */
  readonly checksumL3: Uint8Array;
  readonly checksumL4: Uint8Array;
  readonly fragSlab: Uint16Array;
  readonly fragOffset: Uint32Array;
  readonly fragLength: Uint32Array;

  constructor(maxPackets: number, maxFragments: number) {
    this.maxPackets = maxPackets;
    this.maxFragments = maxFragments;
    this.token = new Uint32Array(maxPackets);
    this.firstFragment = new Uint32Array(maxPackets);
    this.fragmentCount = new Uint16Array(maxPackets);
    this.length = new Uint32Array(maxPackets);
    this.layer2Type = new Uint8Array(maxPackets);
    this.layer3Type = new Uint8Array(maxPackets);
    this.layer4Type = new Uint8Array(maxPackets);
    this.layer2HeaderLength = new Uint8Array(maxPackets);
    this.layer3HeaderLength = new Uint16Array(maxPackets);
    this.layer4HeaderLength = new Uint8Array(maxPackets);
    this.checksumL3 = new Uint8Array(maxPackets);
    this.checksumL4 = new Uint8Array(maxPackets);
    this.fragSlab = new Uint16Array(maxFragments);
    this.fragOffset = new Uint32Array(maxFragments);
    this.fragLength = new Uint32Array(maxFragments);
  }
}

/** What a host holds per started queue. */
export interface HostQueueHandle {
  readonly direction: 'tx' | 'rx';
  readonly queueId: number;
  /** New Tx frames available, or Rx buffers returned: wake the queue if it sleeps. Any time. */
  notify(): void;
  /** Give back Rx packets kept by deliverRx() === false (tokens[0..count)). Any time. */
  returnRxBuffers(tokens: Uint32Array, count: number): void;
}

export interface OsHost {
  readonly requestedOffloads?: HostOffloadRequest;
  /** A queue started: keep the handle to notify it / return buffers. */
  queueStarted?(h: HostQueueHandle): void;
  /** A queue stopped: drop the handle. */
  queueStopped?(h: HostQueueHandle): void;
  /** Fill up to offer.count Tx frames; return how many were filled. */
  pullTx(h: HostQueueHandle, offer: TxOffer): number;
  /** Take indicated Rx packets; true = all buffers may be recycled now. */
  deliverRx(h: HostQueueHandle, batch: RxDelivery): boolean;
  /** The Tx queue is going idle: call h.notify() once new Tx frames arrive. */
  armTx?(h: HostQueueHandle): void;
}
