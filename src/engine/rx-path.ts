// Rx path: zero-copy receive, the seed's design (driver-managed Rx buffers).
//
//   1. transport indication (a batch of datagrams, each in a receive slot the driver now holds):
//      a. control opcodes: copied to the control-packet channel, slot released at once;
//      b. data: header parsed, peer found (P2P: the peer; MP: peer id or transport address), key
//         slot chosen by key id, nonce + descriptor queued; runs with the same key are opened in
//         place with one AEAD call;
//      c. per packet, after the tag verified (never before): replay window check and update,
//         keepalive/OCC swallowed, float on a new source address, compression framing removed,
//         inner IP validated, MP reverse-path check, MSS clamp; then queued as pending;
//      d. notify the Rx queue if it armed notification.
//   2. Rx Advance: each pending plaintext becomes a packet with one fragment that points into the
//      transport's receive slab (virtual address = slab id + slot start, Offset = plaintext start)
//      and carries a return context (transport index + slot).
//   3. EvtAdapterReturnRxBuffer(handle): the OS is done with it; the slot goes back to the
//      transport (the seed's WskRelease).
// Every dropped datagram is counted once and its slot released at once.

import { FragmentIterator, PacketIterator } from '../framework/iterator.js';
import type { RxQueue } from '../framework/rx-queue.js';
import { L2Type } from '../framework/packet.js';
import { ChecksumValue } from '../framework/extension.js';
import { IpInfo, parseIp } from '../net/ip.js';
import { clampMss } from '../net/mss.js';
import { Drop } from '../protocol/constants.js';
import { DataFrameInfo, parseDataFrame, prepareOpen } from '../protocol/data/aead-frame.js';
import { PacketClass, classifyFirstByte } from '../protocol/data/header.js';
import { CompressMode, decodeFraming } from '../protocol/data/compress.js';
import { isOccExit, isPing } from '../protocol/data/special.js';
import { ADDR_SIZE, addrEqual, decodeAddr } from '../transport/addr.js';
import type { RxBatch, Transport } from '../transport/types.js';
import type { EngineCore } from './core.js';
import type { KeySlot } from './key-slot.js';
import type { Peer } from './peer.js';
import { DropReason } from './stats.js';
import { HANDLE_SLOT_BITS, RX_BATCH_MAX } from './constants.js';

export class RxPath {
  /** Receives copies of control packets (non-data opcodes), with the 20-byte source address. */
  onControl: (data: Uint8Array, addrs: Uint8Array, addrOff: number) => void = () => {};
  private queue: RxQueue | null = null;
  private armed = false;
  private cancelling = false;
  private readonly pi = new PacketIterator();
  private readonly fi = new FragmentIterator();
  // Pending plaintexts (FIFO ring), bounded by the transport's slot count.
  private pendCap = 0;
  private pendHead = 0;
  private pendCount = 0;
  private pendHandle = new Uint32Array(0);
  private pendSlab = new Uint16Array(0);
  /** Byte address of the plaintext in its slab (the fragment's virtual address). */
  private pendAddr = new Uint32Array(0);
  private pendLen = new Uint32Array(0);
  private pendL3 = new Uint8Array(0);
  private pendL3Len = new Uint16Array(0);
  private pendL4 = new Uint8Array(0);
  private pendL4Len = new Uint8Array(0);
  // One AEAD run under construction.
  private readonly nonces = new Uint8Array(12 * RX_BATCH_MAX);
  private readonly desc = new Uint32Array(5 * RX_BATCH_MAX);
  private readonly results = new Uint8Array(RX_BATCH_MAX);
  private readonly runSlot = new Uint32Array(RX_BATCH_MAX);
  private readonly runPid = new Uint32Array(RX_BATCH_MAX);
  private readonly runAddr = new Uint32Array(RX_BATCH_MAX);
  private readonly runLen = new Uint32Array(RX_BATCH_MAX);
  private readonly runPeer: (Peer | null)[] = new Array<Peer | null>(RX_BATCH_MAX).fill(null);
  private runKey: KeySlot | null = null;
  private runCount = 0;
  private readonly frame = new DataFrameInfo();
  private readonly info = new IpInfo();
  private readonly framed = new Int32Array(2);
  // The transport being drained by onReceive (set for the duration of one batch).
  private t: Transport | null = null;
  private tIndex = 0;
  private tSlabId = 0;
  private batch: RxBatch | null = null;

