// Loader and typed surface of the C addon (native/*.c, built to build/Release/ovpn_native.node).
//
// `loadNative()` never throws: when the module is missing or fails to load it returns null and
// warns once, naming the file it looked for and how to build it. Callers pick a fallback (node:crypto,
// dgram) or, where there is none (TUN), report their own typed error.
//
// Conventions shared by every batch function (see native/common.h):
// - Caller misuse throws a TypeError with `code` 'OVPN_ERR_INVALID_ARG' (or a more specific
//   OVPN_ERR_* below); nothing is read or written when it does.
// - I/O batch functions return a count (>= 0; 0 means EAGAIN: nothing ready / no room), or a
//   negative errno for a transient per-call error at the first item (ECONNREFUSED, EMSGSIZE,
//   ENETUNREACH, ...): the caller counts it and carries on (for sends, skip that one item).
//   Only errors that make the fd unusable (EBADF, ENOTSOCK, EFAULT, ENOTCONN, EDESTADDRREQ,
//   EBADFD) throw, as an Error with `code` = errno name, `errno`, `syscall`.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Opaque AEAD context handle (a napi external). */
export interface NativeAeadHandle {
  readonly __ovpnAead: never;
}

/** Opaque readiness-watch handle. */
export interface NativePollHandle {
  readonly __ovpnPoll: never;
}

export interface NativeAead {
  /** cipher: 'AES-128-GCM' | 'AES-192-GCM' | 'AES-256-GCM' | 'CHACHA20-POLY1305'. */
  create(cipher: string, key: Uint8Array, encrypt: boolean): NativeAeadHandle;
  /** Idempotent; later seal/open throw OVPN_ERR_AEAD_FREED. */
  free(ctx: NativeAeadHandle): void;
  /** desc: n*5 words (aadOff, aadLen, dataOff, dataLen, tagOff); throws OVPN_ERR_BAD_DESCRIPTOR
   *  before touching anything if any descriptor is out of the slab or overlaps itself. */
  sealBatch(ctx: NativeAeadHandle, slab: Uint8Array, nonces: Uint8Array, desc: Uint32Array, n: number): void;
  /** results[i] = 1 verified, 0 tag mismatch or bad descriptor. Returns the number verified. */
  openBatch(
    ctx: NativeAeadHandle,
    slab: Uint8Array,
    nonces: Uint8Array,
    desc: Uint32Array,
    n: number,
    results: Uint8Array,
  ): number;
  readonly opensslVersion: string;
}

export interface TunOpenOptions {
  /** Interface name (max 15 bytes); '' or absent lets the kernel pick tunN. A '%d' is expanded. */
  name?: string;
  multiQueue?: boolean;
  vnetHdr?: boolean;
}

