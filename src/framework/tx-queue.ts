// Tx queue: the OS side posts frames from the host, the driver sends and returns them.
//
// One poll pass (§4.2, Tx):
//   1-2. post: offer the host free Tx buffers (at most the free packets and fragments, keeping
//        the one-slot gaps), then publish each filled frame as a packet at packets.endIndex with
//        its fragment(s) at fragments.endIndex. Empty or oversize frames post as Ignore packets
//        with FragmentCount 0. Skipped while cancelling (nothing new is posted).
//   3.   Advance, only while the driver owns packets.
//   4.   reclaim [osCursor, beginIndex) <= budget: zero each returned packet and its extensions.
//   5.   work = posted + reclaimed.
//
// Tx memory: one fixed buffer per fragment slot in the framework's Tx slab:
//   slot j: | payloadBackfill | frame (<= maxFrame) | txTailroom |
//           ^ va.address[j]   ^ frame start = address + backfill (what the host fills)
// A packet's first fragment has Offset 0 and ValidLength = backfill + its frame bytes.

import { ChecksumValue } from './extension.js';
import { parseFrameLayout } from './layout.js';
import { isIpv4, L4Type } from './packet.js';
import { PacketQueue } from './queue.js';
import type { PacketQueueConfig, QueueEnv } from './queue.js';
import { FrameworkError } from './errors.js';
import { TxOffer } from '../os/host.js';

export class TxQueue extends PacketQueue {
  protected readonly config: PacketQueueConfig<TxQueue>;
  /** The framework's Tx slab and its registry id. */
  readonly txSlab: Uint8Array;
  readonly txSlabId: number;
  /** Bytes per fragment slot: backfill + frame capacity + tailroom. */
  readonly bufferSize: number;
  readonly payloadBackfill: number;
  /** Largest frame a Tx buffer holds (maxL2 + MTU at queue creation). */
  readonly frameCapacity: number;
  readonly stats = { posted: 0, ignored: 0, completed: 0, fragmentsPosted: 0 };
  private readonly offer: TxOffer;
  private readonly split: number;

  constructor(env: QueueEnv, queueId: number, config: PacketQueueConfig<TxQueue>) {
    const o = env.options;
    const hint = env.adapter.txCapabilities.fragmentRingNumberOfElementsHint;
    super(env, 'tx', queueId, o.txPackets, hint > 0 ? hint : o.txFragments, false);
    PacketQueue.checkConfig('tx queue', config as PacketQueueConfig<never>);
    this.config = config;
    const caps = env.adapter.txCapabilities;
    this.payloadBackfill = caps.payloadBackfill;
    this.frameCapacity = env.adapter.maxFrameSize;
    this.bufferSize = caps.payloadBackfill + this.frameCapacity + caps.txTailroom;
    this.txSlab = new Uint8Array(this.bufferSize * this.rings.fragments.numberOfElements);
    this.txSlabId = env.registry.register(this.txSlab);
    const maxFrags = Math.min(
      caps.maximumNumberOfFragments,
      this.rings.fragments.numberOfElements - 1,
      65535,
    );
    this.split = Math.max(1, Math.min(o.txFragmentSplit, maxFrags));
    this.offer = new TxOffer(Math.min(o.txPost, this.rings.packets.numberOfElements - 1));
    this.offer.slab = this.txSlab;
  }

  /** NetTxQueueNotifyMoreCompletedPacketsAvailable: callable any time, from anywhere. */
  notifyMoreCompletedPacketsAvailable(): void {
    this.ec.notify();
  }

  returnRxBuffers(_tokens: Uint32Array, _count: number): void {
    throw new FrameworkError(
      'NETCX_ERR_STATE',
      'returnRxBuffers called on a Tx queue handle; use the Rx queue handle',
    );
  }

  protected resetForStart(): void {
    const { packets: p, fragments: f } = this.rings;
    p.resetIndices();
    f.resetIndices();
    p.zeroAll();
    f.zeroAll();
    const va = this.extensions.virtualAddress;
    for (let j = 0; j < f.numberOfElements; j++) va.set(j, this.txSlabId, j * this.bufferSize);
    for (let i = 0; i < p.numberOfElements; i++) this.extensions.zeroPacket(i);
  }

  pollPass(): number {
    const p = this.rings.packets;
    const posted = this.state === 'started' ? this.post() : 0;
    if (p.beginIndex !== p.endIndex) this.callAdvance();
    const reclaimed = this.reclaim();
    if (this.state === 'cancelling') this.checkDrained();
    return posted + reclaimed;
  }

