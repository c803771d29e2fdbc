// The OS side on Linux: an OsHost on a real TUN device (IFF_TUN | IFF_NO_PI, IPv4 and IPv6)
// driven through the addon. One non-blocking fd, one uv_poll watcher, no threadpool.
//
// Tx (Linux -> tunnel):
//   1. The queue goes idle and calls armTx(): start the READABLE watcher (unless see 4).
//   2. The fd becomes readable: notify every Tx queue handle. The watcher stays on (stopping and
//      starting a uv_poll costs an ioctl and epoll_ctl calls per packet at low rates).
//   3. The queue's pass calls pullTx(offer): readBatch reads frames straight into the offered
//      buffers of the framework's Tx slab (zero copy) until EAGAIN or offer.count.
//   4. Spin guard: the watcher is level-triggered, so a second wakeup with no pullTx since the
//      first means the queue has no free buffers: the watcher is stopped then. The queue pulls by
//      itself once the driver completes packets (that completion notifies it), and armTx starts
//      the watcher again when the queue goes idle with buffers.
//   5. A truncated read (frame longer than the buffer; the kernel cuts it silently) is posted
//      as an Ignore packet (length 0) and counted.
//
// Rx (tunnel -> Linux), deliverRx(batch):
//   1. Single-fragment packets are written straight from their fragment slab; consecutive
//      packets sharing a slab go out in one writeBatch call (the addon takes one slab per call).
//   2. Multi-fragment packets are gathered into a preallocated scratch slab first (a run of
//      them shares the scratch, also one call).
//   3. EAGAIN (device queue full): the rest of that run is dropped and counted; another -errno
//      drops that one packet (counted) and writing goes on.
//   4. Return true: every buffer is free again as soon as deliverRx returns.
// No per-packet allocation: group arrays grow only when a larger batch size first appears.

import { execFileSync } from 'node:child_process';
import { isIP } from 'node:net';
import {
  GroCounter,
  GsoState,
  loadNative,
  nativeLoadError,
  TUN_F,
  TUN_GSO_CARRY_BYTES,
} from '../../native/index.js';
import type { NativeAddon, NativePollHandle } from '../../native/index.js';
import { ConfigError, ErrorCode, OvpnError } from '../../util/errors.js';
import type { HostQueueHandle, OsHost, RxDelivery, TxOffer } from '../host.js';

export interface TunHostOptions {
  /** Interface name (max 15 bytes, '%d' expanded by the kernel); default: the kernel's tunN. */
  name?: string;
  /** Device MTU; give the engine the same value (its Tx buffers hold one MTU frame). */
  mtu?: number;
  /** 'a.b.c.d/len' on the device. */
  ipv4?: string;
  /** 'addr/len' on the device (added with nodad: usable at once). */
  ipv6?: string;
  /** Extra routes 'net/len' through this device. */
  routes?: string[];
  /** Bring the link up (default true). */
  up?: boolean;
  /** Device transmit queue (packets Linux queues for us to read); default DEFAULT_TX_QUEUE_LEN. */
  txQueueLen?: number;
  /**
   * TCP offloads through the virtio-net header (default true): Linux hands us 64 KiB TCP
   * super-segments that the addon cuts into MTU packets (TSO), and received TCP segments of a flow
   * go up as one merged frame (GRO). Same packets on the wire either way, far fewer trips through
   * the kernel's TCP stack. false: one packet per read and write. The default can be turned off
   * for a whole process with OVPN_TS_TUN_OFFLOAD=off.
   */
  offload?: boolean;
}

/**
 * The kernel gives a TUN device 500. A bulk TCP sender fills that while the engine is busy
 * sealing the previous batch, and every overflow is a TCP loss: through the tunnel bench, 6-7.5k
 * of ~290k packets were dropped at 500 (all of the stream's retransmits), ~460 at 1000, with
 * higher throughput. Much longer queues only add delay (4000: no loss, but less throughput).
 */
