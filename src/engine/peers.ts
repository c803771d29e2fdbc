// Peer lookup, as ovpn-dco does it:
//   Tx:  P2P -> the one peer; MP -> destination VPN address, then longest-prefix match over
//        iroutes (both live in one trie per family: a client's own address is a /32 or /128).
//   Rx:  P2P -> the one peer; MP -> the DATA_V2 peer id, or the transport address when the id is
//        undefined (DATA_V1, peer-id 0xFFFFFF).
// The MP reverse-path check asks the same tries for the inner source address.

import { PrefixTrie4, PrefixTrie6 } from '../net/prefix-trie.js';
import { IPV6_DST_OFFSET, IPV6_SRC_OFFSET } from '../net/ip.js';
import type { IpInfo } from '../net/ip.js';
import { PEER_ID_UNDEF } from '../protocol/constants.js';
import { ADDR_SIZE } from '../transport/addr.js';
import type { Peer, PeerRoute } from './peer.js';

export type EngineMode = 'p2p' | 'mp';

/** Hex of a 20-byte address record: a Map key for the (slow, rare) lookup by transport address. */
export function addrKey(addrs: Uint8Array, off: number): string {
  let s = '';
  for (let k = 0; k < ADDR_SIZE; k++) s += (addrs[off + k] ?? 0).toString(16).padStart(2, '0');
  return s;
}

export class PeerTable {
  mode: EngineMode = 'p2p';
  /** P2P: the peer (null before newPeer). */
  p2p: Peer | null = null;
  readonly byId = new Map<number, Peer>();
  private readonly byAddr = new Map<string, Peer>();
  readonly routes4 = new PrefixTrie4();
  readonly routes6 = new PrefixTrie6();

  /** Every live peer (P2P: zero or one). */
  all(): Peer[] {
    if (this.mode === 'p2p') return this.p2p === null ? [] : [this.p2p];
    return [...this.byId.values()];
  }

  addMp(peer: Peer): void {
    this.byId.set(peer.id, peer);
    if (peer.hasRemote) this.byAddr.set(addrKey(peer.remote, 0), peer);
    if (peer.hasVpn4) this.addRoute(peer, { v6: false, addr4: peer.vpn4, addr6: null, bits: 32 });
    if (peer.hasVpn6) this.addRoute(peer, { v6: true, addr4: 0, addr6: peer.vpn6, bits: 128 });
  }

  /** Route a prefix to a peer (its own VPN address or an iroute); replaces an equal prefix. */
  addRoute(peer: Peer, r: PeerRoute): void {
    const prev = r.v6
      ? this.routes6.insert(r.addr6!, 0, r.bits, peer.id)
      : this.routes4.insert(r.addr4, r.bits, peer.id);
    if (prev >= 0 && prev !== peer.id) {
      const other = this.byId.get(prev);
      if (other !== undefined) other.routes = other.routes.filter((x) => !sameRoute(x, r));
    }
    if (!peer.routes.some((x) => sameRoute(x, r))) peer.routes.push(r);
  }

  /** Remove a prefix if it routes to `peer`; returns whether it did. */
  deleteRoute(peer: Peer, r: PeerRoute): boolean {
    if (!peer.routes.some((x) => sameRoute(x, r))) return false;
    if (r.v6) this.routes6.delete(r.addr6!, 0, r.bits);
    else this.routes4.delete(r.addr4, r.bits);
    peer.routes = peer.routes.filter((x) => !sameRoute(x, r));
    return true;
  }

  removeMp(peer: Peer): void {
    this.byId.delete(peer.id);
    if (peer.hasRemote && this.byAddr.get(addrKey(peer.remote, 0)) === peer)
      this.byAddr.delete(addrKey(peer.remote, 0));
    for (const r of peer.routes) {
      if (r.v6) this.routes6.delete(r.addr6!, 0, r.bits);
      else this.routes4.delete(r.addr4, r.bits);
    }
    peer.routes = [];
  }

  /** A peer floated: re-key the address map. */
  moveAddr(peer: Peer, addrs: Uint8Array, off: number): void {
    if (peer.hasRemote) this.byAddr.delete(addrKey(peer.remote, 0));
    peer.remote.set(addrs.subarray(off, off + ADDR_SIZE));
    peer.hasRemote = true;
    if (this.mode === 'mp') this.byAddr.set(addrKey(peer.remote, 0), peer);
  }

  forTx(buf: Uint8Array, off: number, info: IpInfo): Peer | null {
    if (this.mode === 'p2p') return this.p2p;
    const id =
      info.version === 4 ? this.routes4.lookup(info.dst4) : this.routes6.lookup(buf, off + IPV6_DST_OFFSET);
    return id < 0 ? null : (this.byId.get(id) ?? null);
  }

  forRx(peerId: number, addrs: Uint8Array, addrOff: number): Peer | null {
    if (this.mode === 'p2p') return this.p2p;
    if (peerId !== PEER_ID_UNDEF) return this.byId.get(peerId) ?? null;
    return this.byAddr.get(addrKey(addrs, addrOff)) ?? null;
  }

  /** MP reverse-path filter: does the inner source address route back to `peer`? */
  sourceBelongsTo(peer: Peer, buf: Uint8Array, off: number, info: IpInfo): boolean {
    if (this.mode === 'p2p') return true;
    const src4 = info.version === 4 ? readU32(buf, off + 12) : 0;
    const id =
      info.version === 4 ? this.routes4.lookup(src4) : this.routes6.lookup(buf, off + IPV6_SRC_OFFSET);
    return id === peer.id;
  }
}

function readU32(buf: Uint8Array, off: number): number {
  return (
    (((buf[off] ?? 0) << 24) |
      ((buf[off + 1] ?? 0) << 16) |
      ((buf[off + 2] ?? 0) << 8) |
      (buf[off + 3] ?? 0)) >>>
    0
  );
}

function sameRoute(a: PeerRoute, b: PeerRoute): boolean {
  if (a.v6 !== b.v6 || a.bits !== b.bits) return false;
  if (!a.v6) return a.addr4 === b.addr4;
  for (let k = 0; k < 16; k++) if (a.addr6![k] !== b.addr6![k]) return false;
  return true;
}
