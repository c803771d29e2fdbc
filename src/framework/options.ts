// Adapter options: framework knobs that are not NetAdapterCx capabilities. Defaults follow the
// model (reclaim 64 / indicate 32 per pass, 2100 notification semantics, verifier off).

import type { NetAdapter } from './adapter.js';
import type { Medium } from './capabilities.js';
import { configError } from './errors.js';
import type { Scheduling } from './ec.js';
import type { RxQueueInit, TxQueueInit } from './queue.js';

/** NET_ADAPTER_DATAPATH_CALLBACKS: called once per queue id at datapath create (start/resume). */
export interface DatapathCallbacks {
  createTxQueue(adapter: NetAdapter, init: TxQueueInit): void;
  createRxQueue(adapter: NetAdapter, init: RxQueueInit): void;
}

export type NotificationStyle = '2004' | '2100';

export interface NetAdapterOptions {
  datapathCallbacks: DatapathCallbacks;
  /** '2100' (default): only TRUE is forwarded to EvtSetNotificationEnabled; '2004': TRUE and FALSE. */
  notificationStyle?: NotificationStyle;
  /** Debug verifier (§4.8). Off by default; tests turn it on. */
  verifier?: boolean | { drainTimeoutMs?: number };
  /** 'auto' (default): ECs run on setImmediate. 'manual': only runUntilIdle() runs them. */
  scheduling?: Scheduling;
  medium?: Medium;
  queueCount?: { tx?: number; rx?: number };
  /** Packet ring sizes (powers of two); fragment rings use the capability hints, else these. */
  ringSize?: { txPackets?: number; txFragments?: number; rxPackets?: number; rxFragments?: number };
  budget?: {
    /** Max Tx frames offered to the host per pass. */
    txPost?: number;
    txReclaim?: number;
    rxIndicate?: number;
    /** EC time slice before yielding to the event loop. */
    timeSliceMs?: number;
  };
  /** System-managed Rx: buffers in the framework Rx slab (default 2 x fragment ring). */
  rxBufferCount?: number;
  /** Held-fragment descriptors for packets the host still owns (default 2 x fragment ring). */
  rxHeldFragments?: number;
  /** Test knob: split each Tx frame over up to this many fragments (default 1). */
  txFragmentSplit?: number;
  /** Auto scheduling: an EC task/pass threw (e.g. a VerifierError). Default: rethrow. */
  onFault?(err: unknown): void;
}

export interface ResolvedOptions {
  style: NotificationStyle;
  verifier: boolean;
  drainTimeoutMs: number;
  scheduling: Scheduling;
  medium: Medium;
  txQueues: number;
  rxQueues: number;
  txPackets: number;
  txFragments: number;
  rxPackets: number;
  rxFragments: number;
  txPost: number;
  txReclaim: number;
  rxIndicate: number;
  timeSliceMs: number;
  rxBufferCount: number;
  rxHeldFragments: number;
  txFragmentSplit: number;
}

function posInt(field: string, v: number | undefined, dflt: number, max: number): number {
  const x = v ?? dflt;
  if (!Number.isInteger(x) || x < 1 || x > max)
    throw configError(field, `${x} is not an integer in 1..${max}`, 'fix the option');
  return x;
}

export function resolveOptions(o: NetAdapterOptions): ResolvedOptions {
  const v = o.verifier;
  const rs = o.ringSize ?? {};
  const b = o.budget ?? {};
  const style = o.notificationStyle ?? '2100';
  if (style !== '2004' && style !== '2100')
    throw configError('notificationStyle', `'${String(style)}'`, "use '2004' or '2100'");
  const r: ResolvedOptions = {
    style,
    verifier: v === true || typeof v === 'object',
    drainTimeoutMs: typeof v === 'object' ? (v.drainTimeoutMs ?? 2000) : 0,
    scheduling: o.scheduling ?? 'auto',
    medium: o.medium ?? 'ip',
    txQueues: posInt('queueCount.tx', o.queueCount?.tx, 1, 64),
    rxQueues: posInt('queueCount.rx', o.queueCount?.rx, 1, 64),
    txPackets: posInt('ringSize.txPackets', rs.txPackets, 256, 1 << 20),
    txFragments: posInt('ringSize.txFragments', rs.txFragments, 512, 1 << 20),
    rxPackets: posInt('ringSize.rxPackets', rs.rxPackets, 256, 1 << 20),
    rxFragments: posInt('ringSize.rxFragments', rs.rxFragments, 512, 1 << 20),
    txPost: posInt('budget.txPost', b.txPost, 256, 1 << 20),
    txReclaim: posInt('budget.txReclaim', b.txReclaim, 64, 1 << 20),
    rxIndicate: posInt('budget.rxIndicate', b.rxIndicate, 32, 1 << 20),
    timeSliceMs: posInt('budget.timeSliceMs', b.timeSliceMs, 2, 1000),
    rxBufferCount: 0,
    rxHeldFragments: 0,
    txFragmentSplit: posInt('txFragmentSplit', o.txFragmentSplit, 1, 16),
  };
  r.rxBufferCount = posInt('rxBufferCount', o.rxBufferCount, 2 * r.rxFragments, 1 << 22);
  r.rxHeldFragments = posInt('rxHeldFragments', o.rxHeldFragments, 2 * r.rxFragments, 1 << 22);
  return r;
}
