// UDP transport on the native addon: one non-blocking socket, a uv_poll watcher, recvmmsg straight
// into receive slots and sendmmsg straight from the driver's Tx slab. Same contract as udp.ts
// (dgram), without dgram's per-datagram syscall and allocations.
//
// Rx flow (one poll wakeup):
//   1. Take up to rxBatchMax free slots; recvmmsg writes payloads into them and lengths and
//      20-byte source records directly into the RxBatch arrays (no copy).
//   2. Truncated datagrams (longer than a slot) are compacted out (rxTooBig); with GRO, coalesced
//      buffers are indicated as several datagrams sharing one slot (see "GRO" below).
//   3. The batch goes to onReceive inside the poll callback. Repeat while recvmmsg fills the whole
//      request, up to rxBudget datagrams per wakeup, then yield (the watcher is level-triggered,
//      so the rest is read at the next loop turn after other I/O had its chance).
//   4. No free slot: datagrams are read into a zero-length scratch and dropped (rxNoBuffer), as the
//      contract says for UDP; leaving them queued would make the level-triggered watcher spin.
//
// Tx flow:
//   1. send() takes a prefix bounded by free in-flight entries and records each datagram's offset,
//      length, slab and destination in the entry (the driver keeps the memory until completion).
//   2. The unsent entries (a contiguous ring range) go out at once with sendmmsg, in runs that
//      share a slab and do not wrap; with GSO, runs of equal-size datagrams to one destination go
//      out as one UDP_SEGMENT send (copied into a stage first unless back to back in one slab).
//   3. Sent entries complete OK in a microtask (never inside send()). A -errno at the head entry
//      completes that one datagram ERROR (counted, reported through onError) and sending goes on.
//   4. EAGAIN: the rest stays recorded (bounded by maxInFlight, no other queue), the watcher is
//      re-armed for WRITABLE, and the writable callback resumes step 2; the short send() already
//      asked for onWritable, which fires once completions free entries.
//
// Socket errors: libuv stops a uv_poll on POLLERR (a pending ICMP error such as ECONNREFUSED on a
// connected socket) and reports a negative status. The error is then read (recvmmsg returns it:
// rxErrors, onError) and the watcher is re-armed, so one unreachable peer never stops the socket.
//
// GRO (opt-in, `gro: true`): needs rxSlotSize 65536, since a coalesced buffer is up to 64 KiB.
// Segments of one buffer are separate RxBatch entries with the same slot number and their own
// offsets; the slot has a reference count and returns to the pool when every entry sharing it
// was released. Off by default: 64 KiB slots cost memory and most drivers want one slot per
// datagram. GSO (opt-in, `gso: true`) changes nothing visible to the driver.

import { ADDR_SIZE, addrEqual, addrFamily, encodeAddr, formatAddr, type SockAddr } from './addr.js';
import { RxSlotPool, TxCompletionRing, checkCount } from './slots.js';
import {
  TxStatus,
  newCounters,
  type ReceiveHandler,
  type RxBatch,
  type SendCompleteHandler,
  type Transport,
  type TransportCounters,
  type TxBatch,
} from './types.js';
import { loadNative, nativeLoadError, type NativeAddon, type NativePollHandle } from '../native/index.js';
import { ConfigError, ErrorCode, TransportError } from '../util/errors.js';
import { isIP } from 'node:net';

const MAX_UDP_PAYLOAD = 65507;
/** UIO_MAXIOV: the most datagrams one recvmmsg/sendmmsg takes. */
const MAX_MMSG = 1024;
/** Kernel cap on segments per UDP_SEGMENT send (UDP_MAX_SEGMENTS). */
const MAX_GSO_SEGMENTS = 64;
const DROP_BATCH = 64;
/** errno values meaning "this kernel/path cannot do GSO": fall back to sendmmsg. */
const GSO_UNSUPPORTED = new Set([5 /* EIO */, 22 /* EINVAL */, 95 /* EOPNOTSUPP */, 90 /* EMSGSIZE */]);

