// Engine limits and sizes (implementation constants; wire constants live in protocol/constants.ts).

import { AEAD_OVERHEAD_V2 } from '../protocol/constants.js';

/** Tx payload backfill: TCP length (2) + DATA_V2 header, packet id and tag (24) + framing (2). */
export const TX_BACKFILL = 2 + AEAD_OVERHEAD_V2 + 2;
/** Tx tailroom: `compress stub` moves the first byte to the end. */
export const TX_TAILROOM = 1;
/** Most packets sealed with one AEAD call and handed to the transport at once. */
export const TX_BATCH_MAX = 256;
/** Most datagrams opened with one AEAD call. */
export const RX_BATCH_MAX = 256;
/** Internal sends (keepalive, control packets, OCC exit): slots of a private slab. */
export const INTERNAL_SLOTS = 64;
export const INTERNAL_SLOT_SIZE = 2048;
/** Received control packets kept for a reader that has not taken them yet. */
export const CONTROL_QUEUE_MAX = 256;
/** Keepalive / expiry timer period (ovpn-dco uses a 1 s timer per peer). */
export const TIMER_PERIOD_MS = 1000;
/** Token bit marking an internal send (not a Tx ring packet). */
export const TOKEN_INTERNAL = 0x8000_0000;
/** Return-context handle: transport index in the high bits, receive slot in the low 20. */
export const HANDLE_SLOT_BITS = 20;
export const HANDLE_SLOT_MASK = (1 << HANDLE_SLOT_BITS) - 1;
/** Default transport receive slots and slot size (a 1500-byte MTU packet + overhead fits). */
export const RX_SLOT_SIZE = 2048;
export const RX_SLOT_COUNT = 2048;