export interface NativeTun {
  /** Opens /dev/net/tun as IFF_TUN|IFF_NO_PI, O_NONBLOCK|O_CLOEXEC. Throws errno errors. */
  open(options?: TunOpenOptions): { fd: number; name: string };
  /** TUNSETOFFLOAD with TUN_F_* flags (see TUN_F). */
  setOffload(fd: number, flags: number): void;
  /** TUNSETVNETHDRSZ (10 or 12). */
  setVnetHdrSize(fd: number, size: number): void;
  /** SIOCSIFMTU on the interface name. */
  setMtu(name: string, mtu: number): void;
  /** Sets or clears IFF_UP on the interface name. */
  setUp(name: string, up: boolean): void;
  close(fd: number): void;
  /** Reads frames into slab[offsets[i] .. +capacities[i]) until EAGAIN or max; lengths[i] = bytes. */
  readBatch(
    fd: number,
    slab: Uint8Array,
    offsets: Uint32Array,
    capacities: Uint32Array,
    lengths: Uint32Array,
    max: number,
  ): number;
  /** Writes frames slab[offsets[i] .. +lengths[i]) until EAGAIN; returns count written or -errno. */
  writeBatch(fd: number, slab: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, n: number): number;
  /**
   * For a vnetHdr fd with TSO on (tun_offload.c): reads frames into the slots, cutting TCP
   * super-segments into MSS packets and filling pending checksums. Segments beyond `max` wait in
   * `carry` (TUN_GSO_CARRY_BYTES) for the next call; `state` (TUN_GSO_STATE_WORDS) keeps them and
   * the counters (GsoState). A frame larger than its slot gets length 0. Returns the slots filled,
   * or -errno / 0 (EAGAIN) before the first.
   */
  readBatchGso(
    fd: number,
    slab: Uint8Array,
    offsets: Uint32Array,
    capacities: Uint32Array,
    lengths: Uint32Array,
    max: number,
    carry: Uint8Array,
    state: Uint32Array,
  ): number;
  /** readBatchGso's cutting fed one frame (virtio header + packet) from memory: for tests. */
  segmentFrame(
    frame: Uint8Array,
    slab: Uint8Array,
    offsets: Uint32Array,
    capacities: Uint32Array,
    lengths: Uint32Array,
    max: number,
    carry: Uint8Array,
    state: Uint32Array,
  ): number;
  /**
   * For a vnetHdr fd: writes the packets, merging consecutive TCP segments of a flow into one
   * GSO frame. Every packet ends up written, dropped or failed in `counters` (GroCounter, reset
   * per call); throws only when the fd is unusable.
   */
  writeBatchGro(
    fd: number,
    slab: Uint8Array,
    offsets: Uint32Array,
    lengths: Uint32Array,
    n: number,
    counters: Uint32Array,
  ): void;
  /** What writeBatchGro would write, as frames (virtio header + packet) end to end in `out`. */
  coalesce(
    slab: Uint8Array,
    offsets: Uint32Array,
    lengths: Uint32Array,
    n: number,
    counters: Uint32Array,
    out: Uint8Array,
    outLengths: Uint32Array,
  ): number;
}

/** Size of readBatchGso's carry: a virtio header and two maximal frames. */
export const TUN_GSO_CARRY_BYTES = 10 + 2 * 65535;
/** Words of readBatchGso's state (see tun_offload.c). */
export const GsoState = {
  LEN: 0,
  NEXT: 1,
  HDR: 2,
  DROPPED: 3,
  SUPER: 4,
  SEGMENTS: 5,
  TRUNCATED: 6,
  WORDS: 7,
} as const;
/** Words of writeBatchGro's counters. */
export const GroCounter = {
  PACKETS: 0,
  BYTES: 1,
  DROPS: 2,
  ERRORS: 3,
  MERGED_WRITES: 4,
  MERGED_PACKETS: 5,
  BAD_CSUM: 6,
  WORDS: 7,
} as const;

export interface UdpSocketOptions {
  reusePort?: boolean;
  /** SO_RCVBUF / SO_SNDBUF in bytes (the kernel doubles and caps them at rmem_max/wmem_max). */
  rcvbuf?: number;
  sndbuf?: number;
  /** IPV6_V6ONLY for family 6 (default: the system default, normally dual-stack). */
  v6Only?: boolean;
  /** Enable UDP_GRO: receives may then be coalesced super-datagrams; give 64 KiB capacities. */
  gro?: boolean;
}

export interface NativeUdp {
  /** Non-blocking, close-on-exec UDP socket. Returns the fd. */
  socket(family: 4 | 6, options?: UdpSocketOptions): number;
  bind(fd: number, address: string, port: number): void;
  connect(fd: number, address: string, port: number): void;
  /** Local port. */
  getsockname(fd: number): number;
  /** Turns UDP_GRO on or off; returns false if the kernel does not support it. */
  setGro(fd: number, on: boolean): boolean;
  /**
   * recvmmsg into slab[offsets[i] .. +capacities[i]). lengths[i] = datagram length; a value above
   * capacities[i] means it was truncated (drop it). addrs: 20 bytes per datagram (see addr.ts) or
   * null. segSizes[i] = GRO segment size when coalesced, else 0 (or null). At most 1024 per call.
   */
  recvBatch(
    fd: number,
    slab: Uint8Array,
    offsets: Uint32Array,
    capacities: Uint32Array,
    lengths: Uint32Array,
    addrs: Uint8Array | null,
    segSizes: Uint32Array | null,
    max: number,
  ): number;
  /** sendmmsg; addrs null for a connected socket. Count sent, 0 on EAGAIN, or -errno. At most 1024. */
  sendBatch(
    fd: number,
    slab: Uint8Array,
    offsets: Uint32Array,
    lengths: Uint32Array,
    addrs: Uint8Array | null,
    n: number,
  ): number;
  /** One sendmsg with UDP_SEGMENT: returns the number of segments, 0 on EAGAIN, or -errno. */
  sendGso(
    fd: number,
    slab: Uint8Array,
    offset: number,
    totalLen: number,
    segSize: number,
    addr: Uint8Array | null,
  ): number;
  close(fd: number): void;
}

