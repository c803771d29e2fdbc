// `ovpn-ts stats`: GET_STATS and GET_PEER_STATS of a running engine over its control socket,
// as a table or as JSON (`--json`, what the demo and scripts read).

import type { OvpnStats, PeerStats, VersionInfo } from '../../control-api/schema.js';
import { EXIT_OK, reportError, type Io } from '../io.js';
import { flag, helpFor, parseCommand, type CommandSpec } from '../spec.js';
import { formatBytes, formatCount } from '../status.js';
import { TARGET_OPTIONS, connectTo, socketPathFrom } from '../target.js';

export const statsSpec: CommandSpec = {
  name: 'stats',
  synopsis: ['ovpn-ts stats [--control-socket PATH | --dev NAME] [--json]'],
  summary:
    "Print a running engine's counters: data and control packets, tunnel and transport bytes,\n" +
    'lost packets, and per-peer bytes. Talks to the control socket of `ovpn-ts up`.',
  options: {
    ...TARGET_OPTIONS,
    json: { type: 'boolean', help: 'Print one JSON object {socket, version, stats, peers, drops}.' },
  },
};

export interface StatsReport {
  socket: string;
  version: string;
  stats: OvpnStats;
  peers: PeerStats[];
  /** Lost data packets (the engine counts every drop in one of these). */
  drops: { in: number; out: number; total: number };
}

export async function runStats(argv: readonly string[], io: Io): Promise<number> {
  try {
    const { values } = parseCommand(statsSpec, argv, 0);
    if (flag(values, 'help')) {
      io.out(helpFor(statsSpec));
      return EXIT_OK;
    }
    const report = await fetchReport(socketPathFrom(values));
    io.out(flag(values, 'json') ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
    return EXIT_OK;
  } catch (e) {
    return reportError(io, e);
  }
}

export async function fetchReport(socket: string): Promise<StatsReport> {
  const c = await connectTo(socket);
  try {
    const [v, stats, peers] = await Promise.all([
      c.call('getVersion', {}),
      c.call('getStats', {}),
      c.call('getPeerStats', { peerId: -1 }),
    ]);
    const drops = { in: stats.lostInDataPackets, out: stats.lostOutDataPackets, total: 0 };
    drops.total = drops.in + drops.out;
    return { socket, version: versionText(v), stats, peers, drops };
  } finally {
    await c.close();
  }
}

function versionText(v: VersionInfo): string {
  return `${v.major}.${v.minor}.${v.patch}`;
}

export function formatReport(r: StatsReport): string {
  const s = r.stats;
  const row = (label: string, text: string): string => `${label.padEnd(11)}${text}\n`;
  let out = row('engine', `ovpn-ts ${r.version} at ${r.socket}`);
  out += row(
    'data',
    `rx ${formatCount(s.receivedDataPackets)} pkt ${formatBytes(s.tunBytesSent)}` +
      `   tx ${formatCount(s.sentDataPackets)} pkt ${formatBytes(s.tunBytesReceived)}   (tunnel payload)`,
  );
  out += row(
    'transport',
    `rx ${formatBytes(s.transportBytesReceived)}   tx ${formatBytes(s.transportBytesSent)}`,
  );
  out += row(
    'control',
    `rx ${formatCount(s.receivedControlPackets)} pkt   tx ${formatCount(s.sentControlPackets)} pkt`,
  );
  out += row(
    'lost',
    `data in ${formatCount(s.lostInDataPackets)} out ${formatCount(s.lostOutDataPackets)}` +
      `   control in ${formatCount(s.lostInControlPackets)} out ${formatCount(s.lostOutControlPackets)}`,
  );
  if (r.peers.length === 0) out += row('peers', 'none');
  for (const p of r.peers) {
    out += row(
      `peer ${p.peerId}`,
      `link rx ${formatBytes(p.linkRxBytes)} tx ${formatBytes(p.linkTxBytes)}` +
        `   vpn rx ${formatBytes(p.vpnRxBytes)} tx ${formatBytes(p.vpnTxBytes)}`,
    );
  }
  return out;
}
