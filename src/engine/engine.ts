// The engine: ovpn-dco in TypeScript. A NetAdapterCx client driver (one Tx and one Rx queue)
// whose data path is the OpenVPN data channel, configured through the control API.
//
//   OS side (TUN / memory host) ──Tx ring──> TxPath ──seal──> transport ──> peer
//   OS side <──Rx ring (zero-copy)── RxPath <──open in place── transport <── peer
//   control plane ──ControlApi──> Engine (this file: peers, keys, timers, events)
//
// Life cycle: Engine.create() starts the adapter with its OS side at once (the virtual NIC
// exists before any peer, as ovpn-dco's does). newPeer / mpStartVpn open the transport,
// newKey installs keys, startVpn marks the link up; close() empties the queues (cancel, drain,
// stop) and closes the transport.

import { NetAdapter } from '../framework/adapter.js';
import {
  linkStateInit,
  linkStateInitDisconnected,
  rxCapabilitiesInitDriverManaged,
  txCapabilitiesInit,
} from '../framework/capabilities.js';
import type { NetAdapterOptions } from '../framework/options.js';
import type { OsHost } from '../os/host.js';
import { isCipherName } from '../crypto/aead.js';
import type { AeadImpl } from '../crypto/aead.js';
import { CompressMode } from '../protocol/data/compress.js';
import { RealClock } from '../util/clock.js';
import type { Clock, ClockTimer } from '../util/clock.js';
import { ControlApiError, ErrorCode } from '../util/errors.js';
import { ControlApi } from '../control-api/target.js';
import type { ControlTarget } from '../control-api/target.js';
import type {
  CommandArgs,
  ControlEvent,
  ControlPacket,
  DelPeerReason,
  OvpnStats,
  PeerStats,
  VersionInfo,
} from '../control-api/schema.js';
import { ADDR_SIZE, addrFrom, decodeAddr, encodeAddr } from '../transport/addr.js';
import type { SockAddr } from '../transport/addr.js';
import type { Transport } from '../transport/types.js';
import { VERSION } from '../index.js';
import {
  HANDLE_SLOT_BITS,
  HANDLE_SLOT_MASK,
  RX_SLOT_COUNT,
  RX_SLOT_SIZE,
  TX_BACKFILL,
  TX_TAILROOM,
} from './constants.js';
import type { EngineCore } from './core.js';
import { Internal } from './internal.js';
import { KeySlot } from './key-slot.js';
import { Peer } from './peer.js';
import { PeerTable } from './peers.js';
import type { EngineMode } from './peers.js';
import { RxPath } from './rx-path.js';
import { EngineCounters, dropsRecord } from './stats.js';
import type { PeerStatsSnapshot } from './stats.js';
import { TxPath } from './tx-path.js';
import { Timers } from './timers.js';
import { defaultTransportFactory } from './transport-factory.js';

/** What newPeer / mpStartVpn ask for when no transport object is given. */
export interface TransportRequest {
  proto: 'udp' | 'tcp';
  local?: SockAddr;
  remote?: SockAddr;
  /** MP server listen (UDP). */
  listen?: boolean;
}
export type TransportFactory = (req: TransportRequest) => Promise<{ transport: Transport; local: SockAddr }>;

export interface EngineOptions {
  /** The OS side: a TUN host, or a MemoryHost in tests. */
  host: OsHost;
  clock?: Clock;
  /** Run the NetAdapterCx verifier around every callback (tests). Default false. */
  verifier?: boolean;
  aeadImpl?: AeadImpl;
  /** OpenVPN --replay-window n [t]. Defaults 64 and 15 s. */
  replayWindow?: number;
  replayTimeSeconds?: number;
  /** Stub compression framing, when configured or pushed. Default none. */
  compress?: CompressMode;
  /** Tunnel MTU (the adapter's link-layer MTU). Default 1500. */
  mtu?: number;
  /** How transports are opened (default: defaultTransportFactory(): native UDP or dgram, net). */
  transportFactory?: TransportFactory;
  rxSlotSize?: number;
  rxSlotCount?: number;
  /** Framework options (ring sizes, budgets, scheduling). */
  adapter?: Partial<Omit<NetAdapterOptions, 'datapathCallbacks'>>;
}

