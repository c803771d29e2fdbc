// NET_RING_ITERATOR (§3.1). An iterator is a reusable object (create one per use site at queue
// creation, re-point it every Advance) so iterating allocates nothing.
//
// | constructor        | index starts        | end (snapshot)                    | set() writes |
// |--------------------|---------------------|-----------------------------------|--------------|
// | post(rings)        | ring.nextIndex      | ring.endIndex                     | nextIndex    |
// | drain(rings)       | ring.beginIndex     | ring.nextIndex                    | beginIndex   |
// | all(rings)         | ring.beginIndex     | ring.endIndex                     | beginIndex   |
// | ofPacket(pi)       | pkt.fragmentIndex   | (fragmentIndex+fragmentCount)&mask| nothing      |
//
// `end` is a snapshot taken when the iterator is pointed: posts the framework makes later are not
// seen. set() is the only moment anything is published to the ring.

import { FrameworkError } from './errors.js';
import type { FragmentRing, NetRingCollection, PacketRing } from './packet.js';
import type { NetRing } from './ring.js';

const SET_NONE = 0;
const SET_BEGIN = 1;
const SET_NEXT = 2;

abstract class RingIterator<R extends NetRing> {
  /** Current element (ring index). */
  index = 0;
  /** Exclusive end, snapshot. */
  end = 0;
  protected setTarget = SET_NONE;
  protected abstract ring(): R;

  protected point(start: number, end: number, target: number): this {
    this.index = start;
    this.end = end;
    this.setTarget = target;
    return this;
  }

  hasAny(): boolean {
    return this.index !== this.end;
  }
  getCount(): number {
    return (this.end - this.index) & this.ring().elementIndexMask;
  }
  advance(): void {
    this.index = (this.index + 1) & this.ring().elementIndexMask;
  }
  advanceToEnd(): void {
    this.index = this.end;
  }
  getIndex(): number {
    return this.index;
  }
  /** The element at the iterator: in SoA form, its ring index. */
  get(): number {
    return this.index;
  }
  /** Publish: store `index` into the ring index this iterator was created for. */
  set(): void {
    const t = this.setTarget;
    if (t === SET_BEGIN) this.ring().beginIndex = this.index;
    else if (t === SET_NEXT) this.ring().nextIndex = this.index;
    else {
      throw new FrameworkError(
        'NETCX_ERR_ITERATOR_SET',
        "set(): a packet's fragment iterator has no index to set; write fragments.nextIndex/beginIndex by hand",
      );
    }
  }
}

export class PacketIterator extends RingIterator<PacketRing> {
  rings: NetRingCollection | null = null;
  protected ring(): PacketRing {
    return this.rings!.packets;
  }
  private at(rings: NetRingCollection): PacketRing {
    this.rings = rings;
    return rings.packets;
  }
  /** NetRingGetAllPackets: [begin, end), set() writes beginIndex. */
  all(rings: NetRingCollection): this {
    const r = this.at(rings);
    return this.point(r.beginIndex, r.endIndex, SET_BEGIN);
  }
  /** NetRingGetPostPackets: [next, end), set() writes nextIndex. */
  post(rings: NetRingCollection): this {
    const r = this.at(rings);
    return this.point(r.nextIndex, r.endIndex, SET_NEXT);
  }
  /** NetRingGetDrainPackets: [begin, next), set() writes beginIndex. */
  drain(rings: NetRingCollection): this {
    const r = this.at(rings);
    return this.point(r.beginIndex, r.nextIndex, SET_BEGIN);
  }
}

export class FragmentIterator extends RingIterator<FragmentRing> {
  rings: NetRingCollection | null = null;
  protected ring(): FragmentRing {
    return this.rings!.fragments;
  }
  private at(rings: NetRingCollection): FragmentRing {
    this.rings = rings;
    return rings.fragments;
  }
  all(rings: NetRingCollection): this {
    const r = this.at(rings);
    return this.point(r.beginIndex, r.endIndex, SET_BEGIN);
  }
  post(rings: NetRingCollection): this {
    const r = this.at(rings);
    return this.point(r.nextIndex, r.endIndex, SET_NEXT);
  }
  drain(rings: NetRingCollection): this {
    const r = this.at(rings);
    return this.point(r.beginIndex, r.nextIndex, SET_BEGIN);
  }
  /** NetPacketIteratorGetFragments: the packet's fragments; set() throws (no target). */
  ofPacket(pi: PacketIterator): this {
    return this.ofPacketIndex(pi.rings!, pi.index);
  }
  ofPacketIndex(rings: NetRingCollection, packetIndex: number): this {
    const f = this.at(rings);
    const p = rings.packets;
    const first = p.fragmentIndex[packetIndex]!;
    return this.point(first, (first + p.fragmentCount[packetIndex]!) & f.elementIndexMask, SET_NONE);
  }
}
