// State shared by the engine's Tx path, Rx path and timers (one engine = one adapter).

import type { Clock } from '../util/clock.js';
import type { CompressMode } from '../protocol/data/compress.js';
import type { Transport } from '../transport/types.js';
import type { ControlEvent } from '../control-api/schema.js';
import type { EngineCounters } from './stats.js';
import type { PeerTable } from './peers.js';

export interface EngineCore {
  readonly clock: Clock;
  readonly counters: EngineCounters;
  readonly peers: PeerTable;
  /** The socket (P2P: the peer's; MP: the server's), or null before newPeer / mpStartVpn. */
  transport: Transport | null;
  /** Index of `transport` in the engine's transport table (return-context handles carry it). */
  transportIndex: number;
  /** Stub compression framing on the data channel (none unless configured or pushed). */
  compress: CompressMode;
  emit(event: ControlEvent): void;
}
