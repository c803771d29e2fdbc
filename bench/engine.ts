// Engine benchmark: packets per second through two whole engines (host -> Tx ring -> seal ->
// wire -> open in place -> Rx ring -> host) and the steady-state allocation check (heap growth
// after a full GC over 1M packets, young-generation GCs during the run).
//
// The "wire" is an in-process transport pair that copies each datagram into the peer's receive
// slot through DataViews (no view per packet) and delivers once per batch, so what allocates,
// if anything, is the engine. Run: npm run bench:engine. Re-executes itself with --expose-gc.

import { spawnSync } from 'node:child_process';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { setImmediate as tick } from 'node:timers/promises';
import { getHeapSpaceStatistics } from 'node:v8';
import { Engine } from '../src/engine/engine.js';
import { applyStaticKey } from '../src/engine/static-key.js';
import { MemoryHost } from '../src/os/memory-host.js';
import { generateStaticKey } from '../src/protocol/static-key.js';
import { newCounters, TxStatus } from '../src/transport/types.js';
import type {
  ReceiveHandler,
  RxBatch,
  SendCompleteHandler,
  Transport,
  TxBatch,
} from '../src/transport/types.js';
import type { AeadImpl, CipherName } from '../src/crypto/aead.js';
import { loadNative } from '../src/native/index.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  const r = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
  });
  process.exit(r.status ?? 1);
}

const SLOT = 2048;
const SLOTS = 4096;
const BATCH = 1024;

class WireEnd implements Transport {
  readonly kind = 'memory';
  readonly rxSlab = new Uint8Array(SLOT * SLOTS);
  readonly rxSlotSize = SLOT;
  readonly rxSlotCount = SLOTS;
  readonly txHeadroom = 0;
  readonly maxDatagram = SLOT;
  readonly maxInFlight = BATCH;
  inFlight = 0;
  readonly counters = newCounters();
  peer!: WireEnd;
  private readonly view = new DataView(this.rxSlab.buffer);
  private readonly free = new Uint32Array(SLOTS);
  private freeCount = SLOTS;
  private readonly staged: RxBatch = {
    count: 0,
    slots: new Uint32Array(BATCH),
    offsets: new Uint32Array(BATCH),
    lengths: new Uint32Array(BATCH),
    addrs: new Uint8Array(20 * BATCH),
  };
  private readonly done = new Uint32Array(BATCH);
  private doneCount = 0;
  private onRx: ReceiveHandler = () => {};
  private onDone: SendCompleteHandler = () => {};
  private scheduled = false;
  private srcView: DataView | null = null;
  private srcSlab: Uint8Array | null = null;
  private readonly flushFn = (): void => this.flush();

  constructor() {
    for (let k = 0; k < SLOTS; k++) this.free[k] = k;
  }
  onReceive(h: ReceiveHandler): void {
    this.onRx = h;
  }
  onSendComplete(h: SendCompleteHandler): void {
    this.onDone = h;
  }
  onWritable(): void {}
  onError(): void {}
  release(slot: number): void {
    this.free[this.freeCount++] = slot;
  }
  send(b: TxBatch): number {
    const n = Math.min(b.count, this.maxInFlight - this.inFlight);
    if (b.slab !== this.srcSlab) {
      this.srcSlab = b.slab;
      this.srcView = new DataView(b.slab.buffer, b.slab.byteOffset, b.slab.byteLength);
    }
    const p = this.peer;
    for (let k = 0; k < n; k++) {
      const len = b.lengths[k]!;
      const slot = p.freeCount > 0 ? p.free[--p.freeCount]! : -1;
      if (slot >= 0) p.stage(slot, this.srcView!, b.offsets[k]!, len);
      else p.counters.rxNoBuffer++;
      this.done[this.doneCount++] = b.tokens[k]!;
    }
    this.inFlight += n;
    this.schedule();
    p.schedule();
    return n;
  }
  private stage(slot: number, src: DataView, off: number, len: number): void {
    const d = this.view;
    const base = slot * SLOT;
    let k = 0;
    for (; k + 4 <= len; k += 4) d.setUint32(base + k, src.getUint32(off + k, true), true);
    for (; k < len; k++) d.setUint8(base + k, src.getUint8(off + k));
    const s = this.staged;
    s.slots[s.count] = slot;
    s.offsets[s.count] = base;
    s.lengths[s.count] = len;
    s.count++;
  }
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flushFn);
  }
  private flush(): void {
    this.scheduled = false;
    if (this.doneCount > 0) {
      const n = this.doneCount;
      this.doneCount = 0;
      this.inFlight -= n;
      this.onDone(this.done, n, TxStatus.OK);
    }
    if (this.staged.count > 0) {
      this.onRx(this.staged);
      this.staged.count = 0;
    }
  }
  async close(): Promise<void> {}
}

