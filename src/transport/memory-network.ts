// In-memory switch joining any number of endpoints (a multi-peer generalisation of the memory
// pair): a server and several clients, each a Transport of kind 'memory', with seeded
// impairments per directed link or network-wide, restarts at the same address, and NAT rebinding.
//
// Flow of one datagram E → ? (the rest is MemoryTransport's: slots, in-flight cap, completions
// after send returns, delivery in a later setImmediate):
//   1. Destination record: TxBatch.addrs[i], or E's default remote (setRemote) when addrs is null.
//   2. route(): E's small route cache (record → endpoint + link), valid while the network's
//      generation is unchanged; on a miss the network looks the address up (allocates, rare).
//      No live endpoint at that address → completion NO_ROUTE.
//   3. The link wire for (E's current address → destination address) decides impairments; wires
//      are keyed by the address pair and seeded from (network seed, pair), so the outcome does not
//      depend on creation order, and a restarted peer at the same address keeps the link's stream.
//   4. The receiver stages a copy and sees E's address as of the send (after setAddress, the new one).
//
// Topology changes (endpoint created/closed, setAddress, setLink) bump the generation, which
// invalidates every route cache at once.

import {
  ADDR_SIZE,
  addrEqual,
  addrFamily,
  addrFrom,
  decodeAddr,
  encodeAddr,
  formatAddr,
  type SockAddr,
} from './addr.js';
import { MemoryTransport, makeWire, type Impairments, type Wire } from './memory.js';
import { checkCount } from './slots.js';
import { ErrorCode, OvpnError } from '../util/errors.js';

export interface MemoryEndpointOptions {
  rxSlotSize?: number;
  rxSlotCount?: number;
  rxBatchMax?: number;
  maxInFlight?: number;
  /** Default destination (used when TxBatch.addrs is null); also settable with setRemote. */
  remote?: SockAddr;
}

export interface MemoryNetworkOptions extends Omit<MemoryEndpointOptions, 'remote'> {
  /** Seed of every link generator; same seed + same traffic = same outcome. */
  seed?: number;
  /** Impairments of every link without its own setLink() entry. */
  impair?: Impairments;
}

/** Route cache entries per endpoint: a server talking to a handful of clients always hits. */
const ROUTE_CACHE = 8;

/** One endpoint on the switch. Beyond Transport: setRemote, setAddress (float), localAddress. */
export class MemoryNetworkEndpoint extends MemoryTransport {
  private readonly remote = new Uint8Array(ADDR_SIZE);
  private readonly cacheAddr = new Uint8Array(ROUTE_CACHE * ADDR_SIZE);
  private readonly cachePeer: (MemoryTransport | null)[] = new Array<MemoryTransport | null>(
    ROUTE_CACHE,
  ).fill(null);
  private readonly cacheWire: (Wire | null)[] = new Array<Wire | null>(ROUTE_CACHE).fill(null);
  private cacheCount = 0;
  private cacheNext = 0;
  private cacheGen = -1;

  constructor(
    private readonly net: MemoryNetwork,
    opts: MemoryEndpointOptions,
    addr: Uint8Array,
  ) {
    super(opts, addr);
    if (opts.remote) this.setRemote(opts.remote);
  }

  /** Default destination for batches whose addrs is null. */
  setRemote(addr: SockAddr): void {
    encodeAddr(this.remote, 0, addr.address, addr.port);
  }

  /** The address peers currently see as this endpoint's source. */
  localAddress(): SockAddr {
    return decodeAddr(this.localAddr, 0);
  }

  /**
   * NAT rebinding: from now on this endpoint is reached at, and sends from, `addr`. Datagrams to
   * the old address get NO_ROUTE. Throws OVPN_ERR_ADDRESS_IN_USE if a live endpoint has `addr`.
   */
  setAddress(addr: SockAddr): void {
    const rec = addrFrom(addr.address, addr.port);
    this.net.rebind(this, rec);
    this.localAddr.set(rec);
  }

  protected override route(dst: Uint8Array | null, dOff: number): boolean {
    const rec = dst ?? this.remote;
    const off = dst === null ? 0 : dOff;
    if (addrFamily(rec, off) === 0) return false;
    if (this.cacheGen !== this.net.generation) {
      this.cacheCount = 0;
      this.cacheGen = this.net.generation;
    }
    for (let k = 0; k < this.cacheCount; k++) {
      if (addrEqual(this.cacheAddr, k * ADDR_SIZE, rec, off)) {
        this.hopPeer = this.cachePeer[k]!;
        this.hopWire = this.cacheWire[k]!;
        return true;
      }
    }
    return this.routeMiss(rec, off);
  }

