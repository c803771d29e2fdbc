// Control packet codec (openvpn-protocol.md §B1). Works on the *plain* form, i.e. the packet as it
// looks with wrapping "none"; wrap.ts inserts/removes the tls-auth or tls-crypt fields after byte 9.
//
//   [op<<3|kid:1][own sid:8][ack_n:1][ack ids:4*ack_n][peer sid:8 if ack_n>0][msg id:4][payload]
//                            \______________ "body" (what tls-crypt encrypts) ________________/
//   P_ACK_V1 has no msg id and no payload.
//
// decodeControlPacket never throws: hostile input yields { ok: false, reason }.
import {
  ACK_ID_SIZE,
  ACK_MAX,
  CONTROL_OPCODES,
  KEY_ID_MASK,
  MSG_ID_SIZE,
  OPCODE_SHIFT,
  Opcode,
  SID_SIZE,
} from './constants.js';
import { ConfigError } from '../../util/errors.js';

export interface ControlPacket {
  readonly opcode: Opcode;
  /** 0..7 */
  readonly keyId: number;
  /** Sender's own session id (8 bytes). */
  readonly sessionId: Buffer;
  /** Message ids acknowledged by this packet (0..8). */
  readonly acks: readonly number[];
  /** The receiver's session id, echoed by the sender; present iff acks.length > 0. */
  readonly ackSessionId: Buffer | undefined;
  /** Reliable message id; undefined only for P_ACK_V1. */
  readonly messageId: number | undefined;
  /** TLS ciphertext (P_CONTROL_V1/WKC_V1), reset TLVs, or empty. Always empty for P_ACK_V1. */
  readonly payload: Buffer;
}

export type PacketDropReason =
  | 'too-short'
  | 'bad-opcode'
  | 'ack-count'
  | 'truncated-acks'
  | 'missing-msg-id'
  | 'ack-without-ids'
  | 'ack-trailing-bytes';

export type DecodeResult = { ok: true; packet: ControlPacket } | { ok: false; reason: PacketDropReason };

/** Byte 0 of any OpenVPN packet. */
export function opcodeByte(opcode: number, keyId: number): number {
  return ((opcode << OPCODE_SHIFT) | (keyId & KEY_ID_MASK)) & 0xff;
}

export function opcodeOf(byte0: number): number {
  return byte0 >>> OPCODE_SHIFT;
}

export function keyIdOf(byte0: number): number {
  return byte0 & KEY_ID_MASK;
}

/** Size of [ack_n][ids][peer sid] for n ids. */
export function ackBlockSize(n: number): number {
  return 1 + n * ACK_ID_SIZE + (n > 0 ? SID_SIZE : 0);
}

/** Encodes the plain form. Throws ConfigError on caller misuse (not on network input). */
export function encodeControlPacket(p: ControlPacket): Buffer {
  checkEncodable(p);
  const isAck = p.opcode === Opcode.ACK_V1;
  const n = p.acks.length;
  const size = 1 + SID_SIZE + ackBlockSize(n) + (isAck ? 0 : MSG_ID_SIZE + p.payload.length);
  const out = Buffer.allocUnsafe(size);
  out[0] = opcodeByte(p.opcode, p.keyId);
  p.sessionId.copy(out, 1);
  let o = 1 + SID_SIZE;
  out[o++] = n;
  for (const id of p.acks) o = out.writeUInt32BE(id, o);
  if (n > 0) o += (p.ackSessionId as Buffer).copy(out, o);
  if (!isAck) {
    o = out.writeUInt32BE(p.messageId as number, o);
    p.payload.copy(out, o);
  }
  return out;
}

