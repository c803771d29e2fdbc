// Tx path: the Tx queue's Advance, written the seed's way (ovpn-dco-win zero-copy Tx).
//
//   1. post section [Next, End): for each packet (Ignore ones pass through untouched)
//      a. parse the IP header of the frame, which starts PayloadBackfill bytes into fragment 0;
//      b. find the peer (P2P: the peer; MP: destination VPN address, then iroutes);
//      c. clamp the TCP MSS of SYNs, add stub compression framing if configured;
//      d. write DATA_V2 (or V1) header + packet id into the backfill, queue nonce + descriptor;
//      e. every TX_BATCH_MAX packets, or when the key or slab changes: seal the run in place with
//         one AEAD call and hand it to the transport as one batch (tokens = ring indexes).
//      Packets that cannot be sent (no peer, no key, malformed) are dropped, counted and marked
//      done (Scratch) at once. Nothing is sent while the transport is full (back-pressure): the
//      rest stays in the post section for the next pass, and onWritable wakes the queue.
//   2. Next := first unprocessed packet: the sent packets move to the drain section.
//   3. the transport's send completion sets Scratch on each packet (the datagram memory is the
//      Tx fragment itself, so the packet must stay driver-owned until then) and notifies.
//   4. drain [Begin, Next): return the completed prefix in order (fragment Begin moves past each).
//
// Cancel marks every unsent packet Scratch; in-flight ones come back through completions
// (transport close completes them ABORTED), so Advance finishes the drain.

import { PacketIterator } from '../framework/iterator.js';
import type { TxQueue } from '../framework/tx-queue.js';
import type { FragmentRing, PacketRing } from '../framework/packet.js';
import type { VirtualAddressExtension } from '../framework/extension.js';
import { IpInfo, parseIp } from '../net/ip.js';
import { clampMss } from '../net/mss.js';
import { AEAD_OVERHEAD_V1, AEAD_OVERHEAD_V2, Drop, PEER_ID_UNDEF } from '../protocol/constants.js';
import { prepareSealV1, prepareSealV2 } from '../protocol/data/aead-frame.js';
import { CompressMode, encodeFraming } from '../protocol/data/compress.js';
import { ADDR_SIZE } from '../transport/addr.js';
import { TxStatus } from '../transport/types.js';
import type { TxBatch } from '../transport/types.js';
import type { EngineCore } from './core.js';
import type { KeySlot } from './key-slot.js';
import type { Peer } from './peer.js';
import { DropReason } from './stats.js';
import { TOKEN_INTERNAL, TX_BATCH_MAX } from './constants.js';

const GEN_SHIFT = 24;
const INDEX_MASK = (1 << GEN_SHIFT) - 1;

export class TxPath {
  /** The internal-send completion hook (keepalives, control packets). */
  onInternalComplete: (slot: number, status: TxStatus) => void = () => {};
  private queue: TxQueue | null = null;
  private packets: PacketRing | null = null;
  private fragments: FragmentRing | null = null;
  private va: VirtualAddressExtension | null = null;
  private readonly postIt = new PacketIterator();
  private readonly drainIt = new PacketIterator();
  /** Ring generation in tokens: completions from before a queue restart are ignored. */
  private gen = 0;
  private armed = false;
  private cancelling = false;
  /** Per ring slot: datagram length in flight (for counters at completion). */
  private sentLen = new Uint32Array(0);
  // One batch under construction.
  private readonly nonces = new Uint8Array(12 * TX_BATCH_MAX);
  private readonly desc = new Uint32Array(5 * TX_BATCH_MAX);
  private readonly batch: TxBatch = {
    count: 0,
    slab: new Uint8Array(0),
    offsets: new Uint32Array(TX_BATCH_MAX),
    lengths: new Uint32Array(TX_BATCH_MAX),
    tokens: new Uint32Array(TX_BATCH_MAX),
    addrs: null,
  };
  private readonly addrs = new Uint8Array(ADDR_SIZE * TX_BATCH_MAX);
  private readonly peerOf: (Peer | null)[] = new Array<Peer | null>(TX_BATCH_MAX).fill(null);
  private batchKey: KeySlot | null = null;
  private readonly info = new IpInfo();
  private readonly framed = new Int32Array(2);