export const DEFAULT_TX_QUEUE_LEN = 1000;

export interface TunHostStats {
  /** Frames/bytes read from the device (Linux -> tunnel). */
  readFrames: number;
  readBytes: number;
  /** Reads cut short by a buffer smaller than the frame (posted as Ignore). */
  readTruncated: number;
  /** readBatch reported an error (counted, the fd stays in use). */
  readErrors: number;
  /** Frames/bytes written to the device (tunnel -> Linux). */
  writeFrames: number;
  writeBytes: number;
  /** write() failed for one packet (EINVAL for a non-IP frame, ...): that packet dropped. */
  writeErrors: number;
  /** Dropped because the device queue was full (EAGAIN). */
  writeDrops: number;
  /** Multi-fragment packets larger than the gather scratch: dropped. */
  writeTooBig: number;
  /** Readability wakeups delivered to the Tx queue. */
  wakeups: number;
  /** Offload mode: TCP super-segments read, and the packets cut from them. */
  tsoFrames: number;
  tsoSegments: number;
  /** Offload mode: frames dropped as unparseable (a GSO type we do not cut, bad offsets). */
  readDropped: number;
  /** Offload mode: writes that carried several merged TCP segments, and how many segments. */
  groWrites: number;
  groPackets: number;
  /** Offload mode: TCP segments with a bad checksum (written alone; Linux drops them). */
  writeBadChecksum: number;
}

/** Largest packet gathered from several fragments (an IP packet is at most 64 KiB). */
const SCRATCH_BYTES = 65536;

/** Builds the error for a failed open/configure step (code OVPN_ERR_CONFIG, cause kept). */
function tunError(what: string, cause: unknown): OvpnError {
  const msg = (cause as Error).message ?? String(cause);
  const hint = /EPERM|EACCES|Operation not permitted/.test(msg) ? ' (needs root or CAP_NET_ADMIN)' : '';
  return new OvpnError(ErrorCode.CONFIG, `tun: ${what}: ${msg}${hint}`, { cause });
}

/** 'addr/len' check for option `field`; returns [addr, len]. */
function parsePrefix(field: string, value: string, family: 4 | 6 | 0): [string, number] {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(value);
  const fam = m === null ? 0 : isIP(m[1]!);
  const len = m === null ? -1 : Number(m[2]);
  if (m === null || fam === 0 || (family !== 0 && fam !== family) || len > (fam === 4 ? 32 : 128)) {
    const want = family === 4 ? 'a.b.c.d/len' : family === 6 ? 'ipv6-address/len' : 'address/len';
    throw new ConfigError(field, `${field}: expected ${want}, got "${value}"`);
  }
  return [m[1]!, len];
}

function ip(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5000 });
}

export class TunHost implements OsHost {
  readonly name: string;
  readonly stats: TunHostStats = {
    readFrames: 0,
    readBytes: 0,
    readTruncated: 0,
    readErrors: 0,
    writeFrames: 0,
    writeBytes: 0,
    writeErrors: 0,
    writeDrops: 0,
    writeTooBig: 0,
    wakeups: 0,
    tsoFrames: 0,
    tsoSegments: 0,
    readDropped: 0,
    groWrites: 0,
    groPackets: 0,
    writeBadChecksum: 0,
  };
  /** The fd carries virtio-net headers (TSO reads, GRO writes). */
  readonly offload: boolean;
  private readonly carry: Uint8Array;
  private readonly gsoState = new Uint32Array(GsoState.WORDS);
  private readonly groCounters = new Uint32Array(GroCounter.WORDS);
  private readonly native: NativeAddon;
  private readonly fd: number;
  private readonly txHandles: HostQueueHandle[] = [];
  private watcher: NativePollHandle | null = null;
  /** A wakeup was sent and no pullTx has run since (step 4 of the Tx flow). */
  private awaitingPull = false;
  private closed = false;
  private readonly onReadable = (): void => this.readable();
  // Rx grouping: one run of packets written by one writeBatch call.
  private runOff = new Uint32Array(0);
  private runLen = new Uint32Array(0);
  private runSlab: Uint8Array | null = null;
  private runCount = 0;
  private readonly scratch = new Uint8Array(SCRATCH_BYTES);
  private scratchUsed = 0;

