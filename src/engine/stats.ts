// Counters: ovpn-dco's OVPN_STATS for the whole engine, plus per-peer bytes and drops by reason.
//
// Plain numbers mutated in place (no allocation on the data path); `snapshot*` copies them for
// the control API. Every dropped packet increments exactly one drop reason, and the matching
// OVPN_STATS "Lost" counter, so `sum(drops) == lostInData + lostOutData` holds at all times.

import type { OvpnStats } from '../control-api/schema.js';

/** Why a packet was dropped. Append only: the names travel over the control API. */
export const DropReason = {
  // receive side
  rxMalformed: 0, // too short, bad opcode, bad header
  rxNoPeer: 1, // unknown peer id / address
  rxNoKey: 2, // no key slot with that key id
  rxAuthFailed: 3, // AEAD tag mismatch
  rxReplay: 4, // replay window rejected it (after authentication)
  rxCompressed: 5, // real compression we do not decompress
  rxBadInner: 6, // decrypted payload is not an IP packet
  rxReversePath: 7, // inner source not routed to the sending peer (multi-peer)
  rxNoBuffer: 8, // Rx pending queue full
  rxQueueStopped: 9, // queue cancelled or peer deleted while held
  // transmit side
  txNoPeer: 10, // no peer for the destination
  txNoKey: 11, // peer has no primary key
  txMalformed: 12, // not an IP packet / too big
  txKeyExhausted: 13, // packet ids used up, waiting for a new key
  txSendFailed: 14, // the transport reported an error at completion
  txRecursive: 15, // addressed to the peer's own transport endpoint (P2P)
  rxControlOverflow: 16, // control packet queue full
} as const;
export type DropReason = (typeof DropReason)[keyof typeof DropReason];
export const DROP_REASON_NAMES = Object.keys(DropReason) as (keyof typeof DropReason)[];
export const DROP_REASON_COUNT = DROP_REASON_NAMES.length;

/** ovpn-dco's OVPN_STATS field set (defined once, in the control-API schema). */
export type { OvpnStats };

export function newOvpnStats(): OvpnStats {
  return {
    lostInControlPackets: 0,
    lostOutControlPackets: 0,
    lostInDataPackets: 0,
    lostOutDataPackets: 0,
    receivedDataPackets: 0,
    receivedControlPackets: 0,
    sentControlPackets: 0,
    sentDataPackets: 0,
    transportBytesSent: 0,
    transportBytesReceived: 0,
    tunBytesSent: 0,
    tunBytesReceived: 0,
  };
}

/** Per-peer counters (ovpn-dco's OVPN_PEER_STATS plus packets and drops by reason). */
export class PeerCounters {
  linkRxBytes = 0;
  linkTxBytes = 0;
  vpnRxBytes = 0;
  vpnTxBytes = 0;
  rxPackets = 0;
  txPackets = 0;
  keepaliveRx = 0;
  keepaliveTx = 0;
  readonly drops = new Float64Array(DROP_REASON_COUNT);

  snapshot(): PeerStatsSnapshot {
    return {
      linkRxBytes: this.linkRxBytes,
      linkTxBytes: this.linkTxBytes,
      vpnRxBytes: this.vpnRxBytes,
      vpnTxBytes: this.vpnTxBytes,
      rxPackets: this.rxPackets,
      txPackets: this.txPackets,
      keepaliveRx: this.keepaliveRx,
      keepaliveTx: this.keepaliveTx,
      drops: dropsRecord(this.drops),
    };
  }
}

export interface PeerStatsSnapshot {
  linkRxBytes: number;
  linkTxBytes: number;
  vpnRxBytes: number;
  vpnTxBytes: number;
  rxPackets: number;
  txPackets: number;
  keepaliveRx: number;
  keepaliveTx: number;
  drops: Record<string, number>;
}

/** Non-zero drop counters by name. */
export function dropsRecord(drops: Float64Array): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < DROP_REASON_COUNT; i++) {
    const n = drops[i] ?? 0;
    if (n !== 0) out[DROP_REASON_NAMES[i] as string] = n;
  }
  return out;
}

/** Engine-wide counters: OVPN_STATS plus drops by reason across all peers (deleted ones too). */
export class EngineCounters {
  readonly stats: OvpnStats = newOvpnStats();
  readonly drops = new Float64Array(DROP_REASON_COUNT);

  /** Count one dropped packet, engine-wide and (when known) on its peer. */
  drop(reason: DropReason, peer: PeerCounters | null): void {
    this.drops[reason] = (this.drops[reason] ?? 0) + 1;
    if (peer !== null) peer.drops[reason] = (peer.drops[reason] ?? 0) + 1;
    if (reason === DropReason.rxControlOverflow) this.stats.lostInControlPackets++;
    else if (reason >= DropReason.txNoPeer) this.stats.lostOutDataPackets++;
    else this.stats.lostInDataPackets++;
  }
}
