// Debug verifier (§4.8): snapshots a queue's rings around every Advance/Cancel and throws a
// VerifierError naming the rule, the ring and the index at the first broken contract. Off by
// default (adapter option `verifier`); costs O(ring size) per callback.
//
// Rules (stable ids):
//   RING_END_INDEX_WRITTEN        driver wrote endIndex (framework-only)
//   RING_OS_RESERVED_WRITTEN      driver wrote osReserved0 (the framework's cursor)
//   RING_INDEX_UNMASKED           beginIndex/nextIndex not an integer in [0, N)
//   RING_BEGIN_OUT_OF_RANGE       beginIndex moved backwards or past endIndex
//   RING_OS_ELEMENT_MODIFIED      an element the OS owns ([end, begin)) changed
//   TX_PACKET_MODIFIED            a Tx packet's FragmentIndex/Count/Layout changed (only Scratch may)
//   TX_PACKET_IGNORE_MODIFIED     a Tx packet's Ignore changed
//   TX_FRAGMENT_MODIFIED          a Tx fragment's ValidLength/Capacity/Offset changed
//   RX_IGNORED_PACKET_MODIFIED    an Ignore Rx packet had other fields written
//   RX_PACKET_NO_FRAGMENTS        a returned Rx packet has FragmentCount 0 or never written
//   RX_PACKET_FRAGMENT_INDEX_NOT_WRITTEN
//   RX_PACKET_LAYOUT_NOT_WRITTEN  a Layer*Type still poisoned
//   RX_PACKET_TOO_MANY_FRAGMENTS  FragmentCount > fragments the driver owned
//   RX_PACKET_FRAGMENT_OUT_OF_RANGE  fragments not from the old driver range, or still owned
//   RX_PACKET_FRAGMENTS_OVERLAP   fragment ranges of successive packets overlap / go backwards
//   RX_FRAGMENT_NOT_WRITTEN       ValidLength/Offset (Capacity in driver attach) still poisoned
//   RX_FRAGMENT_CAPACITY_MODIFIED system attach: Capacity changed
//   RX_LAYOUT_INVALID             Layout sanity (Null L2 len 0, IPv4 >= 20, TCP 20..60 % 4, ...)
//   CANCEL_NOT_DRAINED            (queue.ts) packets never returned after cancel

import { VerifierError } from './errors.js';
import type { VerifierRingName } from './errors.js';
import { FIELD_MAX, isIpv4, isIpv6, L2Type, L3Type, L4Type } from './packet.js';
import type { FragmentRing, PacketRing } from './packet.js';
import type { NetRing } from './ring.js';
import type { VirtualAddressExtension } from './extension.js';

type Arr = Uint8Array | Uint16Array | Uint32Array;
interface Field {
  readonly name: string;
  readonly live: Arr;
  readonly shadow: Arr;
}

interface RingSnap {
  begin: number;
  next: number;
  end: number;
  os: number;
}

const POISON_TYPE = FIELD_MAX.layerType;

export interface VerifiedQueue {
  readonly direction: 'tx' | 'rx';
  readonly queueId: number;
  readonly rings: { readonly packets: PacketRing; readonly fragments: FragmentRing };
  readonly extensions: { readonly virtualAddress: VirtualAddressExtension };
}

function field(name: string, live: Arr): Field {
  return { name, live, shadow: live.slice() };
}

export class QueueVerifier {
  private readonly q: VerifiedQueue;
  private readonly driverAttach: boolean;
  private readonly pf: Field[];
  private readonly ff: Field[];
  private readonly ps: RingSnap = { begin: 0, next: 0, end: 0, os: 0 };
  private readonly fs: RingSnap = { begin: 0, next: 0, end: 0, os: 0 };
  /** Number of callbacks checked (tests assert the verifier actually ran). */
  checks = 0;

  constructor(q: VerifiedQueue, driverAttach: boolean) {
    this.q = q;
    this.driverAttach = driverAttach;
    const p = q.rings.packets;
    const f = q.rings.fragments;
    const va = q.extensions.virtualAddress;
    this.pf = [
      field('FragmentIndex', p.fragmentIndex),
      field('FragmentCount', p.fragmentCount),
      field('Layer2HeaderLength', p.layer2HeaderLength),
      field('Layer3HeaderLength', p.layer3HeaderLength),
      field('Layer4HeaderLength', p.layer4HeaderLength),
      field('Layer2Type', p.layer2Type),
      field('Layer3Type', p.layer3Type),
      field('Layer4Type', p.layer4Type),
      field('Ignore', p.ignore),
      field('Scratch', p.scratch),
    ];
    this.ff = [
      field('ValidLength', f.validLength),
      field('Capacity', f.capacity),
      field('Offset', f.offset),
      field('OsReserved_Bounced', f.osBounced),
      field('Scratch', f.scratch),
      field('VirtualAddress.slabId', va.slabId),
      field('VirtualAddress.address', va.address),
    ];
  }

