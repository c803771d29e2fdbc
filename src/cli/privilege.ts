// Creating a TUN device and setting its addresses needs CAP_NET_ADMIN (root has it). Checked
// up front so the user gets one clear sentence instead of an EPERM from deep inside an ioctl.

import { readFileSync } from 'node:fs';

const CAP_NET_ADMIN = 12;

export const NEED_NET_ADMIN =
  'creating a TUN device needs root or CAP_NET_ADMIN: run it with sudo ' +
  '(or grant the capability: sudo setcap cap_net_admin+ep "$(command -v node)")';

/** True when `capEffHex` (the CapEff line of /proc/self/status) includes CAP_NET_ADMIN. */
export function capEffHasNetAdmin(capEffHex: string): boolean {
  if (!/^[0-9a-fA-F]+$/.test(capEffHex)) return false;
  return ((BigInt(`0x${capEffHex}`) >> BigInt(CAP_NET_ADMIN)) & 1n) === 1n;
}

/** The effective capabilities include CAP_NET_ADMIN (uid 0 is trusted when /proc is unreadable). */
export function canAdminNetwork(): boolean {
  try {
    const m = /^CapEff:\s*([0-9a-fA-F]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m !== null) return capEffHasNetAdmin(m[1]!);
  } catch {
    // no /proc: fall back to the uid
  }
  return process.getuid?.() === 0;
}