  private constructor(native: NativeAddon, fd: number, name: string, offload: boolean) {
    this.native = native;
    this.fd = fd;
    this.name = name;
    this.offload = offload;
    this.carry = new Uint8Array(offload ? TUN_GSO_CARRY_BYTES : 0);
  }

  /**
   * Open a TUN device and configure it (MTU, link up, addresses, routes). Throws ConfigError for a
   * bad option, OvpnError OVPN_ERR_CONFIG when the addon is missing or a kernel step fails (the
   * device is closed again then).
   */
  static open(opts: TunHostOptions = {}): TunHost {
    const v4 = opts.ipv4 === undefined ? null : parsePrefix('ipv4', opts.ipv4, 4);
    const v6 = opts.ipv6 === undefined ? null : parsePrefix('ipv6', opts.ipv6, 6);
    for (const r of opts.routes ?? []) parsePrefix('routes', r, 0);
    if (opts.mtu !== undefined && !(Number.isInteger(opts.mtu) && opts.mtu >= 68 && opts.mtu <= 65535))
      throw new ConfigError('mtu', `mtu: expected an integer 68..65535, got ${opts.mtu}`);
    const q = opts.txQueueLen;
    if (q !== undefined && !(Number.isInteger(q) && q >= 1 && q <= 1_000_000))
      throw new ConfigError('txQueueLen', `txQueueLen: expected an integer 1..1000000, got ${q}`);
    const native = loadNative();
    if (native === null)
      throw new OvpnError(
        ErrorCode.CONFIG,
        `tun: the native addon is required for TUN (${nativeLoadError()}); build it with \`npm run install\``,
      );
    let dev: { fd: number; name: string };
    const offload = opts.offload ?? process.env['OVPN_TS_TUN_OFFLOAD'] !== 'off';
    try {
      dev = native.tun.open({ ...(opts.name ? { name: opts.name } : {}), vnetHdr: offload });
    } catch (e) {
      throw tunError(`open ${opts.name ?? '(any name)'}`, e);
    }
    const host = new TunHost(native, dev.fd, dev.name, offload);
    try {
      host.configure(opts, v4, v6);
    } catch (e) {
      host.close();
      throw e instanceof OvpnError ? e : tunError(`configure ${dev.name}`, e);
    }
    return host;
  }

  private configure(o: TunHostOptions, v4: [string, number] | null, v6: [string, number] | null): void {
    const t = this.native.tun;
    // Checksum offload (Linux leaves TCP/UDP checksums to us: the addon fills them) and TSO; a
    // kernel without them still works through the header, one packet per frame.
    if (this.offload) t.setOffload(this.fd, TUN_F.CSUM | TUN_F.TSO4 | TUN_F.TSO6);
    if (o.mtu !== undefined) t.setMtu(this.name, o.mtu);
    ip(['link', 'set', 'dev', this.name, 'txqueuelen', String(o.txQueueLen ?? DEFAULT_TX_QUEUE_LEN)]);
    if (o.up ?? true) t.setUp(this.name, true);
    if (v4 !== null) ip(['addr', 'add', `${v4[0]}/${v4[1]}`, 'dev', this.name]);
    if (v6 !== null) ip(['-6', 'addr', 'add', `${v6[0]}/${v6[1]}`, 'dev', this.name, 'nodad']);
    for (const r of o.routes ?? []) ip(['route', 'replace', r, 'dev', this.name]);
  }

