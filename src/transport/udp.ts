// UDP transport over node:dgram (IPv4 or IPv6). The portable fallback: dgram moves one datagram
// per system call and allocates per datagram internally; a native recvmmsg/sendmmsg transport
// (src/native/) implements the same Transport contract without those costs.
//
// Rx flow:
//   1. dgram 'message' → take a free slot (none: drop, rxNoBuffer; too long: drop, rxTooBig).
//   2. Copy the payload into the slot and the source into a 20-byte record (cached: a tunnel
//      mostly hears from one address, so the text→bytes parse runs once per address change).
//   3. The batcher delivers everything read in this poll pass as one RxBatch (setImmediate).
//
// Tx flow:
//   1. Take a prefix of the batch bounded by free in-flight entries.
//   2. Destination: TxBatch.addrs record i, or the default remote; cached bytes→text likewise.
//   3. socket.send(view of the driver's slab) with a prebuilt per-entry callback; dgram's callback
//      means libuv is done with the memory, so only then is the token completed.

import dgram from 'node:dgram';
import {
  ADDR_SIZE,
  addrEqual,
  addrFamily,
  addrFrom,
  addrHost,
  addrPort,
  encodeAddr,
  type SockAddr,
} from './addr.js';
import { RxBatcher, RxSlotPool, TxCompletionRing } from './slots.js';
import {
  TxStatus,
  newCounters,
  type ReceiveHandler,
  type SendCompleteHandler,
  type Transport,
  type TransportCounters,
  type TxBatch,
} from './types.js';
import { ConfigError, ErrorCode, TransportError } from '../util/errors.js';
import { isIP } from 'node:net';

const MAX_UDP_PAYLOAD = 65507;
/** How long close() waits for in-flight sends before aborting them. */
const CLOSE_DRAIN_MS = 500;

export interface UdpOptions {
  /** Local address to bind ('0.0.0.0', '::', '127.0.0.1'...); port 0 picks a free port. */
  bind: SockAddr;
  /** Destination used when TxBatch.addrs is null (P2P). */
  remote?: SockAddr;
  /** For an IPv6 bind: refuse IPv4-mapped traffic. */
  ipv6Only?: boolean;
  rxSlotSize?: number;
  rxSlotCount?: number;
  rxBatchMax?: number;
  maxInFlight?: number;
  recvBufferSize?: number;
  sendBufferSize?: number;
}

export class UdpTransport implements Transport {
  readonly kind = 'udp' as const;
  readonly txHeadroom = 0;
  readonly maxDatagram = MAX_UDP_PAYLOAD;
  readonly counters: TransportCounters = newCounters();
  readonly rxSlab: Uint8Array;
  readonly rxSlotSize: number;
  readonly rxSlotCount: number;
  readonly maxInFlight: number;

  private readonly pool: RxSlotPool;
  private readonly batcher: RxBatcher;
  private readonly ring: TxCompletionRing;
  private readonly sendDone: ((err: Error | null) => void)[] = [];
  private readonly defaultRemote = new Uint8Array(ADDR_SIZE);
  // Rx source cache (text → record) and Tx destination cache (record → text).
  private rxHost = '';
  private rxPort = -1;
  private readonly rxAddr = new Uint8Array(ADDR_SIZE);
  private readonly txAddr = new Uint8Array(ADDR_SIZE);
  private txHost = '';
  private errorHandler: ((e: TransportError) => void) | null = null;
  private closing = false;

  constructor(
    private readonly socket: dgram.Socket,
    opts: UdpOptions,
  ) {
    this.pool = new RxSlotPool(opts.rxSlotSize ?? 2048, opts.rxSlotCount ?? 512);
    this.rxSlab = this.pool.slab;
    this.rxSlotSize = this.pool.slotSize;
    this.rxSlotCount = this.pool.slotCount;
    this.batcher = new RxBatcher(this.pool, this.counters, opts.rxBatchMax ?? 64);
    this.ring = new TxCompletionRing(opts.maxInFlight ?? 256, this.counters);
    this.maxInFlight = this.ring.cap;
    if (opts.remote) encodeAddr(this.defaultRemote, 0, opts.remote.address, opts.remote.port);
    for (let i = 0; i < this.ring.cap; i++) {
      this.sendDone.push((err) => this.ring.complete(i, this.statusFor(err)));
    }
    socket.on('message', (msg: Buffer, rinfo: dgram.RemoteInfo) => this.onMessage(msg, rinfo));
    socket.on('error', (e: Error) => this.report(`udp: ${e.message}`));
  }

