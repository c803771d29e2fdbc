// Rx queue: the driver fills posted fragments and returns packets; the framework indicates them
// to the host and recycles buffers when the host gives them back.
//
// One poll pass (§4.2, Rx):
//   1. take back packets the host returned: system mode -> buffers to the free list; driver mode
//      -> EvtAdapterReturnRxBuffer(handle) once per fragment.
//   2. post zeroed (verifier: poisoned) packets up to osCursor - 1.
//   3. post fragments up to osCursor - 1: system mode gives each a framework Rx buffer
//      (Capacity = MaximumFrameSize, Offset 0); driver mode posts zeroed fragments.
//   4. Advance, always.
//   5. indicate [osCursor, beginIndex) <= budget: Ignore -> discard; invalid fragments -> drop
//      (counted); else parse Layout if unspecified, record the fragments' buffers in held
//      descriptors and hand the batch to the host. Fragments no packet referenced ("skipped")
//      are reclaimed: system mode frees their buffer, driver mode keeps nothing (driver owns them).
//   6. work = packets processed + packets returned.
//
// Held descriptors: one per fragment of a packet the host holds; a packet's descriptors form a
// chain (heldNext) whose head index is the token the host returns.

import { FIELD_MAX, L2Type } from './packet.js';
import { PacketQueue } from './queue.js';
import type { PacketQueueConfig, QueueEnv } from './queue.js';
import { configError } from './errors.js';
import { parseFrameLayout } from './layout.js';
import { RxDelivery } from '../os/host.js';

const NO_NEXT = -1;

export class RxQueue extends PacketQueue {
  protected readonly config: PacketQueueConfig<RxQueue>;
  readonly maximumFrameSize: number;
  readonly driverManaged: boolean;
  readonly stats = { indicated: 0, fragmentsIndicated: 0, ignored: 0, dropped: 0, returned: 0 };
  /** System mode: the framework Rx slab (rxBufferCount x maximumFrameSize). */
  readonly rxSlab: Uint8Array;
  readonly rxSlabId: number;
  private readonly freeBuf: Uint32Array;
  private freeBufCount = 0;
  private readonly fragBuf: Uint32Array; // system mode: buffer id posted in fragment slot j
  private readonly heldNext: Int32Array;
  private readonly heldValue: Uint32Array; // buffer id (system) or return handle (driver)
  private readonly heldIsHead: Uint8Array;
  private readonly freeHeld: Uint32Array;
  private freeHeldCount = 0;
  private readonly returnQ: Uint32Array; // tokens returned by the host, FIFO
  private returnHead = 0;
  private returnCount = 0;
  private readonly delivery: RxDelivery;

  constructor(env: QueueEnv, queueId: number, config: PacketQueueConfig<RxQueue>) {
    const o = env.options;
    const caps = env.adapter.rxCapabilities;
    const hint = caps.fragmentRingNumberOfElementsHint;
    super(env, 'rx', queueId, o.rxPackets, hint > 0 ? hint : o.rxFragments, env.driverRx);
    PacketQueue.checkConfig('rx queue', config as PacketQueueConfig<never>);
    this.config = config;
    this.maximumFrameSize = caps.maximumFrameSize;
    this.driverManaged = env.driverRx;
    const nf = this.rings.fragments.numberOfElements;
    const nBuf = this.driverManaged ? 0 : Math.max(o.rxBufferCount, nf);
    this.rxSlab = new Uint8Array(nBuf * this.maximumFrameSize);
    this.rxSlabId = nBuf > 0 ? env.registry.register(this.rxSlab) : 0;
    this.freeBuf = new Uint32Array(nBuf);
    this.fragBuf = new Uint32Array(nf);
    const nHeld = this.driverManaged ? o.rxHeldFragments : nBuf;
    this.heldNext = new Int32Array(nHeld);
    this.heldValue = new Uint32Array(nHeld);
    this.heldIsHead = new Uint8Array(nHeld);
    this.freeHeld = new Uint32Array(nHeld);
    this.returnQ = new Uint32Array(nHeld);
    this.delivery = new RxDelivery(o.rxIndicate, nf);
    this.delivery.slabs = env.registry.slabs;
  }