function checkEncodable(p: ControlPacket): void {
  const bad = (field: string, why: string): never => {
    throw new ConfigError(`controlPacket.${field}`, `control packet ${field}: ${why}`);
  };
  if (!CONTROL_OPCODES.has(p.opcode)) bad('opcode', `${p.opcode} is not a control opcode (3,4,5,7,8,10,11)`);
  if (!Number.isInteger(p.keyId) || p.keyId < 0 || p.keyId > 7) bad('keyId', 'must be an integer 0..7');
  if (p.sessionId.length !== SID_SIZE) bad('sessionId', 'must be 8 bytes');
  if (p.acks.length > ACK_MAX) bad('acks', `at most ${ACK_MAX} ids fit an ack block`);
  for (const id of p.acks) if (!isU32(id)) bad('acks', 'ids must be u32 integers');
  if (p.acks.length > 0 && p.ackSessionId?.length !== SID_SIZE) bad('ackSessionId', 'must be 8 bytes');
  if (p.opcode === Opcode.ACK_V1) {
    if (p.acks.length === 0) bad('acks', 'P_ACK_V1 must acknowledge at least one id');
    if (p.payload.length !== 0) bad('payload', 'P_ACK_V1 carries no payload');
  } else if (p.messageId === undefined || !isU32(p.messageId)) {
    bad('messageId', 'required u32 for every opcode except P_ACK_V1');
  }
}

function isU32(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
}

/** Decodes the plain form; `buf` may be a view, the result copies nothing but `payload` views into it. */
export function decodeControlPacket(buf: Buffer): DecodeResult {
  if (buf.length < 1 + SID_SIZE + 1) return { ok: false, reason: 'too-short' };
  const b0 = buf[0] as number;
  const opcode = opcodeOf(b0);
  if (!CONTROL_OPCODES.has(opcode)) return { ok: false, reason: 'bad-opcode' };
  let o = 1 + SID_SIZE;
  const n = buf[o++] as number;
  if (n > ACK_MAX) return { ok: false, reason: 'ack-count' };
  if (buf.length < o + ackBlockSize(n) - 1) return { ok: false, reason: 'truncated-acks' };
  const acks: number[] = [];
  for (let i = 0; i < n; i++, o += ACK_ID_SIZE) acks.push(buf.readUInt32BE(o));
  let ackSessionId: Buffer | undefined;
  if (n > 0) {
    ackSessionId = buf.subarray(o, o + SID_SIZE);
    o += SID_SIZE;
  }
  const base = { opcode: opcode as Opcode, keyId: keyIdOf(b0), sessionId: buf.subarray(1, 1 + SID_SIZE) };
  if (opcode === Opcode.ACK_V1) {
    if (n === 0) return { ok: false, reason: 'ack-without-ids' };
    if (o !== buf.length) return { ok: false, reason: 'ack-trailing-bytes' };
    return {
      ok: true,
      packet: { ...base, acks, ackSessionId, messageId: undefined, payload: buf.subarray(o) },
    };
  }
  if (buf.length < o + MSG_ID_SIZE) return { ok: false, reason: 'missing-msg-id' };
  const messageId = buf.readUInt32BE(o);
  return {
    ok: true,
    packet: { ...base, acks, ackSessionId, messageId, payload: buf.subarray(o + MSG_ID_SIZE) },
  };
}

// ---- TCP stream framing (§G): [u16 BE length][packet] ---------------------------------------------

/** Prefixes a packet with its u16 length for a TCP stream. */
export function frameForStream(packet: Buffer): Buffer {
  if (packet.length < 1 || packet.length > 0xffff) {
    throw new ConfigError('packet', `stream frame length ${packet.length} outside 1..65535`);
  }
  const out = Buffer.allocUnsafe(2 + packet.length);
  out.writeUInt16BE(packet.length, 0);
  packet.copy(out, 2);
  return out;
}

/**
 * Splits a TCP byte stream into packets. A zero or oversized length is fatal for the connection
 * (OpenVPN drops it), reported as `error` and sticky; the caller closes the socket.
 */
export class StreamDeframer {
  private pending: Buffer = Buffer.alloc(0);
  private failed = false;

  constructor(private readonly maxPacket = 2048) {}

  /** Feeds bytes; returns complete packets or 'error' once a bad length was seen. */
  push(chunk: Buffer): Buffer[] | 'error' {
    if (this.failed) return 'error';
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: Buffer[] = [];
    let o = 0;
    while (this.pending.length - o >= 2) {
      const len = this.pending.readUInt16BE(o);
      if (len === 0 || len > this.maxPacket) {
        this.failed = true;
        return 'error';
      }
      if (this.pending.length - o - 2 < len) break;
      out.push(Buffer.from(this.pending.subarray(o + 2, o + 2 + len)));
      o += 2 + len;
    }
    this.pending = this.pending.subarray(o);
    return out;
  }
}