interface Rig {
  a: Engine;
  b: Engine;
  hostA: MemoryHost;
  hostB: MemoryHost;
}

async function makeRig(cipher: CipherName, impl: AeadImpl, frame: number): Promise<Rig> {
  const ta = new WireEnd();
  const tb = new WireEnd();
  ta.peer = tb;
  tb.peer = ta;
  const hostA = new MemoryHost({ frameSize: frame, verifyPayload: false });
  const hostB = new MemoryHost({ frameSize: frame, verifyPayload: false });
  const adapter = {
    ringSize: { txPackets: 1024, txFragments: 1024, rxPackets: 1024, rxFragments: 1024 },
    budget: { txPost: 256, rxIndicate: 256, txReclaim: 256 },
  };
  const a = await Engine.create({ host: hostA, aeadImpl: impl, adapter });
  const b = await Engine.create({ host: hostB, aeadImpl: impl, adapter });
  await a.api.call('newPeer', { transport: ta });
  await b.api.call('newPeer', { transport: tb });
  const keyText = generateStaticKey();
  await applyStaticKey(a.api, { keyText, cipher, direction: 0 });
  await applyStaticKey(b.api, { keyText, cipher, direction: 1 });
  return { a, b, hostA, hostB };
}

/** Push n packets A -> B, at most `window` outstanding (a paced sender). Returns elapsed ms. */
async function pump(r: Rig, n: number, window = 2048): Promise<number> {
  const start = r.hostB.stats.rxPackets;
  const t0 = performance.now();
  let sent = 0;
  while (r.hostB.stats.rxPackets - start < n) {
    const inflight = sent - (r.hostB.stats.rxPackets - start);
    if (sent < n && inflight < window) {
      const k = Math.min(window - inflight, n - sent);
      r.hostA.generate(k);
      sent += k;
    }
    await tick();
    if (performance.now() - t0 > 120_000) throw new Error('bench stalled');
  }
  return performance.now() - t0;
}

function heapUsed(): number {
  return getHeapSpaceStatistics().reduce((s, x) => s + x.space_used_size, 0);
}

async function run(cipher: CipherName, impl: AeadImpl, frame: number, n: number) {
  const r = await makeRig(cipher, impl, frame);
  await pump(r, Math.min(50_000, n / 5)); // warm up
  gc!();
  const heap0 = heapUsed();
  let youngGcs = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries())
      if (
        (e as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR
      )
        youngGcs++;
  });
  obs.observe({ entryTypes: ['gc'] });
  const cpu0 = process.cpuUsage();
  const ms = await pump(r, n);
  const cpu = process.cpuUsage(cpu0);
  obs.disconnect();
  gc!();
  const growth = heapUsed() - heap0;
  const drops = Object.keys(r.a.drops()).length + Object.keys(r.b.drops()).length;
  await Promise.all([r.a.close(), r.b.close()]);
  const pps = (n / ms) * 1000;
  return { pps, gbps: (pps * frame * 8) / 1e9, cpuUs: (cpu.user + cpu.system) / n, growth, youngGcs, drops };
}

async function main(): Promise<void> {
  const native = loadNative() !== null;
  console.log(
    `engine bench: two engines in one process, A -> B, native addon ${native ? 'loaded' : 'MISSING (node:crypto only)'}`,
  );
  console.log(
    '| cipher | crypto | frame B | packets | pkts/s | Gbit/s (inner) | CPU us/pkt (both ends) | heap growth after GC | young GCs | drops |',
  );
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  const cases: [CipherName, AeadImpl, number, number][] = [
    ['AES-256-GCM', 'native', 1400, 1_000_000],
    ['AES-256-GCM', 'native', 100, 1_000_000],
    ['CHACHA20-POLY1305', 'native', 1400, 500_000],
    ['AES-256-GCM', 'node', 1400, 200_000],
  ];
  for (const [cipher, impl, frame, n] of cases) {
    if (impl === 'native' && !native) continue;
    const x = await run(cipher, impl, frame, n);
    console.log(
      `| ${cipher} | ${impl} | ${frame} | ${n.toLocaleString('en')} | ${Math.round(x.pps).toLocaleString('en')} | ${x.gbps.toFixed(2)} | ${x.cpuUs.toFixed(2)} | ${(x.growth / 1024).toFixed(0)} KiB | ${x.youngGcs} | ${x.drops} |`,
    );
  }
}

await main();
