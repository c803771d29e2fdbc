// TCP transport over node:net, client or server side.
//
// Rx flow:
//   1. socket 'data' chunk → the connection's FrameReassembler copies packets into slots.
//   2. Complete packets join the shared RxBatcher with the connection's 20-byte remote address;
//      the batch is delivered at the next check phase (or at once when full).
//   3. No free slot → the reassembler stalls; the socket is paused with the rest of the chunk kept
//      (one chunk per connection, so bounded) and resumed after the driver releases slots.
//   4. Length 0 or above maxFrame → rxBadLength, a TRANSPORT_FRAMING error, connection destroyed.
//
// Tx flow:
//   1. Route: TxBatch.addrs selects the connection (server); null means the only connection
//      (client). No connection → NO_ROUTE.
//   2. Write the 2-byte length into the headroom right before the packet (the only Tx-slab bytes the
//      transport touches), then socket.write(header+packet) with all writes of the pass corked,
//      so a batch leaves in one writev.
//   3. net's write callback (data handed to the kernel) completes the token, in order.
//
// Reconnecting is the caller's job: a disconnect is reported through onError and later sends to
// that address complete NO_ROUTE.

import net from 'node:net';
import { ADDR_SIZE, addrEqual, addrFrom, formatAddr, type SockAddr } from './addr.js';
import { RxBatcher, RxSlotPool, TxCompletionRing, checkCount } from './slots.js';
import { FEED_BAD_LENGTH, FrameReassembler } from './tcp-framing.js';
import {
  TxStatus,
  newCounters,
  type ReceiveHandler,
  type SendCompleteHandler,
  type Transport,
  type TransportCounters,
  type TxBatch,
} from './types.js';
import { ErrorCode, TransportError } from '../util/errors.js';

export const TCP_HEADROOM = 2;
const MAX_TCP_FRAME = 65535;

export interface TcpOptions {
  rxSlotSize?: number;
  rxSlotCount?: number;
  rxBatchMax?: number;
  maxInFlight?: number;
  /** Largest packet accepted from the stream (default: the slot size, at most 65535). */
  maxFrame?: number;
}

export interface TcpClientOptions extends TcpOptions {
  remote: SockAddr;
  local?: SockAddr;
  /** Give up connecting after this many ms (default 10000). */
  connectTimeoutMs?: number;
}

export interface TcpServerOptions extends TcpOptions {
  listen: SockAddr;
  /** Further connections are refused and counted in connRejected (default 64). */
  maxConnections?: number;
}

/** One TCP connection: its socket, remote address record and stream reassembly state. */
class TcpConn {
  stalledChunk: Uint8Array | null = null;
  stalledAt = 0;
  closeReason = 'closed by peer';
  open = true;
  corked = false;

  constructor(
    readonly socket: net.Socket,
    readonly addr: Uint8Array,
    readonly reasm: FrameReassembler,
  ) {}
}

export class TcpTransport implements Transport {
  readonly kind = 'tcp' as const;
  readonly txHeadroom = TCP_HEADROOM;
  readonly maxDatagram = MAX_TCP_FRAME;
  readonly counters: TransportCounters = newCounters();
  readonly rxSlab: Uint8Array;
  readonly rxSlotSize: number;
  readonly rxSlotCount: number;
  readonly maxInFlight: number;
  readonly maxFrame: number;

  private readonly pool: RxSlotPool;
  private readonly batcher: RxBatcher;
  private readonly ring: TxCompletionRing;
  private readonly conns: TcpConn[] = [];
  private readonly corked: TcpConn[] = [];
  private readonly writeDone: ((err?: Error | null) => void)[] = [];
  private errorHandler: ((e: TransportError) => void) | null = null;
  private server: net.Server | null = null;
  private resumeScheduled = false;
  private closing = false;
  private lastConn = 0;
  private readonly resumeNow = (): void => this.resumeStalled();

  constructor(
    opts: TcpOptions,
    private readonly maxConnections: number,
  ) {
    this.pool = new RxSlotPool(opts.rxSlotSize ?? 2048, opts.rxSlotCount ?? 256);
    this.rxSlab = this.pool.slab;
    this.rxSlotSize = this.pool.slotSize;
    this.rxSlotCount = this.pool.slotCount;
    this.maxFrame = checkCount(
      'maxFrame',
      opts.maxFrame ?? Math.min(this.rxSlotSize, 65535),
      1,
      this.rxSlotSize,
    );
    this.batcher = new RxBatcher(this.pool, this.counters, opts.rxBatchMax ?? 64);
    this.ring = new TxCompletionRing(opts.maxInFlight ?? 256, this.counters);
    this.maxInFlight = this.ring.cap;
    // One prebuilt callback per in-flight entry: no closure per packet.
    for (let i = 0; i < this.ring.cap; i++) {
      this.writeDone.push((err) => this.ring.complete(i, this.statusFor(err)));
    }
  }