  private routeMiss(rec: Uint8Array, off: number): boolean {
    const peer = this.net.lookup(rec, off);
    if (peer === null) return false;
    const wire = this.net.wireFor(this.localAddr, peer.localAddr);
    const k = this.cacheCount < ROUTE_CACHE ? this.cacheCount++ : this.cacheNext++ % ROUTE_CACHE;
    this.cacheAddr.set(rec.subarray(off, off + ADDR_SIZE), k * ADDR_SIZE);
    this.cachePeer[k] = peer;
    this.cacheWire[k] = wire;
    this.hopPeer = peer;
    this.hopWire = wire;
    return true;
  }

  override async close(): Promise<void> {
    if (this.isClosed) return;
    this.net.detach(this);
    await super.close();
  }
}

/** The switch. Create endpoints with endpoint(); configure links with setLink(). */
export class MemoryNetwork {
  /** Bumped on every topology change; route caches compare against it. */
  generation = 0;
  private readonly seed: number;
  private readonly defaults: MemoryNetworkOptions;
  private readonly byAddr = new Map<string, MemoryNetworkEndpoint>();
  private readonly linkImpair = new Map<string, Impairments>();
  private readonly wires = new Map<string, Wire>();

  constructor(opts: MemoryNetworkOptions = {}) {
    this.seed = checkCount('seed', opts.seed ?? 1, 0, 0xffffffff);
    this.defaults = opts;
    makeWire(this.seed, opts.impair, 'impair'); // validates the probabilities now
  }

  /** A new endpoint at `addr`. Throws OVPN_ERR_ADDRESS_IN_USE if a live endpoint has it. */
  endpoint(addr: SockAddr, opts: MemoryEndpointOptions = {}): MemoryNetworkEndpoint {
    const rec = addrFrom(addr.address, addr.port);
    this.claim(rec);
    const ep = new MemoryNetworkEndpoint(this, { ...this.defaults, ...opts }, rec);
    this.byAddr.set(formatAddr(rec), ep);
    this.generation++;
    return ep;
  }

  /**
   * Impairments of the directed link from → to (by address, so they survive restarts and apply to
   * whoever holds the address). Replaces the network-wide default for that link.
   */
  setLink(from: SockAddr, to: SockAddr, imp: Impairments): void {
    const key = linkKey(addrFrom(from.address, from.port), addrFrom(to.address, to.port));
    makeWire(0, imp, `link ${key}`);
    this.linkImpair.set(key, imp);
    this.wires.delete(key);
    this.generation++;
  }

  /** Number of live endpoints. */
  get size(): number {
    return this.byAddr.size;
  }

  /** The live endpoint at rec[off..off+20), or null. Allocates (route-cache misses only). */
  lookup(rec: Uint8Array, off: number): MemoryNetworkEndpoint | null {
    return this.byAddr.get(formatAddr(rec, off)) ?? null;
  }

  /** The wire of the directed link between two addresses, created (seeded) on first use. */
  wireFor(from: Uint8Array, to: Uint8Array): Wire {
    const key = linkKey(from, to);
    let w = this.wires.get(key);
    if (w === undefined) {
      w = makeWire(mixSeed(this.seed, key), this.linkImpair.get(key) ?? this.defaults.impair, `link ${key}`);
      this.wires.set(key, w);
    }
    return w;
  }

  /** Move `ep` to `rec` (setAddress). */
  rebind(ep: MemoryNetworkEndpoint, rec: Uint8Array): void {
    if (ep.isClosed) return;
    if (addrEqual(ep.localAddr, 0, rec, 0)) return;
    this.claim(rec);
    this.byAddr.delete(formatAddr(ep.localAddr));
    this.byAddr.set(formatAddr(rec), ep);
    this.generation++;
  }

  /** Forget a closing endpoint; its address is free for a new one (a restarted peer). */
  detach(ep: MemoryNetworkEndpoint): void {
    const key = formatAddr(ep.localAddr);
    if (this.byAddr.get(key) === ep) this.byAddr.delete(key);
    this.generation++;
  }

  private claim(rec: Uint8Array): void {
    const key = formatAddr(rec);
    if (this.byAddr.has(key)) {
      throw new OvpnError(
        ErrorCode.ADDRESS_IN_USE,
        `address: ${key} is already taken by a live endpoint; close it first or pick another address`,
      );
    }
  }
}

/** A simulated switch; see MemoryNetwork. */
export function createMemoryNetwork(options: MemoryNetworkOptions = {}): MemoryNetwork {
  return new MemoryNetwork(options);
}

function linkKey(from: Uint8Array, to: Uint8Array): string {
  return `${formatAddr(from)}>${formatAddr(to)}`;
}

/** FNV-1a over the link key mixed with the network seed: one independent stream per link. */
function mixSeed(seed: number, key: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
