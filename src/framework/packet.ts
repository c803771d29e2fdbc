// NET_PACKET and NET_FRAGMENT rings as structure-of-arrays: one typed array per field, indexed by
// ring index (the RT_TCB idea). No object exists per packet; "a packet" is an index.
//
// Packet i:   fragmentIndex[i], fragmentCount[i]  -> fragments [fragmentIndex, +fragmentCount) & mask
//             layer{2,3,4}HeaderLength[i], layer{2,3,4}Type[i]   (the packed Layout, §2.1)
//             ignore[i] (no data), scratch[i] (driver's bit: the only Tx field a driver may change)
// Fragment j: validLength[j], capacity[j], offset[j], scratch[j], osBounced[j] (framework-private)
//             bytes = slab(va.slabId[j])[va.address[j] + offset[j], + validLength[j])
//
// Packet extensions (checksum, GSO, ...) and fragment extensions (virtual address, return
// context) are separate per-queue arrays indexed the same way (see extension.ts).

import { NetRing } from './ring.js';

/** Layout.Layer2Type (4 bits). */
export const L2Type = { Unspecified: 0, Null: 1, Ethernet: 2, Ieee80211: 3 } as const;
/** Layout.Layer3Type (4 bits). */
export const L3Type = {
  Unspecified: 0,
  IPv4UnspecifiedOptions: 1,
  IPv4WithOptions: 2,
  IPv4NoOptions: 3,
  IPv6UnspecifiedExtensions: 4,
  IPv6WithExtensions: 5,
  IPv6NoExtensions: 6,
} as const;
/** Layout.Layer4Type (4 bits). */
export const L4Type = { Unspecified: 0, Tcp: 1, Udp: 2, IPFragment: 3, IPNotFragment: 4 } as const;

/** Bit widths of the packed fields, used for masking and for the verifier's poison values. */
export const FIELD_MAX = {
  layer2HeaderLength: 0x7f, // 7 bits
  layer3HeaderLength: 0x1ff, // 9 bits
  layer4HeaderLength: 0xff, // 8 bits
  layerType: 0xf, // 4 bits
  fragmentIndex: 0xffffffff,
  fragmentCount: 0xffff,
  validLength: 0x3ffffff, // 26 bits
  capacity: 0x3ffffff, // 26 bits
  offset: 0x3ff, // 10 bits
} as const;

export function isIpv4(l3Type: number): boolean {
  return l3Type >= L3Type.IPv4UnspecifiedOptions && l3Type <= L3Type.IPv4NoOptions;
}
export function isIpv6(l3Type: number): boolean {
  return l3Type >= L3Type.IPv6UnspecifiedExtensions && l3Type <= L3Type.IPv6NoExtensions;
}

export class PacketRing extends NetRing {
  readonly fragmentIndex: Uint32Array;
  readonly fragmentCount: Uint16Array;
  readonly layer2HeaderLength: Uint8Array;
  readonly layer3HeaderLength: Uint16Array;
  readonly layer4HeaderLength: Uint8Array;
  readonly layer2Type: Uint8Array;
  readonly layer3Type: Uint8Array;
  readonly layer4Type: Uint8Array;
  readonly ignore: Uint8Array;
  readonly scratch: Uint8Array;

  constructor(numberOfElements: number, what = 'packet ring') {
    super(numberOfElements, what);
    const n = numberOfElements;
    this.fragmentIndex = new Uint32Array(n);
    this.fragmentCount = new Uint16Array(n);
    this.layer2HeaderLength = new Uint8Array(n);
    this.layer3HeaderLength = new Uint16Array(n);
    this.layer4HeaderLength = new Uint8Array(n);
    this.layer2Type = new Uint8Array(n);
    this.layer3Type = new Uint8Array(n);
    this.layer4Type = new Uint8Array(n);
    this.ignore = new Uint8Array(n);
    this.scratch = new Uint8Array(n);
  }

  /** Framework: zero one element's base fields (extensions are zeroed by the queue). */
  zero(i: number): void {
    this.fragmentIndex[i] = 0;
    this.fragmentCount[i] = 0;
    this.clearLayout(i);
    this.ignore[i] = 0;
    this.scratch[i] = 0;
  }

  /** `Layout = {}`: every layer unspecified, lengths 0 (let the OS parse). */
  clearLayout(i: number): void {
    this.layer2HeaderLength[i] = 0;
    this.layer3HeaderLength[i] = 0;
    this.layer4HeaderLength[i] = 0;
    this.layer2Type[i] = 0;
    this.layer3Type[i] = 0;
    this.layer4Type[i] = 0;
  }

  /** Copy Layout from another packet ring element (e.g. Tx packet to Rx packet in a loopback). */
  copyLayoutFrom(i: number, src: PacketRing, j: number): void {
    this.layer2HeaderLength[i] = src.layer2HeaderLength[j]!;
    this.layer3HeaderLength[i] = src.layer3HeaderLength[j]!;
    this.layer4HeaderLength[i] = src.layer4HeaderLength[j]!;
    this.layer2Type[i] = src.layer2Type[j]!;
    this.layer3Type[i] = src.layer3Type[j]!;
    this.layer4Type[i] = src.layer4Type[j]!;
  }

  zeroAll(): void {
    for (let i = 0; i < this.numberOfElements; i++) this.zero(i);
  }

  /** Index one past a packet's last fragment: `(fragmentIndex + fragmentCount) & fragmentMask`. */
  fragmentEnd(i: number, fragments: NetRing): number {
    return (this.fragmentIndex[i]! + this.fragmentCount[i]!) & fragments.elementIndexMask;
  }
}

export class FragmentRing extends NetRing {
  readonly validLength: Uint32Array;
  readonly capacity: Uint32Array;
  readonly offset: Uint16Array;
  readonly scratch: Uint8Array;
  /** Framework-private (OsReserved_Bounced). */
  readonly osBounced: Uint8Array;

  constructor(numberOfElements: number, what = 'fragment ring') {
    super(numberOfElements, what);
    const n = numberOfElements;
    this.validLength = new Uint32Array(n);
    this.capacity = new Uint32Array(n);
    this.offset = new Uint16Array(n);
    this.scratch = new Uint8Array(n);
    this.osBounced = new Uint8Array(n);
  }

  zero(j: number): void {
    this.validLength[j] = 0;
    this.capacity[j] = 0;
    this.offset[j] = 0;
    this.scratch[j] = 0;
    this.osBounced[j] = 0;
  }

  zeroAll(): void {
    for (let j = 0; j < this.numberOfElements; j++) this.zero(j);
  }
}

/**
 * NET_RING_COLLECTION. The data-buffer ring (system allocation + driver attachment) is not modelled:
 * only System/System and Driver/Driver Rx modes exist here.
 */
export interface NetRingCollection {
  readonly packets: PacketRing;
  readonly fragments: FragmentRing;
}