  constructor(private readonly core: EngineCore) {}

  /** EvtAdapterCreateTxQueue: cache the rings and the virtual-address extension. */
  attach(q: TxQueue): void {
    this.queue = q;
    this.packets = q.rings.packets;
    this.fragments = q.rings.fragments;
    this.va = q.extensions.virtualAddress;
    this.sentLen = new Uint32Array(q.rings.packets.numberOfElements);
  }

  start(): void {
    this.gen = (this.gen + 1) & 0x7f;
    this.cancelling = false;
    this.armed = false;
  }

  setNotificationEnabled(enabled: boolean): void {
    this.armed = enabled;
  }

  /** Wake the queue if it armed notification (one-shot, as ovpn-dco's interlocked flag). */
  notify(): void {
    if (!this.armed || this.queue === null) return;
    this.armed = false;
    this.queue.notifyMoreCompletedPacketsAvailable();
  }

  advance(q: TxQueue): void {
    this.post(q);
    this.drain(q);
  }

  cancel(q: TxQueue): void {
    this.cancelling = true;
    const p = q.rings.packets;
    const pi = this.postIt.post(q.rings);
    for (; pi.hasAny(); pi.advance()) p.scratch[pi.get()] = 1;
    pi.set();
  }

  /** Transport completion: the datagram memory is free, so the packet may go back to the OS. */
  complete(tokens: Uint32Array, count: number, status: TxStatus): void {
    const p = this.packets;
    const stats = this.core.counters.stats;
    for (let k = 0; k < count; k++) {
      const tok = tokens[k]!;
      if ((tok & TOKEN_INTERNAL) !== 0) {
        this.onInternalComplete(tok & ~TOKEN_INTERNAL, status);
        continue;
      }
      if (p === null || tok >>> GEN_SHIFT !== this.gen) continue; // from before a restart
      const i = tok & INDEX_MASK;
      p.scratch[i] = 1;
      if (status === TxStatus.OK) {
        stats.sentDataPackets++;
        stats.transportBytesSent += this.sentLen[i]!;
      } else {
        this.core.counters.drop(DropReason.txSendFailed, null);
      }
    }
    this.notify();
  }

  // ---- post ---------------------------------------------------------------------------------

  private post(q: TxQueue): void {
    const pi = this.postIt.post(q.rings);
    if (!pi.hasAny()) return;
    const p = this.packets!;
    const t = this.core.transport;
    let room = t === null ? 0 : Math.min(TX_BATCH_MAX, t.maxInFlight - t.inFlight);
    for (; pi.hasAny(); pi.advance()) {
      const i = pi.get();
      if (p.ignore[i] === 1) continue; // drains as completed; its fragment fields mean nothing
      if (this.cancelling || t === null) {
        this.dropPacket(i, DropReason.txNoPeer, null);
        continue;
      }
      if (this.batch.count >= room) {
        this.flush();
        room = Math.min(TX_BATCH_MAX, t.maxInFlight - t.inFlight);
        if (room <= 0) break; // back-pressure: leave the rest posted
      }
      this.preparePacket(q, i);
    }
    this.flush();
    pi.set();
  }

