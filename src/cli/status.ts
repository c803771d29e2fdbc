// The one-line live status of `ovpn-ts up` and the number formats shared by `stats` and `demo`.
//
// Direction names are the user's view of the tunnel: rx = decrypted packets written to the TUN
// device (ovpn-dco's tunBytesSent), tx = packets read from the TUN device and sent to the peer
// (tunBytesReceived). Drops are the engine's lost data packets, both directions.

import type { OvpnStats } from '../control-api/schema.js';

export interface Sample {
  readonly atMs: number;
  readonly rxBytes: number;
  readonly txBytes: number;
  readonly rxPackets: number;
  readonly txPackets: number;
  readonly drops: number;
}

export function sampleOf(s: OvpnStats, atMs: number): Sample {
  return {
    atMs,
    rxBytes: s.tunBytesSent,
    txBytes: s.tunBytesReceived,
    rxPackets: s.receivedDataPackets,
    txPackets: s.sentDataPackets,
    drops: s.lostInDataPackets + s.lostOutDataPackets,
  };
}

export interface Rates {
  readonly rxMbps: number;
  readonly txMbps: number;
  readonly rxPps: number;
  readonly txPps: number;
}

/** Rates between two samples (0 when no time passed). */
export function ratesBetween(prev: Sample, cur: Sample): Rates {
  const dt = (cur.atMs - prev.atMs) / 1000;
  if (dt <= 0) return { rxMbps: 0, txMbps: 0, rxPps: 0, txPps: 0 };
  return {
    rxMbps: ((cur.rxBytes - prev.rxBytes) * 8) / dt / 1e6,
    txMbps: ((cur.txBytes - prev.txBytes) * 8) / dt / 1e6,
    rxPps: (cur.rxPackets - prev.rxPackets) / dt,
    txPps: (cur.txPackets - prev.txPackets) / dt,
  };
}

/** `812.4 Mbit/s`, `0.03 Mbit/s`. */
export function formatMbps(mbps: number): string {
  return `${mbps >= 100 ? mbps.toFixed(0) : mbps >= 10 ? mbps.toFixed(1) : mbps.toFixed(2)} Mbit/s`;
}

/** 950, 12.3k, 4.56M. */
export function formatCount(n: number): string {
  if (n < 1000) return String(Math.round(n));
  if (n < 1e6) return `${(n / 1e3).toFixed(n < 1e4 ? 2 : 1)}k`;
  if (n < 1e9) return `${(n / 1e6).toFixed(n < 1e7 ? 2 : 1)}M`;
  return `${(n / 1e9).toFixed(2)}G`;
}

/** 512 B, 1.5 KB, 23.4 MB, 1.02 GB (powers of 1000). */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1000;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]!}`;
}

/**
 * `ovpn0 rx 81.2 Mbit/s 7.1k pkt/s, tx 2.1 Mbit/s 950 pkt/s | drops 0 | total rx 1.2 GB tx 40 MB`
 * Most important first: a narrow terminal cuts the totals, not the rates.
 */
export function statusLine(dev: string, prev: Sample, cur: Sample): string {
  const r = ratesBetween(prev, cur);
  return (
    `${dev} rx ${formatMbps(r.rxMbps)} ${formatCount(r.rxPps)} pkt/s,` +
    ` tx ${formatMbps(r.txMbps)} ${formatCount(r.txPps)} pkt/s` +
    ` | drops ${formatCount(cur.drops)}` +
    ` | total rx ${formatBytes(cur.rxBytes)} tx ${formatBytes(cur.txBytes)}`
  );
}

/** A line redrawn in place on a terminal: carriage return, text cut to the width, clear to EOL. */
export function redraw(line: string, columns: number): string {
  const max = Math.max(20, columns - 1);
  return `\r${line.length > max ? line.slice(0, max) : line}\x1b[K`;
}
