// Summary of a V8 .cpuprofile (node --cpu-prof): self time per function and per category.
//
// Self time of a node = sum of the timeDeltas of the samples that landed on it. N-API calls do not
// get nodes of their own: the C work (AEAD, recvmmsg/sendmmsg, TUN read/write, and the kernel
// work inside those syscalls) is self time of the JS function that called the addon, so the
// file of that caller decides the category. Categories, first match wins:
//   crypto     src/crypto/ (sealBatch/openBatch wrap the EVP batch calls), protocol/data/aead-frame
//   tun-io     src/os/linux/ (pullTx -> readBatch, flush -> writeBatch)
//   udp-io     src/transport/ (sendRun/sendGsoRun -> sendmmsg/UDP_SEGMENT, readPass -> recvmmsg)
//   framework  src/framework/
//   engine     src/engine/, src/net/, src/protocol/
//   gc         (garbage collector)
//   idle       (idle) — the event loop waiting in epoll
//   other      (program) (V8/libuv outside JS), node internals, anything else
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export type Category = 'crypto' | 'tun-io' | 'udp-io' | 'framework' | 'engine' | 'gc' | 'idle' | 'other';

export interface ProfileSummary {
  totalMs: number;
  byCategory: Record<Category, number>;
  /** Top self-time functions: [name (file:line), ms]. */
  top: [string, number][];
}

const TUN_FNS = /^(readBatch|writeBatch)$/;
const UDP_FNS = /^(recvBatch|sendBatch|sendGso)$/;

function categorize(fn: string, url: string): Category {
  if (fn === '(garbage collector)') return 'gc';
  if (fn === '(idle)') return 'idle';
  if (/^(sealBatch|openBatch)$/.test(fn) || /\/crypto\/|aead-frame/.test(url)) return 'crypto';
  if ((url === '' && TUN_FNS.test(fn)) || /\/os\/linux\//.test(url)) return 'tun-io';
  if ((url === '' && UDP_FNS.test(fn)) || /\/transport\//.test(url)) return 'udp-io';
  if (/\/framework\//.test(url)) return 'framework';
  if (/\/(engine|net|protocol)\//.test(url)) return 'engine';
  return 'other';
}

export function summarize(path: string, topN = 15): ProfileSummary {
  const p = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  for (const n of p.nodes) byId.set(n.id, n);
  const selfUs = new Map<number, number>();
  for (let k = 0; k < p.samples.length; k++) {
    const id = p.samples[k]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[k] ?? 0));
  }
  const byCategory: Record<Category, number> = {
    crypto: 0,
    'tun-io': 0,
    'udp-io': 0,
    framework: 0,
    engine: 0,
    gc: 0,
    idle: 0,
    other: 0,
  };
  const byFn = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const cf = byId.get(id)!.callFrame;
    byCategory[categorize(cf.functionName, cf.url)] += us / 1000;
    const file =
      cf.url === '' ? 'native' : `${cf.url.replace(/^.*\/(src|bench|node:)/, '$1')}:${cf.lineNumber + 1}`;
    const name = `${cf.functionName || '(anonymous)'} (${file})`;
    byFn.set(name, (byFn.get(name) ?? 0) + us / 1000);
  }
  const top = [...byFn].sort((x, y) => y[1] - x[1]).slice(0, topN);
  return { totalMs: (p.endTime - p.startTime) / 1000, byCategory, top };
}

/** Text lines: category split with percentages, then the top functions. */
export function formatSummary(label: string, s: ProfileSummary): string[] {
  const pct = (ms: number): string => `${((100 * ms) / s.totalMs).toFixed(1)}%`;
  const cats = (Object.entries(s.byCategory) as [Category, number][])
    .sort((x, y) => y[1] - x[1])
    .map(([c, ms]) => `${c} ${pct(ms)}`);
  return [
    `${label}: ${(s.totalMs / 1000).toFixed(1)} s profiled; ${cats.join(', ')}`,
    ...s.top.map(([n, ms]) => `  ${pct(ms).padStart(6)}  ${ms.toFixed(0).padStart(6)} ms  ${n}`),
  ];
}