  /** Steps 1-2: offer free buffers to the host and publish what it filled. */
  private post(): number {
    const { packets: p, fragments: f } = this.rings;
    const k = this.split;
    let n = p.freeToPost(p.osReserved0);
    const fragRoom = Math.floor(f.freeToPost(f.beginIndex) / k);
    if (fragRoom < n) n = fragRoom;
    const offer = this.offer;
    if (offer.max < n) n = offer.max;
    if (n === 0) return 0;
    const base = f.endIndex;
    for (let m = 0; m < n; m++) {
      const slot = (base + m * k) & f.elementIndexMask;
      offer.offset[m] = slot * this.bufferSize + this.payloadBackfill;
      offer.capacity[m] = this.frameCapacity;
      offer.length[m] = 0;
      offer.checksumRequired[m] = 0;
      offer.gsoMss[m] = 0;
    }
    offer.count = n;
    let got = this.host.pullTx(this, offer);
    if (got > n) got = n;
    for (let m = 0; m < got; m++) this.publish((base + m * k) & f.elementIndexMask, m);
    return got;
  }

  /** Publish offer entry m (frame written in slot `src`) as the packet at packets.endIndex. */
  private publish(src: number, m: number): void {
    const { packets: p, fragments: f } = this.rings;
    const i = p.endIndex;
    const len = this.offer.length[m]!;
    p.zero(i);
    this.extensions.zeroPacket(i);
    if (len === 0 || len > this.adapter.maxFrameSize) {
      p.ignore[i] = 1; // §4.6: the OS posts untranslatable packets as Ignore, FragmentCount 0
      p.endIndex = p.incrementIndex(i);
      this.stats.ignored++;
      return;
    }
    const w = f.endIndex;
    const bs = this.bufferSize;
    const bf = this.payloadBackfill;
    const slab = this.txSlab;
    if (w !== src) slab.copyWithin(w * bs + bf, src * bs + bf, src * bs + bf + len); // an Ignore before it freed slots
    parseFrameLayout(slab, w * bs + bf, len, this.env.options.medium, this.layout);
    this.setLayout(i);
    const chunk = Math.ceil(len / this.split);
    let count = 0;
    for (let done = 0; done < len; done += chunk) {
      const j = (w + count) & f.elementIndexMask;
      const piece = Math.min(chunk, len - done);
      if (count === 0) {
        f.validLength[j] = bf + piece;
      } else {
        slab.copyWithin(j * bs, w * bs + bf + done, w * bs + bf + done + piece);
        f.validLength[j] = piece;
      }
      f.capacity[j] = bs;
      f.offset[j] = 0;
      f.scratch[j] = 0;
      count++;
    }
    p.fragmentIndex[i] = w;
    p.fragmentCount[i] = count;
    this.applyOffloads(i, m);
    f.endIndex = (w + count) & f.elementIndexMask;
    p.endIndex = p.incrementIndex(i);
    this.stats.posted++;
    this.stats.fragmentsPosted += count;
  }

  private setLayout(i: number): void {
    const p = this.rings.packets;
    const l = this.layout;
    p.layer2Type[i] = l.l2Type;
    p.layer2HeaderLength[i] = l.l2Length;
    p.layer3Type[i] = l.l3Type;
    p.layer3HeaderLength[i] = l.l3Length;
    p.layer4Type[i] = l.l4Type;
    p.layer4HeaderLength[i] = l.l4Length;
  }

  private applyOffloads(i: number, m: number): void {
    const { checksum, gso } = this.extensions;
    const p = this.rings.packets;
    if (checksum.enabled && this.offer.checksumRequired[m] === 1) {
      if (isIpv4(p.layer3Type[i]!)) checksum.layer3[i] = ChecksumValue.Required;
      const l4 = p.layer4Type[i]!;
      if (l4 === L4Type.Tcp || l4 === L4Type.Udp) checksum.layer4[i] = ChecksumValue.Required;
    }
    if (gso.enabled) gso.mss[i] = this.offer.gsoMss[m]!;
  }

  /** Step 4: complete returned packets (Ignore included) and zero their elements. */
  private reclaim(): number {
    const { packets: p, fragments: f } = this.rings;
    const budget = this.env.options.txReclaim;
    let c = p.osReserved0;
    const b = p.beginIndex;
    let n = 0;
    while (c !== b && n < budget) {
      p.zero(c);
      this.extensions.zeroPacket(c);
      c = p.incrementIndex(c);
      n++;
    }
    p.osReserved0 = c;
    f.osReserved0 = f.beginIndex; // Tx fragment buffers are fixed per slot: nothing to free
    this.stats.completed += n;
    return n;
  }

  protected isDrained(): boolean {
    const { packets: p, fragments: f } = this.rings;
    return p.beginIndex === p.endIndex && p.osReserved0 === p.beginIndex && f.beginIndex === f.endIndex;
  }

  protected reclaimAtStop(): void {
    // Tx buffers are framework-owned and fixed per slot; nothing is outstanding after the drain.
  }

  /** §4.4: 2100 forwards TRUE only, and for Tx only when the driver owns packets. */
  arm(): void {
    const p = this.rings.packets;
    if (this.env.options.style === '2004' || p.beginIndex !== p.endIndex) {
      this.config.setNotificationEnabled(this, true);
    }
    if (this.state === 'started') this.host.armTx?.(this);
  }

  disarm(): void {
    if (this.env.options.style === '2004') this.config.setNotificationEnabled(this, false);
  }
}