  constructor(private readonly core: EngineCore) {}

  attach(q: RxQueue): void {
    this.queue = q;
  }

  start(): void {
    this.cancelling = false;
    this.armed = false;
  }

  /** Size the pending ring for `entries` datagrams held at once. */
  reserve(entries: number): void {
    if (entries <= this.pendCap) return;
    const old = this.snapshotPending();
    const cap = entries;
    this.pendCap = cap;
    this.pendHandle = new Uint32Array(cap);
    this.pendSlab = new Uint16Array(cap);
    this.pendAddr = new Uint32Array(cap);
    this.pendLen = new Uint32Array(cap);
    this.pendL3 = new Uint8Array(cap);
    this.pendL3Len = new Uint16Array(cap);
    this.pendL4 = new Uint8Array(cap);
    this.pendL4Len = new Uint8Array(cap);
    this.pendHead = 0;
    this.pendCount = 0;
    for (const e of old) this.push(e[0]!, e[1]!, e[2]!, e[3]!, e[4]!, e[5]!, e[6]!, e[7]!);
  }

  get pending(): number {
    return this.pendCount;
  }

  setNotificationEnabled(enabled: boolean): void {
    this.armed = enabled;
    if (enabled && this.pendCount > 0) this.notify();
  }

  private notify(): void {
    if (!this.armed || this.queue === null) return;
    this.armed = false;
    this.queue.notifyMoreReceivedPacketsAvailable();
  }

  // ---- 1. transport indication ---------------------------------------------------------------

  onReceive(t: Transport, tIndex: number, slabId: number, batch: RxBatch): void {
    this.t = t;
    this.tIndex = tIndex;
    this.tSlabId = slabId;
    this.batch = batch;
    const slab = t.rxSlab;
    const stats = this.core.counters.stats;
    for (let k = 0; k < batch.count; k++) {
      const slot = batch.slots[k]!;
      const off = batch.offsets[k]!;
      const len = batch.lengths[k]!;
      stats.transportBytesReceived += len;
      const cls = len > 0 ? classifyFirstByte(slab[off]!) : PacketClass.INVALID;
      if (cls === PacketClass.CONTROL) {
        stats.receivedControlPackets++;
        this.onControl(slab.slice(off, off + len), batch.addrs, k * ADDR_SIZE);
        t.release(slot);
        continue;
      }
      if (this.cancelling) {
        this.dropSlot(slot, DropReason.rxQueueStopped, null);
        continue;
      }
      if (parseDataFrame(slab, off, len, this.frame) !== Drop.NONE) {
        this.dropSlot(slot, DropReason.rxMalformed, null);
        continue;
      }
      const peer = this.core.peers.forRx(this.frame.peerId, batch.addrs, k * ADDR_SIZE);
      if (peer === null) {
        this.dropSlot(slot, DropReason.rxNoPeer, null);
        continue;
      }
      const key = peer.keyForRx(this.frame.keyId);
      if (key === null) {
        this.dropSlot(slot, DropReason.rxNoKey, peer);
        continue;
      }
      if (this.runCount > 0 && key !== this.runKey) this.openRun();
      const n = this.runCount;
      prepareOpen(this.frame, key.decryptIv, this.nonces, n, this.desc);
      this.runKey = key;
      this.runSlot[n] = slot;
      this.runPid[n] = this.frame.packetId;
      this.runAddr[n] = k;
      this.runLen[n] = len;
      this.runPeer[n] = peer;
      this.runCount = n + 1;
      if (this.runCount === RX_BATCH_MAX) this.openRun();
    }
    this.openRun();
    this.batch = null;
    this.t = null;
    if (this.pendCount > 0) this.notify();
  }

