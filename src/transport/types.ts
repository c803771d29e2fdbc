// The transport contract: ovpn-ts's WSK. Batches in both directions, memory owned by slots.
//
// Ownership rules (the seed's zero-copy design, which goes beyond upstream ovpn-dco-win):
//
//   Rx:  transport ──(fills slot)──> onReceive(batch) ──> driver holds slot ──> release(slot)
//        A received datagram stays in its slot of `rxSlab` until the driver calls release() (the
//        seed's WskRelease after EvtAdapterReturnRxBuffer). While every slot is held, the transport
//        takes no more datagrams: UDP drops and counts rxNoBuffer, TCP pauses its socket.
//
//   Tx:  driver fills its own slab ──> send(batch) takes a prefix ──> transport reads the memory
//        ──> onSendComplete(tokens) once the memory is no longer needed (dgram/net callback).
//        The transport never writes to the Tx slab except the `txHeadroom` bytes right before
//        each datagram (TCP writes its 2-byte length there), so the driver must leave those bytes
//        free and must not reuse a datagram's memory until its token completes.
//
// Batch objects (RxBatch and the `tokens` array given to onSendComplete) are reused by the
// transport: they are valid only during the callback. Copy slot numbers / tokens out if needed.

import type { TransportError } from '../util/errors.js';

export type TransportKind = 'udp' | 'tcp' | 'memory';

/** Datagrams handed to the driver. Offsets index `Transport.rxSlab`; addrs are 20-byte records. */
export interface RxBatch {
  count: number;
  slots: Uint32Array;
  offsets: Uint32Array;
  lengths: Uint32Array;
  /** Source address of datagram i at `addrs[20*i .. 20*i+20)` (see addr.ts). */
  addrs: Uint8Array;
}

/** Datagrams the driver wants sent. Datagram i is `slab[offsets[i] .. offsets[i]+lengths[i])`. */
export interface TxBatch {
  count: number;
  slab: Uint8Array;
  offsets: Uint32Array;
  lengths: Uint32Array;
  /** Opaque driver values echoed by onSendComplete, in send order. */
  tokens: Uint32Array;
  /** Destination of datagram i at `addrs[20*i ..]`; null = the transport's default remote. */
  addrs: Uint8Array | null;
}

/** Status passed to onSendComplete for a run of tokens. */
export const TxStatus = {
  OK: 0,
  /** The OS reported an error; the datagram was probably not sent. */
  ERROR: 1,
  /** No destination: no default remote, or (TCP server) no connection for that address. */
  NO_ROUTE: 2,
  /** Longer than the transport's maximum datagram size; not sent. */
  TOO_BIG: 3,
  /** The transport or its connection closed before the datagram went out. */
  ABORTED: 4,
} as const;
export type TxStatus = (typeof TxStatus)[keyof typeof TxStatus];

/** Per-transport counters: plain numbers, mutated in place, read at any time. */
export interface TransportCounters {
  rxDatagrams: number;
  rxBytes: number;
  /** Completed successfully (counted at completion, not at send()). */
  txDatagrams: number;
  txBytes: number;
  /** Received but no free slot (UDP/memory); TCP pauses instead and counts rxPaused. */
  rxNoBuffer: number;
  /** Larger than a slot; dropped. */
  rxTooBig: number;
  /** Received with no onReceive handler installed; dropped. */
  rxNoHandler: number;
  /** TCP framing violations (length 0 or above the maximum); the connection was dropped. */
  rxBadLength: number;
  /** Times a TCP socket was paused because every slot was held. */
  rxPaused: number;
  txErrors: number;
  txNoRoute: number;
  txTooBig: number;
  txAborted: number;
  /** send() returned less than count because the in-flight cap was reached. */
  txBackPressure: number;
  connAccepted: number;
  connRejected: number;
  disconnects: number;
  /** Memory transport impairments, counted at the sender. */
  impairLost: number;
  impairDuplicated: number;
  impairReordered: number;
  impairCorrupted: number;
}

export function newCounters(): TransportCounters {
  return {
    rxDatagrams: 0,
    rxBytes: 0,
    txDatagrams: 0,
    txBytes: 0,
    rxNoBuffer: 0,
    rxTooBig: 0,
    rxNoHandler: 0,
    rxBadLength: 0,
    rxPaused: 0,
    txErrors: 0,
    txNoRoute: 0,
    txTooBig: 0,
    txAborted: 0,
    txBackPressure: 0,
    connAccepted: 0,
    connRejected: 0,
    disconnects: 0,
    impairLost: 0,
    impairDuplicated: 0,
    impairReordered: 0,
    impairCorrupted: 0,
  };
}

export type ReceiveHandler = (batch: RxBatch) => void;
export type SendCompleteHandler = (tokens: Uint32Array, count: number, status: TxStatus) => void;

export interface Transport {
  readonly kind: TransportKind;
  /** Receive memory: `rxSlotCount` slots of `rxSlotSize` bytes; slot i starts at i*rxSlotSize. */
  readonly rxSlab: Uint8Array;
  readonly rxSlotSize: number;
  readonly rxSlotCount: number;
  /** Bytes the transport may write immediately before each Tx datagram (2 for TCP, else 0). */
  readonly txHeadroom: number;
  /** Largest datagram send() accepts (TCP: 65535, UDP: 65507, memory: rxSlotSize). */
  readonly maxDatagram: number;
  /** Cap on datagrams taken by send() and not yet completed. */
  readonly maxInFlight: number;
  readonly inFlight: number;
  readonly counters: TransportCounters;

  /** Install the receive handler. The driver owns each batch slot until release(slot). */
  onReceive(handler: ReceiveHandler): void;
  /** Give a slot back (WskRelease). Releasing a slot the driver does not hold throws (a driver bug). */
  release(slot: number): void;
  /**
   * Take a prefix of `batch`; returns how many datagrams were taken. Less than `batch.count` means
   * back-pressure: wait for onWritable. Every taken datagram gets exactly one completion.
   */
  send(batch: TxBatch): number;
  /** Completions arrive asynchronously, in send order, grouped in runs of equal status. */
  onSendComplete(handler: SendCompleteHandler): void;
  /** Called once after a short send() when the transport can take datagrams again. */
  onWritable(handler: () => void): void;
  /** Transport events (disconnects, framing errors, socket errors). Counted; never thrown. */
  onError(handler: (err: TransportError) => void): void;
  /** Stop receiving, complete outstanding sends (ABORTED if they cannot finish), free OS handles. */
  close(): Promise<void>;
}