  /** Stop watching and close the fd; the kernel removes the (non-persistent) device. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopWatch();
    this.txHandles.length = 0;
    this.native.tun.close(this.fd);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  // ---- queue life cycle ---------------------------------------------------------------------

  queueStarted(h: HostQueueHandle): void {
    if (h.direction !== 'tx') return;
    this.txHandles.push(h);
    this.awaitingPull = false;
    this.startWatch();
  }

  queueStopped(h: HostQueueHandle): void {
    const k = this.txHandles.indexOf(h);
    if (k >= 0) this.txHandles.splice(k, 1);
    if (this.txHandles.length === 0) this.stopWatch();
  }

  armTx(_h: HostQueueHandle): void {
    if (!this.awaitingPull) this.startWatch();
  }

  private readable(): void {
    if (this.awaitingPull) {
      // Readable again and nobody pulled since the last wakeup: the queue has no free buffers.
      // Stop the level-triggered watcher rather than spin; armTx/pullTx start it again.
      this.stopWatch();
      return;
    }
    this.awaitingPull = true;
    this.stats.wakeups++;
    for (let k = 0; k < this.txHandles.length; k++) this.txHandles[k]!.notify();
  }

  private startWatch(): void {
    if (this.watcher !== null || this.closed) return;
    this.watcher = this.native.poll.watch(this.fd, this.native.poll.READABLE, this.onReadable);
  }

  private stopWatch(): void {
    if (this.watcher === null) return;
    this.native.poll.unwatch(this.watcher);
    this.watcher = null;
  }

  // ---- Tx: Linux -> tunnel ------------------------------------------------------------------

  pullTx(_h: HostQueueHandle, offer: TxOffer): number {
    this.awaitingPull = false;
    if (this.closed) return 0;
    let n: number;
    try {
      n = this.offload
        ? this.native.tun.readBatchGso(
            this.fd,
            offer.slab,
            offer.offset,
            offer.capacity,
            offer.length,
            offer.count,
            this.carry,
            this.gsoState,
          )
        : this.native.tun.readBatch(
            this.fd,
            offer.slab,
            offer.offset,
            offer.capacity,
            offer.length,
            offer.count,
          );
    } catch (e) {
      if ((e as { code?: unknown }).code === 'OVPN_ERR_INVALID_ARG') throw e; // an offer outside the slab: a bug
      n = -1; // fd unusable (EBADF...): nothing read; counted below
    }
    if (n < 0) {
      this.stats.readErrors++;
      return 0;
    }
    if (this.offload) this.readOffloadStats();
    for (let k = 0; k < n; k++) {
      const len = offer.length[k]!;
      if (this.offload) {
        if (len === 0) this.stats.readTruncated++; // a frame larger than its slot: Ignore
        this.stats.readBytes += len;
        continue;
      }
      if (len === offer.capacity[k]! && truncated(offer.slab, offer.offset[k]!, len)) {
        offer.length[k] = 0; // posted as Ignore
        this.stats.readTruncated++;
        continue;
      }
      this.stats.readBytes += len;
    }
    this.stats.readFrames += n;
    return n;
  }

  private readOffloadStats(): void {
    const st = this.gsoState;
    this.stats.tsoFrames = st[GsoState.SUPER]!;
    this.stats.tsoSegments = st[GsoState.SEGMENTS]!;
    this.stats.readDropped = st[GsoState.DROPPED]!;
  }

  // ---- Rx: tunnel -> Linux ------------------------------------------------------------------

  deliverRx(_h: HostQueueHandle, b: RxDelivery): boolean {
    if (this.closed) return true;
    if (this.runOff.length < b.count) {
      this.runOff = new Uint32Array(Math.max(b.count, b.maxPackets));
      this.runLen = new Uint32Array(this.runOff.length);
    }
    for (let p = 0; p < b.count; p++) {
      const f = b.firstFragment[p]!;
      if (b.fragmentCount[p] === 1) this.add(b.slabs[b.fragSlab[f]!]!, b.fragOffset[f]!, b.fragLength[f]!);
      else if (b.fragmentCount[p]! > 1) this.gather(b, p);
    }
    this.flush();
    return true;
  }

  /** Append one packet to the current run, flushing first if it lives in another slab. */
  private add(slab: Uint8Array, off: number, len: number): void {
    if (this.runSlab !== slab) this.flush();
    this.runSlab = slab;
    this.runOff[this.runCount] = off;
    this.runLen[this.runCount++] = len;
  }