export interface NativeUdpOptions {
  /** Local address to bind ('0.0.0.0', '::', '127.0.0.1'...); port 0 picks a free port. */
  bind: SockAddr;
  /** Destination used when TxBatch.addrs is null. */
  remote?: SockAddr;
  /** connect() to `remote`: only its datagrams are received and ICMP errors are reported. */
  connect?: boolean;
  /** For an IPv6 bind: refuse IPv4-mapped traffic. */
  ipv6Only?: boolean;
  rxSlotSize?: number;
  rxSlotCount?: number;
  /** Datagrams per recvmmsg call and per RxBatch (1..1024). */
  rxBatchMax?: number;
  maxInFlight?: number;
  /** Datagrams read per poll wakeup before yielding to the event loop. */
  rxBudget?: number;
  recvBufferSize?: number;
  sendBufferSize?: number;
  /** UDP_GRO receive coalescing (needs rxSlotSize 65536); off by default. */
  gro?: boolean;
  /** UDP_SEGMENT sends for runs of equal-size contiguous datagrams to one destination. */
  gso?: boolean;
  /** The addon to use (default loadNative()); tests pass a wrapper to inject kernel results. */
  native?: NativeAddon;
}

export interface NativeUdpCounters extends TransportCounters {
  /** recvmmsg reported an error (e.g. ECONNREFUSED from an ICMP on a connected socket). */
  rxErrors: number;
  /** Coalesced GRO buffers split into separate datagrams. */
  rxGroBuffers: number;
  /** UDP_SEGMENT sends (each carried several datagrams). */
  txGsoSends: number;
  /** Datagrams copied into the GSO stage because their run was not contiguous in its slab. */
  txGsoCopied: number;
  /** sendmmsg/GSO returned EAGAIN and the rest waited for writability. */
  txWouldBlock: number;
}

function newRxBatch(n: number): RxBatch {
  return {
    count: 0,
    slots: new Uint32Array(n),
    offsets: new Uint32Array(n),
    lengths: new Uint32Array(n),
    addrs: new Uint8Array(n * ADDR_SIZE),
  };
}

export class NativeUdpTransport implements Transport {
  readonly kind = 'udp' as const;
  readonly txHeadroom = 0;
  readonly maxDatagram = MAX_UDP_PAYLOAD;
  readonly counters: NativeUdpCounters = {
    ...newCounters(),
    rxErrors: 0,
    rxGroBuffers: 0,
    txGsoSends: 0,
    txGsoCopied: 0,
    txWouldBlock: 0,
  };
  readonly rxSlab: Uint8Array;
  readonly rxSlotSize: number;
  readonly rxSlotCount: number;
  readonly maxInFlight: number;
  /** Whether GRO / GSO are actually in use (asked for and supported by the kernel). */
  readonly gro: boolean;
  gso: boolean;

  private readonly udp: NativeAddon['udp'];
  private readonly poll: NativeAddon['poll'];
  private readonly pool: RxSlotPool;
  private readonly rxb: RxBatch; // recvmmsg target, delivered as is
  private readonly rxCaps: Uint32Array;
  private readonly segs: Uint32Array | null;
  private readonly groOut: RxBatch | null;
  private readonly refs: Uint16Array | null; // GRO: entries still held per slot
  private readonly rxBudget: number;
  private readonly drop = {
    slab: new Uint8Array(1),
    zeros: new Uint32Array(DROP_BATCH),
    lens: new Uint32Array(DROP_BATCH),
  };
  private handler: ReceiveHandler;

  private readonly ring: TxCompletionRing;
  private readonly txOff: Uint32Array;
  private readonly txLen: Uint32Array;
  private readonly txAddr: Uint8Array;
  private readonly txSlab: (Uint8Array | null)[];
  // Views starting at each entry, made once: the addon reads arrays from index 0.
  private readonly offView: Uint32Array[] = [];
  private readonly lenView: Uint32Array[] = [];
  private readonly addrView: Uint8Array[] = [];
  private unsentStart = 0;
  private unsentCount = 0;
  private readonly defaultRemote = new Uint8Array(ADDR_SIZE);
  /** GSO: one UDP_SEGMENT payload gathered from non-adjacent datagrams (allocated with gso). */
  private readonly stage: Uint8Array;