  /** Steps 1b-1c for the queued run: one AEAD call, then per-packet checks after the tag. */
  private openRun(): void {
    const n = this.runCount;
    const key = this.runKey;
    if (n === 0 || key === null) return;
    const t = this.t!;
    const slab = t.rxSlab;
    key.decrypt.openBatch(slab, this.nonces, this.desc, n, this.results);
    const now = this.core.clock.now();
    for (let e = 0; e < n; e++) {
      const peer = this.runPeer[e]!;
      this.runPeer[e] = null;
      const slot = this.runSlot[e]!;
      if (this.results[e] !== 1) {
        this.dropSlot(slot, DropReason.rxAuthFailed, peer);
        continue;
      }
      const pid = this.runPid[e]!;
      if (!key.replay.check(pid)) {
        this.dropSlot(slot, DropReason.rxReplay, peer);
        continue;
      }
      key.replay.update(pid, now);
      this.authenticated(peer, e, now);
      this.deliver(peer, slot, this.desc[e * 5 + 2]!, this.desc[e * 5 + 3]!);
    }
    this.runCount = 0;
    this.runKey = null;
  }

  /** An authenticated packet: activity, counters, and float on a new source address. */
  private authenticated(peer: Peer, e: number, now: number): void {
    peer.lastRxMs = now;
    peer.expired = false;
    peer.counters.linkRxBytes += this.runLen[e]!;
    const addrs = this.batch!.addrs;
    const at = this.runAddr[e]! * ADDR_SIZE;
    if (peer.hasRemote && !addrEqual(peer.remote, 0, addrs, at)) {
      this.core.peers.moveAddr(peer, addrs, at);
      this.core.emit({ type: 'float', peerId: peer.id, address: decodeAddr(addrs, at) });
    } else if (!peer.hasRemote) {
      this.core.peers.moveAddr(peer, addrs, at);
    }
  }

  /** Step 1c (after authentication): swallow specials, unframe, validate, queue. */
  private deliver(peer: Peer, slot: number, off: number, len: number): void {
    const t = this.t!;
    const slab = t.rxSlab;
    if (isPing(slab, off, len)) {
      peer.counters.keepaliveRx++;
      t.release(slot);
      return;
    }
    if (isOccExit(slab, off, len)) {
      this.core.emit({ type: 'exitNotify', peerId: peer.id });
      t.release(slot);
      return;
    }
    let mode = this.core.compress;
    // Without a compression option OpenVPN 2.6 still accepts stub framing (0xFA/0xFB can never
    // start an IP packet); 0x66/0x69 could be IPv6, so only configured modes look for them.
    if (mode === CompressMode.NONE && (slab[off] === 0xfa || slab[off] === 0xfb))
      mode = slab[off] === 0xfa ? CompressMode.LZO_NO : CompressMode.STUB;
    if (mode !== CompressMode.NONE) {
      if (decodeFraming(mode, slab, off, len, this.framed) !== Drop.NONE) {
        this.dropSlot(slot, DropReason.rxCompressed, peer);
        return;
      }
      off = this.framed[0]!;
      len = this.framed[1]!;
    }
    const info = this.info;
    if (parseIp(slab, off, len, info) !== Drop.NONE) {
      this.dropSlot(slot, DropReason.rxBadInner, peer);
      return;
    }
    if (!this.core.peers.sourceBelongsTo(peer, slab, off, info)) {
      this.dropSlot(slot, DropReason.rxReversePath, peer);
      return;
    }
    if (peer.mss > 0) clampMss(slab, off, len, peer.mss);
    if (this.pendCount === this.pendCap) {
      this.dropSlot(slot, DropReason.rxNoBuffer, peer);
      return;
    }
    const handle = (this.tIndex << HANDLE_SLOT_BITS) | slot;
    this.push(handle, this.tSlabId, off, len, info.l3Type, info.l3HeaderLen, info.l4Type, info.l4HeaderLen);
    peer.counters.vpnRxBytes += len;
    peer.counters.rxPackets++;
    this.core.counters.stats.receivedDataPackets++;
  }