export class Engine implements ControlTarget {
  readonly adapter: NetAdapter;
  /** The validated entry point (mode rules); library callers and the socket server use it. */
  readonly api: ControlApi;
  readonly counters = new EngineCounters();
  readonly core: EngineCore;
  readonly tx: TxPath;
  readonly rx: RxPath;
  private readonly peers = new PeerTable();
  private readonly internal: Internal;
  private readonly timers: Timers;
  private readonly clock: Clock;
  private readonly options: EngineOptions;
  private readonly eventListeners = new Set<(e: ControlEvent) => void>();
  private readonly controlListeners = new Set<(p: ControlPacket) => void>();
  private readonly controlQueue: ControlPacket[] = [];
  /** Transports by index (return-context handles carry the index); null once closed. */
  private readonly transports: (Transport | null)[] = [];
  private readonly slabIds: number[] = [];
  private tickTimer: ClockTimer | null = null;
  private closed = false;

  private constructor(options: EngineOptions) {
    this.options = options;
    this.clock = options.clock ?? new RealClock();
    this.core = {
      clock: this.clock,
      counters: this.counters,
      peers: this.peers,
      transport: null,
      transportIndex: 0,
      compress: options.compress ?? CompressMode.NONE,
      emit: (e) => this.emit(e),
    };
    this.tx = new TxPath(this.core);
    this.rx = new RxPath(this.core);
    this.internal = new Internal(this.core);
    this.tx.onInternalComplete = (slot, status) => this.internal.complete(slot, status);
    this.rx.onControl = (data, addrs, off) => this.receivedControl(data, addrs, off);
    this.timers = new Timers(this.core, this.internal, (peer, reason) => this.expire(peer, reason));
    this.adapter = this.makeAdapter(options);
    this.api = new ControlApi(this);
  }

  /** Create the engine and start its adapter on `options.host`. */
  static async create(options: EngineOptions): Promise<Engine> {
    const e = new Engine(options);
    await e.adapter.start(options.host);
    e.tickTimer = e.clock.setInterval(() => e.timers.tick(), 1000);
    return e;
  }

  private makeAdapter(o: EngineOptions): NetAdapter {
    const adapter = new NetAdapter({
      ...(o.adapter ?? {}),
      verifier: o.verifier ?? o.adapter?.verifier ?? false,
      datapathCallbacks: {
        createTxQueue: (_a, init) => {
          const q = init.create({
            advance: (tq) => this.tx.advance(tq),
            setNotificationEnabled: (_q, en) => this.tx.setNotificationEnabled(en),
            cancel: (tq) => this.tx.cancel(tq),
            start: () => this.tx.start(),
          });
          this.tx.attach(q);
        },
        createRxQueue: (_a, init) => {
          const q = init.create({
            advance: (rq) => this.rx.advance(rq),
            setNotificationEnabled: (_q, en) => this.rx.setNotificationEnabled(en),
            cancel: (rq) => this.rx.cancel(rq, (h) => this.returnRxBuffer(h)),
            start: () => this.rx.start(),
          });
          this.rx.attach(q);
        },
      },
    });
    const tx = txCapabilitiesInit(1);
    tx.payloadBackfill = TX_BACKFILL;
    tx.txTailroom = TX_TAILROOM;
    tx.maximumNumberOfFragments = 1; // the framework bounces multi-fragment frames into one buffer
    const slotSize = o.rxSlotSize ?? RX_SLOT_SIZE;
    const rx = rxCapabilitiesInitDriverManaged((_a, handle) => this.returnRxBuffer(handle), slotSize, 1);
    adapter.setDataPathCapabilities(tx, rx);
    adapter.setLinkLayerMtuSize(o.mtu ?? 1500);
    adapter.setLinkState(linkStateInitDisconnected());
    adapter.setOffloadCapabilities({ rxChecksum: true });
    return adapter;
  }

