// Opcode / key-id / peer-id packing and first-byte classification (protocol §0, §A1).
//
//   byte0 = opcode << 3 | key_id
//
//   P_DATA_V1:  [0x30|kid] ...                      (opcode 6, 1-byte header)
//   P_DATA_V2:  [0x48|kid][peer_id:3] ...           (opcode 9, read as one BE u32:
//                                                    (9 << 3 | kid) << 24 | peer_id)
//
// Pure functions over (buf, offset): no allocation, no exceptions on network bytes. Writers trust
// their caller for bounds (caller misuse, see style practice 8); readers are only called after the
// caller checked the length (classifyFirstByte needs one byte).

import {
  P_DATA_V1,
  P_DATA_V2,
  P_FIRST_OPCODE,
  P_KEY_ID_MASK,
  P_LAST_OPCODE,
  P_OPCODE_SHIFT,
  PEER_ID_MAX,
} from '../constants.js';

/** Result of `classifyFirstByte`. */
export const PacketClass = {
  INVALID: 0,
  DATA_V1: 1,
  DATA_V2: 2,
  CONTROL: 3,
} as const;
export type PacketClass = (typeof PacketClass)[keyof typeof PacketClass];

export function opcodeOf(byte0: number): number {
  return (byte0 & 0xff) >>> P_OPCODE_SHIFT;
}

export function keyIdOf(byte0: number): number {
  return byte0 & P_KEY_ID_MASK;
}

export function makeByte0(opcode: number, keyId: number): number {
  return ((opcode << P_OPCODE_SHIFT) | (keyId & P_KEY_ID_MASK)) & 0xff;
}

/**
 * Sort a datagram by its first byte: data (6 → V1, 9 → V2), control (the other opcodes 3..11),
 * or invalid (0, 1, 2 and 12..31). Control packets still need their own authentication.
 */
export function classifyFirstByte(byte0: number): PacketClass {
  const op = opcodeOf(byte0);
  if (op === P_DATA_V2) return PacketClass.DATA_V2;
  if (op === P_DATA_V1) return PacketClass.DATA_V1;
  if (op >= P_FIRST_OPCODE && op <= P_LAST_OPCODE) return PacketClass.CONTROL;
  return PacketClass.INVALID;
}

/** Same as classifyFirstByte(buf[off]) with an empty buffer counted as invalid. */
export function classifyPacket(buf: Uint8Array, off: number, len: number): PacketClass {
  if (len < 1 || off < 0 || off >= buf.length) return PacketClass.INVALID;
  return classifyFirstByte(buf[off] ?? 0);
}

/** The V2 header as one u32: (9 << 3 | kid) << 24 | peerId. Unsigned (>>> 0). */
export function dataV2HeaderWord(keyId: number, peerId: number): number {
  return ((makeByte0(P_DATA_V2, keyId) << 24) | (peerId & PEER_ID_MAX)) >>> 0;
}

/** Write the 4-byte P_DATA_V2 header at buf[off]. */
export function writeDataV2Header(buf: Uint8Array, off: number, keyId: number, peerId: number): void {
  buf[off] = makeByte0(P_DATA_V2, keyId);
  buf[off + 1] = (peerId >>> 16) & 0xff;
  buf[off + 2] = (peerId >>> 8) & 0xff;
  buf[off + 3] = peerId & 0xff;
}

/** Write the 1-byte P_DATA_V1 header at buf[off]. */
export function writeDataV1Header(buf: Uint8Array, off: number, keyId: number): void {
  buf[off] = makeByte0(P_DATA_V1, keyId);
}

/** The 24-bit peer-id of a V2 header at buf[off] (caller checked 4 bytes are there). */
export function readPeerId(buf: Uint8Array, off: number): number {
  return ((buf[off + 1] ?? 0) << 16) | ((buf[off + 2] ?? 0) << 8) | (buf[off + 3] ?? 0);
}

/** True for the control opcodes that carry a TLS payload or ACKs (not data, not 1/2). */
export function isControlOpcode(op: number): boolean {
  return op >= P_FIRST_OPCODE && op <= P_LAST_OPCODE && op !== P_DATA_V1 && op !== P_DATA_V2;
}

/** Big-endian u32 at buf[off] (caller checked 4 bytes are there). */
export function readU32BE(buf: Uint8Array, off: number): number {
  return (
    (((buf[off] ?? 0) << 24) |
      ((buf[off + 1] ?? 0) << 16) |
      ((buf[off + 2] ?? 0) << 8) |
      (buf[off + 3] ?? 0)) >>>
    0
  );
}

export function writeU32BE(buf: Uint8Array, off: number, v: number): void {
  buf[off] = (v >>> 24) & 0xff;
  buf[off + 1] = (v >>> 16) & 0xff;
  buf[off + 2] = (v >>> 8) & 0xff;
  buf[off + 3] = v & 0xff;
}

// Every opcode, so callers of the header module need no second import.
export {
  P_CONTROL_HARD_RESET_CLIENT_V1,
  P_CONTROL_HARD_RESET_SERVER_V1,
  P_CONTROL_SOFT_RESET_V1,
  P_CONTROL_V1,
  P_ACK_V1,
  P_DATA_V1,
  P_CONTROL_HARD_RESET_CLIENT_V2,
  P_CONTROL_HARD_RESET_SERVER_V2,
  P_DATA_V2,
  P_CONTROL_HARD_RESET_CLIENT_V3,
  P_CONTROL_WKC_V1,
  PEER_ID_UNDEF,
} from '../constants.js';
