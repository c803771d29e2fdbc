// Special payloads carried as ordinary encrypted data packets (protocol §A5):
//
//   keepalive ping:  [2a 18 7b f3 64 1e b4 cb 07 ed 2d 0a 98 1f c7 48]          exactly 16 bytes
//   OCC:             [28 7f 34 6b d4 ef 7a 81 2d 56 b8 d3 af c5 45 9c][type][data...]
//
// Both are recognised on the decrypted payload after compression framing was removed, and never
// reach the TUN. Writers fill a caller-provided buffer (framing is added afterwards like any packet).

import { OCC_EXIT, OCC_STRING, OCC_STRING_SIZE, PING_STRING, PING_STRING_SIZE } from '../constants.js';

function equalsAt(buf: Uint8Array, off: number, magic: Readonly<Uint8Array>, n: number): boolean {
  for (let k = 0; k < n; k++) if (buf[off + k] !== magic[k]) return false;
  return true;
}

/** True if buf[off, +len) is exactly the keepalive ping. */
export function isPing(buf: Uint8Array, off: number, len: number): boolean {
  return (
    len === PING_STRING_SIZE && off >= 0 && off + len <= buf.length && equalsAt(buf, off, PING_STRING, len)
  );
}

/** Write the ping at buf[off]; returns its length (16). */
export function writePing(buf: Uint8Array, off: number): number {
  for (let k = 0; k < PING_STRING_SIZE; k++) buf[off + k] = PING_STRING[k] ?? 0;
  return PING_STRING_SIZE;
}

/** OCC type byte (0..255) if buf[off, +len) is an OCC message, else -1. */
export function occType(buf: Uint8Array, off: number, len: number): number {
  if (len < OCC_STRING_SIZE + 1 || off < 0 || off + len > buf.length) return -1;
  if (!equalsAt(buf, off, OCC_STRING, OCC_STRING_SIZE)) return -1;
  return buf[off + OCC_STRING_SIZE] ?? -1;
}

/** True for an OCC EXIT (explicit-exit-notify from the peer). */
export function isOccExit(buf: Uint8Array, off: number, len: number): boolean {
  return occType(buf, off, len) === OCC_EXIT;
}

/** Write an OCC message header (magic + type) at buf[off]; returns 17. */
export function writeOcc(buf: Uint8Array, off: number, type: number): number {
  for (let k = 0; k < OCC_STRING_SIZE; k++) buf[off + k] = OCC_STRING[k] ?? 0;
  buf[off + OCC_STRING_SIZE] = type & 0xff;
  return OCC_STRING_SIZE + 1;
}

/** Write an OCC EXIT payload at buf[off]; returns its length (17). */
export function writeOccExit(buf: Uint8Array, off: number): number {
  return writeOcc(buf, off, OCC_EXIT);
}
