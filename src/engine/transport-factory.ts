// How the engine opens a transport when newPeer / mpStartVpn give addresses instead of one:
//
//   udp (P2P)       -> native batched UDP (recvmmsg/sendmmsg, UDP_SEGMENT) when the addon loads,
//                      else dgram;
//                      bound to `local` (default: the wildcard of the remote's family, port 0)
//   udp listen (MP) -> the same, bound to the listen address
//   tcp + remote    -> TCP client (createTcpClient), optionally from `local`
//   tcp listen      -> a P2P TCP listener on `local` (one connection; see TcpP2pListener)
//
// The P2P engine sends with `addrs === null` ("the default remote"). A TCP server transport routes
// only by address, so TcpP2pListener answers the connection the last packet came from.

import { ADDR_SIZE, type SockAddr } from '../transport/addr.js';
import { createNativeUdpTransport } from '../transport/native-udp.js';
import { createTcpClient, createTcpServer, type TcpServerOptions } from '../transport/tcp.js';
import type {
  ReceiveHandler,
  RxBatch,
  SendCompleteHandler,
  Transport,
  TransportCounters,
  TxBatch,
} from '../transport/types.js';
import { createUdpTransport } from '../transport/udp.js';
import { loadNative } from '../native/index.js';
import { ControlApiError, ErrorCode, type TransportError } from '../util/errors.js';
import type { TransportFactory, TransportRequest } from './engine.js';
import { RX_SLOT_COUNT, RX_SLOT_SIZE } from './constants.js';

export interface DefaultTransportOptions {
  /** Receive slot size/count of every transport opened (engine defaults when absent). */
  rxSlotSize?: number;
  rxSlotCount?: number;
  /** false: always use Node dgram for UDP, even when the addon loads. Default true. */
  native?: boolean;
  /**
   * Native UDP: UDP_SEGMENT sends (default true; the transport turns it off by itself when the
   * kernel or path refuses). A run of equal-size datagrams (a bulk TCP stream through the tunnel)
   * crosses the sender's UDP/IP stack once instead of once per datagram.
   */
  gso?: boolean;
  /** Socket buffer sizes for UDP (default DEFAULT_UDP_SOCKET_BUFFER; capped at rmem_max/wmem_max). */
  recvBufferSize?: number;
  sendBufferSize?: number;
}

type Opened = { transport: Transport; local: SockAddr };

/**
 * Default UDP SO_RCVBUF/SO_SNDBUF request. The kernel default (rmem_default, 208 KiB here) holds
 * fewer than 100 full-size datagrams, less than one sendmmsg batch of the peer: measured through
 * a TUN tunnel (bench/tunnel.ts), 14% of the datagrams of a TCP stream were dropped as
 * UdpRcvbufErrors. The kernel caps the request at rmem_max/wmem_max (then doubles it).
 */
export const DEFAULT_UDP_SOCKET_BUFFER = 4 << 20;

/** The engine's default TransportFactory (see the table at the top of this file). */
export function defaultTransportFactory(opts: DefaultTransportOptions = {}): TransportFactory {
  const slots = {
    // The engine's defaults, as documented. Without them native UDP used its own 512 slots, which
    // a TCP stream through the tunnel overruns: 17-20k retransmits per run instead of 0.4-1k.
    rxSlotSize: opts.rxSlotSize ?? RX_SLOT_SIZE,
    rxSlotCount: opts.rxSlotCount ?? RX_SLOT_COUNT,
  };
  return async (req: TransportRequest): Promise<Opened> => {
    if (req.proto === 'tcp') return openTcp(req, slots);
    const family6 = (req.remote ?? req.local)?.address.includes(':') === true;
    const bind = req.local ?? { address: family6 ? '::' : '0.0.0.0', port: 0 };
    const udp = {
      bind,
      ...(req.remote && !req.listen ? { remote: req.remote } : {}),
      recvBufferSize: opts.recvBufferSize ?? DEFAULT_UDP_SOCKET_BUFFER,
      sendBufferSize: opts.sendBufferSize ?? DEFAULT_UDP_SOCKET_BUFFER,
      ...slots,
    };
    if (opts.native !== false && loadNative() !== null) {
      const t = createNativeUdpTransport({ ...udp, gso: opts.gso ?? true });
      return { transport: t, local: t.localAddress() };
    }
    const t = await createUdpTransport(udp);
    return { transport: t, local: t.localAddress() };
  };
}

