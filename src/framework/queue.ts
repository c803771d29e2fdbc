// Packet queues: what a client driver creates in its datapath create callbacks, and the
// life cycle the framework runs on the queue's execution context (§4.1):
//
//   create (driver: init.create(config)) -> Start task (reset indices, EvtStart, register poll,
//   notify) -> run (poll passes) -> Cancel task (stop posting, EvtCancel, notify) -> drain
//   (Advance until everything is back) -> Stop task (unregister poll, EvtStop, reclaim) -> destroy.
//
// Per queue, Advance / Cancel / SetNotificationEnabled / Start / Stop never overlap (one EC).
// Drivers touch the rings only inside Advance and Cancel; from anywhere else they may only call
// the notify method (notifyMoreCompletedPacketsAvailable / notifyMoreReceivedPacketsAvailable).

import type { NetAdapter } from './adapter.js';
import { EcTask, ExecutionContext } from './ec.js';
import type { EcClient } from './ec.js';
import { FrameworkError, VerifierError, configError } from './errors.js';
import { QueueExtensions } from './extension.js';
import type { ExtensionByName, ExtensionName, ExtensionQuery } from './extension.js';
import { LayoutScratch } from './layout.js';
import type { ResolvedOptions } from './options.js';
import { FragmentRing, PacketRing } from './packet.js';
import type { NetRingCollection } from './packet.js';
import type { SlabRegistry } from './slab.js';
import type { QueueVerifier } from './verifier.js';
import type { HostQueueHandle, OsHost } from '../os/host.js';

/** NET_PACKET_QUEUE_CONFIG: advance, setNotificationEnabled and cancel are required. */
export interface PacketQueueConfig<Q> {
  advance(queue: Q): void;
  setNotificationEnabled(queue: Q, enabled: boolean): void;
  cancel(queue: Q): void;
  start?(queue: Q): void;
  stop?(queue: Q): void;
}

export type QueueState = 'created' | 'started' | 'cancelling' | 'stopped' | 'faulted';

/** Everything a queue needs from its adapter (built by the adapter, internal). */
export interface QueueEnv {
  readonly adapter: NetAdapter;
  readonly host: OsHost;
  readonly registry: SlabRegistry;
  readonly options: ResolvedOptions;
  readonly offloads: { checksum: boolean; gso: boolean; rsc: boolean; hash: boolean };
  readonly driverRx: boolean;
  readonly makeVerifier: (q: PacketQueue) => QueueVerifier | null;
}

export abstract class PacketQueue implements EcClient, HostQueueHandle {
  readonly direction: 'tx' | 'rx';
  readonly queueId: number;
  readonly adapter: NetAdapter;
  readonly rings: NetRingCollection;
  readonly extensions: QueueExtensions;
  readonly ec: ExecutionContext;
  state: QueueState = 'created';
  /** The debug verifier, or null when off. */
  readonly verifier: QueueVerifier | null;
  protected readonly env: QueueEnv;
  protected readonly host: OsHost;
  protected readonly layout = new LayoutScratch();
  private waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private drainTimer: NodeJS.Timeout | null = null;
  protected abstract readonly config: PacketQueueConfig<never>;

  constructor(
    env: QueueEnv,
    direction: 'tx' | 'rx',
    queueId: number,
    packets: number,
    fragments: number,
    returnContext: boolean,
  ) {
    this.env = env;
    this.direction = direction;
    this.host = env.host;
    this.queueId = queueId;
    this.adapter = env.adapter;
    const what = `${this.constructor.name}[${queueId}]`;
    this.rings = {
      packets: new PacketRing(packets, `${what} packet ring`),
      fragments: new FragmentRing(fragments, `${what} fragment ring`),
    };
    this.extensions = new QueueExtensions(packets, fragments, env.registry, {
      ...env.offloads,
      returnContext,
    });
    this.ec = new ExecutionContext(this, env.options.scheduling, env.options.timeSliceMs);
    this.verifier = env.makeVerifier(this);
  }

  /** NetTx/RxQueueGetRingCollection (cache it; stable for the queue's life). */
  getRingCollection(): NetRingCollection {
    return this.rings;
  }

  /** NetTx/RxQueueGetExtension. Disabled (enabled === false, empty arrays) if not negotiated. */
  getExtension<N extends ExtensionName>(query: ExtensionQuery<N>): ExtensionByName[N] {
    const e = this.extensions.query(query);
    if (e === undefined) {
      throw new FrameworkError(
        'NETCX_ERR_EXTENSION',
        `getExtension: no ${query.type === 0 ? 'packet' : 'fragment'} extension '${query.name}' version >= ${query.version}; query a registered name/version`,
      );
    }
    return e;
  }

  // ---- HostQueueHandle -------------------------------------------------------------------
  notify(): void {
    this.ec.notify();
  }
  abstract returnRxBuffers(tokens: Uint32Array, count: number): void;

  // ---- life cycle (driven by the adapter) ------------------------------------------------
  /** Queue Start (a task on the EC). Resolves once EvtStart ran. */
  startAsync(): Promise<void> {
    return this.enqueueAndWait(EcTask.Start);
  }
  /** Cancel, drain, Stop. Resolves after EvtStop ran and every element is back. */
  cancelAndStopAsync(): Promise<void> {
    if (this.state !== 'started') return Promise.resolve();
    return this.enqueueAndWait(EcTask.Cancel);
  }