  /** NetRxQueueNotifyMoreReceivedPacketsAvailable: callable any time, from anywhere. */
  notifyMoreReceivedPacketsAvailable(): void {
    this.ec.notify();
  }

  /** Host: give back packets kept by deliverRx() === false. Any order, each token once. */
  returnRxBuffers(tokens: Uint32Array, count: number): void {
    const cap = this.returnQ.length;
    for (let k = 0; k < count; k++) {
      const t = tokens[k]!;
      if (t >= cap || this.heldIsHead[t] !== 1) {
        throw configError(
          'returnRxBuffers',
          `token ${t} is not an outstanding Rx packet`,
          'return each delivered token exactly once',
        );
      }
      this.heldIsHead[t] = 2; // returned, not yet processed
      this.returnQ[(this.returnHead + this.returnCount) % cap] = t;
      this.returnCount++;
    }
    this.ec.notify();
  }

  /** Held descriptors in use = fragments the host still holds. */
  get heldFragments(): number {
    return this.heldNext.length - this.freeHeldCount;
  }

  protected resetForStart(): void {
    const { packets: p, fragments: f } = this.rings;
    p.resetIndices();
    f.resetIndices();
    for (let i = 0; i < p.numberOfElements; i++) this.zeroPacket(i);
    for (let j = 0; j < f.numberOfElements; j++) this.zeroFragment(j);
    this.freeBufCount = this.freeBuf.length;
    for (let b = 0; b < this.freeBufCount; b++) this.freeBuf[b] = this.freeBufCount - 1 - b;
    this.freeHeldCount = this.freeHeld.length;
    for (let h = 0; h < this.freeHeldCount; h++) this.freeHeld[h] = this.freeHeldCount - 1 - h;
    this.heldIsHead.fill(0);
    this.returnHead = 0;
    this.returnCount = 0;
  }

  private zeroPacket(i: number): void {
    this.rings.packets.zero(i);
    this.extensions.zeroPacket(i);
  }

  private zeroFragment(j: number): void {
    this.rings.fragments.zero(j);
    this.extensions.virtualAddress.zero(j);
    this.extensions.returnContext.zero(j);
  }

  pollPass(): number {
    const returned = this.takeBackReturned();
    if (this.state === 'started') {
      this.postPackets();
      this.postFragments();
    }
    this.callAdvance();
    const processed = this.indicate();
    if (this.state === 'cancelling') this.checkDrained();
    return processed + returned;
  }

  /** Step 1. */
  private takeBackReturned(): number {
    const cap = this.returnQ.length;
    let n = 0;
    while (this.returnCount > 0) {
      const t = this.returnQ[this.returnHead]!;
      this.returnHead = (this.returnHead + 1) % cap;
      this.returnCount--;
      this.release(t);
      n++;
    }
    this.stats.returned += n;
    return n;
  }

  /** Give back every buffer of the packet whose chain starts at held index h. */
  private release(h: number): void {
    this.heldIsHead[h] = 0;
    const cb = this.adapter.rxCapabilities.evtAdapterReturnRxBuffer;
    let x = h;
    while (x !== NO_NEXT) {
      const v = this.heldValue[x]!;
      if (this.driverManaged) cb!(this.adapter, v);
      else this.freeBuf[this.freeBufCount++] = v;
      this.freeHeld[this.freeHeldCount++] = x;
      x = this.heldNext[x]!;
    }
  }

  /** Step 2. */
  private postPackets(): void {
    const p = this.rings.packets;
    const v = this.verifier;
    while (p.freeToPost(p.osReserved0) > 0) {
      if (v !== null) v.poisonRxPacket(p.endIndex);
      p.endIndex = p.incrementIndex(p.endIndex);
    }
  }

