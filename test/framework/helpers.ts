// A scripted client driver for framework tests: Tx is the synchronous copy driver of §3.3
// (copy out, return at once), Rx binds queued test frames into system-managed fragments (§3.4).
// Hooks let a test replace or extend Advance/Cancel to break the contract on purpose.

import {
  FragmentIterator,
  NetAdapter,
  PacketIterator,
  rxCapabilitiesInitSystemManaged,
  txCapabilitiesInit,
} from '../../src/framework/index.js';
import type { NetAdapterOptions, RxQueue, TxQueue } from '../../src/framework/index.js';
import { MemoryHost } from '../../src/os/memory-host.js';
import type { MemoryHostOptions } from '../../src/os/memory-host.js';

export interface ScriptHooks {
  /** Runs at the start of Tx Advance; return true to skip the normal Advance. */
  tx?(q: TxQueue): boolean;
  rx?(q: RxQueue): boolean;
  txCancel?(q: TxQueue): boolean;
  rxCancel?(q: RxQueue): boolean;
  /** Runs inside SetNotificationEnabled. */
  onNotify?(dir: 'tx' | 'rx', enabled: boolean): void;
}

export class ScriptDriver {
  readonly adapter: NetAdapter;
  readonly host: MemoryHost;
  hooks: ScriptHooks = {};
  tx!: TxQueue;
  rx!: RxQueue;
  /** Frames copied out by Tx (frame bytes after the backfill). */
  readonly sent: Uint8Array[] = [];
  /** Frames waiting to be received (the driver's private queue, §7). */
  readonly rxPending: Uint8Array[] = [];
  readonly notifications: string[] = [];
  rxArmed = false;
  txArmed = false;
  private readonly pi = new PacketIterator();
  private readonly fi = new FragmentIterator();

  constructor(opts: Partial<NetAdapterOptions> = {}, hostOpts: MemoryHostOptions = {}, backfill = 0) {
    this.host = new MemoryHost({ frameSize: 64, ...hostOpts });
    this.adapter = new NetAdapter({
      scheduling: 'manual',
      verifier: true,
      ringSize: { txPackets: 8, txFragments: 8, rxPackets: 8, rxFragments: 8 },
      ...opts,
      datapathCallbacks: {
        createTxQueue: (_a, init) => {
          this.tx = init.create({
            advance: (q) => {
              if (this.hooks.tx?.(q) !== true) this.txAdvance(q);
            },
            setNotificationEnabled: (_q, on) => this.notified('tx', on),
            cancel: (q) => void this.hooks.txCancel?.(q),
          });
        },
        createRxQueue: (_a, init) => {
          this.rx = init.create({
            advance: (q) => {
              if (this.hooks.rx?.(q) !== true) this.rxAdvance(q);
            },
            setNotificationEnabled: (_q, on) => this.notified('rx', on),
            cancel: (q) => {
              if (this.hooks.rxCancel?.(q) !== true) this.rxCancel(q);
            },
          });
        },
      },
    });
    const txc = txCapabilitiesInit(1);
    txc.payloadBackfill = backfill;
    this.adapter.setDataPathCapabilities(txc, rxCapabilitiesInitSystemManaged(1500, 1));
  }

  private notified(dir: 'tx' | 'rx', on: boolean): void {
    this.notifications.push(`${dir}:${on}`);
    if (dir === 'rx') this.rxArmed = on;
    else this.txArmed = on;
    this.hooks.onNotify?.(dir, on);
  }

  /** §3.3: copy every packet out and return it in the same Advance. */
  txAdvance(q: TxQueue): void {
    const rings = q.rings;
    const p = rings.packets;
    const f = rings.fragments;
    const va = q.extensions.virtualAddress;
    const pi = this.pi.all(rings);
    while (pi.hasAny()) {
      const i = pi.index;
      if (p.ignore[i] === 0) {
        const parts: number[] = [];
        const fi = this.fi.ofPacket(pi);
        let skip = q.payloadBackfill;
        while (fi.hasAny()) {
          const j = fi.index;
          const s = va.address[j]! + f.offset[j]! + skip;
          parts.push(...va.slabOf(j).subarray(s, s + f.validLength[j]! - skip));
          skip = 0;
          fi.advance();
        }
        this.sent.push(Uint8Array.from(parts));
        f.beginIndex = p.fragmentEnd(i, f);
      }
      pi.advance();
    }
    pi.set();
  }

  /** §3.4 software Rx: one frame per packet while both rings have room. */
  rxAdvance(q: RxQueue): void {
    const rings = q.rings;
    const p = rings.packets;
    const f = rings.fragments;
    const va = q.extensions.virtualAddress;
    const pi = this.pi.all(rings);
    const fi = this.fi.all(rings);
    while (this.rxPending.length > 0 && pi.hasAny() && fi.hasAny()) {
      const frame = this.rxPending.shift()!;
      const j = fi.index;
      va.slabOf(j).set(frame, va.address[j]!);
      f.validLength[j] = frame.length;
      f.offset[j] = 0;
      p.fragmentIndex[pi.index] = j;
      p.fragmentCount[pi.index] = 1;
      p.clearLayout(pi.index);
      pi.advance();
      fi.advance();
    }
    fi.set();
    pi.set();
  }

  /** §3.6 Rx cancel. */
  rxCancel(q: RxQueue): void {
    const rings = q.rings;
    const pi = this.pi.all(rings);
    while (pi.hasAny()) {
      rings.packets.ignore[pi.index] = 1;
      pi.advance();
    }
    pi.set();
    const fi = this.fi.all(rings);
    fi.advanceToEnd();
    fi.set();
  }

  /** A producer on "another thread": queue a frame and Notify only if armed (one-shot). */
  receive(frame: Uint8Array): void {
    this.rxPending.push(frame);
    if (this.rxArmed) {
      this.rxArmed = false;
      this.rx.notifyMoreReceivedPacketsAvailable();
    }
  }

  async start(): Promise<void> {
    const p = this.adapter.start(this.host);
    this.adapter.runUntilIdle();
    await p;
  }

  async stop(): Promise<void> {
    const p = this.adapter.stop();
    for (let i = 0; i < 10; i++) {
      this.adapter.runUntilIdle();
      await Promise.resolve();
    }
    await p;
  }
}

/** An IPv4/UDP frame of `len` bytes whose payload starts with `tag`. */
export function ipv4Frame(len: number, tag: number): Uint8Array {
  const b = new Uint8Array(len);
  b[0] = 0x45;
  b[2] = len >> 8;
  b[3] = len & 0xff;
  b[9] = 17;
  b[24] = (len - 20) >> 8;
  b[25] = (len - 20) & 0xff;
  if (len > 28) b[28] = tag & 0xff;
  return b;
}
