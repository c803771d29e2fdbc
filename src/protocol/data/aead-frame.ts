// AEAD data-packet framing for the batch crypto API (protocol §A2).
//
//   V2: [0x48|kid][peer_id:3][pkt_id:4][tag:16][ciphertext ...]     overhead 24
//   V1: [0x30|kid]           [pkt_id:4][tag:16][ciphertext ...]     overhead 21
//        \________ AAD (V2: 8 bytes) ____/
//                    \ AAD (V1: 4) /
//
//   nonce (12) = pkt_id (4, BE) || implicit_iv (8)
//
// The functions below never encrypt: for packet i of a batch they write the header, the nonce
// (nonces[i*12 ..]) and the 5-word descriptor (desc[i*5 ..] = aadOff, aadLen, dataOff, dataLen,
// tagOff) that `sealBatch(slab, nonces, desc, n)` / `openBatch(slab, nonces, desc, n, results)`
// consume. All offsets are into the same `buf` (the slab); sealing and opening are in place.
//
// Flow, Tx (per packet):
//   1. The plaintext already sits at payloadOff with >= overhead bytes of headroom.
//   2. prepareSealV2/V1 writes header + pkt_id at payloadOff - overhead; the tag goes right after.
//   3. The returned frame offset and payloadLen + overhead describe the datagram after sealBatch.
// Flow, Rx (per packet):
//   1. parseDataFrame: opcode, key-id, peer-id, pkt_id; length >= header + 4 + 16.
//   2. The caller picks the key slot by key-id (and the peer by peer-id).
//   3. prepareOpen fills nonce + descriptor with that key's implicit IV; after openBatch the
//      plaintext is desc[dataOff], desc[dataLen]. Replay check only after the tag verified.

import {
  AEAD_AAD_SIZE_V1,
  AEAD_AAD_SIZE_V2,
  AEAD_NONCE_SIZE,
  AEAD_OVERHEAD_V1,
  AEAD_OVERHEAD_V2,
  AEAD_TAG_SIZE,
  DATA_V1_HEADER_SIZE,
  DATA_V2_HEADER_SIZE,
  Drop,
  IMPLICIT_IV_SIZE,
  PACKET_ID_SIZE,
  PEER_ID_UNDEF,
} from '../constants.js';
import {
  PacketClass,
  classifyFirstByte,
  keyIdOf,
  readPeerId,
  readU32BE,
  writeDataV1Header,
  writeDataV2Header,
  writeU32BE,
} from './header.js';

/** Descriptor word indexes (desc[i * DESC_WORDS + DESC_x]). */
export const DESC_AAD_OFF = 0;
export const DESC_AAD_LEN = 1;
export const DESC_DATA_OFF = 2;
export const DESC_DATA_LEN = 3;
export const DESC_TAG_OFF = 4;
export const DESC_WORDS = 5;

/** The descriptor array shared with src/crypto/aead.ts. */
export type AeadDescArray = Uint32Array | Int32Array;

/** Smallest valid frame: V1 header + packet-id + tag and an empty plaintext. */
export const MIN_FRAME_V1 = AEAD_OVERHEAD_V1;
export const MIN_FRAME_V2 = AEAD_OVERHEAD_V2;

function writeNonce(nonces: Uint8Array, i: number, packetId: number, implicitIv: Uint8Array): void {
  const n = i * AEAD_NONCE_SIZE;
  writeU32BE(nonces, n, packetId);
  for (let k = 0; k < IMPLICIT_IV_SIZE; k++) nonces[n + PACKET_ID_SIZE + k] = implicitIv[k] ?? 0;
}

function writeDesc(
  desc: AeadDescArray,
  i: number,
  aadOff: number,
  aadLen: number,
  dataOff: number,
  dataLen: number,
  tagOff: number,
): void {
  const d = i * DESC_WORDS;
  desc[d + DESC_AAD_OFF] = aadOff;
  desc[d + DESC_AAD_LEN] = aadLen;
  desc[d + DESC_DATA_OFF] = dataOff;
  desc[d + DESC_DATA_LEN] = dataLen;
  desc[d + DESC_TAG_OFF] = tagOff;
}

function assertHeadroom(payloadOff: number, overhead: number): void {
  if (payloadOff < overhead) {
    throw new RangeError(
      `aead-frame: payloadOff ${payloadOff} leaves less than ${overhead} bytes of headroom`,
    );
  }
}

/**
 * Tx, P_DATA_V2: frame packet i whose plaintext is buf[payloadOff, +payloadLen).
 * Returns the frame offset (payloadOff - 24); the frame is payloadLen + 24 bytes once sealed.
 */
