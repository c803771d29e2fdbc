// Packets the engine sends by itself, outside the Tx ring: keepalive pings and OCC EXIT (sealed
// like data) and raw control packets from the control channel. They live in a small private slab
// of fixed slots, each held until its send completes; when every slot is busy the send is refused
// (and counted), never queued without bound.

import { AEAD_OVERHEAD_V1, AEAD_OVERHEAD_V2, PEER_ID_UNDEF } from '../protocol/constants.js';
import { prepareSealV1, prepareSealV2 } from '../protocol/data/aead-frame.js';
import { CompressMode, encodeFraming } from '../protocol/data/compress.js';
import { writeOccExit, writePing } from '../protocol/data/special.js';
import { ADDR_SIZE } from '../transport/addr.js';
import { TxStatus } from '../transport/types.js';
import type { TxBatch } from '../transport/types.js';
import type { EngineCore } from './core.js';
import type { Peer } from './peer.js';
import { INTERNAL_SLOTS, INTERNAL_SLOT_SIZE, TOKEN_INTERNAL, TX_BACKFILL } from './constants.js';

const KIND_CONTROL = 1;
const KIND_DATA = 2;

export class Internal {
  private readonly slab = new Uint8Array(INTERNAL_SLOTS * INTERNAL_SLOT_SIZE);
  private readonly free = new Uint16Array(INTERNAL_SLOTS);
  private freeCount = INTERNAL_SLOTS;
  private readonly kind = new Uint8Array(INTERNAL_SLOTS);
  private readonly len = new Uint32Array(INTERNAL_SLOTS);
  private readonly nonces = new Uint8Array(12);
  private readonly desc = new Uint32Array(5);
  private readonly framed = new Int32Array(2);
  private readonly addrs = new Uint8Array(ADDR_SIZE);
  private readonly batch: TxBatch = {
    count: 1,
    slab: this.slab,
    offsets: new Uint32Array(1),
    lengths: new Uint32Array(1),
    tokens: new Uint32Array(1),
    addrs: null,
  };

  constructor(private readonly core: EngineCore) {
    for (let k = 0; k < INTERNAL_SLOTS; k++) this.free[k] = INTERNAL_SLOTS - 1 - k;
  }

  /** Send one raw control packet (the transport adds TCP framing). False when no slot is free. */
  sendControl(data: Uint8Array, addr: Uint8Array | null): boolean {
    if (data.length > INTERNAL_SLOT_SIZE - TX_BACKFILL) return false;
    const slot = this.alloc();
    if (slot < 0) {
      this.core.counters.stats.lostOutControlPackets++;
      return false;
    }
    const off = slot * INTERNAL_SLOT_SIZE + TX_BACKFILL;
    this.slab.set(data, off);
    this.kind[slot] = KIND_CONTROL;
    return this.send(slot, off, data.length, addr);
  }

  sendPing(peer: Peer): boolean {
    const ok = this.sendSealed(peer, writePing);
    if (ok) peer.counters.keepaliveTx++;
    return ok;
  }

  sendOccExit(peer: Peer): boolean {
    return this.sendSealed(peer, writeOccExit);
  }

  complete(slot: number, status: TxStatus): void {
    const stats = this.core.counters.stats;
    if (status === TxStatus.OK) {
      stats.transportBytesSent += this.len[slot]!;
      if (this.kind[slot] === KIND_CONTROL) stats.sentControlPackets++;
      else stats.sentDataPackets++;
    } else if (this.kind[slot] === KIND_CONTROL) {
      stats.lostOutControlPackets++;
    }
    this.kind[slot] = 0;
    this.free[this.freeCount++] = slot;
  }

  /** A payload sealed with the peer's primary key, like a data packet from the Tx ring. */
  private sendSealed(peer: Peer, write: (buf: Uint8Array, off: number) => number): boolean {
    const key = peer.primary;
    if (key === null || this.core.transport === null) return false;
    const slot = this.alloc();
    if (slot < 0) return false;
    const pid = key.txIds.next();
    if (pid === 0) {
      this.free[this.freeCount++] = slot;
      return false;
    }
    let off = slot * INTERNAL_SLOT_SIZE + TX_BACKFILL;
    let len = write(this.slab, off);
    if (this.core.compress !== CompressMode.NONE) {
      encodeFraming(this.core.compress, this.slab, off, len, this.framed);
      off = this.framed[0]!;
      len = this.framed[1]!;
    }
    const v1 = peer.txPeerId === PEER_ID_UNDEF;
    const frame = v1
      ? prepareSealV1(this.slab, off, len, key.keyId, pid, key.encryptIv, this.nonces, 0, this.desc)
      : prepareSealV2(
          this.slab,
          off,
          len,
          key.keyId,
          peer.txPeerId,
          pid,
          key.encryptIv,
          this.nonces,
          0,
          this.desc,
        );
    key.encrypt.sealBatch(this.slab, this.nonces, this.desc, 1);
    this.kind[slot] = KIND_DATA;
    peer.lastTxMs = this.core.clock.now();
    const dlen = len + (v1 ? AEAD_OVERHEAD_V1 : AEAD_OVERHEAD_V2);
    peer.counters.linkTxBytes += dlen;
    return this.send(slot, frame, dlen, peer.hasRemote ? peer.remote : null);
  }

  private alloc(): number {
    return this.freeCount === 0 ? -1 : this.free[--this.freeCount]!;
  }

  private send(slot: number, off: number, len: number, addr: Uint8Array | null): boolean {
    const t = this.core.transport;
    const b = this.batch;
    b.offsets[0] = off;
    b.lengths[0] = len;
    b.tokens[0] = TOKEN_INTERNAL | slot;
    if (this.core.peers.mode === 'mp' && addr !== null) {
      this.addrs.set(addr);
      b.addrs = this.addrs;
    } else {
      b.addrs = null;
    }
    this.len[slot] = len;
    if (t === null || t.send(b) !== 1) {
      this.complete(slot, TxStatus.ERROR);
      return false;
    }
    return true;
  }
}
