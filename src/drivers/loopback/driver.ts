// Loopback client driver: every Tx frame comes back as an Rx packet on the same queue id.
// Written the way the seed's driver (ovpn-dco-win) is: Tx packets are copied out and "sent"
// asynchronously, the completion sets the packet's Scratch bit, and Advance drains completed
// packets in order; Rx attaches driver-owned buffers to fragments (driver-managed mode) and gets
// them back through EvtAdapterReturnRxBuffer, once per fragment.
//
//   host --Tx ring--> LoopbackTx.advance: gather frame into a pool buffer, push on the wire,
//                     schedule completion (sets Scratch) --> drain in order
//   wire --> LoopbackRx.advance: bind pool buffer to fragment(s) + packet --> framework indicates
//   host returns packet --> returnRxBuffer(handle) per fragment --> buffer back to the pool
//
// Ownership: a pool buffer belongs to the wire from Tx post until Rx binds it; then to the
// framework/host until its last fragment's return callback (refcount); system-managed Rx mode
// copies into the framework's buffer and frees the pool buffer at once.

import { NetAdapter } from '../../framework/adapter.js';
import {
  rxCapabilitiesInitDriverManaged,
  rxCapabilitiesInitSystemManaged,
  txCapabilitiesInit,
} from '../../framework/capabilities.js';
import type { NetAdapterOptions } from '../../framework/options.js';
import type { RxQueueInit, TxQueueInit } from '../../framework/queue.js';
import { LoopbackRx } from './rx.js';
import { LoopbackTx } from './tx.js';

export interface LoopbackOptions {
  /** Rx buffer mode. Default 'driver' (driver-managed, return callback). */
  rxMode?: 'driver' | 'system';
  mtu?: number;
  /** Pool buffers shared by all queues (default 2048). */
  poolBuffers?: number;
  /** Split each Rx packet into fragments of at most this many bytes (default: one fragment). */
  rxFragmentSize?: number;
  /** Deliver every k-th datagram as an Ignore Rx packet (a simulated drop). 0 = never. */
  rxDropEvery?: number;
  /** Tx completion: 'async' (setImmediate, default) or 'manual' (completeTx() from tests). */
  txCompletion?: 'async' | 'manual';
  payloadBackfill?: number;
  txTailroom?: number;
  /** Framework options passed through (verifier, scheduling, notificationStyle, ...). */
  framework?: Omit<NetAdapterOptions, 'datapathCallbacks'>;
}

/** Datagrams queued between a queue pair's Tx and Rx (pool buffer id + length), FIFO. */
export class Wire {
  readonly buf: Uint32Array;
  readonly len: Uint32Array;
  head = 0;
  count = 0;
  constructor(readonly capacity: number) {
    this.buf = new Uint32Array(capacity);
    this.len = new Uint32Array(capacity);
  }
  push(b: number, len: number): void {
    const k = (this.head + this.count) % this.capacity;
    this.buf[k] = b;
    this.len[k] = len;
    this.count++;
  }
  shift(): void {
    this.head = (this.head + 1) % this.capacity;
    this.count--;
  }
}

export class LoopbackDriver {
  readonly adapter: NetAdapter;
  readonly options: Required<Omit<LoopbackOptions, 'framework'>>;
  /** Driver buffer pool, registered with the adapter. */
  readonly pool: Uint8Array;
  readonly poolSlabId: number;
  /** The pool as a Buffer view (copies without per-packet views). */
  readonly poolBuffer: Buffer;
  readonly bufferSize: number;
  private readonly free: Uint32Array;
  freeCount: number;
  /** Outstanding fragment references per pool buffer (driver-managed Rx). */
  readonly refs: Uint16Array;
  readonly tx: (LoopbackTx | undefined)[] = [];
  readonly rx: (LoopbackRx | undefined)[] = [];
  readonly wires: Wire[] = [];
  readonly stats = { returnCalls: 0, wireDrops: 0, rxIgnored: 0, poolExhausted: 0 };

  constructor(o: LoopbackOptions = {}) {
    this.options = {
      rxMode: o.rxMode ?? 'driver',
      mtu: o.mtu ?? 1500,
      poolBuffers: o.poolBuffers ?? 2048,
      rxFragmentSize: o.rxFragmentSize ?? 0,
      rxDropEvery: o.rxDropEvery ?? 0,
      txCompletion: o.txCompletion ?? 'async',
      payloadBackfill: o.payloadBackfill ?? 0,
      txTailroom: o.txTailroom ?? 0,
    };
    this.adapter = new NetAdapter({
      ...o.framework,
      datapathCallbacks: {
        createTxQueue: (a, init) => this.createTxQueue(a, init),
        createRxQueue: (a, init) => this.createRxQueue(a, init),
      },
    });
    const mtu = this.options.mtu;
    this.bufferSize = mtu;
    const txc = txCapabilitiesInit(8);
    txc.payloadBackfill = this.options.payloadBackfill;
    txc.txTailroom = this.options.txTailroom;
    const rxc =
      this.options.rxMode === 'driver'
        ? rxCapabilitiesInitDriverManaged((_a, h) => this.returnRxBuffer(h), mtu, 8)
        : rxCapabilitiesInitSystemManaged(mtu, 8);
    this.adapter.setDataPathCapabilities(txc, rxc);
    this.adapter.setLinkLayerMtuSize(mtu);
    const n = this.options.poolBuffers;
    this.pool = new Uint8Array(n * this.bufferSize);
    this.poolSlabId = this.adapter.registerSlab(this.pool);
    this.poolBuffer = this.adapter.slabs.buffers[this.poolSlabId]!;
    this.free = new Uint32Array(n);
    for (let b = 0; b < n; b++) this.free[b] = n - 1 - b;
    this.freeCount = n;
    this.refs = new Uint16Array(n);
  }

  private createTxQueue(_a: NetAdapter, init: TxQueueInit): void {
    const t = new LoopbackTx(this, init, this.wire(init.queueId));
    this.tx[init.queueId] = t;
  }

  private createRxQueue(_a: NetAdapter, init: RxQueueInit): void {
    const r = new LoopbackRx(this, init, this.wire(init.queueId));
    this.rx[init.queueId] = r;
  }

  private wire(id: number): Wire {
    let w = this.wires[id];
    if (w === undefined) {
      w = new Wire(this.options.poolBuffers);
      this.wires[id] = w;
    }
    return w;
  }

  allocBuffer(): number {
    if (this.freeCount === 0) {
      this.stats.poolExhausted++;
      return -1;
    }
    return this.free[--this.freeCount]!;
  }

  freeBuffer(b: number): void {
    this.free[this.freeCount++] = b;
  }

  /** EvtAdapterReturnRxBuffer: one call per fragment; the last one frees the pool buffer. */
  private returnRxBuffer(handle: number): void {
    this.stats.returnCalls++;
    if (--this.refs[handle]! === 0) {
      this.freeBuffer(handle);
      for (let k = 0; k < this.tx.length; k++) this.tx[k]?.poolFreed(); // Tx may be waiting for buffers (back-pressure)
    }
  }

  /** Manual Tx completion mode: complete everything sent so far on every queue. */
  completeTx(): void {
    for (let k = 0; k < this.tx.length; k++) this.tx[k]?.complete();
  }

  get poolFree(): number {
    return this.freeCount;
  }
}