  // ---- transports ---------------------------------------------------------------------------

  private async openTransport(req: TransportRequest): Promise<{ transport: Transport; local: SockAddr }> {
    const factory =
      this.options.transportFactory ??
      defaultTransportFactory({
        rxSlotSize: this.options.rxSlotSize ?? RX_SLOT_SIZE,
        rxSlotCount: this.options.rxSlotCount ?? RX_SLOT_COUNT,
      });
    return factory(req);
  }

  /** Make `t` the active transport: register its receive slab and hook its callbacks. */
  private useTransport(t: Transport): void {
    if (t.rxSlotCount > HANDLE_SLOT_MASK + 1) {
      throw new ControlApiError(
        ErrorCode.INVALID_FIELD,
        `transport: ${t.rxSlotCount} receive slots, at most ${HANDLE_SLOT_MASK + 1}`,
        'transport',
      );
    }
    const index = this.transports.length;
    const slabId = this.adapter.registerSlab(t.rxSlab);
    this.transports.push(t);
    this.slabIds.push(slabId);
    // One entry per datagram held: a slot holds one datagram, or several with UDP GRO (segments
    // of one super-datagram share a slot), so size by slab bytes too (segments >= 256 bytes).
    this.rx.reserve(Math.max(t.rxSlotCount, Math.ceil(t.rxSlab.length / 256)));
    t.onReceive((batch) => this.rx.onReceive(t, index, slabId, batch));
    t.onSendComplete((tokens, count, status) => this.tx.complete(tokens, count, status));
    t.onWritable(() => this.tx.notify());
    t.onError((err) => this.transportError(err.code, err.remote));
    this.core.transport = t;
    this.core.transportIndex = index;
  }

  private async closeTransport(): Promise<void> {
    const t = this.core.transport;
    if (t === null) return;
    this.core.transport = null;
    const index = this.transports.indexOf(t);
    await t.close();
    if (index >= 0) this.transports[index] = null; // Rx buffers still lent out are not returned to it
  }

  /** EvtAdapterReturnRxBuffer: the OS is done with a fragment; release its slot (WskRelease). */
  private returnRxBuffer(handle: number): void {
    const t = this.transports[handle >>> HANDLE_SLOT_BITS];
    if (t !== null && t !== undefined) t.release(handle & HANDLE_SLOT_MASK);
  }

  private transportError(code: string, remote: Uint8Array | null): void {
    if (code !== ErrorCode.TRANSPORT_DISCONNECT) return; // counted by the transport
    if (this.peers.mode === 'p2p') {
      const p = this.peers.p2p;
      if (p !== null) this.emit({ type: 'peerDeleted', peerId: p.id, reason: 'transport_disconnect' });
      return;
    }
    if (remote === null) return;
    for (const p of this.peers.all()) {
      if (p.hasRemote && equalAddr(p.remote, remote)) this.deletePeer(p, 'transport_disconnect');
    }
  }

  // ---- events and the control-packet channel ------------------------------------------------

  private emit(e: ControlEvent): void {
    for (const l of this.eventListeners) l(e);
  }