  poisonRxPacket(i: number): void {
    const p = this.q.rings.packets;
    p.fragmentIndex[i] = FIELD_MAX.fragmentIndex;
    p.fragmentCount[i] = FIELD_MAX.fragmentCount;
    p.layer2HeaderLength[i] = FIELD_MAX.layer2HeaderLength;
    p.layer3HeaderLength[i] = FIELD_MAX.layer3HeaderLength;
    p.layer4HeaderLength[i] = FIELD_MAX.layer4HeaderLength;
    p.layer2Type[i] = POISON_TYPE;
    p.layer3Type[i] = POISON_TYPE;
    p.layer4Type[i] = POISON_TYPE;
  }

  poisonRxFragment(j: number): void {
    const f = this.q.rings.fragments;
    f.validLength[j] = FIELD_MAX.validLength;
    f.offset[j] = FIELD_MAX.offset;
    if (this.driverAttach) f.capacity[j] = FIELD_MAX.capacity;
  }

  before(): void {
    snap(this.q.rings.packets, this.ps);
    snap(this.q.rings.fragments, this.fs);
    for (const x of this.pf) x.shadow.set(x.live);
    for (const x of this.ff) x.shadow.set(x.live);
  }

  after(_callback: 'advance' | 'cancel'): void {
    this.checks++;
    const { packets: p, fragments: f } = this.q.rings;
    const dir = this.q.direction;
    this.checkHeader(p, this.ps, `${dir}-packet`);
    this.checkHeader(f, this.fs, `${dir}-fragment`);
    this.checkOsRange(p, this.ps, this.pf, `${dir}-packet`);
    this.checkOsRange(f, this.fs, this.ff, `${dir}-fragment`);
    if (dir === 'tx') this.checkTx();
    else this.checkRx();
  }

  private fail(rule: string, ring: VerifierRingName, index: number, detail: string): never {
    throw new VerifierError(rule, ring, this.q.queueId, index, detail);
  }

  private checkHeader(r: NetRing, s: RingSnap, ring: VerifierRingName): void {
    if (r.endIndex !== s.end)
      this.fail(
        'RING_END_INDEX_WRITTEN',
        ring,
        r.endIndex,
        `endIndex changed ${s.end} -> ${r.endIndex}; only the framework writes endIndex`,
      );
    if (r.osReserved0 !== s.os)
      this.fail(
        'RING_OS_RESERVED_WRITTEN',
        ring,
        r.osReserved0,
        `osReserved0 changed ${s.os} -> ${r.osReserved0}; it is framework-private`,
      );
    for (const [name, v] of [
      ['beginIndex', r.beginIndex],
      ['nextIndex', r.nextIndex],
    ] as const) {
      if (!Number.isInteger(v) || v < 0 || v >= r.numberOfElements) {
        this.fail(
          'RING_INDEX_UNMASKED',
          ring,
          v,
          `${name} = ${v} is not in [0, ${r.numberOfElements}); mask with elementIndexMask`,
        );
      }
    }
    if (r.getRangeCount(s.begin, r.beginIndex) > r.getRangeCount(s.begin, s.end)) {
      this.fail(
        'RING_BEGIN_OUT_OF_RANGE',
        ring,
        r.beginIndex,
        `beginIndex moved ${s.begin} -> ${r.beginIndex} outside the driver range [${s.begin}, ${s.end}); it may only move forward up to endIndex`,
      );
    }
  }

  private checkOsRange(r: NetRing, s: RingSnap, fields: Field[], ring: VerifierRingName): void {
    for (let i = s.end; i !== s.begin; i = r.incrementIndex(i)) {
      for (const x of fields) {
        if (x.live[i] !== x.shadow[i]) {
          this.fail(
            'RING_OS_ELEMENT_MODIFIED',
            ring,
            i,
            `${x.name} of an OS-owned element changed (${x.shadow[i]} -> ${x.live[i]}); touch only [beginIndex, endIndex)`,
          );
        }
      }
    }
  }