  private watcher: NativePollHandle | null = null;
  private watchEvents = 0;
  private readonly onPoll = (status: number, events: number): void => this.polled(status, events);
  private errorHandler: ((e: TransportError) => void) | null = null;
  private closing = false;
  /** The fd failed in a way that makes it unusable (EBADF...): no more watching. */
  private broken = false;

  constructor(
    private readonly native: NativeAddon,
    private readonly fd: number,
    private readonly opts: NativeUdpOptions,
    gro: boolean,
  ) {
    this.udp = native.udp;
    this.poll = native.poll;
    this.pool = new RxSlotPool(opts.rxSlotSize ?? 2048, opts.rxSlotCount ?? 512);
    this.rxSlab = this.pool.slab;
    this.rxSlotSize = this.pool.slotSize;
    this.rxSlotCount = this.pool.slotCount;
    const b = checkCount('rxBatchMax', opts.rxBatchMax ?? 64, 1, MAX_MMSG);
    this.rxb = newRxBatch(b);
    this.rxCaps = new Uint32Array(b).fill(this.rxSlotSize);
    this.gro = gro;
    this.segs = gro ? new Uint32Array(b) : null;
    this.groOut = gro ? newRxBatch(b) : null;
    this.refs = gro ? new Uint16Array(this.rxSlotCount) : null;
    this.rxBudget = checkCount('rxBudget', opts.rxBudget ?? 512, 1, 1 << 20);
    this.handler = this.dropAll;
    this.ring = new TxCompletionRing(opts.maxInFlight ?? 256, this.counters);
    const cap = (this.maxInFlight = this.ring.cap);
    this.txOff = new Uint32Array(cap);
    this.txLen = new Uint32Array(cap);
    this.txAddr = new Uint8Array(cap * ADDR_SIZE);
    this.txSlab = new Array<Uint8Array | null>(cap).fill(null);
    for (let i = 0; i < cap; i++) {
      this.offView.push(this.txOff.subarray(i));
      this.lenView.push(this.txLen.subarray(i));
      this.addrView.push(this.txAddr.subarray(i * ADDR_SIZE));
    }
    this.gso = (opts.gso ?? false) && native.caps().udpGso;
    this.stage = new Uint8Array(this.gso ? MAX_UDP_PAYLOAD : 0);
    if (opts.remote) encodeAddr(this.defaultRemote, 0, opts.remote.address, opts.remote.port);
    this.setWatch(this.poll.READABLE);
  }

  get inFlight(): number {
    return this.ring.inFlight;
  }

  /** Free receive slots. */
  get rxSlotsFree(): number {
    return this.pool.available;
  }

  localAddress(): SockAddr {
    return { address: this.opts.bind.address, port: this.udp.getsockname(this.fd) };
  }

  /** Change the default destination (e.g. after a float); a connected socket is re-connected. */
  setRemote(remote: SockAddr): void {
    encodeAddr(this.defaultRemote, 0, remote.address, remote.port);
    if (this.opts.connect === true) this.udp.connect(this.fd, remote.address, remote.port);
  }

  onReceive(handler: ReceiveHandler): void {
    this.handler = handler;
  }

