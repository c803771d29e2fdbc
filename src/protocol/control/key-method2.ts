// Key-method-2 message (openvpn-protocol.md §C2), options string (§C3) and peer-info (§C4).
//
//   u32 0 | u8 key_method(2) | [pre_master 48: client only] | random1 32 | random2 32
//   | str options | str username | str password | str peer-info
//   str = u16 len (including the NUL) + bytes + NUL, or u16 0 for an empty string (no NUL).
// The decoder accepts both empty forms and never throws on network input.
import { ConfigError } from '../../util/errors.js';
import {
  KEY_METHOD_2,
  OPTIONS_STRING_MAX,
  PEER_INFO_MAX,
  PRE_MASTER_SIZE,
  RANDOM_SIZE,
  USER_PASS_MAX,
} from './constants.js';

export interface KeyMethod2Message {
  /** Present only in the TLS client's message. */
  readonly preMaster: Buffer | undefined;
  readonly random1: Buffer;
  readonly random2: Buffer;
  readonly options: string;
  readonly username: string;
  readonly password: string;
  readonly peerInfo: string;
}

export type Km2DecodeResult =
  | { status: 'ok'; message: KeyMethod2Message; consumed: number }
  | { status: 'incomplete' }
  | { status: 'error'; reason: 'bad-prefix' | 'bad-key-method' | 'string-too-long' };

function writeString(parts: Buffer[], s: string, max: number, field: string): void {
  if (s.length === 0) {
    parts.push(Buffer.from([0, 0]));
    return;
  }
  const bytes = Buffer.from(s, 'utf8');
  if (bytes.includes(0)) throw new ConfigError(field, `${field} must not contain NUL`);
  if (bytes.length + 1 > max) throw new ConfigError(field, `${field} is longer than ${max - 1} bytes`);
  const len = Buffer.allocUnsafe(2);
  len.writeUInt16BE(bytes.length + 1, 0);
  parts.push(len, bytes, Buffer.from([0]));
}

/** Encodes the message; `preMaster` present means the TLS client's form. */
export function encodeKeyMethod2(m: KeyMethod2Message): Buffer {
  if (m.preMaster !== undefined && m.preMaster.length !== PRE_MASTER_SIZE) {
    throw new ConfigError('preMaster', `pre_master must be ${PRE_MASTER_SIZE} bytes`);
  }
  if (m.random1.length !== RANDOM_SIZE || m.random2.length !== RANDOM_SIZE) {
    throw new ConfigError('random', `random1/random2 must be ${RANDOM_SIZE} bytes`);
  }
  const parts: Buffer[] = [Buffer.from([0, 0, 0, 0, KEY_METHOD_2])];
  if (m.preMaster !== undefined) parts.push(m.preMaster);
  parts.push(m.random1, m.random2);
  writeString(parts, m.options, OPTIONS_STRING_MAX, 'options');
  writeString(parts, m.username, USER_PASS_MAX, 'username');
  writeString(parts, m.password, USER_PASS_MAX, 'password');
  writeString(parts, m.peerInfo, PEER_INFO_MAX, 'peerInfo');
  return Buffer.concat(parts);
}

type ReadStr = { s: string; next: number } | 'incomplete' | 'too-long';

function readString(buf: Buffer, o: number, max: number): ReadStr {
  if (buf.length - o < 2) return 'incomplete';
  const len = buf.readUInt16BE(o);
  if (len === 0) return { s: '', next: o + 2 };
  if (len > max) return 'too-long';
  if (buf.length - o - 2 < len) return 'incomplete';
  const raw = buf.subarray(o + 2, o + 2 + len);
  const nul = raw.indexOf(0);
  // OpenVPN forces a NUL into the last byte, so without one the last byte is not part of the string.
  return { s: raw.subarray(0, nul >= 0 ? nul : len - 1).toString('utf8'), next: o + 2 + len };
}

/**
 * Decodes the peer's message from the start of its TLS plaintext. `fromClient` selects the form
 * with pre_master. A message that ends right after the password (no peer-info field at all) is
 * accepted as complete, as OpenVPN does.
 */
export function decodeKeyMethod2(buf: Buffer, fromClient: boolean): Km2DecodeResult {
  const fixed = 5 + (fromClient ? PRE_MASTER_SIZE : 0) + 2 * RANDOM_SIZE;
  if (buf.length >= 4 && buf.readUInt32BE(0) !== 0) return { status: 'error', reason: 'bad-prefix' };
  if (buf.length >= 5 && ((buf[4] as number) & 0x0f) !== KEY_METHOD_2) {
    return { status: 'error', reason: 'bad-key-method' };
  }
  if (buf.length < fixed) return { status: 'incomplete' };
  let o = 5;
  const preMaster = fromClient ? Buffer.from(buf.subarray(o, (o += PRE_MASTER_SIZE))) : undefined;
  const random1 = Buffer.from(buf.subarray(o, (o += RANDOM_SIZE)));
  const random2 = Buffer.from(buf.subarray(o, (o += RANDOM_SIZE)));
  const strs: string[] = [];
  const limits = [OPTIONS_STRING_MAX, USER_PASS_MAX, USER_PASS_MAX, PEER_INFO_MAX];
  for (let i = 0; i < limits.length; i++) {
    if (i === 3 && o === buf.length) {
      strs.push('');
      break;
    }
    const r = readString(buf, o, limits[i] as number);
    if (r === 'incomplete') return { status: 'incomplete' };
    if (r === 'too-long') return { status: 'error', reason: 'string-too-long' };
    strs.push(r.s);
    o = r.next;
  }
  const [options, username, password, peerInfo] = strs as [string, string, string, string];
  return {
    status: 'ok',
    message: { preMaster, random1, random2, options, username, password, peerInfo },
    consumed: o,
  };
}