  private checkTx(): void {
    const { packets: p, fragments: f } = this.q.rings;
    for (let i = this.ps.begin; i !== this.ps.end; i = p.incrementIndex(i)) {
      for (const x of this.pf) {
        if (x.name === 'Scratch' || x.live[i] === x.shadow[i]) continue;
        const rule = x.name === 'Ignore' ? 'TX_PACKET_IGNORE_MODIFIED' : 'TX_PACKET_MODIFIED';
        this.fail(
          rule,
          'tx-packet',
          i,
          `${x.name} changed ${x.shadow[i]} -> ${x.live[i]}; a driver may change only Scratch on Tx packets`,
        );
      }
    }
    for (let j = this.fs.begin; j !== this.fs.end; j = f.incrementIndex(j)) {
      for (let k = 0; k < 4; k++) {
        const x = this.ff[k]!;
        if (x.live[j] !== x.shadow[j]) {
          this.fail(
            'TX_FRAGMENT_MODIFIED',
            'tx-fragment',
            j,
            `${x.name} changed ${x.shadow[j]} -> ${x.live[j]}; copy Tx data instead of rewriting fragments`,
          );
        }
      }
    }
  }

  private checkRx(): void {
    const p = this.q.rings.packets;
    const f = this.q.rings.fragments;
    let prevEnd = this.fs.begin; // fragments of successive packets must ascend from the old begin
    for (let i = this.ps.begin; i !== p.beginIndex; i = p.incrementIndex(i)) {
      if (p.ignore[i] === 1) {
        this.checkIgnored(i);
        continue;
      }
      this.checkRxPacketFields(i);
      const first = p.fragmentIndex[i]!;
      const cnt = p.fragmentCount[i]!;
      const oldOwned = f.getRangeCount(this.fs.begin, this.fs.end);
      if (cnt > oldOwned)
        this.fail(
          'RX_PACKET_TOO_MANY_FRAGMENTS',
          'rx-packet',
          i,
          `FragmentCount ${cnt} > ${oldOwned} fragments the driver owned`,
        );
      const last = f.advanceIndex(first, cnt - 1);
      if (f.getRangeCount(this.fs.begin, first) + cnt > oldOwned) {
        this.fail(
          'RX_PACKET_FRAGMENT_OUT_OF_RANGE',
          'rx-packet',
          i,
          `fragments [${first}, +${cnt}) are not inside the driver's range [${this.fs.begin}, ${this.fs.end})`,
        );
      }
      if (f.getRangeCount(this.fs.begin, first) < f.getRangeCount(this.fs.begin, prevEnd)) {
        this.fail(
          'RX_PACKET_FRAGMENTS_OVERLAP',
          'rx-packet',
          i,
          `fragments start at ${first}, before the previous packet's end ${prevEnd}; use ascending, disjoint ranges`,
        );
      }
      if (f.getRangeCount(this.fs.begin, last) >= f.getRangeCount(this.fs.begin, f.beginIndex)) {
        this.fail(
          'RX_PACKET_FRAGMENT_OUT_OF_RANGE',
          'rx-fragment',
          last,
          `fragment ${last} of returned packet ${i} is still in the driver range; advance fragments.beginIndex past it`,
        );
      }
      for (let k = 0, j = first; k < cnt; k++, j = f.incrementIndex(j)) this.checkRxFragment(j);
      prevEnd = f.advanceIndex(first, cnt);
    }
  }

  private checkIgnored(i: number): void {
    const p = this.q.rings.packets;
    if (
      p.fragmentIndex[i] !== FIELD_MAX.fragmentIndex ||
      p.fragmentCount[i] !== FIELD_MAX.fragmentCount ||
      p.layer3Type[i] !== POISON_TYPE
    ) {
      this.fail(
        'RX_IGNORED_PACKET_MODIFIED',
        'rx-packet',
        i,
        'an Ignore Rx packet must not be otherwise modified (FragmentIndex/Count/Layout written)',
      );
    }
  }