  /** Copy a multi-fragment packet into the scratch slab and append it. */
  private gather(b: RxDelivery, p: number): void {
    const total = b.length[p]!;
    if (total > SCRATCH_BYTES) {
      this.stats.writeTooBig++;
      return;
    }
    if (this.runSlab !== this.scratch || this.scratchUsed + total > SCRATCH_BYTES) this.flush();
    const start = this.scratchUsed;
    let pos = start;
    const first = b.firstFragment[p]!;
    for (let x = first; x < first + b.fragmentCount[p]!; x++) {
      const off = b.fragOffset[x]!;
      this.scratch.set(b.slabs[b.fragSlab[x]!]!.subarray(off, off + b.fragLength[x]!), pos);
      pos += b.fragLength[x]!;
    }
    this.scratchUsed = pos;
    this.add(this.scratch, start, pos - start);
  }

  /** Write the current run with as few writeBatch calls as errors allow. */
  private flush(): void {
    const slab = this.runSlab;
    let n = this.runCount;
    this.runSlab = null;
    this.runCount = 0;
    this.scratchUsed = 0;
    if (slab === null || n === 0) return;
    const off = this.runOff;
    const len = this.runLen;
    if (this.offload) {
      this.writeMerged(slab, off, len, n);
      return;
    }
    while (n > 0) {
      let r: number;
      try {
        r = this.native.tun.writeBatch(this.fd, slab, off, len, n);
      } catch {
        this.stats.writeErrors += n; // fd unusable (EBADF...): drop the run
        return;
      }
      if (r === 0) {
        this.stats.writeDrops += n; // device queue full: drop the rest
        return;
      }
      const done = r > 0 ? r : 1;
      if (r > 0) this.countWritten(len, r);
      else this.stats.writeErrors++; // -errno at the first packet: skip it
      n -= done;
      if (n > 0) {
        off.copyWithin(0, done, done + n);
        len.copyWithin(0, done, done + n);
      }
    }
  }

  /** Offload mode: one call writes the run, merging TCP segments; every packet is counted. */
  private writeMerged(slab: Uint8Array, off: Uint32Array, len: Uint32Array, n: number): void {
    const c = this.groCounters;
    try {
      this.native.tun.writeBatchGro(this.fd, slab, off, len, n, c);
    } catch {
      this.stats.writeErrors += n; // fd unusable (EBADF...): drop the run
      return;
    }
    const s = this.stats;
    s.writeFrames += c[GroCounter.PACKETS]!;
    s.writeBytes += c[GroCounter.BYTES]!;
    s.writeDrops += c[GroCounter.DROPS]!;
    s.writeErrors += c[GroCounter.ERRORS]!;
    s.groWrites += c[GroCounter.MERGED_WRITES]!;
    s.groPackets += c[GroCounter.MERGED_PACKETS]!;
    s.writeBadChecksum += c[GroCounter.BAD_CSUM]!;
  }

  private countWritten(len: Uint32Array, n: number): void {
    this.stats.writeFrames += n;
    for (let k = 0; k < n; k++) this.stats.writeBytes += len[k]!;
  }
}

/** A read that filled the whole buffer was cut short if the IP header claims more bytes. */
function truncated(slab: Uint8Array, off: number, len: number): boolean {
  const version = slab[off]! >> 4;
  if (version === 4 && len >= 4) return ((slab[off + 2]! << 8) | slab[off + 3]!) > len;
  if (version === 6 && len >= 6) return 40 + ((slab[off + 4]! << 8) | slab[off + 5]!) > len;
  return false;
}
