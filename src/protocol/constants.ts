// Data-channel constants, in two groups (style practice 9):
//   1. Wire constants: fixed by OpenVPN 2.6 (names follow ssl_pkt.h, packet_id.h, comp.h, occ.h).
//      Changing one breaks interoperability.
//   2. Implementation limits and codes: our own choices (caps, drop-reason numbering).
// Every multi-byte wire integer is big-endian.

function hexBytes(spaced: string): Uint8Array {
  return Uint8Array.from(spaced.split(' '), (h) => parseInt(h, 16));
}

// ---------------------------------------------------------------------------------------------
// 1. Wire constants
// ---------------------------------------------------------------------------------------------

/** byte0 = opcode << P_OPCODE_SHIFT | key_id. */
export const P_OPCODE_SHIFT = 3;
/** Low 3 bits of byte0: key_id 0..7. */
export const P_KEY_ID_MASK = 0x07;

// Opcodes (ssl_pkt.h). 1 and 2 are key-method 1 resets, which 2.6 rejects.
export const P_CONTROL_HARD_RESET_CLIENT_V1 = 1;
export const P_CONTROL_HARD_RESET_SERVER_V1 = 2;
export const P_CONTROL_SOFT_RESET_V1 = 3;
export const P_CONTROL_V1 = 4;
export const P_ACK_V1 = 5;
export const P_DATA_V1 = 6;
export const P_CONTROL_HARD_RESET_CLIENT_V2 = 7;
export const P_CONTROL_HARD_RESET_SERVER_V2 = 8;
export const P_DATA_V2 = 9;
export const P_CONTROL_HARD_RESET_CLIENT_V3 = 10;
export const P_CONTROL_WKC_V1 = 11;
/** Lowest and highest opcode a 2.6 peer accepts on the wire. */
export const P_FIRST_OPCODE = P_CONTROL_SOFT_RESET_V1;
export const P_LAST_OPCODE = P_CONTROL_WKC_V1;

/** P_DATA_V2 peer-id meaning "not assigned": the server finds the client by source address. */
export const PEER_ID_UNDEF = 0xffffff;
/** Largest 24-bit peer-id. */
export const PEER_ID_MAX = 0xffffff;
/** P2P peer-id when EKM is not available: "vpn". */
export const PEER_ID_P2P_DEFAULT = 0x76706e;

// Header and AEAD sizes.
export const DATA_V1_HEADER_SIZE = 1;
export const DATA_V2_HEADER_SIZE = 4;
/** Short-form packet-id (TLS mode data channel). */
export const PACKET_ID_SIZE = 4;
export const AEAD_TAG_SIZE = 16;
/** Nonce tail taken from the HMAC half of the key block (§D1). */
export const IMPLICIT_IV_SIZE = 8;
/** Nonce = packet_id (4) || implicit IV (8). */
export const AEAD_NONCE_SIZE = PACKET_ID_SIZE + IMPLICIT_IV_SIZE;
/** Bytes in front of the plaintext: header + packet_id + tag. */
export const AEAD_OVERHEAD_V2 = DATA_V2_HEADER_SIZE + PACKET_ID_SIZE + AEAD_TAG_SIZE; // 24
export const AEAD_OVERHEAD_V1 = DATA_V1_HEADER_SIZE + PACKET_ID_SIZE + AEAD_TAG_SIZE; // 21
/** AAD lengths: V2 covers header + packet_id, V1 only the packet_id. */
export const AEAD_AAD_SIZE_V2 = DATA_V2_HEADER_SIZE + PACKET_ID_SIZE;
export const AEAD_AAD_SIZE_V1 = PACKET_ID_SIZE;

// Packet-id (packet_id.h).
/** Largest short-form id; the sender never wraps past it. */
export const PACKET_ID_MAX = 0xffffffff;
/** From this send id on, TLS mode starts a soft reset (PACKET_ID_WRAP_TRIGGER). */
export const PACKET_ID_WRAP_TRIGGER = 0xff000000;

// Replay window (--replay-window n t).
export const REPLAY_WINDOW_DEFAULT = 64;
export const REPLAY_WINDOW_MAX = 65536;
export const REPLAY_TIME_DEFAULT_S = 15;
export const REPLAY_TIME_MAX_S = 600;

