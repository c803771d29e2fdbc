// Control-channel wrapping (openvpn-protocol.md §B2, §B3): none, tls-auth, tls-crypt, and the
// tls-crypt-v2 client flavour (tls-crypt with the client key Kc, plus WKc appended to
// HARD_RESET_CLIENT_V3 and CONTROL_WKC_V1).
//
// Every wrapper maps the plain packet of packet.ts to wire bytes and back:
//   plain      [op][sid:8][body...]
//   tls-auth   [op][sid:8][hmac:D][pid:4][time:4][body...]          HMAC(pid|time|op|sid|body)
//   tls-crypt  [op][sid:8][pid:4][time:4][tag:32][CTR(body)]         tag = HMAC-SHA256(op|sid|pid|time|body)
//   v2 (op 10/11 only)  [tls-crypt packet][WKc]
// Receive order (both authenticated modes): authenticate with a constant-time compare, then the
// long-form replay check, then hand back the plain form. unwrap never throws on network input.
import { createCipheriv, createHmac, getHashes, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '../../util/errors.js';
import {
  EARLY_NEG_START,
  LONG_PID_SIZE,
  Opcode,
  SID_SIZE,
  TLS_CRYPT_BLOCK_KEY_SIZE,
  TLS_CRYPT_TAG_SIZE,
} from './constants.js';
import { opcodeOf } from './packet.js';
import { LongPacketIdSender, LongReplayWindow } from './replay.js';
import type { StaticKey } from './static-key.js';

const HDR = 1 + SID_SIZE;

export type WrapMode = 'none' | 'tls-auth' | 'tls-crypt' | 'tls-crypt-v2';
export type WrapDropReason = 'too-short' | 'bad-hmac' | 'bad-tag' | 'replay';

export type UnwrapResult =
  | {
      ok: true;
      /** The packet in plain form (decode with decodeControlPacket). */
      plain: Buffer;
      /** Long-form packet id of authenticated modes (undefined for none). */
      packetId: number | undefined;
    }
  | { ok: false; reason: WrapDropReason };

export interface ControlWrap {
  readonly mode: WrapMode;
  /** Bytes added to the plain form (excluding any WKc). */
  readonly overhead: number;
  /** Wraps a plain packet. `nowSec` = unix time in seconds (fixes the replay time on first use). */
  wrap(plain: Buffer, nowSec: number): Buffer;
  unwrap(wire: Buffer): UnwrapResult;
}

/** No wrapping: plain form on the wire. */
export class NoWrap implements ControlWrap {
  readonly mode = 'none';
  readonly overhead = 0;
  wrap(plain: Buffer): Buffer {
    return plain;
  }
  unwrap(wire: Buffer): UnwrapResult {
    if (wire.length < HDR) return { ok: false, reason: 'too-short' };
    return { ok: true, plain: wire, packetId: undefined };
  }
}

export interface TlsAuthOptions {
  key: StaticKey;
  /** key-direction: 0 (usually the server), 1 (usually the client) or undefined (bidirectional). */
  direction?: 0 | 1 | undefined;
  /** --auth digest, any OpenSSL name (SHA1 default, SHA256, SHA512, ...). */
  digest?: string;
}

/** tls-auth: HMAC over the packet with the 8-byte replay id moved to the front. */
export class TlsAuthWrap implements ControlWrap {
  readonly mode = 'tls-auth';
  readonly overhead: number;
  private readonly digest: string;
  private readonly hlen: number;
  private readonly sendKey: Buffer;
  private readonly recvKey: Buffer;
  private readonly pid = new LongPacketIdSender();
  private readonly replay = new LongReplayWindow();

  constructor(opts: TlsAuthOptions) {
    this.digest = normalizeDigest(opts.digest ?? 'SHA1');
    this.hlen = createHmac(this.digest, Buffer.alloc(1)).digest().length;
    if (this.hlen > 64)
      throw new ConfigError('auth', `digest ${opts.digest} is longer than the 64-byte key half`);
    const d = opts.direction;
    const sendIdx = d === 1 ? 1 : 0;
    const recvIdx = d === 0 ? 1 : 0;
    this.sendKey = Buffer.from(opts.key.hmac(sendIdx).subarray(0, this.hlen));
    this.recvKey = Buffer.from(opts.key.hmac(recvIdx).subarray(0, this.hlen));
    this.overhead = this.hlen + LONG_PID_SIZE;
  }

  wrap(plain: Buffer, nowSec: number): Buffer {
    const { id, time } = this.pid.next(nowSec);
    const out = Buffer.allocUnsafe(plain.length + this.overhead);
    plain.copy(out, 0, 0, HDR);
    const pidAt = HDR + this.hlen;
    out.writeUInt32BE(id, pidAt);
    out.writeUInt32BE(time >>> 0, pidAt + 4);
    plain.copy(out, pidAt + LONG_PID_SIZE, HDR);
    this.mac(this.sendKey, out).copy(out, HDR);
    return out;
  }

  unwrap(wire: Buffer): UnwrapResult {
    if (wire.length < HDR + this.overhead) return { ok: false, reason: 'too-short' };
    const got = wire.subarray(HDR, HDR + this.hlen);
    if (!timingSafeEqual(got, this.mac(this.recvKey, wire))) return { ok: false, reason: 'bad-hmac' };
    const id = wire.readUInt32BE(HDR + this.hlen);
    const time = wire.readUInt32BE(HDR + this.hlen + 4);
    if (!this.replay.check(id, time)) return { ok: false, reason: 'replay' };
    const plain = Buffer.concat([wire.subarray(0, HDR), wire.subarray(HDR + this.overhead)]);
    return { ok: true, plain, packetId: id };
  }

  /** HMAC(pid|time|op|sid|rest) of a wire-layout buffer, skipping its HMAC field. */
  private mac(key: Buffer, wire: Buffer): Buffer {
    const pidAt = HDR + this.hlen;
    return createHmac(this.digest, key)
      .update(wire.subarray(pidAt, pidAt + LONG_PID_SIZE))
      .update(wire.subarray(0, HDR))
      .update(wire.subarray(pidAt + LONG_PID_SIZE))
      .digest();
  }
}

function normalizeDigest(name: string): string {
  const lower = name.toLowerCase();
  const known = getHashes();
  if (known.includes(lower)) return lower;
  const dashless = lower.replace(/-/g, '');
  if (known.includes(dashless)) return dashless;
  throw new ConfigError(
    'auth',
    `unknown digest "${name}"; use an OpenSSL digest name such as SHA1 or SHA256`,
  );
}

/** Ke (AES-256-CTR) and Ka (HMAC-SHA256) of one direction. */
export interface TlsCryptKeyPair {
  readonly cipherKey: Buffer;
  readonly hmacKey: Buffer;
}

/** keys[i] of a 256-byte key2 block as a tls-crypt pair (first 32 bytes of each half). */
export function tlsCryptKeysOf(key: StaticKey, i: 0 | 1): TlsCryptKeyPair {
  return {
    cipherKey: Buffer.from(key.cipher(i).subarray(0, TLS_CRYPT_BLOCK_KEY_SIZE)),
    hmacKey: Buffer.from(key.hmac(i).subarray(0, TLS_CRYPT_BLOCK_KEY_SIZE)),
  };
}

export interface TlsCryptOptions {
  key: StaticKey;
  /** The server sends with keys[0], the client with keys[1]. */
  role: 'client' | 'server';
  /** First send id minus one (tls-crypt-v2 early negotiation: EARLY_NEG_START). */
  initialPacketId?: number;
  /** tls-crypt-v2 client: WKc appended to HARD_RESET_CLIENT_V3 and CONTROL_WKC_V1. */
  wkc?: Buffer;
}

/** tls-crypt (and the tls-crypt-v2 client, which is tls-crypt over Kc plus WKc). */
export class TlsCryptWrap implements ControlWrap {
  readonly mode: WrapMode;
  readonly overhead = LONG_PID_SIZE + TLS_CRYPT_TAG_SIZE;
  private readonly send: TlsCryptKeyPair;
  private readonly recv: TlsCryptKeyPair;
  private readonly pid: LongPacketIdSender;
  private readonly replay = new LongReplayWindow();
  private readonly wkc: Buffer | undefined;

  constructor(opts: TlsCryptOptions) {
    const sendIdx = opts.role === 'server' ? 0 : 1;
    this.send = tlsCryptKeysOf(opts.key, sendIdx);
    this.recv = tlsCryptKeysOf(opts.key, sendIdx === 0 ? 1 : 0);
    this.pid = new LongPacketIdSender(opts.initialPacketId ?? 0);
    this.wkc = opts.wkc === undefined ? undefined : Buffer.from(opts.wkc);
    this.mode = this.wkc === undefined ? 'tls-crypt' : 'tls-crypt-v2';
  }

  wrap(plain: Buffer, nowSec: number): Buffer {
    const { id, time } = this.pid.next(nowSec);
    const head = Buffer.allocUnsafe(HDR + LONG_PID_SIZE);
    plain.copy(head, 0, 0, HDR);
    head.writeUInt32BE(id, HDR);
    head.writeUInt32BE(time >>> 0, HDR + 4);
    const body = plain.subarray(HDR);
    const tag = createHmac('sha256', this.send.hmacKey).update(head).update(body).digest();
    const ct = ctr(this.send.cipherKey, tag, body);
    const op = opcodeOf(plain[0] as number);
    const needsWkc =
      this.wkc !== undefined && (op === Opcode.HARD_RESET_CLIENT_V3 || op === Opcode.CONTROL_WKC_V1);
    return Buffer.concat(needsWkc ? [head, tag, ct, this.wkc as Buffer] : [head, tag, ct]);
  }

  unwrap(wire: Buffer): UnwrapResult {
    const tagAt = HDR + LONG_PID_SIZE;
    if (wire.length < tagAt + TLS_CRYPT_TAG_SIZE) return { ok: false, reason: 'too-short' };
    const tag = wire.subarray(tagAt, tagAt + TLS_CRYPT_TAG_SIZE);
    const body = ctr(this.recv.cipherKey, tag, wire.subarray(tagAt + TLS_CRYPT_TAG_SIZE));
    const want = createHmac('sha256', this.recv.hmacKey)
      .update(wire.subarray(0, tagAt))
      .update(body)
      .digest();
    if (!timingSafeEqual(tag, want)) return { ok: false, reason: 'bad-tag' };
    const id = wire.readUInt32BE(HDR);
    if (!this.replay.check(id, wire.readUInt32BE(HDR + 4))) return { ok: false, reason: 'replay' };
    return { ok: true, plain: Buffer.concat([wire.subarray(0, HDR), body]), packetId: id };
  }
}

/** AES-256-CTR with IV = first 16 bytes of `tag` (encrypt and decrypt are the same operation). */
export function ctr(key: Buffer, tag: Buffer, data: Buffer): Buffer {
  const c = createCipheriv('aes-256-ctr', key, tag.subarray(0, 16));
  return Buffer.concat([c.update(data), c.final()]);
}

/** Convenience for a tls-crypt-v2 client: Kc as a tls-crypt key, early negotiation, WKc attached. */
export function tlsCryptV2ClientWrap(kc: StaticKey, wkc: Buffer, earlyNegotiation = true): TlsCryptWrap {
  return new TlsCryptWrap({
    key: kc,
    role: 'client',
    wkc,
    initialPacketId: earlyNegotiation ? EARLY_NEG_START : 0,
  });
}