  /** Step 3. */
  private postFragments(): void {
    const f = this.rings.fragments;
    const v = this.verifier;
    const va = this.extensions.virtualAddress;
    const size = this.maximumFrameSize;
    while (f.freeToPost(f.osReserved0) > 0) {
      const j = f.endIndex;
      if (!this.driverManaged) {
        if (this.freeBufCount === 0) break;
        const b = this.freeBuf[--this.freeBufCount]!;
        this.fragBuf[j] = b;
        va.set(j, this.rxSlabId, b * size);
        f.capacity[j] = size;
      }
      if (v !== null) v.poisonRxFragment(j);
      f.endIndex = f.incrementIndex(j);
    }
  }

  /** Step 5. */
  private indicate(): number {
    const { packets: p, fragments: f } = this.rings;
    const d = this.delivery;
    const budget = d.maxPackets;
    d.count = 0;
    d.fragmentTotal = 0;
    let c = p.osReserved0;
    const b = p.beginIndex;
    let n = 0;
    while (c !== b && n < budget) {
      if (p.ignore[c] === 1) {
        this.stats.ignored++;
      } else {
        const cnt = p.fragmentCount[c]!;
        if (cnt > this.freeHeldCount || d.fragmentTotal + cnt > d.maxFragments) break; // wait for returns
        const first = p.fragmentIndex[c]!;
        this.reclaimSkipped(first);
        if (this.validFragments(first, cnt)) this.addToBatch(c, first, cnt);
        else this.dropPacket(first, cnt);
        f.osReserved0 = (first + cnt) & f.elementIndexMask;
      }
      this.zeroPacket(c);
      c = p.incrementIndex(c);
      n++;
    }
    p.osReserved0 = c;
    if (c === b) this.reclaimSkipped(f.beginIndex);
    if (d.count > 0) this.deliver();
    return n;
  }

  /** Reclaim fragments [osCursor, upTo) no packet referenced. */
  private reclaimSkipped(upTo: number): void {
    const f = this.rings.fragments;
    let j = f.osReserved0;
    while (j !== upTo) {
      if (!this.driverManaged) this.freeBuf[this.freeBufCount++] = this.fragBuf[j]!;
      this.zeroFragment(j);
      j = f.incrementIndex(j);
    }
    f.osReserved0 = j;
  }

  /** §4.7 drop rules. */
  private validFragments(first: number, cnt: number): boolean {
    const f = this.rings.fragments;
    if (cnt === 0) return false;
    let j = first;
    for (let k = 0; k < cnt; k++) {
      const cap = f.capacity[j]!;
      if (
        cap > this.maximumFrameSize ||
        f.offset[j]! + f.validLength[j]! > cap ||
        (k > 0 && f.offset[j] !== 0)
      )
        return false;
      j = f.incrementIndex(j);
    }
    return true;
  }

  /** A dropped packet's buffers go back at once (driver mode: through the return callback). */
  private dropPacket(first: number, cnt: number): void {
    this.stats.dropped++;
    if (cnt > 0) this.release(this.holdFragments(first, cnt));
  }

  /** Move a packet's fragment buffers into a held chain; returns its head (the token). */
  private holdFragments(first: number, cnt: number): number {
    const f = this.rings.fragments;
    const rc = this.extensions.returnContext;
    let head = NO_NEXT;
    let prev = NO_NEXT;
    let j = first;
    for (let k = 0; k < cnt; k++) {
      const h = this.freeHeld[--this.freeHeldCount]!;
      this.heldValue[h] = this.driverManaged ? rc.handle[j]! : this.fragBuf[j]!;
      this.heldNext[h] = NO_NEXT;
      if (prev === NO_NEXT) head = h;
      else this.heldNext[prev] = h;
      prev = h;
      j = f.incrementIndex(j);
    }
    this.heldIsHead[head] = 1;
    return head;
  }