  /** Steps 1a-1d for packet i. */
  private preparePacket(q: TxQueue, i: number): void {
    const p = this.packets!;
    const f = this.fragments!;
    const j = p.fragmentIndex[i]!;
    const slab = this.va!.slabOf(j);
    const backfill = q.payloadBackfill;
    const off = this.va!.address[j]! + f.offset[j]! + backfill;
    const len = f.validLength[j]! - backfill;
    const counters = this.core.counters;
    counters.stats.tunBytesReceived += len;
    if (p.fragmentCount[i] !== 1 || parseIp(slab, off, len, this.info) !== Drop.NONE) {
      return this.dropPacket(i, DropReason.txMalformed, null);
    }
    const peer = this.core.peers.forTx(slab, off, this.info);
    if (peer === null) return this.dropPacket(i, DropReason.txNoPeer, null);
    const key = peer.primary;
    if (key === null) return this.dropPacket(i, DropReason.txNoKey, peer);
    if (this.batch.count > 0 && (key !== this.batchKey || slab !== this.batch.slab)) this.flush();
    const pid = key.txIds.next();
    if (pid === 0) return this.dropPacket(i, DropReason.txKeyExhausted, peer);
    if (peer.mss > 0) clampMss(slab, off, len, peer.mss);
    let payOff = off;
    let payLen = len;
    if (this.core.compress !== CompressMode.NONE) {
      encodeFraming(this.core.compress, slab, off, len, this.framed);
      payOff = this.framed[0]!;
      payLen = this.framed[1]!;
    }
    const n = this.batch.count;
    const v1 = peer.txPeerId === PEER_ID_UNDEF;
    const frame = v1
      ? prepareSealV1(slab, payOff, payLen, key.keyId, pid, key.encryptIv, this.nonces, n, this.desc)
      : prepareSealV2(
          slab,
          payOff,
          payLen,
          key.keyId,
          peer.txPeerId,
          pid,
          key.encryptIv,
          this.nonces,
          n,
          this.desc,
        );
    const dlen = payLen + (v1 ? AEAD_OVERHEAD_V1 : AEAD_OVERHEAD_V2);
    this.batch.slab = slab;
    this.batchKey = key;
    this.batch.offsets[n] = frame;
    this.batch.lengths[n] = dlen;
    this.batch.tokens[n] = (this.gen << GEN_SHIFT) | i;
    this.addrs.set(peer.remote, n * ADDR_SIZE);
    this.peerOf[n] = peer;
    this.sentLen[i] = dlen;
    peer.lastTxMs = this.core.clock.now();
    peer.counters.vpnTxBytes += len;
    peer.counters.linkTxBytes += dlen;
    peer.counters.txPackets++;
    this.batch.count = n + 1;
  }

  /** Step 1e: seal the batch in place with one AEAD call, then one transport send. */
  private flush(): void {
    const b = this.batch;
    const n = b.count;
    const key = this.batchKey;
    if (n === 0 || key === null) return;
    key.encrypt.sealBatch(b.slab, this.nonces, this.desc, n);
    const t = this.core.transport!;
    b.addrs = this.core.peers.mode === 'mp' ? this.addrs : null;
    const taken = t.send(b);
    for (let k = taken; k < n; k++) {
      // Only when the transport refuses what its in-flight count said it could take.
      const i = b.tokens[k]! & INDEX_MASK;
      this.dropPacket(i, DropReason.txSendFailed, this.peerOf[k] ?? null);
    }
    if (key.txIds.needsRenewal && !key.renewalRaised) {
      key.renewalRaised = true;
      const peer = this.peerOf[0];
      if (peer) this.core.emit({ type: 'keyRenewalNeeded', peerId: peer.id });
    }
    for (let k = 0; k < n; k++) this.peerOf[k] = null;
    b.count = 0;
    this.batchKey = null;
  }

  private dropPacket(i: number, reason: DropReason, peer: Peer | null): void {
    this.core.counters.drop(reason, peer === null ? null : peer.counters);
    this.packets!.scratch[i] = 1;
  }

  // ---- drain --------------------------------------------------------------------------------

  /** Step 4: return the completed prefix of the drain section, in order. */
  private drain(q: TxQueue): void {
    const p = this.packets!;
    const f = this.fragments!;
    const di = this.drainIt.drain(q.rings);
    for (; di.hasAny(); di.advance()) {
      const i = di.get();
      if (p.ignore[i] === 1) continue;
      if (p.scratch[i] !== 1) break; // still in flight
      f.beginIndex = p.fragmentEnd(i, f);
    }
    di.set();
  }
}