  get inFlight(): number {
    return this.ring.inFlight;
  }

  /** Remote addresses of the open connections (20-byte records; copies). */
  remotes(): Uint8Array[] {
    return this.conns.map((c) => c.addr.slice());
  }

  /** The listening address (server) or the local end of the connection (client). */
  localAddress(): SockAddr | null {
    const a: net.AddressInfo | string | null | object | undefined =
      this.server?.address() ?? this.conns[0]?.socket.address();
    if (a === undefined || a === null || typeof a === 'string' || !('port' in a)) return null;
    const info = a as net.AddressInfo;
    return { address: info.address, port: info.port };
  }

  onReceive(handler: ReceiveHandler): void {
    this.batcher.setHandler(handler);
  }

  release(slot: number): void {
    this.pool.release(slot);
    if (!this.resumeScheduled && this.conns.some((c) => c.stalledChunk !== null)) {
      this.resumeScheduled = true;
      setImmediate(this.resumeNow);
    }
  }

  onSendComplete(handler: SendCompleteHandler): void {
    this.ring.setHandler(handler);
  }

  onWritable(handler: () => void): void {
    this.ring.setWritableHandler(handler);
  }

  onError(handler: (err: TransportError) => void): void {
    this.errorHandler = handler;
  }

  send(batch: TxBatch): number {
    const n = Math.min(batch.count, this.ring.space);
    if (n < batch.count) {
      this.ring.wantWritable = true;
      this.counters.txBackPressure++;
    }
    for (let i = 0; i < n; i++) {
      const off = batch.offsets[i]!;
      const len = batch.lengths[i]!;
      const idx = this.ring.push(batch.tokens[i]!, len);
      const conn = this.route(batch.addrs, i);
      if (conn === null) this.ring.complete(idx, this.closing ? TxStatus.ABORTED : TxStatus.NO_ROUTE);
      else if (len > MAX_TCP_FRAME || len === 0) this.ring.complete(idx, TxStatus.TOO_BIG);
      else this.write(conn, batch.slab, off, len, idx);
    }
    for (const c of this.corked) {
      c.corked = false;
      c.socket.uncork();
    }
    this.corked.length = 0;
    return n;
  }

  private write(conn: TcpConn, slab: Uint8Array, off: number, len: number, idx: number): void {
    if (off < TCP_HEADROOM) throw new RangeError(`tcp send: offset ${off} leaves no room for the length`);
    slab[off - 2] = len >>> 8;
    slab[off - 1] = len & 0xff;
    if (!conn.corked) {
      conn.corked = true;
      conn.socket.cork();
      this.corked.push(conn);
    }
    conn.socket.write(slab.subarray(off - 2, off + len), this.writeDone[idx]);
  }

  /** Connection for datagram i: by address when given, else the first (client: only) one. */
  private route(addrs: Uint8Array | null, i: number): TcpConn | null {
    if (this.closing) return null;
    if (addrs === null) return this.server === null ? (this.conns[0] ?? null) : null;
    const last = this.conns[this.lastConn];
    if (last !== undefined && addrEqual(last.addr, 0, addrs, i * ADDR_SIZE)) return last;
    for (let k = 0; k < this.conns.length; k++) {
      if (addrEqual(this.conns[k]!.addr, 0, addrs, i * ADDR_SIZE)) {
        this.lastConn = k;
        return this.conns[k]!;
      }
    }
    return null;
  }

  private statusFor(err: Error | null | undefined): TxStatus {
    if (err === null || err === undefined) return TxStatus.OK;
    return this.closing ? TxStatus.ABORTED : TxStatus.ERROR;
  }