// Plaintext framing bytes (comp.h, lzo.h, comp-lz4.h): the first byte(s) of the decrypted payload.
/** `comp-lzo`: packet was LZO compressed. */
export const LZO_COMPRESS_BYTE = 0x66;
/** `comp-lzo` / `comp-lzo no`: packet not compressed, marker then packet. */
export const NO_COMPRESS_BYTE = 0xfa;
/** `compress` / `compress stub|lz4`: not compressed; marker at byte0, original byte0 at the end. */
export const NO_COMPRESS_BYTE_SWAP = 0xfb;
/** `compress lz4` (swap framing): packet was LZ4 compressed. */
export const LZ4_COMPRESS_BYTE = 0x69;
/** `compress stub-v2|lz4-v2`: escape byte, followed by an algorithm byte. */
export const COMP_ALGV2_INDICATOR_BYTE = 0x50;
export const COMP_ALGV2_UNCOMPRESSED_BYTE = 0x00;
export const COMP_ALGV2_LZ4_BYTE = 0x01;
export const COMP_ALGV2_LZO_BYTE = 0x02;
export const COMP_ALGV2_SNAPPY_BYTE = 0x03;

/** Keepalive payload (ping.c): a decrypted payload equal to this is a ping, never for the TUN. */
export const PING_STRING: Readonly<Uint8Array> = hexBytes('2a 18 7b f3 64 1e b4 cb 07 ed 2d 0a 98 1f c7 48');
export const PING_STRING_SIZE = 16;

/** OCC messages (occ.h): magic, then one type byte, then type-specific data. */
export const OCC_STRING: Readonly<Uint8Array> = hexBytes('28 7f 34 6b d4 ef 7a 81 2d 56 b8 d3 af c5 45 9c');
export const OCC_STRING_SIZE = 16;
export const OCC_REQUEST = 0;
export const OCC_REPLY = 1;
export const OCC_MTU_LOAD_REQUEST = 2;
export const OCC_MTU_LOAD = 3;
export const OCC_MTU_REQUEST = 4;
export const OCC_MTU_REPLY = 5;
export const OCC_EXIT = 6;

// Static key file (OpenVPN "secret" / tls-auth key format).
export const STATIC_KEY_BEGIN = '-----BEGIN OpenVPN Static key V1-----';
export const STATIC_KEY_END = '-----END OpenVPN Static key V1-----';
/** keys[0].cipher(64) keys[0].hmac(64) keys[1].cipher(64) keys[1].hmac(64). */
export const STATIC_KEY_SIZE = 256;
export const KEY_HALF_SIZE = 64;

// ---------------------------------------------------------------------------------------------
// 2. Implementation limits and codes
// ---------------------------------------------------------------------------------------------

/** Time-rule checkpoints are bucketed to this granularity (the rule is lenient by at most this). */
export const REPLAY_TIME_BUCKET_MS = 1000;

/** Longest IPv6 extension-header chain walked before giving up on classifying L4. */
export const IPV6_MAX_EXT_HEADERS = 8;
/** NET_PACKET_LAYOUT.Layer3HeaderLength is 9 bits wide. */
export const LAYOUT_L3_HEADER_LENGTH_MAX = 511;

/**
 * Why a packet was dropped. Numbers index a per-engine `Uint32Array` of counters, so they stay
 * small and dense; `DROP_REASON_NAMES[code]` is the stable name used in stats and diagnostics.
 * 0 means "not dropped". Append only.
 */
export const Drop = {
  NONE: 0,
  /** Shorter than the header + packet-id + tag (or any decoder's fixed part). */
  TRUNCATED: 1,
  /** byte0 opcode is not one we accept (not 3..11, or not data where data was expected). */
  BAD_OPCODE: 2,
  /** Packet-id already seen. */
  REPLAY: 3,
  /** Packet-id below the window, or expired by the replay time rule. */
  TOO_OLD: 4,
  /** Packet-id 0 (never valid). */
  ZERO_ID: 5,
  /** Compressed payload (0x66, 0x69, 0x50 0x01..): we only do stub framing. */
  COMPRESSED: 6,
  /** Framing byte not valid for the configured compression mode. */
  BAD_FRAMING: 7,
  /** IP version nibble not 4 or 6. */
  IP_BAD_VERSION: 8,
  /** IP header length or total length inconsistent with the buffer. */
  IP_BAD_LENGTH: 9,
} as const;
export type Drop = (typeof Drop)[keyof typeof Drop];

export const DROP_REASON_NAMES: readonly string[] = [
  'none',
  'truncated',
  'bad-opcode',
  'replay',
  'too-old',
  'zero-id',
  'compressed',
  'bad-framing',
  'ip-bad-version',
  'ip-bad-length',
];
/** Size for a counters array indexed by `Drop`. */
export const DROP_REASON_COUNT = DROP_REASON_NAMES.length;