export interface NativePoll {
  /** uv_poll on fd; events: READABLE|WRITABLE bits. cb gets status (0 or -errno) and the ready events. */
  watch(fd: number, events: number, cb: (status: number, events: number) => void): NativePollHandle;
  /** Stops and closes the watcher; idempotent. Unwatch before closing the fd. */
  unwatch(handle: NativePollHandle): void;
  /** ref(false) lets the process exit while this watcher is active. */
  ref(handle: NativePollHandle, on: boolean): void;
  readonly READABLE: number;
  readonly WRITABLE: number;
}

export interface NativeCaps {
  udpGso: boolean;
  udpGro: boolean;
  /** UIO_MAXIOV: the largest batch recvBatch/sendBatch take per call. */
  maxBatch: number;
}

export interface NativeAddon {
  readonly aead: NativeAead;
  readonly tun: NativeTun;
  readonly udp: NativeUdp;
  readonly poll: NativePoll;
  /** Kernel feature probe (done once, cached). */
  caps(): NativeCaps;
  /** 'ECONNREFUSED' for 111 (accepts positive or negative values). */
  errnoName(errno: number): string;
}

/** TUN_F_* offload flags for setOffload (USO values from Linux 6.2 uapi). */
export const TUN_F = {
  CSUM: 0x01,
  TSO4: 0x02,
  TSO6: 0x04,
  TSO_ECN: 0x08,
  UFO: 0x10,
  USO4: 0x20,
  USO6: 0x40,
} as const;

export const ADDON_FILE = 'build/Release/ovpn_native.node';

let cached: NativeAddon | null | undefined;
let cachedPath: string | null = null;
let lastError = '';

/** Candidate paths: package root seen from src/native (tsx) and from dist/src/native (compiled). */
function candidates(): string[] {
  const out: string[] = [];
  const override = process.env['OVPN_TS_NATIVE_PATH'];
  if (override) out.push(override);
  for (const up of ['../../', '../../../'])
    out.push(fileURLToPath(new URL(up + ADDON_FILE, import.meta.url)));
  return out;
}

/**
 * The addon, or null if it is not built / fails to load / OVPN_TS_NO_NATIVE=1. Loads once; the
 * first failure prints one warning.
 */
export function loadNative(): NativeAddon | null {
  if (cached !== undefined) return cached;
  cached = null;
  if (process.env['OVPN_TS_NO_NATIVE'] === '1') {
    lastError = 'disabled by OVPN_TS_NO_NATIVE=1';
    return cached;
  }
  const req = createRequire(import.meta.url);
  const paths = candidates();
  const found = paths.find((p) => existsSync(p));
  if (found === undefined) {
    lastError = `not built: none of ${paths.join(', ')} exists`;
  } else {
    try {
      cached = req(found) as NativeAddon;
      cachedPath = found;
    } catch (err) {
      lastError = `failed to load ${found}: ${(err as Error).message}`;
    }
  }
  if (cached === null) {
    process.emitWarning(
      `ovpn-ts native addon ${lastError}. Falling back to node:crypto and dgram (slow, no TUN). ` +
        'Build it with `npm run install` (needs a C compiler and /usr/include/node).',
      { code: 'OVPN_NATIVE_MISSING' },
    );
  }
  return cached;
}

/** The file loadNative() loaded, or null. */
export function nativeAddonPath(): string | null {
  loadNative();
  return cachedPath;
}

/** Why loadNative() returned null ('' if it loaded or was not tried yet). */
export function nativeLoadError(): string {
  return lastError;
}
