// Option value parsers. Each throws ConfigError naming the option as typed and showing a valid
// example, so `ovpn-ts up` can stop at the first bad option with a message that says the fix.

import { isIP } from 'node:net';
import type { SockAddr } from '../transport/addr.js';
import { ConfigError } from '../util/errors.js';

export interface Cidr {
  readonly address: string;
  readonly prefix: number;
  readonly family: 4 | 6;
}

/** `ADDR:PORT`, IPv6 as `[ADDR]:PORT`. Port 0 only when `allowZero` (bind to any free port). */
export function parseHostPort(option: string, text: string, allowZero: boolean): SockAddr {
  const example = 'e.g. 192.0.2.1:1194, or [2001:db8::1]:1194 for IPv6';
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text);
  if (m === null) {
    const hint = isIP(text) !== 0 ? `"${text}" has no port` : `"${text}" is not ADDR:PORT`;
    throw new ConfigError(option, `${option}: ${hint}; use ADDR:PORT, ${example}`);
  }
  const address = m[1]!;
  if (isIP(address) === 0) {
    throw new ConfigError(
      option,
      `${option}: "${address}" is not an IP address; give a numeric IPv4/IPv6 address (no host names), ${example}`,
    );
  }
  const port = Number(m[2]);
  const min = allowZero ? 0 : 1;
  if (!Number.isInteger(port) || port < min || port > 65535) {
    throw new ConfigError(option, `${option}: port ${m[2]} is out of range; use ${min}..65535`);
  }
  return { address, port };
}

/** `a.b.c.d/len` or `ipv6/len`; `family` 0 accepts either. */
export function parseCidr(option: string, text: string, family: 0 | 4 | 6): Cidr {
  const example = family === 6 ? 'fd77::1/64' : family === 4 ? '10.77.0.1/24' : '10.1.0.0/16 or fd01::/48';
  const slash = text.lastIndexOf('/');
  if (slash < 0) {
    throw new ConfigError(option, `${option}: "${text}" has no prefix length; use ADDR/LEN, e.g. ${example}`);
  }
  const address = text.slice(0, slash);
  const fam = isIP(address);
  if (fam === 0 || (family !== 0 && fam !== family)) {
    const want = family === 0 ? 'an IPv4 or IPv6 address' : `an IPv${family} address`;
    throw new ConfigError(option, `${option}: "${address}" is not ${want}; use ADDR/LEN, e.g. ${example}`);
  }
  const max = fam === 4 ? 32 : 128;
  const lenText = text.slice(slash + 1);
  const prefix = Number(lenText);
  if (!/^\d{1,3}$/.test(lenText) || prefix > max) {
    throw new ConfigError(
      option,
      `${option}: prefix length "${lenText}" is invalid; use 0..${max}, e.g. ${example}`,
    );
  }
  return { address, prefix, family: fam as 4 | 6 };
}

export function parseIntIn(option: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(option, `${option}: "${text}" is not an integer ${min}..${max}`);
  }
  return n;
}

export function parseChoice<const T extends string>(option: string, text: string, choices: readonly T[]): T {
  const hit = choices.find((c) => c.toLowerCase() === text.toLowerCase());
  if (hit === undefined) {
    throw new ConfigError(option, `${option}: "${text}" is not one of ${choices.join(', ')}`);
  }
  return hit;
}

/** Interface names: 1..15 bytes (IFNAMSIZ - 1), no '/', ':', whitespace, not '.' or '..'. */
export function parseIfName(option: string, text: string): string {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(text) || text === '.' || text === '..') {
    throw new ConfigError(
      option,
      `${option}: "${text}" is not a valid interface name; use 1-15 letters, digits, '-', '_' or '.', e.g. ovpn0`,
    );
  }
  return text;
}

export function required(option: string, value: string | undefined, example: string): string {
  if (value === undefined || value === '') {
    throw new ConfigError(option, `${option} is required, e.g. ${option} ${example}`);
  }
  return value;
}