  get inFlight(): number {
    return this.ring.inFlight;
  }

  localAddress(): SockAddr {
    const a = this.socket.address();
    return { address: a.address, port: a.port };
  }

  /** Change the default destination (e.g. after a float). */
  setRemote(remote: SockAddr): void {
    encodeAddr(this.defaultRemote, 0, remote.address, remote.port);
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

  onError(handler: (err: TransportError) => void): void {
    this.errorHandler = handler;
  }

  private onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.closing) return;
    if (msg.length > this.rxSlotSize) {
      this.counters.rxTooBig++;
      return;
    }
    const slot = this.pool.alloc();
    if (slot < 0) {
      this.counters.rxNoBuffer++;
      return;
    }
    msg.copy(this.rxSlab, this.pool.offsetOf(slot));
    if (rinfo.port !== this.rxPort || rinfo.address !== this.rxHost) {
      encodeAddr(this.rxAddr, 0, rinfo.address, rinfo.port);
      this.rxHost = rinfo.address;
      this.rxPort = rinfo.port;
    }
    this.batcher.add(slot, msg.length, this.rxAddr, 0);
    this.batcher.schedule();
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
      const dst = batch.addrs ?? this.defaultRemote;
      const dOff = batch.addrs === null ? 0 : i * ADDR_SIZE;
      if (this.closing) this.ring.complete(idx, TxStatus.ABORTED);
      else if (len > MAX_UDP_PAYLOAD) this.ring.complete(idx, TxStatus.TOO_BIG);
      else if (addrFamily(dst, dOff) === 0) this.ring.complete(idx, TxStatus.NO_ROUTE);
      else
        this.socket.send(
          batch.slab.subarray(off, off + len),
          addrPort(dst, dOff),
          this.hostOf(dst, dOff),
          this.sendDone[idx],
        );
    }
    return n;
  }

  private hostOf(dst: Uint8Array, off: number): string {
    if (!addrEqual(this.txAddr, 0, dst, off) || this.txHost === '') {
      this.txAddr.set(dst.subarray(off, off + ADDR_SIZE));
      this.txHost = addrHost(dst, off);
    }
    return this.txHost;
  }

  private statusFor(err: Error | null): TxStatus {
    if (err === null || err === undefined) return TxStatus.OK;
    return this.closing ? TxStatus.ABORTED : TxStatus.ERROR;
  }

  private report(message: string): void {
    this.errorHandler?.(new TransportError(ErrorCode.TRANSPORT_IO, message));
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.batcher.discard();
    // dgram silently forgets sends still waiting for their (nextTick) address lookup when the
    // socket closes, without calling back. So first let taken datagrams finish (bounded wait),
    // then close, then complete whatever is left as ABORTED. A late callback after that only
    // re-marks an already-completed entry and is harmless.
    const deadline = Date.now() + CLOSE_DRAIN_MS;
    while (this.ring.inFlight > 0 && Date.now() < deadline) {
      await new Promise<void>((r) => setTimeout(r, 1));
    }
    await new Promise<void>((r) => this.socket.close(() => r()));
    this.ring.completeAllPending(TxStatus.ABORTED);
    await Promise.resolve();
    this.ring.drain();
  }
}

/** Bind a UDP socket and wrap it; resolves once bound. */
export function createUdpTransport(opts: UdpOptions): Promise<UdpTransport> {
  const fam = isIP(opts.bind.address);
  if (fam === 0) {
    throw new ConfigError('bind.address', `bind.address: expected an IP literal, got "${opts.bind.address}"`);
  }
  addrFrom(opts.bind.address, opts.bind.port); // validates the port
  const socket = dgram.createSocket({
    type: fam === 6 ? 'udp6' : 'udp4',
    ipv6Only: opts.ipv6Only ?? false,
    ...(opts.recvBufferSize ? { recvBufferSize: opts.recvBufferSize } : {}),
    ...(opts.sendBufferSize ? { sendBufferSize: opts.sendBufferSize } : {}),
  });
  return new Promise((resolve, reject) => {
    const fail = (e: Error): void => {
      socket.close();
      reject(
        new TransportError(
          ErrorCode.TRANSPORT_IO,
          `udp: bind ${opts.bind.address}:${opts.bind.port}: ${e.message}`,
        ),
      );
    };
    socket.once('error', fail);
    socket.bind(opts.bind.port, opts.bind.address, () => {
      socket.off('error', fail);
      resolve(new UdpTransport(socket, opts));
    });
  });
}
