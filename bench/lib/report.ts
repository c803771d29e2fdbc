// The bench's markdown table (rows = figures, columns = contenders, last column ovpn-ts / OpenVPN)
// and the machine/commit header written with it into docs/benchmarks.md.
import { execFileSync } from 'node:child_process';
import { cpus, release, totalmem } from 'node:os';
import type { Figures } from './measure.js';

export interface Column {
  label: string;
  /** null: not run (the reason is in `note`). */
  figures: Figures | null;
  note: string;
}

interface Row {
  name: string;
  value(f: Figures): number | null;
  digits: number;
}

const ROWS: Row[] = [
  { name: 'TCP 1 stream (Gbit/s)', value: (f) => f.tcp1Gbps, digits: 2 },
  { name: 'TCP 4 streams (Gbit/s)', value: (f) => f.tcp4Gbps, digits: 2 },
  {
    name: 'UDP 100 B received (kpps)',
    value: (f) => (f.udpPps === null ? null : f.udpPps / 1000),
    digits: 0,
  },
  { name: 'UDP 100 B loss (%)', value: (f) => f.udpLossPct, digits: 1 },
  { name: 'ping RTT avg, fresh tunnel (ms)', value: (f) => f.rttColdMs, digits: 3 },
  { name: 'ping RTT avg, after the load (ms)', value: (f) => f.rttMs, digits: 3 },
  { name: 'TCP 1 stream retransmits', value: (f) => f.tcp1Retrans, digits: 0 },
  { name: 'tunnel CPU s per Gbit (TCP 1)', value: (f) => f.tcp1CpuPerGbit, digits: 2 },
];

function cell(v: number | null | undefined, digits: number): string {
  return v === null || v === undefined ? '–' : v.toFixed(digits);
}

/**
 * Markdown table; the ratio column needs both an 'ovpn-ts' and an 'OpenVPN 2.6' column. Higher is
 * better for Gbit/s and kpps; lower for loss, RTT, retransmits and CPU per Gbit.
 */
export function table(cols: Column[]): string {
  const ts = cols.find((c) => c.label === 'ovpn-ts')?.figures ?? null;
  const ov = cols.find((c) => c.label === 'OpenVPN 2.6')?.figures ?? null;
  const head = ['figure', ...cols.map((c) => c.label), 'ovpn-ts / OpenVPN'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, k) => (k === 0 ? '---' : '---:')).join('|')}|`];
  for (const r of ROWS) {
    const a = ts === null ? null : r.value(ts);
    const b = ov === null ? null : r.value(ov);
    const ratio = a !== null && b !== null && b !== 0 ? `${(a / b).toFixed(2)}×` : '–';
    lines.push(
      `| ${[r.name, ...cols.map((c) => cell(c.figures && r.value(c.figures), r.digits)), ratio].join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

function tryRun(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, {
      encoding: 'utf8',
      timeout: 5000,
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  } catch {
    return '?';
  }
}

/** Date, commit (with "+dirty" when the tree has local changes), CPU, kernel, tool versions. */
export function machineInfo(root: string): string[] {
  const commit = tryRun('git', ['-C', root, 'rev-parse', '--short', 'HEAD']);
  const dirty = tryRun('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no']);
  const c = cpus();
  return [
    `date: ${new Date().toISOString()}`,
    `commit: ${commit}${dirty !== '' && dirty !== '?' ? ' (+ uncommitted changes in the tree)' : ''}`,
    `machine: ${c.length} × ${c[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, kernel ${release()}`,
    `node ${process.version}; ${tryRun('openvpn', ['--version']).split('\n')[0]?.split(' [')[0] ?? '?'}; ` +
      `${tryRun('iperf3', ['--version']).split('\n')[0]?.split(' (')[0] ?? '?'}; ` +
      `wireguard-go ${/v[\d.]+/.exec(tryRun('wireguard-go', ['--version']))?.[0] ?? '?'}`,
  ];
}
