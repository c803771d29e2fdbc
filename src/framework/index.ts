// Public surface of the NetAdapterCx framework layer (see README.md "Landmarks").
export { NetAdapter } from './adapter.js';
export type { AdapterState } from './adapter.js';
export {
  RxAllocationMode,
  RxAttachmentMode,
  OffloadLayer3Flags,
  OffloadLayer4Flags,
  linkStateInit,
  linkStateInitDisconnected,
  maxL2Length,
  rxCapabilitiesInitDriverManaged,
  rxCapabilitiesInitSystemManaged,
  txCapabilitiesInit,
} from './capabilities.js';
export type {
  LinkLayerCapabilities,
  LinkState,
  Medium,
  MediaConnectState,
  MediaDuplexState,
  OffloadCapabilities,
  ReturnRxBufferCallback,
  RxCapabilities,
  TxCapabilities,
} from './capabilities.js';
export { EcTask, ExecutionContext } from './ec.js';
export type { Scheduling } from './ec.js';
export { FrameworkError, VerifierError } from './errors.js';
export type { FrameworkErrorCode, VerifierRingName } from './errors.js';
export {
  ChecksumExtension,
  ChecksumValue,
  ExtensionType,
  GsoExtension,
  HashExtension,
  HashProtocol,
  NET_FRAGMENT_EXTENSION_RETURN_CONTEXT_NAME,
  NET_FRAGMENT_EXTENSION_VIRTUAL_ADDRESS_NAME,
  NET_PACKET_EXTENSION_CHECKSUM_NAME,
  NET_PACKET_EXTENSION_GSO_NAME,
  NET_PACKET_EXTENSION_HASH_NAME,
  NET_PACKET_EXTENSION_RSC_NAME,
  ReturnContextExtension,
  RscExtension,
  VirtualAddressExtension,
} from './extension.js';
export type { ExtensionByName, ExtensionName, ExtensionQuery, NetExtension } from './extension.js';
export { FragmentIterator, PacketIterator } from './iterator.js';
export { LayoutScratch, parseFrameLayout } from './layout.js';
export type { DatapathCallbacks, NetAdapterOptions, NotificationStyle } from './options.js';
export { FIELD_MAX, FragmentRing, L2Type, L3Type, L4Type, PacketRing, isIpv4, isIpv6 } from './packet.js';
export type { NetRingCollection } from './packet.js';
export type { PacketQueueConfig, QueueState, RxQueueInit, TxQueueInit } from './queue.js';
export { PacketQueue } from './queue.js';
export {
  NetRing,
  netRingAdvanceIndex,
  netRingGetRangeCount,
  netRingIncrementIndex,
  ringRangeContains,
} from './ring.js';
export { RxQueue } from './rx-queue.js';
export { MAX_SLABS, SlabRegistry } from './slab.js';
export { TxQueue } from './tx-queue.js';
export { QueueVerifier, layoutProblem } from './verifier.js';
export { RxDelivery, TxOffer } from '../os/host.js';
export type { HostOffloadRequest, HostQueueHandle, OsHost } from '../os/host.js';