async function openTcp(
  req: TransportRequest,
  slots: { rxSlotSize?: number; rxSlotCount?: number },
): Promise<Opened> {
  if (req.listen === true) {
    if (req.local === undefined)
      throw new ControlApiError(ErrorCode.INVALID_FIELD, 'tcp listen: a local address is required', 'local');
    const t = await createTcpP2pListener({ listen: req.local, ...slots });
    return { transport: t, local: t.localAddress() ?? req.local };
  }
  if (req.remote === undefined)
    throw new ControlApiError(ErrorCode.INVALID_FIELD, 'tcp: a remote address is required', 'remote');
  const t = await createTcpClient({
    remote: req.remote,
    ...(req.local ? { local: req.local } : {}),
    ...slots,
  });
  return { transport: t, local: t.localAddress() ?? { address: '0.0.0.0', port: 0 } };
}

/** Listen on `opts.listen` and serve one P2P peer over TCP (OpenVPN's proto tcp-server, P2P). */
export async function createTcpP2pListener(opts: TcpServerOptions): Promise<TcpP2pListener> {
  return new TcpP2pListener(await createTcpServer({ maxConnections: 1, ...opts }));
}

/**
 * A TCP server transport for a P2P engine: sends with `addrs === null` go to the connection the
 * latest packet arrived from (copied into a reused address array, no per-packet allocation).
 * Before the first packet there is no peer to answer: such sends complete NO_ROUTE.
 */
export class TcpP2pListener implements Transport {
  readonly kind = 'tcp' as const;
  private readonly peer = new Uint8Array(ADDR_SIZE);
  private known = false;
  private addrs = new Uint8Array(0);

  constructor(private readonly inner: Transport & { localAddress(): SockAddr | null }) {}

  get rxSlab(): Uint8Array {
    return this.inner.rxSlab;
  }
  get rxSlotSize(): number {
    return this.inner.rxSlotSize;
  }
  get rxSlotCount(): number {
    return this.inner.rxSlotCount;
  }
  get txHeadroom(): number {
    return this.inner.txHeadroom;
  }
  get maxDatagram(): number {
    return this.inner.maxDatagram;
  }
  get maxInFlight(): number {
    return this.inner.maxInFlight;
  }
  get inFlight(): number {
    return this.inner.inFlight;
  }
  get counters(): TransportCounters {
    return this.inner.counters;
  }
  localAddress(): SockAddr | null {
    return this.inner.localAddress();
  }

  onReceive(handler: ReceiveHandler): void {
    this.inner.onReceive((b: RxBatch) => {
      if (b.count > 0) {
        this.peer.set(b.addrs.subarray((b.count - 1) * ADDR_SIZE, b.count * ADDR_SIZE));
        this.known = true;
      }
      handler(b);
    });
  }

  send(batch: TxBatch): number {
    if (batch.addrs !== null || !this.known) return this.inner.send(batch);
    if (this.addrs.length < batch.count * ADDR_SIZE) this.addrs = new Uint8Array(batch.count * 2 * ADDR_SIZE);
    for (let i = 0; i < batch.count; i++) this.addrs.set(this.peer, i * ADDR_SIZE);
    batch.addrs = this.addrs;
    try {
      return this.inner.send(batch);
    } finally {
      batch.addrs = null;
    }
  }

  release(slot: number): void {
    this.inner.release(slot);
  }
  onSendComplete(handler: SendCompleteHandler): void {
    this.inner.onSendComplete(handler);
  }
  onWritable(handler: () => void): void {
    this.inner.onWritable(handler);
  }
  onError(handler: (err: TransportError) => void): void {
    this.inner.onError(handler);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