  private push(
    handle: number,
    slabId: number,
    addr: number,
    len: number,
    l3: number,
    l3Len: number,
    l4: number,
    l4Len: number,
  ): void {
    const w = (this.pendHead + this.pendCount) % this.pendCap;
    this.pendHandle[w] = handle;
    this.pendSlab[w] = slabId;
    this.pendAddr[w] = addr;
    this.pendLen[w] = len;
    this.pendL3[w] = l3;
    this.pendL3Len[w] = l3Len;
    this.pendL4[w] = l4;
    this.pendL4Len[w] = l4Len;
    this.pendCount++;
  }

  private dropSlot(slot: number, reason: DropReason, peer: Peer | null): void {
    this.core.counters.drop(reason, peer === null ? null : peer.counters);
    this.t!.release(slot);
  }

  // ---- 2. Rx Advance ------------------------------------------------------------------------

  advance(q: RxQueue): void {
    const rings = q.rings;
    const p = rings.packets;
    const f = rings.fragments;
    const { virtualAddress: va, returnContext: rc, checksum } = q.extensions;
    const pi = this.pi.all(rings);
    const fi = this.fi.all(rings);
    const stats = this.core.counters.stats;
    while (this.pendCount > 0 && pi.hasAny() && fi.hasAny()) {
      const h = this.pendHead;
      const i = pi.get();
      const j = fi.get();
      // The fragment is exactly the plaintext: a receive slot may hold several datagrams (GRO)
      // at offsets beyond what the 10-bit Offset field can express.
      va.set(j, this.pendSlab[h]!, this.pendAddr[h]!);
      f.capacity[j] = this.pendLen[h]!;
      f.offset[j] = 0;
      f.validLength[j] = this.pendLen[h]!;
      rc.handle[j] = this.pendHandle[h]!;
      p.fragmentIndex[i] = j;
      p.fragmentCount[i] = 1;
      p.layer2Type[i] = L2Type.Null;
      p.layer2HeaderLength[i] = 0;
      p.layer3Type[i] = this.pendL3[h]!;
      p.layer3HeaderLength[i] = this.pendL3Len[h]!;
      p.layer4Type[i] = this.pendL4[h]!;
      p.layer4HeaderLength[i] = this.pendL4Len[h]!;
      if (checksum.enabled) {
        // Authenticated by the AEAD tag: report the inner checksums valid, as ovpn-dco does.
        checksum.layer3[i] = ChecksumValue.Valid;
        checksum.layer4[i] = ChecksumValue.Valid;
      }
      stats.tunBytesSent += this.pendLen[h]!;
      this.pendHead = (h + 1) % this.pendCap;
      this.pendCount--;
      pi.advance();
      fi.advance();
    }
    pi.set();
    fi.set();
  }

  /** Rx Cancel (mandatory): return every packet Ignore and every fragment; drop what is pending. */
  cancel(q: RxQueue, release: (handle: number) => void): void {
    this.cancelling = true;
    this.advance(q); // indicate what is complete first
    const p = q.rings.packets;
    const pi = this.pi.all(q.rings);
    for (; pi.hasAny(); pi.advance()) p.ignore[pi.get()] = 1;
    pi.set();
    const fi = this.fi.all(q.rings);
    fi.advanceToEnd();
    fi.set();
    this.releaseAllPending(release);
  }

  /** Give every pending datagram's slot back (queue cancelled, transport closing). */
  releaseAllPending(release: (handle: number) => void): void {
    while (this.pendCount > 0) {
      this.core.counters.drop(DropReason.rxQueueStopped, null);
      release(this.pendHandle[this.pendHead]!);
      this.pendHead = (this.pendHead + 1) % this.pendCap;
      this.pendCount--;
    }
  }

  private snapshotPending(): number[][] {
    const out: number[][] = [];
    for (let k = 0; k < this.pendCount; k++) {
      const h = (this.pendHead + k) % this.pendCap;
      out.push([
        this.pendHandle[h]!,
        this.pendSlab[h]!,
        this.pendAddr[h]!,
        this.pendLen[h]!,
        this.pendL3[h]!,
        this.pendL3Len[h]!,
        this.pendL4[h]!,
        this.pendL4Len[h]!,
      ]);
    }
    return out;
  }
}
