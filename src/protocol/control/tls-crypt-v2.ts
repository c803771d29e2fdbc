// tls-crypt-v2 keys (openvpn-protocol.md §B3): PEM files, WKc wrapping/unwrapping, the early
// negotiation TLV carried by HARD_RESET_SERVER_V2.
//
//   server key  128 bytes: cipher half (Ke = first 32) | hmac half (Ka = first 32)
//   client key  Kc (256, a tls-crypt key2) || WKc
//   WKc         T:32 || AES-256-CTR(Ke, IV=T[0..16], Kc || metadata) || u16 len(WKc)
//               T = HMAC-SHA256(Ka, u16 len(WKc) || Kc || metadata)
//   metadata    type byte: 0x00 user data follows | 0x01 u64 BE unix timestamp
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '../../util/errors.js';
import {
  EARLY_NEG_FLAG_RESEND_WKC,
  KEY_HALF_SIZE,
  LONG_PID_SIZE,
  SID_SIZE,
  STATIC_KEY_SIZE,
  TLS_CRYPT_BLOCK_KEY_SIZE,
  TLS_CRYPT_TAG_SIZE,
  TLV_TYPE_EARLY_NEG_FLAGS,
  WKC_MAX_SIZE,
} from './constants.js';
import { StaticKey } from './static-key.js';
import { ctr } from './wrap.js';

const SERVER_PEM = 'OpenVPN tls-crypt-v2 server key';
const CLIENT_PEM = 'OpenVPN tls-crypt-v2 client key';
const SERVER_KEY_SIZE = 2 * KEY_HALF_SIZE;
const WKC_MIN_SIZE = TLS_CRYPT_TAG_SIZE + STATIC_KEY_SIZE + 2;
export const METADATA_TYPE_USER = 0x00;
export const METADATA_TYPE_TIMESTAMP = 0x01;

export interface TlsCryptV2ServerKey {
  readonly cipherKey: Buffer; // Ke
  readonly hmacKey: Buffer; // Ka
  /** The full 128 bytes as stored in the PEM. */
  readonly raw: Buffer;
}

export interface TlsCryptV2ClientKey {
  readonly kc: StaticKey;
  readonly wkc: Buffer;
}

function pemBody(text: string, label: string, what: string): Buffer {
  const begin = `-----BEGIN ${label}-----`;
  const end = `-----END ${label}-----`;
  const s = text.indexOf(begin);
  const e = text.indexOf(end);
  if (s < 0 || e < s) throw new ConfigError(what, `no "${begin}" block found`);
  const b64 = text.slice(s + begin.length, e).replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new ConfigError(what, `${label} body is not base64`);
  return Buffer.from(b64, 'base64');
}

