// Argument parsers shared by the option handlers and the push parser. Each throws an
// OvpnConfigError naming the option and what it expects.

import { isIPv4, isIPv6 } from 'node:net';
import { OvpnConfigError } from './errors.js';
import type { SourcePos } from './errors.js';
import { SUPPORTED_DATA_CIPHERS, SUPPORTED_DIGESTS } from './options.js';
import type { AddressFamily, DataCipher, Digest, Transport } from './options.js';

/** A decimal integer in [min, max]; openvpn's atoi-with-checks, minus its silent garbage acceptance. */
export function intArg(
  pos: SourcePos,
  opt: string,
  s: string | undefined,
  min: number,
  max: number,
  what = 'a number',
): number {
  if (s === undefined || !/^[+-]?\d+$/.test(s)) {
    throw new OvpnConfigError(pos, opt, `expects ${what} (${min}..${max}), got '${s ?? ''}'`);
  }
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new OvpnConfigError(pos, opt, `${what} must be between ${min} and ${max}, got ${s}`);
  }
  return n;
}

export const INT_MAX = 0x7fffffff;

export function secondsArg(pos: SourcePos, opt: string, s: string | undefined): number {
  return intArg(pos, opt, s, 0, INT_MAX, 'seconds');
}

export function portArg(pos: SourcePos, opt: string, s: string | undefined, allowZero = false): number {
  return intArg(pos, opt, s, allowZero ? 0 : 1, 65535, 'a port number');
}

export interface ProtoSpec {
  readonly transport: Transport;
  readonly family: AddressFamily;
}

const CLIENT_PROTOS: Readonly<Record<string, ProtoSpec>> = {
  udp: { transport: 'udp', family: 'any' },
  udp4: { transport: 'udp', family: 'inet' },
  udp6: { transport: 'udp', family: 'inet6' },
  tcp: { transport: 'tcp', family: 'any' },
  tcp4: { transport: 'tcp', family: 'inet' },
  tcp6: { transport: 'tcp', family: 'inet6' },
  'tcp-client': { transport: 'tcp', family: 'any' },
  'tcp4-client': { transport: 'tcp', family: 'inet' },
  'tcp6-client': { transport: 'tcp', family: 'inet6' },
};

/** `proto` values a client may use; the server variants are refused with a fix. */
export function protoArg(pos: SourcePos, opt: string, s: string): ProtoSpec {
  const p = CLIENT_PROTOS[s.toLowerCase()];
  if (p !== undefined) return p;
  if (/^tcp[46]?-server$/i.test(s)) {
    throw new OvpnConfigError(
      pos,
      opt,
      `'${s}' is a server protocol; a client profile uses 'tcp' or 'tcp-client'`,
    );
  }
  throw new OvpnConfigError(
    pos,
    opt,
    `unknown protocol '${s}': use ${Object.keys(CLIENT_PROTOS).join(', ')}`,
  );
}

/** Canonical name of an AEAD cipher, or undefined when s is not one ovpn-ts supports. */
export function aeadName(s: string): DataCipher | undefined {
  const up = s.toUpperCase();
  return (SUPPORTED_DATA_CIPHERS as readonly string[]).includes(up) ? (up as DataCipher) : undefined;
}

/** Parses a data-ciphers list; refuses anything that is not one of the supported AEADs. */
export function dataCipherList(pos: SourcePos, opt: string, s: string): DataCipher[] {
  const out: DataCipher[] = [];
  for (const name of s.split(':')) {
    if (name === '') continue;
    if (name.startsWith('?')) {
      // openvpn 2.6: "?NAME" = optional, skipped silently when unavailable.
      const opt2 = aeadName(name.slice(1));
      if (opt2 !== undefined && !out.includes(opt2)) out.push(opt2);
      continue;
    }
    const c = aeadName(name);
    if (c === undefined) {
      throw new OvpnConfigError(
        pos,
        opt,
        `'${name}' is not supported: ovpn-ts implements only the AEAD ciphers ${SUPPORTED_DATA_CIPHERS.join(', ')}; remove it from the list`,
      );
    }
    if (!out.includes(c)) out.push(c);
  }
  if (out.length === 0) throw new OvpnConfigError(pos, opt, 'the cipher list is empty');
  return out;
}

export function digestArg(pos: SourcePos, opt: string, s: string): Digest {
  const up = s.toUpperCase().replace(/^SHA-(\d)/, 'SHA$1');
  if (up === 'NONE') return 'none';
  if ((SUPPORTED_DIGESTS as readonly string[]).includes(up)) return up as Digest;
  throw new OvpnConfigError(
    pos,
    opt,
    `unsupported digest '${s}': use one of ${SUPPORTED_DIGESTS.join(', ')}`,
  );
}

export function ipv4Arg(
  pos: SourcePos,
  opt: string,
  s: string | undefined,
  what = 'an IPv4 address',
): string {
  if (s === undefined || !isIPv4(s)) throw new OvpnConfigError(pos, opt, `expects ${what}, got '${s ?? ''}'`);
  return s;
}

/** `addr/bits` (bits optional when allowed). */
export function ipv6PrefixArg(pos: SourcePos, opt: string, s: string, needBits: boolean): string {
  const [addr, bits, extra] = s.split('/');
  const okBits = bits === undefined ? !needBits : /^\d+$/.test(bits) && Number(bits) <= 128;
  if (addr === undefined || !isIPv6(addr) || !okBits || extra !== undefined) {
    throw new OvpnConfigError(pos, opt, `expects an IPv6 address${needBits ? '/bits' : ''}, got '${s}'`);
  }
  return s;
}

export function oneOf<T extends string>(pos: SourcePos, opt: string, s: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(s)) return s as T;
  throw new OvpnConfigError(pos, opt, `expects one of ${allowed.join('|')}, got '${s}'`);
}