export function prepareSealV2(
  buf: Uint8Array,
  payloadOff: number,
  payloadLen: number,
  keyId: number,
  peerId: number,
  packetId: number,
  implicitIv: Uint8Array,
  nonces: Uint8Array,
  i: number,
  desc: AeadDescArray,
): number {
  assertHeadroom(payloadOff, AEAD_OVERHEAD_V2);
  const f = payloadOff - AEAD_OVERHEAD_V2;
  writeDataV2Header(buf, f, keyId, peerId);
  writeU32BE(buf, f + DATA_V2_HEADER_SIZE, packetId);
  writeNonce(nonces, i, packetId, implicitIv);
  writeDesc(desc, i, f, AEAD_AAD_SIZE_V2, payloadOff, payloadLen, payloadOff - AEAD_TAG_SIZE);
  return f;
}

/** Tx, P_DATA_V1: as prepareSealV2 with a 1-byte header; returns payloadOff - 21. */
export function prepareSealV1(
  buf: Uint8Array,
  payloadOff: number,
  payloadLen: number,
  keyId: number,
  packetId: number,
  implicitIv: Uint8Array,
  nonces: Uint8Array,
  i: number,
  desc: AeadDescArray,
): number {
  assertHeadroom(payloadOff, AEAD_OVERHEAD_V1);
  const f = payloadOff - AEAD_OVERHEAD_V1;
  writeDataV1Header(buf, f, keyId);
  const pid = f + DATA_V1_HEADER_SIZE;
  writeU32BE(buf, pid, packetId);
  writeNonce(nonces, i, packetId, implicitIv);
  writeDesc(desc, i, pid, AEAD_AAD_SIZE_V1, payloadOff, payloadLen, payloadOff - AEAD_TAG_SIZE);
  return f;
}

/**
 * Parsed header of a received data frame. One instance per Rx loop, overwritten per packet
 * (no per-packet objects). Valid only after parseDataFrame returned Drop.NONE.
 */
export class DataFrameInfo {
  /** PacketClass.DATA_V1 or DATA_V2. */
  format: PacketClass = PacketClass.INVALID;
  keyId = 0;
  /** 24-bit peer-id; PEER_ID_UNDEF for V1. */
  peerId = PEER_ID_UNDEF;
  packetId = 0;
  /** 1 (V1) or 4 (V2). */
  headerLen = 0;
  frameOff = 0;
  frameLen = 0;
  /** Where the plaintext lands after an in-place open. */
  payloadOff = 0;
  payloadLen = 0;
}

/**
 * Rx step 1: validate a data frame at buf[off, +len) and fill `out`.
 * Returns Drop.NONE, Drop.BAD_OPCODE (not data) or Drop.TRUNCATED (< header + 4 + 16, or the
 * range does not fit `buf`). Never throws.
 */
export function parseDataFrame(buf: Uint8Array, off: number, len: number, out: DataFrameInfo): Drop {
  if (len < 1 || off < 0 || off + len > buf.length) return Drop.TRUNCATED;
  const b0 = buf[off] ?? 0;
  const cls = classifyFirstByte(b0);
  let hdr: number;
  if (cls === PacketClass.DATA_V2) hdr = DATA_V2_HEADER_SIZE;
  else if (cls === PacketClass.DATA_V1) hdr = DATA_V1_HEADER_SIZE;
  else return Drop.BAD_OPCODE;
  if (len < hdr + PACKET_ID_SIZE + AEAD_TAG_SIZE) return Drop.TRUNCATED;
  out.format = cls;
  out.keyId = keyIdOf(b0);
  out.peerId = cls === PacketClass.DATA_V2 ? readPeerId(buf, off) : PEER_ID_UNDEF;
  out.packetId = readU32BE(buf, off + hdr);
  out.headerLen = hdr;
  out.frameOff = off;
  out.frameLen = len;
  out.payloadOff = off + hdr + PACKET_ID_SIZE + AEAD_TAG_SIZE;
  out.payloadLen = len - hdr - PACKET_ID_SIZE - AEAD_TAG_SIZE;
  return Drop.NONE;
}

/** Rx step 3: nonce + descriptor for packet i, with the implicit IV of the key chosen by key-id. */
export function prepareOpen(
  info: DataFrameInfo,
  implicitIv: Uint8Array,
  nonces: Uint8Array,
  i: number,
  desc: AeadDescArray,
): void {
  const f = info.frameOff;
  const v2 = info.format === PacketClass.DATA_V2;
  const aadOff = v2 ? f : f + DATA_V1_HEADER_SIZE;
  const aadLen = v2 ? AEAD_AAD_SIZE_V2 : AEAD_AAD_SIZE_V1;
  writeNonce(nonces, i, info.packetId, implicitIv);
  writeDesc(desc, i, aadOff, aadLen, info.payloadOff, info.payloadLen, info.payloadOff - AEAD_TAG_SIZE);
}

/** Rx steps 1 + 3 when the key is already known (single key slot, tests). */
export function parseAndPrepareOpen(
  buf: Uint8Array,
  off: number,
  len: number,
  implicitIv: Uint8Array,
  nonces: Uint8Array,
  i: number,
  desc: AeadDescArray,
  info: DataFrameInfo,
): Drop {
  const r = parseDataFrame(buf, off, len, info);
  if (r === Drop.NONE) prepareOpen(info, implicitIv, nonces, i, desc);
  return r;
}
