// Control-channel constants (openvpn-protocol.md §0, §B, §J). Spec values first, then the
// implementation's own bounds. Every number here is named after the OpenVPN source constant it
// mirrors where one exists.

// ---- spec: opcodes (high 5 bits of byte 0) -------------------------------------------------------
export const Opcode = {
  SOFT_RESET_V1: 3,
  CONTROL_V1: 4,
  ACK_V1: 5,
  HARD_RESET_CLIENT_V2: 7,
  HARD_RESET_SERVER_V2: 8,
  HARD_RESET_CLIENT_V3: 10,
  CONTROL_WKC_V1: 11,
} as const;
export type Opcode = (typeof Opcode)[keyof typeof Opcode];

/** Opcodes this codec accepts: 3,4,5,7,8,10,11 (1/2 are key-method 1, 6/9 are data). */
export const CONTROL_OPCODES: ReadonlySet<number> = new Set<number>(Object.values(Opcode));

export const OPCODE_SHIFT = 3;
export const KEY_ID_MASK = 0x07;

// ---- spec: sizes ----------------------------------------------------------------------------------
export const SID_SIZE = 8;
export const MSG_ID_SIZE = 4;
export const ACK_ID_SIZE = 4;
/** RELIABLE_ACK_SIZE: most ACK ids in one ack block (P_ACK_V1). */
export const ACK_MAX = 8;
/** CONTROL_SEND_ACK_MAX: ids piggy-backed on a non-ACK control packet. */
export const ACK_PIGGYBACK_MAX = 4;
/** Long-form packet id: u32 id + u32 unix time. */
export const LONG_PID_SIZE = 8;
export const TLS_CRYPT_TAG_SIZE = 32;
export const TLS_CRYPT_BLOCK_KEY_SIZE = 32; // AES-256-CTR key and HMAC-SHA256 key
/** Static key file: keys[0].cipher, keys[0].hmac, keys[1].cipher, keys[1].hmac, 64 bytes each. */
export const STATIC_KEY_SIZE = 256;
export const KEY_HALF_SIZE = 64;

// ---- spec: reliability and timers (§B4, §E, §F) --------------------------------------------------
export const SEND_WINDOW = 6; // TLS_RELIABLE_N_SEND_BUFFERS
export const RECV_WINDOW = 12; // TLS_RELIABLE_N_REC_BUFFERS
export const FAST_RETRANSMIT_ACKS = 3; // N_ACK_RETRANSMIT
export const ACK_MRU_SIZE = 8;
export const DEFAULT_TLS_TIMEOUT_MS = 2000;
export const DEFAULT_HAND_WINDOW_MS = 60_000;
export const PUSH_REQUEST_INTERVAL_MS = 5000;
export const DEFAULT_MAX_PACKET_SIZE = 1250;
/** key_id after the first renegotiation cycles 1..7, never back to 0. */
export const KEY_ID_MAX = 7;

// ---- spec: tls-crypt-v2 (§B3) ---------------------------------------------------------------------
export const EARLY_NEG_START = 0x0f000000;
export const EARLY_NEG_MASK = 0xff000000;
export const TLV_TYPE_EARLY_NEG_FLAGS = 0x0001;
export const EARLY_NEG_FLAG_RESEND_WKC = 0x0001;
export const WKC_MAX_SIZE = 1024; // TLS_CRYPT_V2_MAX_WKC_LEN

// ---- spec: key-method-2 and control messages (§C) ------------------------------------------------
export const KEY_METHOD_2 = 2;
export const PRE_MASTER_SIZE = 48;
export const RANDOM_SIZE = 32;
export const OPTIONS_STRING_MAX = 512; // TLS_OPTIONS_LEN
export const USER_PASS_MAX = 4096; // Debian builds (PKCS#11): USER_PASS_LEN 4096
export const PEER_INFO_MAX = 8192;
export const TLS_CHANNEL_BUF_SIZE = 2048;

// ---- spec: replay window for tls-auth / tls-crypt long-form ids (§A4) -----------------------------
export const REPLAY_WINDOW = 64;
export const REPLAY_TIME_S = 15;

// ---- implementation bounds ------------------------------------------------------------------------
/** Messages a key state may queue beyond its send window before the caller is misbehaving. */
export const SEND_BACKLOG_MAX = 1024;
/** Bytes of undelivered control-message text (no NUL yet) kept before the stream is rejected. */
export const CONTROL_TEXT_MAX = 64 * 1024;
/** Assumed IPv6 + UDP header inside max-packet-size. */
export const LINK_HEADER_ALLOWANCE = 48;