  /** Adopt a connected socket (client connect or server accept). */
  adopt(socket: net.Socket): void {
    if (this.closing || this.conns.length >= this.maxConnections) {
      this.counters.connRejected++;
      socket.destroy();
      return;
    }
    this.counters.connAccepted++;
    socket.setNoDelay(true);
    const addr = addrFrom(socket.remoteAddress ?? '::', socket.remotePort ?? 0);
    const conn: TcpConn = new TcpConn(
      socket,
      addr,
      new FrameReassembler(this.pool, this.maxFrame, (slot, len) => this.batcher.add(slot, len, addr, 0)),
    );
    this.conns.push(conn);
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk, 0));
    socket.on('error', (e: Error) => {
      conn.closeReason = e.message;
    });
    socket.on('close', () => this.onClose(conn));
  }

  private onData(conn: TcpConn, chunk: Uint8Array, start: number): void {
    if (!conn.open) return;
    const r = conn.reasm.feed(chunk, start);
    if (r === FEED_BAD_LENGTH) {
      this.counters.rxBadLength++;
      const bad = conn.reasm.badLength;
      conn.closeReason = `framing error (length ${bad})`;
      this.report(
        ErrorCode.TRANSPORT_FRAMING,
        `tcp ${formatAddr(conn.addr)}: bad packet length ${bad} (expected 1..${this.maxFrame}); connection dropped`,
        conn.addr,
      );
      conn.socket.destroy();
    } else if (conn.reasm.stalled) {
      conn.stalledChunk = chunk;
      conn.stalledAt = r;
      conn.socket.pause();
      this.counters.rxPaused++;
    } else {
      conn.stalledChunk = null;
    }
    this.batcher.schedule();
  }

  private resumeStalled(): void {
    this.resumeScheduled = false;
    for (const c of this.conns) {
      const chunk = c.stalledChunk;
      if (chunk === null) continue;
      this.onData(c, chunk, c.stalledAt);
      if (c.stalledChunk === null && c.open) c.socket.resume();
    }
  }

  private onClose(conn: TcpConn): void {
    conn.open = false;
    conn.stalledChunk = null;
    conn.reasm.reset();
    const i = this.conns.indexOf(conn);
    if (i >= 0) this.conns.splice(i, 1);
    this.lastConn = 0;
    if (this.closing) return;
    this.counters.disconnects++;
    this.report(
      ErrorCode.TRANSPORT_DISCONNECT,
      `tcp ${formatAddr(conn.addr)}: disconnected (${conn.closeReason})`,
      conn.addr,
    );
  }

  private report(code: ErrorCode, message: string, remote: Uint8Array | null): void {
    this.errorHandler?.(new TransportError(code, message, remote === null ? null : remote.slice()));
  }

  /** Used by createTcpServer. */
  attachServer(server: net.Server): void {
    this.server = server;
    server.on('connection', (s: net.Socket) => this.adopt(s));
    server.on('error', (e: Error) => this.report(ErrorCode.TRANSPORT_IO, `tcp server: ${e.message}`, null));
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const closed = this.conns.map((c) => new Promise<void>((r) => c.socket.once('close', () => r())));
    for (const c of this.conns) c.socket.destroy();
    const srv = this.server;
    const srvClosed = srv === null ? Promise.resolve() : new Promise<void>((r) => srv.close(() => r()));
    await Promise.all([...closed, srvClosed]);
    this.batcher.discard();
    // Destroyed sockets call back every pending write (with an error → ABORTED); anything that
    // has not called back by now is completed ABORTED so no token is ever lost.
    await new Promise<void>((r) => setImmediate(r));
    this.ring.completeAllPending(TxStatus.ABORTED);
    await Promise.resolve();
    this.ring.drain();
  }
}

/** Connect to `remote`; resolves once connected. */
export function createTcpClient(opts: TcpClientOptions): Promise<TcpTransport> {
  const t = new TcpTransport(opts, 1);
  const target = formatAddr(addrFrom(opts.remote.address, opts.remote.port));
  return new Promise((resolve, reject) => {
    const s = net.connect({
      host: opts.remote.address,
      port: opts.remote.port,
      ...(opts.local ? { localAddress: opts.local.address, localPort: opts.local.port } : {}),
    });
    const timer = setTimeout(() => s.destroy(new Error('connect timeout')), opts.connectTimeoutMs ?? 10_000);
    const fail = (e: Error): void => {
      clearTimeout(timer);
      reject(new TransportError(ErrorCode.TRANSPORT_IO, `tcp: connect to ${target} failed: ${e.message}`));
    };
    s.once('error', fail);
    s.once('connect', () => {
      clearTimeout(timer);
      s.off('error', fail);
      t.adopt(s);
      resolve(t);
    });
  });
}

/** Listen on `listen` (port 0 = any); each accepted connection is a remote address of its own. */
export function createTcpServer(opts: TcpServerOptions): Promise<TcpTransport> {
  const max = checkCount('maxConnections', opts.maxConnections ?? 64, 1, 4096);
  const t = new TcpTransport(opts, max);
  const server = net.createServer();
  return new Promise((resolve, reject) => {
    server.once('error', (e: Error) =>
      reject(
        new TransportError(ErrorCode.TRANSPORT_IO, `tcp: listen on ${opts.listen.address}: ${e.message}`),
      ),
    );
    server.listen({ host: opts.listen.address, port: opts.listen.port, ipv6Only: false }, () => {
      server.removeAllListeners('error');
      t.attachServer(server);
      resolve(t);
    });
  });
}