  onEvent(listener: (event: ControlEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  onControlPacket(listener: (packet: ControlPacket) => void): () => void {
    this.controlListeners.add(listener);
    const queued = this.controlQueue.splice(0);
    for (const p of queued) listener(p);
    return () => this.controlListeners.delete(listener);
  }

  private receivedControl(data: Uint8Array, addrs: Uint8Array, off: number): void {
    const pkt: ControlPacket = this.peers.mode === 'mp' ? { data, remote: decodeAddr(addrs, off) } : { data };
    if (this.controlListeners.size === 0) {
      if (this.controlQueue.length >= 256) {
        this.counters.stats.lostInControlPackets++;
        return;
      }
      this.controlQueue.push(pkt);
      return;
    }
    for (const l of this.controlListeners) l(pkt);
  }

  // ---- peers --------------------------------------------------------------------------------

  private requireP2pPeer(cmd: string): Peer {
    const p = this.peers.p2p;
    if (p === null) throw new ControlApiError(ErrorCode.NO_PEER, `${cmd}: no peer; call newPeer first`);
    return p;
  }

  private requireMpPeer(cmd: string, id: number): Peer {
    const p = this.peers.byId.get(id);
    if (p === undefined)
      throw new ControlApiError(
        ErrorCode.NO_PEER,
        `${cmd}: no peer with id ${id}; create it with mpNewPeer`,
        `${cmd}.peerId`,
      );
    return p;
  }

  private deletePeer(p: Peer, reason: DelPeerReason): void {
    if (p.deleted) return;
    p.deleted = true;
    if (this.peers.mode === 'p2p') this.peers.p2p = null;
    else this.peers.removeMp(p);
    p.freeKeys();
    this.emit({ type: 'peerDeleted', peerId: p.id, reason });
  }

  /** Keepalive timeout (timers.ts): P2P reports it (userspace decides); MP deletes the peer. */
  private expire(p: Peer, reason: DelPeerReason): void {
    if (this.peers.mode === 'mp') this.deletePeer(p, reason);
    else this.emit({ type: 'peerDeleted', peerId: p.id, reason });
  }

  private makeKey(args: CommandArgs<'newKey'>): KeySlot {
    if (args.cipher === 'NONE' || !isCipherName(args.cipher)) {
      throw new ControlApiError(
        ErrorCode.INVALID_FIELD,
        `newKey.cipher: ${args.cipher} is not supported by ovpn-ts (as ovpn-dco refuses cipher none); use an AEAD cipher`,
        'newKey.cipher',
      );
    }
    return new KeySlot(
      args.cipher,
      args.keyId,
      { key: args.encrypt.key, nonceTail: args.encrypt.nonceTail },
      { key: args.decrypt.key, nonceTail: args.decrypt.nonceTail },
      {
        ...(this.options.aeadImpl ? { aeadImpl: this.options.aeadImpl } : {}),
        ...(this.options.replayWindow !== undefined ? { replayWindow: this.options.replayWindow } : {}),
        ...(this.options.replayTimeSeconds !== undefined
          ? { replayTimeSeconds: this.options.replayTimeSeconds }
          : {}),
      },
    );
  }

  private applyKeepalive(
    p: Peer,
    a: { keepaliveInterval: number; keepaliveTimeout: number; mss: number },
  ): void {
    if (a.keepaliveInterval >= 0) p.keepaliveIntervalMs = a.keepaliveInterval * 1000;
    if (a.keepaliveTimeout >= 0) p.keepaliveTimeoutMs = a.keepaliveTimeout * 1000;
    if (a.mss >= 0) p.mss = a.mss;
    p.expired = false;
    p.lastRxMs = this.clock.now();
  }

  // ---- ControlTarget: P2P -------------------------------------------------------------------

  async newPeer(args: CommandArgs<'newPeer'>): Promise<void> {
    if (this.peers.p2p !== null || this.core.transport !== null) {
      throw new ControlApiError(ErrorCode.ALREADY_INITIALIZED, 'newPeer: a peer exists; call delPeer first');
    }
    let t: Transport;
    if (args.transport !== undefined) t = args.transport;
    else
      t = (
        await this.openTransport({
          proto: args.proto!,
          ...(args.local ? { local: args.local } : {}),
          ...(args.remote ? { remote: args.remote } : {}),
        })
      ).transport;
    this.useTransport(t);
    const p = new Peer(0, this.clock.now());
    if (args.remote !== undefined) {
      encodeAddr(p.remote, 0, args.remote.address, args.remote.port);
      p.hasRemote = true;
    }
    this.peers.mode = 'p2p';
    this.peers.p2p = p;
  }

  async newKey(args: CommandArgs<'newKey'>): Promise<void> {
    const p =
      this.peers.mode === 'mp' ? this.requireMpPeer('newKey', args.peerId!) : this.requireP2pPeer('newKey');
    const key = this.makeKey(args);
    if (this.peers.mode === 'p2p' && args.peerId !== undefined) p.txPeerId = args.peerId;
    if (this.peers.mode === 'mp') p.txPeerId = p.id;
    p.installKey(args.slot, key);
  }

  async swapKeys(): Promise<void> {
    this.swap(this.requireP2pPeer('swapKeys'));
  }

  private swap(p: Peer): void {
    p.swapKeys();
    if (p.primary !== null) this.emit({ type: 'keySwapped', peerId: p.id, keyId: p.primary.keyId });
  }

  async setPeer(args: CommandArgs<'setPeer'>): Promise<void> {
    this.applyKeepalive(this.requireP2pPeer('setPeer'), args);
  }

  async startVpn(): Promise<void> {
    this.requireP2pPeer('startVpn');
    this.adapter.setLinkState(linkStateInit(1_000_000_000, 'connected', 'full'));
  }

  async delPeer(): Promise<void> {
    for (const p of this.peers.all()) this.deletePeer(p, 'userspace');
    this.controlQueue.length = 0;
    this.adapter.setLinkState(linkStateInitDisconnected());
    await this.closeTransport();
  }

  async getStats(): Promise<OvpnStats> {
    return { ...this.counters.stats };
  }

  async getVersion(): Promise<VersionInfo> {
    return { ...VERSION };
  }

  async setMode(args: CommandArgs<'setMode'>): Promise<void> {
    this.peers.mode = args.mode as EngineMode;
  }

  // ---- ControlTarget: MP --------------------------------------------------------------------

  async mpStartVpn(args: CommandArgs<'mpStartVpn'>): Promise<SockAddr> {
    if (this.core.transport !== null)
      throw new ControlApiError(
        ErrorCode.ALREADY_INITIALIZED,
        'mpStartVpn: already listening; call delPeer to stop',
      );
    const { transport, local } = await this.openTransport({ proto: 'udp', local: args.listen, listen: true });
    this.useTransport(transport);
    this.adapter.setLinkState(linkStateInit(1_000_000_000, 'connected', 'full'));
    return local;
  }

  async mpNewPeer(args: CommandArgs<'mpNewPeer'>): Promise<void> {
    if (this.peers.byId.has(args.peerId)) {
      throw new ControlApiError(
        ErrorCode.ALREADY_INITIALIZED,
        `mpNewPeer: peer ${args.peerId} exists; mpDelPeer it first`,
        'mpNewPeer.peerId',
      );
    }
    const p = new Peer(args.peerId, this.clock.now());
    p.remote.set(addrFrom(args.remote.address, args.remote.port));
    p.hasRemote = true;
    if (args.vpnAddr4 !== undefined) {
      p.vpn4 = ipv4ToU32(args.vpnAddr4);
      p.hasVpn4 = true;
    }
    if (args.vpnAddr6 !== undefined) {
      p.vpn6.set(ipv6Bytes(args.vpnAddr6));
      p.hasVpn6 = true;
    }
    p.txPeerId = args.peerId;
    this.peers.addMp(p);
  }

  async mpSetPeer(args: CommandArgs<'mpSetPeer'>): Promise<void> {
    this.applyKeepalive(this.requireMpPeer('mpSetPeer', args.peerId), args);
  }

  async mpDelPeer(args: CommandArgs<'mpDelPeer'>): Promise<void> {
    this.deletePeer(this.requireMpPeer('mpDelPeer', args.peerId), 'userspace');
  }

  async mpSwapKeys(args: CommandArgs<'mpSwapKeys'>): Promise<void> {
    this.swap(this.requireMpPeer('mpSwapKeys', args.peerId));
  }

  async mpAddIroute(args: CommandArgs<'mpAddIroute'>): Promise<void> {
    const p = this.requireMpPeer('mpAddIroute', args.peerId);
    this.peers.addRoute(p, routeOf(args.addr, args.netbits));
  }

  async mpDelIroute(args: CommandArgs<'mpDelIroute'>): Promise<void> {
    const p = this.requireMpPeer('mpDelIroute', args.peerId);
    if (!this.peers.deleteRoute(p, routeOf(args.addr, args.netbits))) {
      throw new ControlApiError(
        ErrorCode.INVALID_FIELD,
        `mpDelIroute: ${args.addr}/${args.netbits} is not routed to peer ${args.peerId}`,
        'mpDelIroute.addr',
      );
    }
  }

  async getPeerStats(args: CommandArgs<'getPeerStats'>): Promise<PeerStats[]> {
    const list = args.peerId === -1 ? this.peers.all() : this.peers.all().filter((p) => p.id === args.peerId);
    if (args.peerId !== -1 && list.length === 0) {
      throw new ControlApiError(
        ErrorCode.NO_PEER,
        `getPeerStats: no peer with id ${args.peerId}`,
        'getPeerStats.peerId',
      );
    }
    return list.map((p) => ({ peerId: p.id, ...p.counters.snapshot() }));
  }

  async writeControl(args: CommandArgs<'writeControl'>): Promise<void> {
    if (this.core.transport === null)
      throw new ControlApiError(
        ErrorCode.NOT_CONNECTED,
        'writeControl: no transport; call newPeer (or mpStartVpn) first',
      );
    let addr: Uint8Array | null = null;
    if (args.remote !== undefined) addr = addrFrom(args.remote.address, args.remote.port);
    else if (this.peers.p2p?.hasRemote) addr = this.peers.p2p.remote;
    if (!this.internal.sendControl(args.data, addr)) {
      throw new ControlApiError(
        ErrorCode.BUSY,
        'writeControl: too many control packets in flight; retry shortly',
      );
    }
  }

  // ---- engine-level helpers ------------------------------------------------------------------

  /** Per-peer counters with drop reasons (more than GET_PEER_STATS carries). */
  peerDetails(): (PeerStatsSnapshot & { peerId: number })[] {
    return this.peers.all().map((p) => ({ peerId: p.id, ...p.counters.snapshot() }));
  }

  /** Engine-wide drops by reason (non-zero only). */
  drops(): Record<string, number> {
    return dropsRecord(this.counters.drops);
  }

  /** Send an OCC EXIT to every peer (OpenVPN's explicit-exit-notify inside the data channel). */
  sendExitNotify(): number {
    let n = 0;
    for (const p of this.peers.all()) if (this.internal.sendOccExit(p)) n++;
    return n;
  }

  setCompress(mode: CompressMode): void {
    this.core.compress = mode;
  }

  /** Stop: empty the queues (cancel, drain, stop), close the transport, free keys. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.tickTimer !== null) this.clock.clear(this.tickTimer);
    const t = this.core.transport;
    // Close the transport first: in-flight Tx datagrams complete (ABORTED) so the Tx drain ends.
    if (t !== null) await this.closeTransport();
    await this.adapter.stop();
    for (const p of this.peers.all()) p.freeKeys();
  }
}

function equalAddr(a: Uint8Array, b: Uint8Array): boolean {
  for (let k = 0; k < ADDR_SIZE; k++) if (a[k] !== b[k]) return false;
  return true;
}

function ipv4ToU32(s: string): number {
  const parts = s.split('.').map(Number);
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

function ipv6Bytes(s: string): Uint8Array {
  const rec = addrFrom(s, 0);
  return rec.subarray(4, 20);
}

function routeOf(
  addr: string,
  bits: number,
): { v6: boolean; addr4: number; addr6: Uint8Array | null; bits: number } {
  return addr.includes(':')
    ? { v6: true, addr4: 0, addr6: Uint8Array.from(ipv6Bytes(addr)), bits }
    : { v6: false, addr4: ipv4ToU32(addr), addr6: null, bits };
}