function pem(label: string, body: Buffer): string {
  const b64 = body
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

export function parseTlsCryptV2ServerKey(text: string): TlsCryptV2ServerKey {
  const raw = pemBody(text, SERVER_PEM, 'tls-crypt-v2');
  if (raw.length !== SERVER_KEY_SIZE) {
    throw new ConfigError('tls-crypt-v2', `server key must be ${SERVER_KEY_SIZE} bytes, got ${raw.length}`);
  }
  return serverKeyFromRaw(raw);
}

function serverKeyFromRaw(raw: Buffer): TlsCryptV2ServerKey {
  return {
    raw: Buffer.from(raw),
    cipherKey: Buffer.from(raw.subarray(0, TLS_CRYPT_BLOCK_KEY_SIZE)),
    hmacKey: Buffer.from(raw.subarray(KEY_HALF_SIZE, KEY_HALF_SIZE + TLS_CRYPT_BLOCK_KEY_SIZE)),
  };
}

export function formatTlsCryptV2ServerKey(key: TlsCryptV2ServerKey): string {
  return pem(SERVER_PEM, key.raw);
}

export function generateTlsCryptV2ServerKey(): TlsCryptV2ServerKey {
  return serverKeyFromRaw(randomBytes(SERVER_KEY_SIZE));
}

export function parseTlsCryptV2ClientKey(text: string): TlsCryptV2ClientKey {
  const raw = pemBody(text, CLIENT_PEM, 'tls-crypt-v2');
  const wkcLen = raw.length - STATIC_KEY_SIZE;
  if (wkcLen < WKC_MIN_SIZE || wkcLen > WKC_MAX_SIZE || raw.readUInt16BE(raw.length - 2) !== wkcLen) {
    throw new ConfigError('tls-crypt-v2', 'client key is not Kc(256) || WKc with a consistent WKc length');
  }
  return {
    kc: new StaticKey(raw.subarray(0, STATIC_KEY_SIZE)),
    wkc: Buffer.from(raw.subarray(STATIC_KEY_SIZE)),
  };
}

export function formatTlsCryptV2ClientKey(key: TlsCryptV2ClientKey): string {
  return pem(CLIENT_PEM, Buffer.concat([key.kc.bytes, key.wkc]));
}

/** Wraps Kc || metadata under the server key (what `--genkey tls-crypt-v2-client` does). */
export function wrapClientKey(server: TlsCryptV2ServerKey, kc: StaticKey, metadata: Buffer): Buffer {
  const len = TLS_CRYPT_TAG_SIZE + kc.bytes.length + metadata.length + 2;
  if (len > WKC_MAX_SIZE) throw new ConfigError('metadata', `WKc would be ${len} bytes, max ${WKC_MAX_SIZE}`);
  const netLen = u16(len);
  const tag = createHmac('sha256', server.hmacKey).update(netLen).update(kc.bytes).update(metadata).digest();
  return Buffer.concat([tag, ctr(server.cipherKey, tag, Buffer.concat([kc.bytes, metadata])), netLen]);
}

/** A fresh client key (random Kc) with a timestamp metadata block, as openvpn generates by default. */
export function generateTlsCryptV2ClientKey(
  server: TlsCryptV2ServerKey,
  nowSec: number,
): TlsCryptV2ClientKey {
  const kc = new StaticKey(randomBytes(STATIC_KEY_SIZE));
  const meta = Buffer.alloc(9);
  meta[0] = METADATA_TYPE_TIMESTAMP;
  meta.writeBigUInt64BE(BigInt(Math.floor(nowSec)), 1);
  return { kc, wkc: wrapClientKey(server, kc, meta) };
}

export type WkcDropReason = 'wkc-length' | 'wkc-tag' | 'wkc-short';

/** Server side: recovers Kc and metadata from WKc. Never throws on network input. */
export function unwrapClientKey(
  server: TlsCryptV2ServerKey,
  wkc: Buffer,
): { ok: true; kc: StaticKey; metadata: Buffer } | { ok: false; reason: WkcDropReason } {
  if (wkc.length < WKC_MIN_SIZE || wkc.length > WKC_MAX_SIZE) return { ok: false, reason: 'wkc-length' };
  if (wkc.readUInt16BE(wkc.length - 2) !== wkc.length) return { ok: false, reason: 'wkc-length' };
  const tag = wkc.subarray(0, TLS_CRYPT_TAG_SIZE);
  const plain = ctr(server.cipherKey, tag, wkc.subarray(TLS_CRYPT_TAG_SIZE, wkc.length - 2));
  const want = createHmac('sha256', server.hmacKey)
    .update(wkc.subarray(wkc.length - 2))
    .update(plain)
    .digest();
  if (!timingSafeEqual(tag, want)) return { ok: false, reason: 'wkc-tag' };
  if (plain.length < STATIC_KEY_SIZE) return { ok: false, reason: 'wkc-short' };
  return {
    ok: true,
    kc: new StaticKey(plain.subarray(0, STATIC_KEY_SIZE)),
    metadata: plain.subarray(STATIC_KEY_SIZE),
  };
}

/**
 * Splits `[tls-crypt packet][WKc]` using WKc's trailing u16 length. Returns undefined when the
 * length cannot be right (the packet is then dropped).
 */
export function splitWkc(wire: Buffer): { packet: Buffer; wkc: Buffer } | undefined {
  const minPacket = 1 + SID_SIZE + LONG_PID_SIZE + TLS_CRYPT_TAG_SIZE;
  if (wire.length < minPacket + 2) return undefined;
  const len = wire.readUInt16BE(wire.length - 2);
  if (len < WKC_MIN_SIZE || len > WKC_MAX_SIZE || len > wire.length - minPacket) return undefined;
  return { packet: wire.subarray(0, wire.length - len), wkc: wire.subarray(wire.length - len) };
}

function u16(v: number): Buffer {
  const b = Buffer.allocUnsafe(2);
  b.writeUInt16BE(v, 0);
  return b;
}

/** HARD_RESET_SERVER_V2 payload asking the client to resend WKc (type 1, len 2, flags). */
export function encodeEarlyNegFlags(flags: number): Buffer {
  const b = Buffer.allocUnsafe(6);
  b.writeUInt16BE(TLV_TYPE_EARLY_NEG_FLAGS, 0);
  b.writeUInt16BE(2, 2);
  b.writeUInt16BE(flags & 0xffff, 4);
  return b;
}

/**
 * Parses the TLVs of a HARD_RESET_SERVER_V2 payload. Unknown types are skipped; a truncated TLV
 * ends parsing (treated as no flags). Returns whether the server asks for WKc to be resent.
 */
export function parseEarlyNegPayload(payload: Buffer): { resendWkc: boolean } {
  let o = 0;
  let resendWkc = false;
  while (payload.length - o >= 4) {
    const type = payload.readUInt16BE(o);
    const len = payload.readUInt16BE(o + 2);
    if (payload.length - o - 4 < len) return { resendWkc: false };
    if (type === TLV_TYPE_EARLY_NEG_FLAGS && len === 2) {
      resendWkc = (payload.readUInt16BE(o + 4) & EARLY_NEG_FLAG_RESEND_WKC) !== 0;
    }
    o += 4 + len;
  }
  return { resendWkc };
}