  private checkRxPacketFields(i: number): void {
    const p = this.q.rings.packets;
    if (p.fragmentIndex[i] === FIELD_MAX.fragmentIndex)
      this.fail(
        'RX_PACKET_FRAGMENT_INDEX_NOT_WRITTEN',
        'rx-packet',
        i,
        'returned Rx packet without FragmentIndex; set it (or set Ignore)',
      );
    const cnt = p.fragmentCount[i]!;
    if (cnt === 0 || cnt === FIELD_MAX.fragmentCount)
      this.fail(
        'RX_PACKET_NO_FRAGMENTS',
        'rx-packet',
        i,
        `returned Rx packet has FragmentCount ${cnt}; bind >= 1 fragment or set Ignore`,
      );
    if (p.fragmentIndex[i]! >= this.q.rings.fragments.numberOfElements)
      this.fail('RING_INDEX_UNMASKED', 'rx-packet', i, `FragmentIndex ${p.fragmentIndex[i]} not masked`);
    if (
      p.layer2Type[i] === POISON_TYPE ||
      p.layer3Type[i] === POISON_TYPE ||
      p.layer4Type[i] === POISON_TYPE
    ) {
      this.fail(
        'RX_PACKET_LAYOUT_NOT_WRITTEN',
        'rx-packet',
        i,
        'Layer2Type/Layer3Type/Layer4Type not written; set Layout (e.g. all zero = let the OS parse)',
      );
    }
    const bad = layoutProblem(p, i);
    if (bad !== null) this.fail('RX_LAYOUT_INVALID', 'rx-packet', i, bad);
  }

  private checkRxFragment(j: number): void {
    const f = this.q.rings.fragments;
    if (f.validLength[j] === FIELD_MAX.validLength || f.offset[j] === FIELD_MAX.offset) {
      this.fail(
        'RX_FRAGMENT_NOT_WRITTEN',
        'rx-fragment',
        j,
        'ValidLength/Offset not written for a fragment of a returned packet',
      );
    }
    if (this.driverAttach && f.capacity[j] === FIELD_MAX.capacity) {
      this.fail(
        'RX_FRAGMENT_NOT_WRITTEN',
        'rx-fragment',
        j,
        'Capacity not written (driver attachment mode must set it)',
      );
    }
    const shadowCap = this.ff[1]!.shadow[j];
    if (!this.driverAttach && f.capacity[j] !== shadowCap) {
      this.fail(
        'RX_FRAGMENT_CAPACITY_MODIFIED',
        'rx-fragment',
        j,
        `Capacity changed ${shadowCap} -> ${f.capacity[j]}; system attachment owns it`,
      );
    }
  }
}

function snap(r: NetRing, s: RingSnap): void {
  s.begin = r.beginIndex;
  s.next = r.nextIndex;
  s.end = r.endIndex;
  s.os = r.osReserved0;
}

/** §4.8 layout sanity; null when fine. */
export function layoutProblem(p: PacketRing, i: number): string | null {
  const l2 = p.layer2Type[i]!,
    l2n = p.layer2HeaderLength[i]!;
  const l3 = p.layer3Type[i]!,
    l3n = p.layer3HeaderLength[i]!;
  const l4 = p.layer4Type[i]!,
    l4n = p.layer4HeaderLength[i]!;
  if (l2 === L2Type.Null && l2n !== 0) return `Null L2 with Layer2HeaderLength ${l2n} (must be 0)`;
  if (l2 === L2Type.Ethernet && l2n !== 0 && l2n < 14)
    return `Ethernet Layer2HeaderLength ${l2n} (0 or >= 14)`;
  const unspecifiedL3 =
    l3 === L3Type.Unspecified ||
    l3 === L3Type.IPv4UnspecifiedOptions ||
    l3 === L3Type.IPv6UnspecifiedExtensions;
  if (unspecifiedL3 && l3n !== 0) return `an Unspecified L3 type with Layer3HeaderLength ${l3n} (must be 0)`;
  if (isIpv4(l3) && l3n !== 0 && l3n < 20) return `IPv4 Layer3HeaderLength ${l3n} (0 or >= 20)`;
  if (isIpv6(l3) && l3n !== 0 && l3n < 40) return `IPv6 Layer3HeaderLength ${l3n} (0 or >= 40)`;
  if (l4 === L4Type.Tcp && l4n !== 0 && (l4n < 20 || l4n > 60 || l4n % 4 !== 0))
    return `TCP Layer4HeaderLength ${l4n} (0 or 20..60, multiple of 4)`;
  if (l4 === L4Type.Udp && l4n !== 0 && l4n < 8) return `UDP Layer4HeaderLength ${l4n} (0 or >= 8)`;
  return null;
}