  private addToBatch(c: number, first: number, cnt: number): void {
    const f = this.rings.fragments;
    const va = this.extensions.virtualAddress;
    const d = this.delivery;
    const k = d.count;
    d.token[k] = this.holdFragments(first, cnt);
    d.firstFragment[k] = d.fragmentTotal;
    d.fragmentCount[k] = cnt;
    let total = 0;
    let j = first;
    for (let x = 0; x < cnt; x++) {
      const o = d.fragmentTotal++;
      d.fragSlab[o] = va.slabId[j]!;
      d.fragOffset[o] = va.address[j]! + f.offset[j]!;
      d.fragLength[o] = f.validLength[j]!;
      total += f.validLength[j]!;
      this.zeroFragment(j);
      j = f.incrementIndex(j);
    }
    d.length[k] = total;
    this.setBatchLayout(c, k, d.firstFragment[k]!);
    const cs = this.extensions.checksum;
    d.checksumL3[k] = cs.enabled ? cs.layer3[c]! : 0;
    d.checksumL4[k] = cs.enabled ? cs.layer4[c]! : 0;
    d.count = k + 1;
    this.stats.indicated++;
    this.stats.fragmentsIndicated += cnt;
  }

  /** §4.7: trust the driver's Layout only when L2 is specified and L3 is specific with a length. */
  private setBatchLayout(c: number, k: number, o: number): void {
    const p = this.rings.packets;
    const d = this.delivery;
    if (p.layer2Type[c] === L2Type.Unspecified || p.layer3Type[c] === 0 || p.layer3HeaderLength[c] === 0) {
      const l = this.layout;
      const slab = this.env.registry.slabs[d.fragSlab[o]!]!;
      parseFrameLayout(slab, d.fragOffset[o]!, d.fragLength[o]!, this.env.options.medium, l);
      d.layer2Type[k] = l.l2Type;
      d.layer2HeaderLength[k] = l.l2Length;
      d.layer3Type[k] = l.l3Type;
      d.layer3HeaderLength[k] = l.l3Length;
      d.layer4Type[k] = l.l4Type;
      d.layer4HeaderLength[k] = l.l4Length;
      return;
    }
    d.layer2Type[k] = p.layer2Type[c]!;
    d.layer2HeaderLength[k] = p.layer2HeaderLength[c]! & FIELD_MAX.layer2HeaderLength;
    d.layer3Type[k] = p.layer3Type[c]!;
    d.layer3HeaderLength[k] = p.layer3HeaderLength[c]!;
    d.layer4Type[k] = p.layer4Type[c]!;
    d.layer4HeaderLength[k] = p.layer4HeaderLength[c]!;
  }

  private deliver(): void {
    const d = this.delivery;
    const done = this.host.deliverRx(this, d);
    if (!done) return;
    for (let k = 0; k < d.count; k++) this.release(d.token[k]!);
    this.stats.returned += d.count;
  }

  protected isDrained(): boolean {
    const { packets: p, fragments: f } = this.rings;
    return (
      p.beginIndex === p.endIndex &&
      f.beginIndex === f.endIndex &&
      p.osReserved0 === p.beginIndex &&
      f.osReserved0 === f.beginIndex &&
      this.freeHeldCount === this.freeHeld.length &&
      this.returnCount === 0
    );
  }

  protected reclaimAtStop(): void {
    // After the drain every fragment is reclaimed and every held packet returned; system-mode
    // buffers are all on the free list again (resetForStart rebuilds it anyway).
  }

  /** §4.4: Rx forwards TRUE on every arm (both styles); 2004 also forwards FALSE. */
  arm(): void {
    this.config.setNotificationEnabled(this, true);
  }

  disarm(): void {
    if (this.env.options.style === '2004') this.config.setNotificationEnabled(this, false);
  }
}
