// NetAdapter: capabilities, slabs, link state and the data-path life cycle of its queues.
//
//   const adapter = new NetAdapter({ datapathCallbacks: { createTxQueue, createRxQueue } });
//   adapter.setDataPathCapabilities(txCaps, rxCaps); adapter.setLinkLayerMtuSize(1500);
//   await adapter.start(host);   // datapath create (driver callbacks) + queue Start on each EC
//   await adapter.pause();       // cancel -> drain -> stop -> destroy (as before low power)
//   await adapter.resume();      // create + start again
//   await adapter.stop();        // pause + detach the host
//
// Every queue runs on its own execution context; the adapter only sequences life-cycle tasks.

import {
  maxL2Length,
  validateRxCapabilities,
  validateTxCapabilities,
  rxCapabilitiesInitSystemManaged,
  txCapabilitiesInit,
} from './capabilities.js';
import type {
  LinkLayerCapabilities,
  LinkState,
  OffloadCapabilities,
  RxCapabilities,
  TxCapabilities,
} from './capabilities.js';
import { FrameworkError, configError } from './errors.js';
import { resolveOptions } from './options.js';
import type { NetAdapterOptions, ResolvedOptions } from './options.js';
import { RxQueue } from './rx-queue.js';
import { SlabRegistry } from './slab.js';
import { TxQueue } from './tx-queue.js';
import type { PacketQueue, PacketQueueConfig, QueueEnv, RxQueueInit, TxQueueInit } from './queue.js';
import { QueueVerifier } from './verifier.js';
import type { OsHost } from '../os/host.js';

export type AdapterState =
  'configuring' | 'starting' | 'running' | 'pausing' | 'paused' | 'stopped' | 'faulted';

export class NetAdapter {
  readonly options: ResolvedOptions;
  readonly slabs = new SlabRegistry();
  txCapabilities: TxCapabilities = txCapabilitiesInit(1);
  rxCapabilities: RxCapabilities = rxCapabilitiesInitSystemManaged(1514, 1);
  linkLayerCapabilities: LinkLayerCapabilities = { maxTxLinkSpeed: -1, maxRxLinkSpeed: -1 };
  linkState: LinkState = {
    txLinkSpeed: -1,
    rxLinkSpeed: -1,
    mediaConnectState: 'unknown',
    mediaDuplexState: 'unknown',
  };
  offloads: OffloadCapabilities = {};
  mtu = 1500;
  state: AdapterState = 'configuring';
  /** Queues of the current datapath (empty while paused/stopped). */
  txQueues: TxQueue[] = [];
  rxQueues: RxQueue[] = [];
  /** First fault reported by a queue (auto scheduling), e.g. a VerifierError. */
  fault: unknown = null;
  private readonly callbacks: NetAdapterOptions['datapathCallbacks'];
  private readonly onFault: ((err: unknown) => void) | undefined;
  private host: OsHost | null = null;
  private mtuAtCreate = 1500;

  constructor(options: NetAdapterOptions) {
    this.options = resolveOptions(options);
    this.callbacks = options.datapathCallbacks;
    this.onFault = options.onFault;
  }

