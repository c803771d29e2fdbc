// Keepalive and expiry, driven by one periodic tick (ovpn-dco runs a 1 s timer per peer):
//   - nothing sent for keepaliveInterval  -> send a keepalive ping (sealed like data);
//   - nothing authenticated received for keepaliveTimeout -> the peer expired (event, once).
// Either may be set alone (0 = off), unlike Linux ovpn which requires both.

import type { DelPeerReason } from '../control-api/schema.js';
import type { EngineCore } from './core.js';
import type { Internal } from './internal.js';
import type { Peer } from './peer.js';

export class Timers {
  constructor(
    private readonly core: EngineCore,
    private readonly internal: Internal,
    private readonly onExpire: (peer: Peer, reason: DelPeerReason) => void,
  ) {}

  tick(): void {
    const now = this.core.clock.now();
    for (const peer of this.core.peers.all()) {
      if (peer.deleted) continue;
      if (peer.keepaliveIntervalMs > 0 && now - peer.lastTxMs >= peer.keepaliveIntervalMs) {
        this.internal.sendPing(peer);
      }
      if (peer.keepaliveTimeoutMs > 0 && !peer.expired && now - peer.lastRxMs >= peer.keepaliveTimeoutMs) {
        peer.expired = true;
        this.onExpire(peer, 'expired');
      }
    }
  }
}
