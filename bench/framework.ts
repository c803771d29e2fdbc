// Framework benchmark: packets per second through the loopback driver over the in-memory host
// (host -> Tx ring -> loopback -> Rx ring -> host), at Tx batch sizes 1, 32 and 256, and the
// steady-state allocation check: heap growth after a full GC over 1M packets, plus the number
// of young-generation collections during the run (an allocation-free per-packet path keeps both
// near zero; what remains is per-wakeup scheduling, not per packet).
//
// Re-executes itself with --expose-gc when global.gc is missing.

import { spawnSync } from 'node:child_process';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { setImmediate as tick } from 'node:timers/promises';
import { getHeapSpaceStatistics } from 'node:v8';
import { LoopbackDriver } from '../src/drivers/loopback/index.js';
import { MemoryHost } from '../src/os/memory-host.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  const r = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
  });
  process.exit(r.status ?? 1);
}

const FRAME = 512;

interface Rig {
  drv: LoopbackDriver;
  host: MemoryHost;
}

async function makeRig(batch: number): Promise<Rig> {
  const drv = new LoopbackDriver({
    poolBuffers: 4096,
    framework: {
      ringSize: { txPackets: 512, txFragments: 1024, rxPackets: 512, rxFragments: 1024 },
      budget: { txPost: batch, rxIndicate: Math.max(32, batch), txReclaim: Math.max(64, batch) },
    },
  });
  const host = new MemoryHost({ frameSize: FRAME, batch, verifyPayload: false });
  await drv.adapter.start(host);
  return { drv, host };
}

/** Push n packets through and resolve when all arrived. Returns elapsed ms. */
async function pump(r: Rig, n: number): Promise<number> {
  const target = r.host.stats.rxPackets + n;
  const t0 = performance.now();
  r.host.generate(n);
  while (r.host.stats.rxPackets < target) await tick();
  return performance.now() - t0;
}

async function throughput(batch: number, n: number): Promise<{ pps: number; gbps: number }> {
  const r = await makeRig(batch);
  await pump(r, Math.min(n / 10, 20_000)); // warm up the JIT
  const ms = await pump(r, n);
  if (r.host.stats.rxBadSeq !== 0) throw new Error('packets reordered or lost');
  await r.drv.adapter.stop();
  const pps = (n / ms) * 1000;
  return { pps, gbps: (pps * FRAME * 8) / 1e9 };
}

async function allocation(
  n: number,
): Promise<{ growth: number; scavenges: number; bytesPerPacket: number; newSpace: number }> {
  const r = await makeRig(256);
  await pump(r, 100_000);
  let scavenges = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) scavenges++;
    }
  });
  gc!();
  const before = process.memoryUsage().heapUsed;
  obs.observe({ entryTypes: ['gc'] });
  await pump(r, n);
  gc!();
  await tick(); // let the observer flush
  obs.disconnect();
  const after = process.memoryUsage().heapUsed;
  const ns = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  const newSpace = ns?.space_size ?? 0;
  await r.drv.adapter.stop();
  // Upper bound on young allocation: every scavenge means at most one new-space worth allocated.
  return { growth: after - before, scavenges, bytesPerPacket: (scavenges * newSpace) / n, newSpace };
}

async function main(): Promise<void> {
  console.log(
    `framework bench: loopback over the in-memory host, ${FRAME}-byte frames, node ${process.version}`,
  );
  console.log('\n| Tx batch | packets | packets/s | Gbit/s (frame bytes) |');
  console.log('|---:|---:|---:|---:|');
  for (const [batch, n] of [
    [1, 200_000],
    [32, 1_000_000],
    [256, 1_000_000],
  ] as const) {
    const t = await throughput(batch, n);
    console.log(`| ${batch} | ${n} | ${Math.round(t.pps).toLocaleString('en-US')} | ${t.gbps.toFixed(2)} |`);
  }
  const n = 1_000_000;
  const a = await allocation(n);
  console.log(
    `\nSteady state, ${n.toLocaleString('en-US')} packets at batch 256 (after 100k warm-up, GC before and after):`,
  );
  console.log(
    '| heap growth after GC | young GCs during run | new space | young bytes/packet (upper bound) |',
  );
  console.log('|---:|---:|---:|---:|');
  console.log(
    `| ${a.growth} B | ${a.scavenges} | ${(a.newSpace / 1024).toFixed(0)} KiB | ${a.bytesPerPacket.toFixed(2)} |`,
  );
}

await main();