  /** NetAdapterSetDataPathCapabilities (before start). */
  setDataPathCapabilities(tx: TxCapabilities, rx: RxCapabilities): void {
    this.requireConfiguring('setDataPathCapabilities');
    validateTxCapabilities(tx);
    validateRxCapabilities(rx);
    this.txCapabilities = { ...tx };
    this.rxCapabilities = { ...rx };
  }
  setLinkLayerCapabilities(c: LinkLayerCapabilities): void {
    this.linkLayerCapabilities = { ...c };
  }
  /** NetAdapterSetLinkLayerMtuSize: changeable at run time (Tx frames above it post as Ignore;
   *  buffers are sized at datapath create, so growing it takes effect after pause/resume). */
  setLinkLayerMtuSize(mtu: number): void {
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535)
      throw configError('mtu', `${mtu}`, 'use 68..65535');
    this.mtu = mtu;
  }
  setLinkState(s: LinkState): void {
    this.linkState = { ...s };
  }
  setOffloadCapabilities(o: OffloadCapabilities): void {
    this.requireConfiguring('setOffloadCapabilities');
    this.offloads = { ...o };
  }

  /** Register memory fragments may point into; returns the slab id for the VA extension. */
  registerSlab(slab: Uint8Array): number {
    return this.slabs.register(slab);
  }

  /** Largest Tx frame now: max L2 + MTU (capped by the buffers sized at create). */
  get maxFrameSize(): number {
    return maxL2Length(this.options.medium) + Math.min(this.mtu, this.mtuAtCreate);
  }

  async start(host: OsHost): Promise<void> {
    this.requireConfiguring('start');
    this.host = host;
    this.state = 'starting';
    await this.createAndStart();
    this.state = 'running';
  }

  /** Empty every queue (cancel, drain, stop) and destroy them, as before low power. */
  async pause(): Promise<void> {
    if (this.state !== 'running')
      throw new FrameworkError('NETCX_ERR_STATE', `pause: adapter is ${this.state}; start it first`);
    this.state = 'pausing';
    const all: PacketQueue[] = [...this.txQueues, ...this.rxQueues];
    await Promise.all(all.map((q) => q.cancelAndStopAsync()));
    this.txQueues = [];
    this.rxQueues = [];
    this.state = 'paused';
  }

  async resume(): Promise<void> {
    if (this.state !== 'paused')
      throw new FrameworkError('NETCX_ERR_STATE', `resume: adapter is ${this.state}; pause it first`);
    this.state = 'starting';
    await this.createAndStart();
    this.state = 'running';
  }

  async stop(): Promise<void> {
    if (this.state === 'running') await this.pause();
    this.host = null;
    this.state = 'stopped';
  }

  /** Manual scheduling: run every queue's EC until all are idle. Returns total passes. */
  runUntilIdle(maxRounds = 1000): number {
    let passes = 0;
    for (let round = 0; round < maxRounds; round++) {
      let any = false;
      for (const q of [...this.txQueues, ...this.rxQueues]) {
        if (!q.ec.idle) any = true;
        passes += q.ec.runUntilIdle();
      }
      if (!any) break;
    }
    return passes;
  }

  /** Called by a queue whose EC faulted. */
  reportFault(err: unknown, handled: boolean): void {
    if (this.fault === null) this.fault = err;
    this.state = 'faulted';
    if (this.onFault !== undefined) this.onFault(err);
    else if (!handled) throw err;
  }

  private requireConfiguring(what: string): void {
    if (this.state !== 'configuring')
      throw new FrameworkError(
        'NETCX_ERR_STATE',
        `${what}: adapter is ${this.state}; call it before start()`,
      );
  }

  /** Datapath create: one driver create callback per queue id, then Start on each EC. */
  private async createAndStart(): Promise<void> {
    const env = this.makeEnv();
    this.mtuAtCreate = this.mtu;
    const ntx = Math.min(this.options.txQueues, this.txCapabilities.maximumNumberOfQueues);
    const nrx = Math.min(this.options.rxQueues, this.rxCapabilities.maximumNumberOfQueues);
    const tx: TxQueue[] = [];
    const rx: RxQueue[] = [];
    for (let id = 0; id < ntx; id++) {
      const init = makeInit(id, (cfg: PacketQueueConfig<TxQueue>) => new TxQueue(env, id, cfg));
      this.callbacks.createTxQueue(this, init);
      tx.push(init.created('createTxQueue'));
    }
    for (let id = 0; id < nrx; id++) {
      const init = makeInit(id, (cfg: PacketQueueConfig<RxQueue>) => new RxQueue(env, id, cfg));
      this.callbacks.createRxQueue(this, init);
      rx.push(init.created('createRxQueue'));
    }
    this.txQueues = tx;
    this.rxQueues = rx;
    await Promise.all([...tx, ...rx].map((q) => q.startAsync()));
  }

  private makeEnv(): QueueEnv {
    const host = this.host!;
    const want = host.requestedOffloads ?? {};
    const o = this.offloads;
    const driverRx = this.rxCapabilities.allocationMode === 1;
    return {
      adapter: this,
      host,
      registry: this.slabs,
      options: this.options,
      offloads: {
        checksum: (o.txChecksum !== undefined || o.rxChecksum === true) && want.checksum === true,
        gso: o.gso !== undefined && want.gso === true,
        rsc: o.rsc !== undefined && want.rsc === true,
        hash: o.receiveHash === true && want.hash === true,
      },
      driverRx,
      makeVerifier: (q) =>
        this.options.verifier ? new QueueVerifier(q, driverRx && q.direction === 'rx') : null,
    };
  }
}

/** A queue init whose create() may be called once; created() fetches the result. */
function makeInit<Q>(
  queueId: number,
  make: (cfg: PacketQueueConfig<Q>) => Q,
): { queueId: number; create(cfg: PacketQueueConfig<Q>): Q; created(cb: string): Q } {
  let q: Q | null = null;
  return {
    queueId,
    create(cfg: PacketQueueConfig<Q>): Q {
      if (q !== null)
        throw new FrameworkError(
          'NETCX_ERR_STATE',
          `queue ${queueId}: create() called twice; create each queue once`,
        );
      q = make(cfg);
      return q;
    },
    created(cb: string): Q {
      if (q === null)
        throw configError(
          `${cb}(queue ${queueId})`,
          'returned without creating the queue',
          'call init.create(config) in the callback',
        );
      return q;
    },
  };
}

export type { TxQueueInit, RxQueueInit };
