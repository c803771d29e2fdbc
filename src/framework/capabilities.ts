// Data-path, link-layer and offload capabilities (§5), set on the adapter before start.

import type { NetAdapter } from './adapter.js';
import { configError } from './errors.js';
import { FIELD_MAX } from './packet.js';

export const RxAllocationMode = { System: 0, Driver: 1 } as const;
export const RxAttachmentMode = { System: 0, Driver: 1 } as const;

/** NET_ADAPTER_TX_CAPABILITIES (+ `txTailroom`, ours: bytes after the frame a driver may use). */
export interface TxCapabilities {
  payloadBackfill: number;
  maximumNumberOfFragments: number;
  fragmentBufferAlignment: number;
  fragmentRingNumberOfElementsHint: number;
  maximumNumberOfQueues: number;
  /** Bytes reserved after the largest frame in every Tx buffer (e.g. an AEAD tag). */
  txTailroom: number;
}

/** EvtAdapterReturnRxBuffer: once per fragment of each indicated packet, with its return handle. */
export type ReturnRxBufferCallback = (adapter: NetAdapter, handle: number) => void;

/** NET_ADAPTER_RX_CAPABILITIES. */
export interface RxCapabilities {
  allocationMode: 0 | 1;
  attachmentMode: 0 | 1;
  fragmentRingNumberOfElementsHint: number;
  /** Rx buffer size: MTU + L2 + driver metadata. */
  maximumFrameSize: number;
  maximumNumberOfQueues: number;
  evtAdapterReturnRxBuffer: ReturnRxBufferCallback | null;
}

/** NET_ADAPTER_TX_CAPABILITIES_INIT: alignment 1, unlimited fragments, no backfill. */
export function txCapabilitiesInit(maximumNumberOfQueues: number): TxCapabilities {
  return {
    payloadBackfill: 0,
    maximumNumberOfFragments: Number.MAX_SAFE_INTEGER,
    fragmentBufferAlignment: 1,
    fragmentRingNumberOfElementsHint: 0,
    maximumNumberOfQueues,
    txTailroom: 0,
  };
}

/** NET_ADAPTER_RX_CAPABILITIES_INIT_SYSTEM_MANAGED. */
export function rxCapabilitiesInitSystemManaged(
  maximumFrameSize: number,
  maximumNumberOfQueues: number,
): RxCapabilities {
  return {
    allocationMode: RxAllocationMode.System,
    attachmentMode: RxAttachmentMode.System,
    fragmentRingNumberOfElementsHint: 0,
    maximumFrameSize,
    maximumNumberOfQueues,
    evtAdapterReturnRxBuffer: null,
  };
}

/** NET_ADAPTER_RX_CAPABILITIES_INIT_DRIVER_MANAGED. */
export function rxCapabilitiesInitDriverManaged(
  evtAdapterReturnRxBuffer: ReturnRxBufferCallback,
  maximumFrameSize: number,
  maximumNumberOfQueues: number,
): RxCapabilities {
  return {
    allocationMode: RxAllocationMode.Driver,
    attachmentMode: RxAttachmentMode.Driver,
    fragmentRingNumberOfElementsHint: 0,
    maximumFrameSize,
    maximumNumberOfQueues,
    evtAdapterReturnRxBuffer,
  };
}

function isPow2OrZero(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && (n & (n - 1)) === 0;
}

export function validateTxCapabilities(c: TxCapabilities): void {
  if (!Number.isInteger(c.maximumNumberOfQueues) || c.maximumNumberOfQueues < 1) {
    throw configError('tx.maximumNumberOfQueues', `${c.maximumNumberOfQueues} is not >= 1`, 'set at least 1');
  }
  if (!isPow2OrZero(c.fragmentBufferAlignment) || c.fragmentBufferAlignment === 0) {
    throw configError(
      'tx.fragmentBufferAlignment',
      `${c.fragmentBufferAlignment}`,
      'use 1 or a power of two',
    );
  }
  if (!isPow2OrZero(c.fragmentRingNumberOfElementsHint)) {
    throw configError('tx.fragmentRingNumberOfElementsHint', 'not 0 or a power of two', 'round it');
  }
  if (!Number.isInteger(c.payloadBackfill) || c.payloadBackfill < 0 || c.payloadBackfill > FIELD_MAX.offset) {
    throw configError('tx.payloadBackfill', `${c.payloadBackfill}`, `use 0..${FIELD_MAX.offset}`);
  }
  if (!Number.isInteger(c.txTailroom) || c.txTailroom < 0 || c.txTailroom > 4096) {
    throw configError('tx.txTailroom', `${c.txTailroom}`, 'use 0..4096');
  }
  if (!(c.maximumNumberOfFragments >= 1)) {
    throw configError('tx.maximumNumberOfFragments', `${c.maximumNumberOfFragments}`, 'use >= 1');
  }
}