  /** Give a slot back; with GRO, once per entry that named it. */
  release(slot: number): void {
    const refs = this.refs;
    if (refs !== null && slot >= 0 && slot < refs.length) {
      const r = refs[slot]!;
      if (r > 1) {
        refs[slot] = r - 1;
        return;
      }
      refs[slot] = 0;
    }
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

  // ---- Tx ----

  send(batch: TxBatch): number {
    const n = Math.min(batch.count, this.ring.space);
    if (n < batch.count) {
      this.ring.wantWritable = true;
      this.counters.txBackPressure++;
    }
    for (let i = 0; i < n; i++) {
      const idx = this.ring.push(batch.tokens[i]!, batch.lengths[i]!);
      if (this.closing) {
        this.ring.complete(idx, TxStatus.ABORTED);
        continue;
      }
      if (this.unsentCount++ === 0) this.unsentStart = idx;
      this.txOff[idx] = batch.offsets[i]!;
      this.txLen[idx] = batch.lengths[i]!;
      this.txSlab[idx] = batch.slab;
      const src = batch.addrs ?? this.defaultRemote;
      const s = batch.addrs === null ? 0 : i * ADDR_SIZE;
      const d = idx * ADDR_SIZE;
      for (let k = 0; k < ADDR_SIZE; k++) this.txAddr[d + k] = src[s + k]!;
    }
    if (this.unsentCount > 0 && (this.watchEvents & this.poll.WRITABLE) === 0) this.flushTx();
    return n;
  }

  /** Push unsent entries into the kernel until done or EAGAIN (then wait for WRITABLE). */
  private flushTx(): void {
    while (this.unsentCount > 0 && !this.closing) {
      const start = this.unsentStart;
      const len = this.txLen[start]!;
      if (addrFamily(this.txAddr, start * ADDR_SIZE) === 0) this.finish(1, TxStatus.NO_ROUTE);
      else if (len > MAX_UDP_PAYLOAD) this.finish(1, TxStatus.TOO_BIG);
      else {
        const limit = Math.min(this.unsentCount, this.ring.cap - start, MAX_MMSG);
        const g = this.gso ? this.gsoRun(start, limit) : 1;
        const r = g > 1 ? this.sendGsoRun(start, g) : this.sendRun(start, limit);
        if (r === 0) {
          this.counters.txWouldBlock++;
          this.setWatch(this.poll.READABLE | this.poll.WRITABLE);
          return;
        }
      }
    }
    if ((this.watchEvents & this.poll.WRITABLE) !== 0 && !this.closing) this.setWatch(this.poll.READABLE);
  }

  /** sendmmsg over entries from `start` sharing its slab. Returns 0 on EAGAIN, else progress. */
  private sendRun(start: number, limit: number): number {
    const slab = this.txSlab[start]!;
    let m = 1;
    while (m < limit && this.txSlab[start + m] === slab && this.plain(start + m)) m++;
    let r: number;
    try {
      r = this.udp.sendBatch(
        this.fd,
        slab,
        this.offView[start]!,
        this.lenView[start]!,
        this.addrView[start]!,
        m,
      );
    } catch (e) {
      return this.fatal(e, 'sendmmsg');
    }
    if (r > 0) this.finish(r, TxStatus.OK);
    else if (r < 0) this.txFailed(1, -r, 'sendmmsg');
    return r === 0 ? 0 : 1;
  }

  /** True if entry p can join a sendmmsg run: valid and not the start of a GSO run. */
  private plain(p: number): boolean {
    const len = this.txLen[p]!;
    if (len > MAX_UDP_PAYLOAD || addrFamily(this.txAddr, p * ADDR_SIZE) === 0) return false;
    return !this.gso || !this.joins(p, p + 1);
  }

  /** Entry q continues a GSO run at p: same size and slab, right after it, same destination. */
  private joins(p: number, q: number): boolean {
    const len = this.txLen[p]!;
    return (
      len > 0 &&
      q < this.ring.cap &&
      q - this.unsentStart < this.unsentCount &&
      this.txLen[q] === len &&
      addrEqual(this.txAddr, q * ADDR_SIZE, this.txAddr, p * ADDR_SIZE)
    );
  }

  /** Entries [start, start+g) lie back to back in one slab (sendable without the stage copy). */
  private contiguous(start: number, g: number): boolean {
    const slab = this.txSlab[start];
    const len = this.txLen[start]!;
    for (let q = start + 1; q < start + g; q++)
      if (this.txSlab[q] !== slab || this.txOff[q] !== this.txOff[q - 1]! + len) return false;
    return true;
  }

  /** Length of the GSO-able run at `start` (1 = none). */
  private gsoRun(start: number, limit: number): number {
    const len = this.txLen[start]!;
    const max = Math.min(limit, MAX_GSO_SEGMENTS, Math.floor(MAX_UDP_PAYLOAD / Math.max(len, 1)));
    let g = 1;
    while (g < max && this.joins(start, start + g)) g++;
    return g;
  }

  private sendGsoRun(start: number, g: number): number {
    const len = this.txLen[start]!;
    let slab = this.txSlab[start]!;
    let off = this.txOff[start]!;
    if (!this.contiguous(start, g)) {
      // Driver buffers are fixed-size slots, so equal datagrams are rarely adjacent: copy the run
      // into the stage (a memcpy per datagram is far cheaper than a stack traversal per datagram).
      for (let j = 0; j < g; j++) {
        const o = this.txOff[start + j]!;
        this.stage.set(this.txSlab[start + j]!.subarray(o, o + len), j * len);
      }
      slab = this.stage;
      off = 0;
      this.counters.txGsoCopied += g;
    }
    let r: number;
    try {
      r = this.udp.sendGso(this.fd, slab, off, g * len, len, this.addrView[start]!);
    } catch (e) {
      return this.fatal(e, 'sendmsg(UDP_SEGMENT)');
    }
    if (r > 0) {
      this.counters.txGsoSends++;
      this.finish(g, TxStatus.OK);
    } else if (r < 0 && GSO_UNSUPPORTED.has(-r)) {
      this.gso = false; // this path cannot segment: plain sendmmsg from now on
      this.report(`udp: GSO send failed (${this.native.errnoName(r)}); using sendmmsg`, null);
    } else if (r < 0) this.txFailed(g, -r, 'sendmsg(UDP_SEGMENT)');
    return r === 0 ? 0 : 1;
  }

  private txFailed(k: number, errno: number, syscall: string): void {
    const at = this.unsentStart * ADDR_SIZE;
    const dst = this.txAddr.slice(at, at + ADDR_SIZE);
    this.finish(k, TxStatus.ERROR);
    this.report(`udp: ${syscall} to ${formatAddr(dst)}: ${this.native.errnoName(errno)}`, dst);
  }

  /** An fd-level failure (EBADF...): nothing more can be sent; complete the rest ERROR. */
  private fatal(e: unknown, syscall: string): number {
    this.finish(this.unsentCount, TxStatus.ERROR);
    this.report(`udp: ${syscall}: ${(e as Error).message}`, null);
    return 1;
  }

  /** Complete the first k unsent entries (contiguous, not wrapping) with `status`. */
  private finish(k: number, status: TxStatus): void {
    const cap = this.ring.cap;
    for (let j = 0; j < k; j++) {
      const idx = (this.unsentStart + j) % cap;
      this.txSlab[idx] = null;
      this.ring.complete(idx, status);
    }
    this.unsentStart = (this.unsentStart + k) % cap;
    this.unsentCount -= k;
  }

  // ---- Rx ----

  private polled(status: number, events: number): void {
    if (this.closing) return;
    if (status < 0) {
      // libuv stopped the watcher (POLLERR): read the pending error, then watch again.
      this.readPass();
      if (!this.closing) this.setWatch(this.watchEvents);
      if (this.unsentCount > 0) this.flushTx();
      return;
    }
    if ((events & this.poll.WRITABLE) !== 0) this.flushTx();
    if ((events & this.poll.READABLE) !== 0) this.readPass();
  }

  private readPass(): void {
    let budget = this.rxBudget;
    const b = this.rxb;
    const max = b.slots.length;
    while (budget > 0 && !this.closing) {
      const free = this.pool.available;
      if (free === 0) {
        const d = this.dropRead(Math.min(budget, DROP_BATCH));
        if (d <= 0) return;
        budget -= d;
        continue;
      }
      const k = Math.min(free, max, budget);
      for (let i = 0; i < k; i++) {
        const slot = this.pool.alloc();
        b.slots[i] = slot;
        b.offsets[i] = slot * this.rxSlotSize;
      }
      let n: number;
      try {
        n = this.udp.recvBatch(
          this.fd,
          this.rxSlab,
          b.offsets,
          this.rxCaps,
          b.lengths,
          b.addrs,
          this.segs,
          k,
        );
      } catch (e) {
        n = this.rxFatal(e);
      }
      for (let i = k - 1; i >= Math.max(n, 0); i--) this.pool.release(b.slots[i]!);
      if (n < 0) {
        this.rxError(-n);
        budget--;
        continue;
      }
      if (n > 0) this.deliver(n);
      if (n < k) return;
      budget -= n;
    }
  }

  /** Compact out truncated datagrams, then hand the batch (or its GRO split) to the driver. */
  private deliver(n: number): void {
    const b = this.rxb;
    const c = this.counters;
    const segs = this.segs;
    let j = 0;
    let split = false;
    for (let i = 0; i < n; i++) {
      const len = b.lengths[i]!;
      if (len > this.rxSlotSize) {
        c.rxTooBig++;
        this.pool.release(b.slots[i]!);
        continue;
      }
      if (segs !== null && segs[i]! > 0 && len > segs[i]!) split = true;
      if (j !== i) {
        b.slots[j] = b.slots[i]!;
        b.offsets[j] = b.offsets[i]!;
        b.lengths[j] = len;
        b.addrs.copyWithin(j * ADDR_SIZE, i * ADDR_SIZE, (i + 1) * ADDR_SIZE);
        if (segs !== null) segs[j] = segs[i]!;
      }
      if (this.refs !== null) this.refs[b.slots[j]!] = 1;
      c.rxBytes += len;
      j++;
    }
    b.count = j;
    if (j === 0) return;
    if (split) {
      this.deliverSplit(j);
      return;
    }
    c.rxDatagrams += j;
    this.handler(b);
    b.count = 0;
  }

  /** GRO: one entry per segment; entries of one buffer share its slot (reference-counted). */
  private deliverSplit(n: number): void {
    const b = this.rxb;
    const out = this.groOut!;
    const segs = this.segs!;
    const refs = this.refs!;
    const max = out.slots.length;
    for (let i = 0; i < n; i++) {
      const slot = b.slots[i]!;
      const len = b.lengths[i]!;
      const seg = segs[i]! > 0 && len > segs[i]! ? segs[i]! : len;
      const count = Math.ceil(len / seg) || 1;
      if (count > 1) this.counters.rxGroBuffers++;
      refs[slot] = count;
      for (let s = 0; s < count; s++) {
        const o = out.count++;
        out.slots[o] = slot;
        out.offsets[o] = b.offsets[i]! + s * seg;
        out.lengths[o] = Math.min(seg, len - s * seg);
        for (let k = 0; k < ADDR_SIZE; k++) out.addrs[o * ADDR_SIZE + k] = b.addrs[i * ADDR_SIZE + k]!;
        if (out.count === max) this.emit(out);
      }
    }
    b.count = 0;
    if (out.count > 0) this.emit(out);
  }

  private emit(out: RxBatch): void {
    this.counters.rxDatagrams += out.count;
    if (!this.closing) this.handler(out);
    out.count = 0;
  }

  /** Default handler: nobody listens, so every slot goes straight back. */
  private readonly dropAll = (batch: RxBatch): void => {
    this.counters.rxNoHandler += batch.count;
    for (let i = 0; i < batch.count; i++) this.release(batch.slots[i]!);
  };

  /** No free slot: read and drop (zero-length buffers; MSG_TRUNC still reports the datagram). */
  private dropRead(max: number): number {
    const d = this.drop;
    let n: number;
    try {
      n = this.udp.recvBatch(this.fd, d.slab, d.zeros, d.zeros, d.lens, null, null, max);
    } catch (e) {
      n = this.rxFatal(e);
    }
    if (n > 0) this.counters.rxNoBuffer += n;
    else if (n < 0) this.rxError(-n);
    return n;
  }

  private rxError(errno: number): void {
    this.counters.rxErrors++;
    this.report(`udp: recvmmsg: ${this.native.errnoName(errno)}`, null);
  }

  /** recvmmsg threw (the fd is unusable): stop watching and report; returns 0 (nothing read). */
  private rxFatal(e: unknown): number {
    this.counters.rxErrors++;
    this.stopWatching();
    this.broken = true;
    this.report(`udp: recvmmsg: ${(e as Error).message}; receiving stopped`, null);
    return 0;
  }

  // ---- plumbing ----

  /** (Re)start the watcher with `events` (one watcher per fd: unwatch first). */
  private setWatch(events: number): void {
    this.stopWatching();
    this.watchEvents = events;
    if (this.broken) return;
    try {
      this.watcher = this.poll.watch(this.fd, events, this.onPoll);
    } catch (e) {
      this.broken = true;
      this.report(`udp: cannot watch the socket: ${(e as Error).message}`, null);
    }
  }

  private stopWatching(): void {
    if (this.watcher !== null) this.poll.unwatch(this.watcher);
    this.watcher = null;
  }

  private report(message: string, remote: Uint8Array | null): void {
    this.errorHandler?.(new TransportError(ErrorCode.TRANSPORT_IO, message, remote));
  }

  /** Stop watching, close the fd, complete every unsent datagram ABORTED. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.stopWatching();
    this.udp.close(this.fd);
    this.finish(this.unsentCount, TxStatus.ABORTED);
    await Promise.resolve();
    this.ring.drain();
  }
}

/**
 * Bind a native UDP socket and wrap it. Throws ConfigError for bad options or a missing addon,
 * TransportError (OVPN_ERR_TRANSPORT_IO) when the socket cannot be created or bound.
 */
export function createNativeUdpTransport(opts: NativeUdpOptions): NativeUdpTransport {
  const native = opts.native ?? loadNative();
  if (native === null) {
    throw new ConfigError(
      'native',
      `native: the addon is not available (${nativeLoadError()}); build it with \`node scripts/build-native.mjs\` or use createUdpTransport`,
    );
  }
  const fam = isIP(opts.bind.address);
  if (fam === 0) {
    throw new ConfigError('bind.address', `bind.address: expected an IP literal, got "${opts.bind.address}"`);
  }
  if (opts.connect === true && opts.remote === undefined) {
    throw new ConfigError('connect', 'connect: needs `remote` (the address to connect to)');
  }
  if (opts.gro === true && (opts.rxSlotSize ?? 0) < 65536) {
    throw new ConfigError(
      'rxSlotSize',
      'rxSlotSize: gro needs 65536-byte slots (a coalesced buffer is up to 64 KiB)',
    );
  }
  let fd = -1;
  try {
    fd = native.udp.socket(fam === 6 ? 6 : 4, {
      ...(fam === 6 && opts.ipv6Only !== undefined ? { v6Only: opts.ipv6Only } : {}),
      ...(opts.recvBufferSize ? { rcvbuf: opts.recvBufferSize } : {}),
      ...(opts.sendBufferSize ? { sndbuf: opts.sendBufferSize } : {}),
    });
    native.udp.bind(fd, opts.bind.address, opts.bind.port);
    if (opts.connect === true && opts.remote) native.udp.connect(fd, opts.remote.address, opts.remote.port);
    const gro = opts.gro === true && native.udp.setGro(fd, true);
    return new NativeUdpTransport(native, fd, opts, gro);
  } catch (e) {
    if (fd >= 0) native.udp.close(fd);
    if (e instanceof ConfigError) throw e;
    const where = `${opts.bind.address}:${opts.bind.port}`;
    throw new TransportError(ErrorCode.TRANSPORT_IO, `udp: bind ${where}: ${(e as Error).message}`, null, {
      cause: e,
    });
  }
}
