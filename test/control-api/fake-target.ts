// A small in-memory ControlTarget: records every call, keeps just enough state to answer
// OVPN_ERR_NO_PEER like the engine will, and lets tests emit events and control packets.
import type { ControlTarget } from '../../src/control-api/target.js';
import type {
  CommandArgs,
  ControlEvent,
  ControlPacket,
  OvpnStats,
  PeerStats,
  VersionInfo,
} from '../../src/control-api/schema.js';
import type { SockAddr } from '../../src/transport/addr.js';
import { ControlApiError, ErrorCode } from '../../src/util/errors.js';

export class FakeTarget implements ControlTarget {
  readonly calls: { cmd: string; args: unknown }[] = [];
  readonly written: ControlPacket[] = [];
  private p2pPeer = false;
  private readonly mpPeers = new Set<number>();
  private readonly events = new Set<(e: ControlEvent) => void>();
  private readonly packets = new Set<(p: ControlPacket) => void>();

  emit(e: ControlEvent): void {
    for (const l of this.events) l(e);
  }

  injectControl(p: ControlPacket): void {
    for (const l of this.packets) l(p);
  }

  onEvent(l: (e: ControlEvent) => void): () => void {
    this.events.add(l);
    return () => this.events.delete(l);
  }

  onControlPacket(l: (p: ControlPacket) => void): () => void {
    this.packets.add(l);
    return () => this.packets.delete(l);
  }

  private rec(cmd: string, args: unknown): void {
    this.calls.push({ cmd, args });
  }

  private needPeer(cmd: string): void {
    if (!this.p2pPeer) throw new ControlApiError(ErrorCode.NO_PEER, `${cmd}: no peer; call newPeer first`);
  }

  private needMpPeer(cmd: string, id: number): void {
    if (!this.mpPeers.has(id)) {
      throw new ControlApiError(ErrorCode.NO_PEER, `${cmd}.peerId: no peer with id ${id}`, `${cmd}.peerId`);
    }
  }

  async newPeer(a: CommandArgs<'newPeer'>): Promise<void> {
    this.rec('newPeer', a);
    this.p2pPeer = true;
  }
  async newKey(a: CommandArgs<'newKey'>): Promise<void> {
    this.rec('newKey', a);
  }
  async swapKeys(): Promise<void> {
    this.needPeer('swapKeys');
    this.rec('swapKeys', {});
  }
  async setPeer(a: CommandArgs<'setPeer'>): Promise<void> {
    this.needPeer('setPeer');
    this.rec('setPeer', a);
  }
  async startVpn(): Promise<void> {
    this.needPeer('startVpn');
    this.rec('startVpn', {});
  }
  async delPeer(): Promise<void> {
    this.rec('delPeer', {});
    this.p2pPeer = false;
    this.mpPeers.clear();
  }
  async getStats(): Promise<OvpnStats> {
    this.rec('getStats', {});
    return {
      lostInControlPackets: 0,
      lostOutControlPackets: 0,
      lostInDataPackets: 1,
      lostOutDataPackets: 2,
      receivedDataPackets: 30,
      receivedControlPackets: 4,
      sentControlPackets: 5,
      sentDataPackets: 60,
      transportBytesSent: 7000,
      transportBytesReceived: 8000,
      tunBytesSent: 900,
      tunBytesReceived: 1000,
    };
  }
  async getVersion(): Promise<VersionInfo> {
    return { major: 0, minor: 1, patch: 0 };
  }
  async setMode(a: CommandArgs<'setMode'>): Promise<void> {
    this.rec('setMode', a);
  }
  async mpStartVpn(a: CommandArgs<'mpStartVpn'>): Promise<SockAddr> {
    this.rec('mpStartVpn', a);
    return { address: a.listen.address, port: a.listen.port === 0 ? 40000 : a.listen.port };
  }
  async mpNewPeer(a: CommandArgs<'mpNewPeer'>): Promise<void> {
    this.rec('mpNewPeer', a);
    this.mpPeers.add(a.peerId);
  }
  async mpSetPeer(a: CommandArgs<'mpSetPeer'>): Promise<void> {
    this.needMpPeer('mpSetPeer', a.peerId);
    this.rec('mpSetPeer', a);
  }
  async mpDelPeer(a: CommandArgs<'mpDelPeer'>): Promise<void> {
    this.needMpPeer('mpDelPeer', a.peerId);
    this.mpPeers.delete(a.peerId);
    this.rec('mpDelPeer', a);
  }
  async mpSwapKeys(a: CommandArgs<'mpSwapKeys'>): Promise<void> {
    this.needMpPeer('mpSwapKeys', a.peerId);
    this.rec('mpSwapKeys', a);
  }
  async mpAddIroute(a: CommandArgs<'mpAddIroute'>): Promise<void> {
    this.needMpPeer('mpAddIroute', a.peerId);
    this.rec('mpAddIroute', a);
  }
  async mpDelIroute(a: CommandArgs<'mpDelIroute'>): Promise<void> {
    this.needMpPeer('mpDelIroute', a.peerId);
    this.rec('mpDelIroute', a);
  }
  async getPeerStats(a: CommandArgs<'getPeerStats'>): Promise<PeerStats[]> {
    const ids = a.peerId === -1 ? [...this.mpPeers] : [a.peerId];
    return ids.map((peerId) => ({ peerId, linkRxBytes: 10, linkTxBytes: 20, vpnRxBytes: 5, vpnTxBytes: 15 }));
  }
  async writeControl(a: CommandArgs<'writeControl'>): Promise<void> {
    this.written.push(a.remote ? { data: a.data, remote: a.remote } : { data: a.data });
  }
}
