// Extensions (§2.3-2.5): optional per-element metadata arrays beside the packet and fragment rings,
// found by name and version and indexed by ring index (packet index for packet extensions,
// fragment index for fragment ones). `enabled` is true only if the adapter advertised the
// capability AND the OS side requested it; a disabled extension has zero-length arrays.

import type { SlabRegistry } from './slab.js';

export const ExtensionType = { Packet: 0, Fragment: 1 } as const;
export type ExtensionTypeValue = (typeof ExtensionType)[keyof typeof ExtensionType];

export const NET_PACKET_EXTENSION_CHECKSUM_NAME = 'ms_packet_checksum';
export const NET_PACKET_EXTENSION_GSO_NAME = 'ms_packet_gso';
export const NET_PACKET_EXTENSION_RSC_NAME = 'ms_packet_rsc';
export const NET_PACKET_EXTENSION_HASH_NAME = 'ms_packet_hash';
export const NET_FRAGMENT_EXTENSION_VIRTUAL_ADDRESS_NAME = 'ms_fragment_virtualaddress';
export const NET_FRAGMENT_EXTENSION_RETURN_CONTEXT_NAME = 'ms_fragment_returncontext';

/** Checksum per layer. Tx: Passthrough 0 / Required 2. Rx: NotChecked 0 / Valid 1 / Invalid 2. */
export const ChecksumValue = { Passthrough: 0, NotChecked: 0, Valid: 1, Invalid: 2, Required: 2 } as const;
/** NET_PACKET_HASH.ProtocolType flags. */
export const HashProtocol = {
  IPv4: 1,
  IPv4Options: 2,
  IPv6: 4,
  IPv6Extensions: 8,
  Tcp: 0x10,
  Udp: 0x20,
} as const;

abstract class ExtensionBase {
  abstract readonly name: string;
  abstract readonly type: ExtensionTypeValue;
  /** Highest version this framework registers (a query matches if it asks for <= this). */
  abstract readonly version: number;
  constructor(readonly enabled: boolean) {}
  /** Framework: reset element i to "nothing set". */
  abstract zero(i: number): void;
}

/** ms_packet_checksum v1: `Layer2:2, Layer3:2, Layer4:2`. Layer4 is TCP or UDP per Layout.Layer4Type. */
export class ChecksumExtension extends ExtensionBase {
  readonly name = NET_PACKET_EXTENSION_CHECKSUM_NAME;
  readonly type = ExtensionType.Packet;
  readonly version = 1;
  readonly layer2: Uint8Array;
  readonly layer3: Uint8Array;
  readonly layer4: Uint8Array;
  constructor(enabled: boolean, n: number) {
    super(enabled);
    const len = enabled ? n : 0;
    this.layer2 = new Uint8Array(len);
    this.layer3 = new Uint8Array(len);
    this.layer4 = new Uint8Array(len);
  }
  zero(i: number): void {
    this.layer2[i] = 0;
    this.layer3[i] = 0;
    this.layer4[i] = 0;
  }
}

/** ms_packet_gso v1: TCP.Mss (LSO) / UDP.Mss (USO) share storage (a union); 0 = no segmentation. */
export class GsoExtension extends ExtensionBase {
  readonly name = NET_PACKET_EXTENSION_GSO_NAME;
  readonly type = ExtensionType.Packet;
  readonly version = 1;
  readonly mss: Uint32Array;
  constructor(enabled: boolean, n: number) {
    super(enabled);
    this.mss = new Uint32Array(enabled ? n : 0);
  }
  zero(i: number): void {
    this.mss[i] = 0;
  }
}

/** ms_packet_rsc v2 (v1 = the TCP fields). Rx only; the OS reads it only if Layer4Type is Tcp. */
export class RscExtension extends ExtensionBase {
  readonly name = NET_PACKET_EXTENSION_RSC_NAME;
  readonly type = ExtensionType.Packet;
  readonly version = 2;
  readonly tcpCoalescedSegmentCount: Uint16Array;
  readonly tcpDuplicateAckCount: Uint16Array;
  readonly udpCoalescedSegmentCount: Uint16Array;
  readonly udpCoalescedSegmentSize: Uint16Array;
  constructor(enabled: boolean, n: number) {
    super(enabled);
    const len = enabled ? n : 0;
    this.tcpCoalescedSegmentCount = new Uint16Array(len);
    this.tcpDuplicateAckCount = new Uint16Array(len);
    this.udpCoalescedSegmentCount = new Uint16Array(len);
    this.udpCoalescedSegmentSize = new Uint16Array(len);
  }
  zero(i: number): void {
    this.tcpCoalescedSegmentCount[i] = 0;
    this.tcpDuplicateAckCount[i] = 0;
    this.udpCoalescedSegmentCount[i] = 0;
    this.udpCoalescedSegmentSize[i] = 0;
  }
}

/** ms_packet_hash v1: RSS hash value and the HashProtocol flags it covered. Rx. */
export class HashExtension extends ExtensionBase {
  readonly name = NET_PACKET_EXTENSION_HASH_NAME;
  readonly type = ExtensionType.Packet;
  readonly version = 1;
  readonly hashValue: Uint32Array;
  readonly protocolType: Uint16Array;
  constructor(enabled: boolean, n: number) {
    super(enabled);
    const len = enabled ? n : 0;
    this.hashValue = new Uint32Array(len);
    this.protocolType = new Uint16Array(len);
  }
  zero(i: number): void {
    this.hashValue[i] = 0;
    this.protocolType[i] = 0;
  }
}