export function validateRxCapabilities(c: RxCapabilities): void {
  if (!Number.isInteger(c.maximumNumberOfQueues) || c.maximumNumberOfQueues < 1) {
    throw configError('rx.maximumNumberOfQueues', `${c.maximumNumberOfQueues} is not >= 1`, 'set at least 1');
  }
  if (!Number.isInteger(c.maximumFrameSize) || c.maximumFrameSize < 64 || c.maximumFrameSize > 65535) {
    throw configError('rx.maximumFrameSize', `${c.maximumFrameSize}`, 'use 64..65535');
  }
  if (!isPow2OrZero(c.fragmentRingNumberOfElementsHint)) {
    throw configError('rx.fragmentRingNumberOfElementsHint', 'not 0 or a power of two', 'round it');
  }
  if (c.allocationMode === RxAllocationMode.Driver) {
    if (c.attachmentMode !== RxAttachmentMode.Driver || c.evtAdapterReturnRxBuffer === null) {
      throw configError(
        'rx.allocationMode',
        'driver allocation needs driver attachment and evtAdapterReturnRxBuffer',
        'use rxCapabilitiesInitDriverManaged(returnRxBuffer, ...)',
      );
    }
  } else if (c.attachmentMode !== RxAttachmentMode.System) {
    throw configError(
      'rx.attachmentMode',
      'system allocation with driver attachment (data-buffer ring) is not modelled',
      'use system/system or driver/driver',
    );
  }
}

/** NET_ADAPTER_LINK_LAYER_CAPABILITIES (bit/s). */
export interface LinkLayerCapabilities {
  maxTxLinkSpeed: number;
  maxRxLinkSpeed: number;
}

export type MediaConnectState = 'unknown' | 'connected' | 'disconnected';
export type MediaDuplexState = 'unknown' | 'half' | 'full';

/** NET_ADAPTER_LINK_STATE. Unknown speed = -1 (the model's all-ones). */
export interface LinkState {
  txLinkSpeed: number;
  rxLinkSpeed: number;
  mediaConnectState: MediaConnectState;
  mediaDuplexState: MediaDuplexState;
}

export function linkStateInit(
  speed: number,
  connect: MediaConnectState,
  duplex: MediaDuplexState,
): LinkState {
  return { txLinkSpeed: speed, rxLinkSpeed: speed, mediaConnectState: connect, mediaDuplexState: duplex };
}
export function linkStateInitDisconnected(): LinkState {
  return { txLinkSpeed: -1, rxLinkSpeed: -1, mediaConnectState: 'disconnected', mediaDuplexState: 'unknown' };
}

/** Offload capabilities (§5.4), reduced to what turns per-packet extensions on. */
export interface OffloadCapabilities {
  txChecksum?: { layer3Flags: number; layer4Flags: number };
  rxChecksum?: boolean;
  gso?: { layer3Flags: number; layer4Flags: number; maximumOffloadSize: number; minimumSegmentCount: number };
  rsc?: { layer3Flags: number; layer4Flags: number; tcpTimestampOption: boolean };
  receiveHash?: boolean;
}

export const OffloadLayer3Flags = {
  IPv4NoOptions: 1,
  IPv4WithOptions: 2,
  IPv6NoExtensions: 4,
  IPv6WithExtensions: 8,
} as const;
export const OffloadLayer4Flags = { TcpNoOptions: 1, TcpWithOptions: 2, Udp: 4 } as const;

/** The medium fixes the L2 type and maximum L2 header (TUN = IP medium, L2 Null, 0 bytes). */
export type Medium = 'ip' | 'ethernet';
export function maxL2Length(medium: Medium): number {
  return medium === 'ethernet' ? 14 : 0;
}
