// Test helpers: two engines joined by an in-memory transport pair, configured in static-key
// mode through the control API, with in-memory hosts as their OS sides.

import { Engine } from '../../src/engine/engine.js';
import type { EngineOptions } from '../../src/engine/engine.js';
import { applyStaticKey } from '../../src/engine/static-key.js';
import { MemoryHost } from '../../src/os/memory-host.js';
import type { MemoryHostOptions } from '../../src/os/memory-host.js';
import { createMemoryPair } from '../../src/transport/memory.js';
import type { Impairments, MemoryTransport } from '../../src/transport/memory.js';
import { generateStaticKey } from '../../src/protocol/static-key.js';
import type { CipherName } from '../../src/crypto/aead.js';
import type { ControlEvent } from '../../src/control-api/schema.js';
import type { Clock } from '../../src/util/clock.js';
import type { Transport } from '../../src/transport/types.js';

export interface PairOptions {
  seed?: number;
  aToB?: Impairments;
  bToA?: Impairments;
  cipher?: CipherName;
  host?: MemoryHostOptions;
  clock?: Clock;
  engine?: Partial<EngineOptions>;
  keepalive?: { interval: number; timeout: number };
  /** Wrap A's transport before the engine gets it (fault injection). */
  wrapA?: (t: Transport) => Transport;
}

export interface Pair {
  a: Engine;
  b: Engine;
  hostA: MemoryHost;
  hostB: MemoryHost;
  ta: MemoryTransport;
  tb: MemoryTransport;
  keyText: string;
  eventsA: ControlEvent[];
  eventsB: ControlEvent[];
  close(): Promise<void>;
}

export async function makePair(o: PairOptions = {}): Promise<Pair> {
  const [ta, tb] = createMemoryPair({
    seed: o.seed ?? 1,
    ...(o.aToB ? { aToB: o.aToB } : {}),
    ...(o.bToA ? { bToA: o.bToA } : {}),
    rxSlotSize: 2048,
    rxSlotCount: 1024,
    maxInFlight: 512,
  });
  const hostA = new MemoryHost({ frameSize: 300, capture: true, ...o.host });
  const hostB = new MemoryHost({ frameSize: 300, capture: true, ...o.host });
  const common: Partial<EngineOptions> = {
    verifier: true,
    ...(o.clock ? { clock: o.clock } : {}),
    ...o.engine,
  };
  const a = await Engine.create({ host: hostA, ...common });
  const b = await Engine.create({ host: hostB, ...common });
  const eventsA: ControlEvent[] = [];
  const eventsB: ControlEvent[] = [];
  a.onEvent((e) => eventsA.push(e));
  b.onEvent((e) => eventsB.push(e));
  await a.api.call('newPeer', { transport: o.wrapA ? o.wrapA(ta) : ta });
  await b.api.call('newPeer', { transport: tb });
  const keyText = generateStaticKey();
  const cipher = o.cipher ?? 'AES-256-GCM';
  const ka = o.keepalive
    ? { keepaliveInterval: o.keepalive.interval, keepaliveTimeout: o.keepalive.timeout }
    : {};
  await applyStaticKey(a.api, { keyText, cipher, direction: 0, ...ka });
  await applyStaticKey(b.api, { keyText, cipher, direction: 1, ...ka });
  return {
    a,
    b,
    hostA,
    hostB,
    ta,
    tb,
    keyText,
    eventsA,
    eventsB,
    async close() {
      await Promise.all([a.close(), b.close()]);
    },
  };
}

/** Wait (bounded) until cond() holds; throws with `what` on timeout. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Let every pending immediate/timer run a few times (nothing more is expected to arrive). */
export async function settle(ms = 50): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Sequence numbers of the frames a memory host captured (IPv4/UDP frames from generate()). */
export function capturedSeqs(host: MemoryHost): number[] {
  return host.captured.map((f) => ((f[28]! << 24) | (f[29]! << 16) | (f[30]! << 8) | f[31]!) >>> 0);
}

export function sumDrops(drops: Record<string, number>): number {
  return Object.values(drops).reduce((s, n) => s + n, 0);
}

/**
 * Generate `n` frames on `host` in chunks of `chunk`, waiting after each chunk until `done(sent)`
 * holds: at most one chunk is in flight, so the receiver's slots never overflow (a burst larger
 * than its receive slots would be dropped, like a full UDP socket buffer).
 */
export async function pump(
  host: MemoryHost,
  n: number,
  done: (sent: number) => boolean,
  chunk = 200,
): Promise<void> {
  let sent = 0;
  while (sent < n) {
    const k = Math.min(chunk, n - sent);
    host.generate(k);
    sent += k;
    await waitFor(() => done(sent), `delivery of ${sent} frames`);
  }
}
