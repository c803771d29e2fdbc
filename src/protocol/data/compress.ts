// Compression framing inside the encryption, stub forms only (protocol §A5). We never compress
// and never decompress: compressed input is dropped with Drop.COMPRESSED.
//
//   mode      Tx (uncompressed)                     Rx accepts              Rx compressed marker
//   NONE      [packet]                              anything (raw)          -
//   LZO_NO    [FA][packet]                          FA                      66
//   STUB      [FB][packet[1..]][packet[0]]          FB (swap back)          69, 66
//   STUB_V2   [packet], or [50 00][packet] when     byte0 != 50 raw;        50 01/02/03
//             packet[0] == 50                       50 00 stripped
//
// Space: LZO_NO needs 1 byte of headroom, STUB_V2 2 bytes of headroom (only when escaping), STUB 1
// byte of tailroom (byte0 moves to the end, the marker takes its place). Everything is in place;
// results go to a caller-owned `out` (out[0] = new offset, out[1] = new length), no allocation.
// Note: 2.6 encodes the v2 escape as 50 0A in one path; it decodes 50 00, which is what we send.

import {
  COMP_ALGV2_INDICATOR_BYTE,
  COMP_ALGV2_LZ4_BYTE,
  COMP_ALGV2_LZO_BYTE,
  COMP_ALGV2_SNAPPY_BYTE,
  COMP_ALGV2_UNCOMPRESSED_BYTE,
  Drop,
  LZ4_COMPRESS_BYTE,
  LZO_COMPRESS_BYTE,
  NO_COMPRESS_BYTE,
  NO_COMPRESS_BYTE_SWAP,
} from '../constants.js';
import { ConfigError } from '../../util/errors.js';

export const CompressMode = {
  /** No framing (no compression option; recommended). */
  NONE: 0,
  /** `comp-lzo no` (and comp-lzo yes/adaptive when the peer does not compress). */
  LZO_NO: 1,
  /** `compress`, `compress stub`, `compress lz4` (swap framing). */
  STUB: 2,
  /** `compress stub-v2`, `compress lz4-v2`. */
  STUB_V2: 3,
} as const;
export type CompressMode = (typeof CompressMode)[keyof typeof CompressMode];

/** Map an OpenVPN option value (as pushed or configured) to a mode; ConfigError if unknown. */
export function parseCompressOption(option: string): CompressMode {
  switch (option.trim().replace(/\s+/g, ' ')) {
    case '':
    case 'none':
      return CompressMode.NONE;
    case 'comp-lzo':
    case 'comp-lzo no':
    case 'comp-lzo yes':
    case 'comp-lzo adaptive':
      return CompressMode.LZO_NO;
    case 'compress':
    case 'compress stub':
    case 'compress lz4':
      return CompressMode.STUB;
    case 'compress stub-v2':
    case 'compress lz4-v2':
      return CompressMode.STUB_V2;
    default:
      throw new ConfigError(
        'compress',
        `unsupported compression option "${option}": use none, "comp-lzo no", "compress stub" or "compress stub-v2"`,
      );
  }
}

/** Bytes needed in front of the packet for encodeFraming (worst case). */
export function framingHeadroom(mode: CompressMode): number {
  return mode === CompressMode.LZO_NO ? 1 : mode === CompressMode.STUB_V2 ? 2 : 0;
}

/** Bytes needed after the packet for encodeFraming. */
export function framingTailroom(mode: CompressMode): number {
  return mode === CompressMode.STUB ? 1 : 0;
}

/**
 * Tx: add the framing for `mode` to buf[off, +len) in place; out[0], out[1] = new offset, length.
 * The caller reserved framingHeadroom/framingTailroom (a RangeError otherwise: caller misuse).
 */
export function encodeFraming(
  mode: CompressMode,
  buf: Uint8Array,
  off: number,
  len: number,
  out: Int32Array,
): void {
  out[0] = off;
  out[1] = len;
  if (mode === CompressMode.LZO_NO) {
    needRoom(off >= 1, 'headroom');
    buf[off - 1] = NO_COMPRESS_BYTE;
    out[0] = off - 1;
    out[1] = len + 1;
  } else if (mode === CompressMode.STUB) {
    needRoom(off + len < buf.length, 'tailroom');
    buf[off + len] = len > 0 ? (buf[off] ?? 0) : NO_COMPRESS_BYTE_SWAP;
    buf[off] = NO_COMPRESS_BYTE_SWAP;
    out[1] = len + 1;
  } else if (mode === CompressMode.STUB_V2 && len > 0 && buf[off] === COMP_ALGV2_INDICATOR_BYTE) {
    needRoom(off >= 2, 'headroom');
    buf[off - 2] = COMP_ALGV2_INDICATOR_BYTE;
    buf[off - 1] = COMP_ALGV2_UNCOMPRESSED_BYTE;
    out[0] = off - 2;
    out[1] = len + 2;
  }
}

function needRoom(ok: boolean, what: string): void {
  if (!ok) throw new RangeError(`compress: no ${what} for the framing byte(s)`);
}

/**
 * Rx: remove the framing from a decrypted payload buf[off, +len) in place. Returns Drop.NONE with
 * out[0], out[1] = packet offset, length (length may be 0), or COMPRESSED / BAD_FRAMING /
 * TRUNCATED. Never throws on any bytes.
 */
export function decodeFraming(
  mode: CompressMode,
  buf: Uint8Array,
  off: number,
  len: number,
  out: Int32Array,
): Drop {
  out[0] = off;
  out[1] = len;
  if (len < 0 || off < 0 || off + len > buf.length) return Drop.TRUNCATED;
  if (mode === CompressMode.NONE) return Drop.NONE;
  if (mode === CompressMode.STUB_V2) return decodeV2(buf, off, len, out);
  if (len < 1) return Drop.TRUNCATED;
  const c = buf[off] ?? 0;
  if (c === LZO_COMPRESS_BYTE || c === LZ4_COMPRESS_BYTE) return Drop.COMPRESSED;
  if (mode === CompressMode.LZO_NO) {
    if (c !== NO_COMPRESS_BYTE) return Drop.BAD_FRAMING;
    out[0] = off + 1;
    out[1] = len - 1;
    return Drop.NONE;
  }
  if (mode !== CompressMode.STUB || c !== NO_COMPRESS_BYTE_SWAP) return Drop.BAD_FRAMING;
  // Swap back: the original byte0 is the last byte.
  if (len > 1) buf[off] = buf[off + len - 1] ?? 0;
  out[1] = len - 1;
  return Drop.NONE;
}

function decodeV2(buf: Uint8Array, off: number, len: number, out: Int32Array): Drop {
  if (len === 0 || buf[off] !== COMP_ALGV2_INDICATOR_BYTE) return Drop.NONE;
  if (len < 2) return Drop.TRUNCATED;
  const alg = buf[off + 1];
  if (alg === COMP_ALGV2_UNCOMPRESSED_BYTE) {
    out[0] = off + 2;
    out[1] = len - 2;
    return Drop.NONE;
  }
  if (alg === COMP_ALGV2_LZ4_BYTE || alg === COMP_ALGV2_LZO_BYTE || alg === COMP_ALGV2_SNAPPY_BYTE) {
    return Drop.COMPRESSED;
  }
  return Drop.BAD_FRAMING;
}
