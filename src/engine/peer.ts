// A peer: its transport endpoint, VPN addresses, key slots, keepalive state and counters.

import { ADDR_SIZE } from '../transport/addr.js';
import { PEER_ID_UNDEF } from '../protocol/constants.js';
import type { KeySlot } from './key-slot.js';
import { PeerCounters } from './stats.js';

/** A prefix routed to a peer (its VPN address as /32 or /128, or an iroute). */
export interface PeerRoute {
  v6: boolean;
  addr4: number;
  addr6: Uint8Array | null;
  bits: number;
}

export class Peer {
  /** Transport address (20-byte record, see transport/addr.ts); all zero = the default remote. */
  readonly remote = new Uint8Array(ADDR_SIZE);
  hasRemote = false;
  /** VPN IPv4 address as u32, when known (MP Tx lookup and reverse-path check). */
  vpn4 = 0;
  hasVpn4 = false;
  readonly vpn6 = new Uint8Array(16);
  hasVpn6 = false;
  primary: KeySlot | null = null;
  secondary: KeySlot | null = null;
  /** Peer id sent in DATA_V2 headers; PEER_ID_UNDEF = send DATA_V1 (P2P before peer-id is pushed). */
  txPeerId = PEER_ID_UNDEF;
  keepaliveIntervalMs = 0;
  keepaliveTimeoutMs = 0;
  /** TCP MSS clamp for SYNs in both directions; 0 = off. */
  mss = 0;
  lastTxMs: number;
  lastRxMs: number;
  /** Set when the keepalive timeout fired (P2P keeps the peer until userspace deletes it). */
  expired = false;
  deleted = false;
  readonly counters = new PeerCounters();
  /** Prefixes routed to this peer (MP), removed with it. */
  routes: PeerRoute[] = [];

  constructor(
    readonly id: number,
    nowMs: number,
  ) {
    this.lastTxMs = nowMs;
    this.lastRxMs = nowMs;
  }

  /** The slot holding `keyId` (primary first), or null. */
  keyForRx(keyId: number): KeySlot | null {
    const p = this.primary;
    if (p !== null && p.keyId === keyId) return p;
    const s = this.secondary;
    if (s !== null && s.keyId === keyId) return s;
    return null;
  }

  swapKeys(): void {
    const p = this.primary;
    this.primary = this.secondary;
    this.secondary = p;
  }

  /** Install a key into a slot, freeing what it replaces. */
  installKey(slot: 'primary' | 'secondary', key: KeySlot): void {
    const old = slot === 'primary' ? this.primary : this.secondary;
    if (slot === 'primary') this.primary = key;
    else this.secondary = key;
    old?.free();
  }

  freeKeys(): void {
    this.primary?.free();
    this.secondary?.free();
    this.primary = null;
    this.secondary = null;
  }
}