// ---- options string (§C3) -------------------------------------------------------------------------

export interface OptionsStringParams {
  role: 'client' | 'server';
  devType?: 'tun' | 'tap';
  linkMtu?: number;
  tunMtu?: number;
  /** UDPv4, UDPv6, TCPv4_CLIENT, TCPv4_SERVER, ... */
  proto?: string;
  /** P2P only. */
  ifconfig?: string;
  /** Non-NCP fallback / P2P only. */
  cipher?: string;
  auth?: string;
  keysize?: number;
}

/** The string 2.6.14 sends, e.g. `V4,dev-type tun,link-mtu 1541,tun-mtu 1500,proto UDPv4,auth SHA1,keysize 128,key-method 2,tls-client`. */
export function buildOptionsString(p: OptionsStringParams): string {
  const parts = [
    'V4',
    `dev-type ${p.devType ?? 'tun'}`,
    `link-mtu ${p.linkMtu ?? 1541}`,
    `tun-mtu ${p.tunMtu ?? 1500}`,
    `proto ${p.proto ?? 'UDPv4'}`,
  ];
  if (p.ifconfig !== undefined) parts.push(`ifconfig ${p.ifconfig}`);
  if (p.cipher !== undefined) parts.push(`cipher ${p.cipher}`);
  parts.push(`auth ${p.auth ?? 'SHA1'}`, `keysize ${p.keysize ?? 128}`, 'key-method 2');
  parts.push(p.role === 'client' ? 'tls-client' : 'tls-server');
  return parts.join(',');
}

// ---- peer-info (§C4) ------------------------------------------------------------------------------

export const IvProto = {
  DATA_V2: 2,
  REQUEST_PUSH: 4,
  TLS_KEY_EXPORT: 8,
  AUTH_PENDING_KW: 16,
  NCP_P2P: 32,
  DNS_OPTION: 64,
  CC_EXIT_NOTIFY: 128,
  AUTH_FAIL_TEMP: 256,
  DYN_TLS_CRYPT: 512,
  DATA_EPOCH: 1024,
} as const;

/** DATA_V2|REQUEST_PUSH|TLS_KEY_EXPORT|AUTH_PENDING_KW|CC_EXIT_NOTIFY|AUTH_FAIL_TEMP = 414. */
export const DEFAULT_IV_PROTO =
  IvProto.DATA_V2 |
  IvProto.REQUEST_PUSH |
  IvProto.TLS_KEY_EXPORT |
  IvProto.AUTH_PENDING_KW |
  IvProto.CC_EXIT_NOTIFY |
  IvProto.AUTH_FAIL_TEMP;

export interface PeerInfoParams {
  /** data-ciphers, in preference order. */
  ciphers: readonly string[];
  version?: string;
  platform?: string;
  ivProto?: number;
  mtu?: number;
  /** Announce IV_LZO_STUB/IV_COMP_STUB/IV_COMP_STUBv2 like 2.6 does without compression options. */
  compStubs?: boolean;
  /** Extra IV_ or UV_ variables (IV_GUI_VER, IV_SSO, UV_*), appended in order. */
  extra?: Readonly<Record<string, string>>;
}

/** `K=V\n` lines as a 2.6 client with pull sends them. */
export function buildPeerInfo(p: PeerInfoParams): string {
  if (p.ciphers.length === 0) throw new ConfigError('data-ciphers', 'at least one data cipher is required');
  const proto = p.ivProto ?? DEFAULT_IV_PROTO;
  if (proto !== 0 && (proto & IvProto.DATA_V2) === 0) {
    throw new ConfigError('ivProto', 'IV_PROTO must include DATA_V2 (2) when any other bit is set');
  }
  const lines = [
    `IV_VER=${p.version ?? '2.6.14'}`,
    `IV_PLAT=${p.platform ?? 'linux'}`,
    'IV_TCPNL=1',
    `IV_MTU=${p.mtu ?? 1600}`,
  ];
  const upper = p.ciphers.map((c) => c.toUpperCase());
  if (upper.includes('AES-256-GCM') && upper.includes('AES-128-GCM')) lines.push('IV_NCP=2');
  lines.push(`IV_CIPHERS=${upper.join(':')}`, `IV_PROTO=${proto}`);
  if (p.compStubs ?? true) lines.push('IV_LZO_STUB=1', 'IV_COMP_STUB=1', 'IV_COMP_STUBv2=1');
  for (const [k, v] of Object.entries(p.extra ?? {})) {
    if (!/^(IV|UV)_[A-Za-z0-9_]+$/.test(k) || /[\r\n\0]/.test(v)) {
      throw new ConfigError(`peerInfo.${k}`, 'extra peer-info keys must be IV_*/UV_* and values single-line');
    }
    lines.push(`${k}=${v}`);
  }
  return lines.map((l) => `${l}\n`).join('');
}

/** Parses `K=V` lines (server side, and for tests). Malformed lines are skipped. */
export function parsePeerInfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out.set(line.slice(0, eq), line.slice(eq + 1).replace(/\r$/, ''));
  }
  return out;
}