/**
 * ms_fragment_virtualaddress v1, always enabled. A "virtual address" is (slabId, byte address):
 * fragment j's buffer starts at `slabOf(j)[address[j]]`. Slab id 0 is an empty slab (unset).
 */
export class VirtualAddressExtension extends ExtensionBase {
  readonly name = NET_FRAGMENT_EXTENSION_VIRTUAL_ADDRESS_NAME;
  readonly type = ExtensionType.Fragment;
  readonly version = 1;
  readonly slabId: Uint16Array;
  readonly address: Uint32Array;
  private readonly slabs: Uint8Array[];
  private readonly buffers: Buffer[];
  constructor(n: number, registry: SlabRegistry) {
    super(true);
    this.slabId = new Uint16Array(n);
    this.address = new Uint32Array(n);
    this.slabs = registry.slabs;
    this.buffers = registry.buffers;
  }
  /** The slab fragment j points into (no allocation; pair with `address[j]`). */
  slabOf(j: number): Uint8Array {
    return this.slabs[this.slabId[j]!]!;
  }
  /** The same slab as a Buffer view (for `buf.copy(...)`, sockets, crypto); no allocation. */
  bufferOf(j: number): Buffer {
    return this.buffers[this.slabId[j]!]!;
  }
  set(j: number, slabId: number, address: number): void {
    this.slabId[j] = slabId;
    this.address[j] = address;
  }
  zero(j: number): void {
    this.slabId[j] = 0;
    this.address[j] = 0;
  }
}

/**
 * ms_fragment_returncontext v1: an opaque u32 handle per fragment, enabled in driver-managed Rx
 * mode. The framework hands it back through EvtAdapterReturnRxBuffer once per indicated fragment.
 */
export class ReturnContextExtension extends ExtensionBase {
  readonly name = NET_FRAGMENT_EXTENSION_RETURN_CONTEXT_NAME;
  readonly type = ExtensionType.Fragment;
  readonly version = 1;
  readonly handle: Uint32Array;
  constructor(enabled: boolean, n: number) {
    super(enabled);
    this.handle = new Uint32Array(enabled ? n : 0);
  }
  zero(j: number): void {
    this.handle[j] = 0;
  }
}

export interface ExtensionByName {
  [NET_PACKET_EXTENSION_CHECKSUM_NAME]: ChecksumExtension;
  [NET_PACKET_EXTENSION_GSO_NAME]: GsoExtension;
  [NET_PACKET_EXTENSION_RSC_NAME]: RscExtension;
  [NET_PACKET_EXTENSION_HASH_NAME]: HashExtension;
  [NET_FRAGMENT_EXTENSION_VIRTUAL_ADDRESS_NAME]: VirtualAddressExtension;
  [NET_FRAGMENT_EXTENSION_RETURN_CONTEXT_NAME]: ReturnContextExtension;
}
export type ExtensionName = keyof ExtensionByName;
export type NetExtension = ExtensionByName[ExtensionName];

/** NET_EXTENSION_QUERY. */
export interface ExtensionQuery<N extends ExtensionName = ExtensionName> {
  readonly name: N;
  readonly version: number;
  readonly type: ExtensionTypeValue;
}

/** The set of extensions one queue carries, built at queue creation. */
export class QueueExtensions {
  readonly checksum: ChecksumExtension;
  readonly gso: GsoExtension;
  readonly rsc: RscExtension;
  readonly hash: HashExtension;
  readonly virtualAddress: VirtualAddressExtension;
  readonly returnContext: ReturnContextExtension;
  /** Enabled packet extensions, zeroed with each packet element. */
  readonly packetZeroList: readonly (ChecksumExtension | GsoExtension | RscExtension | HashExtension)[];

  constructor(
    packets: number,
    fragments: number,
    registry: SlabRegistry,
    on: { checksum: boolean; gso: boolean; rsc: boolean; hash: boolean; returnContext: boolean },
  ) {
    this.checksum = new ChecksumExtension(on.checksum, packets);
    this.gso = new GsoExtension(on.gso, packets);
    this.rsc = new RscExtension(on.rsc, packets);
    this.hash = new HashExtension(on.hash, packets);
    this.virtualAddress = new VirtualAddressExtension(fragments, registry);
    this.returnContext = new ReturnContextExtension(on.returnContext, fragments);
    this.packetZeroList = [this.checksum, this.gso, this.rsc, this.hash].filter((e) => e.enabled);
  }

  zeroPacket(i: number): void {
    const list = this.packetZeroList;
    for (let k = 0; k < list.length; k++) list[k]!.zero(i);
  }

  /**
   * NetTx/RxQueueGetExtension: match = same name and type, registered version >= requested.
   * A version the framework does not have yields a disabled extension (never throws).
   */
  query<N extends ExtensionName>(q: ExtensionQuery<N>): ExtensionByName[N] | undefined {
    const all: NetExtension[] = [
      this.checksum,
      this.gso,
      this.rsc,
      this.hash,
      this.virtualAddress,
      this.returnContext,
    ];
    const found = all.find((e) => e.name === q.name && e.type === q.type);
    if (found === undefined || found.version < q.version) return undefined;
    return found as ExtensionByName[N];
  }
}