  private enqueueAndWait(task: EcTask): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.ec.enqueueTask(task);
    });
  }

  private settle(err?: unknown): void {
    const w = this.waiters;
    this.waiters = [];
    for (const x of w) {
      if (err === undefined) x.resolve();
      else x.reject(err);
    }
  }

  runTask(task: EcTask): void {
    if (task === EcTask.Start) this.doStart();
    else if (task === EcTask.Cancel) this.doCancel();
    else this.doStop();
  }

  private doStart(): void {
    this.resetForStart();
    this.ec.reset();
    this.config.start?.(this as never);
    this.state = 'started';
    this.host.queueStarted?.(this);
    this.ec.pollRegistered = true;
    this.settle();
    this.ec.notify();
  }

  private doCancel(): void {
    this.state = 'cancelling';
    this.verifier?.before();
    this.config.cancel(this as never);
    this.verifier?.after('cancel');
    const ms = this.env.options.drainTimeoutMs;
    if (this.verifier !== null && ms > 0) {
      this.drainTimer = setTimeout(() => this.drainTimedOut(), ms);
    }
    this.ec.notify();
  }

  private doStop(): void {
    if (this.drainTimer !== null) clearTimeout(this.drainTimer);
    this.drainTimer = null;
    this.ec.pollRegistered = false;
    this.config.stop?.(this as never);
    this.reclaimAtStop();
    this.state = 'stopped';
    this.host.queueStopped?.(this);
    this.settle();
  }

  /** Called by a pass while cancelling: once drained, queue the Stop task. */
  protected checkDrained(): void {
    if (this.state === 'cancelling' && this.ec.pollRegistered && this.isDrained()) {
      this.ec.pollRegistered = false; // no more passes; Stop runs next
      this.ec.enqueueTask(EcTask.Stop);
    }
  }

  private drainTimedOut(): void {
    this.drainTimer = null;
    if (this.state !== 'cancelling') return;
    this.fault(this.undrainedError());
  }

  fault(err: unknown): void {
    this.state = 'faulted';
    this.ec.pollRegistered = false;
    if (this.drainTimer !== null) clearTimeout(this.drainTimer);
    this.drainTimer = null;
    const hadWaiters = this.waiters.length > 0;
    this.settle(err);
    this.adapter.reportFault(err, hadWaiters);
  }

  /** Verifier finding when cancel never drained: names the ring that still holds elements. */
  protected undrainedError(): VerifierError {
    const { packets: p, fragments: f } = this.rings;
    const r = this.direction;
    if (p.beginIndex !== p.endIndex) {
      return new VerifierError(
        'CANCEL_NOT_DRAINED',
        `${r}-packet`,
        this.queueId,
        p.beginIndex,
        `after cancel the driver still owns ${p.getRangeCount(p.beginIndex, p.endIndex)} packets [begin ${p.beginIndex}, end ${p.endIndex}); return every packet (Rx: set Ignore) so stop can finish`,
      );
    }
    return new VerifierError(
      'CANCEL_NOT_DRAINED',
      `${r}-fragment`,
      this.queueId,
      f.beginIndex,
      `after cancel the driver still owns ${f.getRangeCount(f.beginIndex, f.endIndex)} fragments [begin ${f.beginIndex}, end ${f.endIndex}); advance fragments.beginIndex to endIndex`,
    );
  }

  /** Advance wrapped by the verifier. */
  protected callAdvance(): void {
    const v = this.verifier;
    if (v === null) {
      this.config.advance(this as never);
      return;
    }
    v.before();
    this.config.advance(this as never);
    v.after('advance');
  }

  // ---- EcClient --------------------------------------------------------------------------
  abstract pollPass(): number;
  abstract arm(): void;
  abstract disarm(): void;
  protected abstract resetForStart(): void;
  protected abstract isDrained(): boolean;
  protected abstract reclaimAtStop(): void;

  protected static checkConfig(what: string, c: PacketQueueConfig<never>): void {
    for (const k of ['advance', 'setNotificationEnabled', 'cancel'] as const) {
      if (typeof c[k] !== 'function') {
        throw configError(
          `${what} config.${k}`,
          'missing (required callback)',
          `pass ${k}(queue) in the queue config`,
        );
      }
    }
  }
}

/** NETTXQUEUE_INIT: handed to EvtAdapterCreateTxQueue. */
export interface TxQueueInit {
  readonly queueId: number;
  /** NetTxQueueCreate. Call at most once. */
  create(config: PacketQueueConfig<import('./tx-queue.js').TxQueue>): import('./tx-queue.js').TxQueue;
}
/** NETRXQUEUE_INIT: handed to EvtAdapterCreateRxQueue. */
export interface RxQueueInit {
  readonly queueId: number;
  /** NetRxQueueCreate. Call at most once. */
  create(config: PacketQueueConfig<import('./rx-queue.js').RxQueue>): import('./rx-queue.js').RxQueue;
}
