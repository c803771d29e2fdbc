// OpenVPN static key files ("secret" / tls-auth format) and data-channel keys derived from them,
// for the engine's static-key test mode: two engines share one file with opposite directions.
//
//   -----BEGIN OpenVPN Static key V1-----
//   16 lines of 32 hex digits = 256 bytes       (anything outside the markers is ignored)
//   -----END OpenVPN Static key V1-----
//
//   256-byte block:
//     off   0  keys[0].cipher (64)   first L bytes = AEAD key, direction 0 / "normal" encrypts
//     off  64  keys[0].hmac   (64)   first 8 bytes = implicit IV (nonce tail) for that key
//     off 128  keys[1].cipher (64)   direction 1 / "inverse" encrypts with keys[1]
//     off 192  keys[1].hmac   (64)
//
// Direction 0 ("normal", the TLS client side and `key-direction 0`) encrypts with keys[0] and
// decrypts with keys[1]; direction 1 ("inverse") the reverse, so the two ends of a tunnel use
// opposite directions. OpenVPN's bidirectional static-key mode (no key-direction) would reuse one
// key and nonce space both ways, which is unsafe with an AEAD cipher, so it is not offered.

import { randomBytes } from 'node:crypto';
import { ConfigError } from '../util/errors.js';
import {
  IMPLICIT_IV_SIZE,
  KEY_HALF_SIZE,
  STATIC_KEY_BEGIN,
  STATIC_KEY_END,
  STATIC_KEY_SIZE,
} from './constants.js';

/** AEAD ciphers of the data channel and their key lengths. */
export const AEAD_KEY_LENGTHS = {
  'AES-128-GCM': 16,
  'AES-192-GCM': 24,
  'AES-256-GCM': 32,
  'CHACHA20-POLY1305': 32,
} as const;
export type AeadCipherName = keyof typeof AEAD_KEY_LENGTHS;

export type KeyDirection = 0 | 1 | 'normal' | 'inverse';

export interface DirectionalKey {
  /** Cipher key, length per cipher. */
  key: Uint8Array;
  /** 8-byte nonce tail. */
  implicitIv: Uint8Array;
}

export interface DataChannelKeys {
  encrypt: DirectionalKey;
  decrypt: DirectionalKey;
}

const HEX_LINE_BYTES = 16;

/**
 * Parse the text of a static key file into its 256-byte block. Throws ConfigError (option
 * 'static-key') for missing markers, non-hex characters or a wrong byte count.
 */
export function parseStaticKey(text: string): Uint8Array {
  const begin = text.indexOf(STATIC_KEY_BEGIN);
  const end = begin < 0 ? -1 : text.indexOf(STATIC_KEY_END, begin + STATIC_KEY_BEGIN.length);
  if (begin < 0 || end < 0) {
    throw new ConfigError(
      'static-key',
      `static key: missing "${begin < 0 ? STATIC_KEY_BEGIN : STATIC_KEY_END}" line; generate a key file with generateStaticKey()`,
    );
  }
  const body = text.slice(begin + STATIC_KEY_BEGIN.length, end).replace(/\s+/g, '');
  const bad = /[^0-9a-fA-F]/.exec(body);
  if (bad) {
    throw new ConfigError(
      'static-key',
      `static key: character "${bad[0]}" is not a hex digit; the body must be hex only`,
    );
  }
  if (body.length !== STATIC_KEY_SIZE * 2) {
    throw new ConfigError(
      'static-key',
      `static key: body has ${body.length} hex digits (${Math.floor(body.length / 2)} bytes), expected ${STATIC_KEY_SIZE * 2} (${STATIC_KEY_SIZE} bytes)`,
    );
  }
  return Uint8Array.from(Buffer.from(body, 'hex'));
}

/** Like parseStaticKey but returns null instead of throwing (for fuzzing and probing input). */
export function tryParseStaticKey(text: string): Uint8Array | null {
  try {
    return parseStaticKey(text);
  } catch {
    return null;
  }
}

/** Encrypt/decrypt keys of one side for an AEAD cipher; ConfigError for a bad cipher/direction/block. */
export function deriveStaticDataKeys(
  block: Uint8Array,
  cipher: string,
  direction: KeyDirection,
): DataChannelKeys {
  if (block.length !== STATIC_KEY_SIZE) {
    throw new ConfigError(
      'static-key',
      `static key block has ${block.length} bytes, expected ${STATIC_KEY_SIZE}`,
    );
  }
  const keyLen = aeadKeyLength(cipher);
  const encIndex = directionIndex(direction);
  return {
    encrypt: keyFromHalf(block, encIndex, keyLen),
    decrypt: keyFromHalf(block, 1 - encIndex, keyLen),
  };
}

/** Key length of an AEAD cipher name (case-insensitive); ConfigError when unsupported. */
export function aeadKeyLength(cipher: string): number {
  const name = cipher.toUpperCase();
  if (Object.hasOwn(AEAD_KEY_LENGTHS, name)) return AEAD_KEY_LENGTHS[name as AeadCipherName];
  throw new ConfigError(
    'cipher',
    `cipher "${cipher}" is not a supported AEAD cipher: use one of ${Object.keys(AEAD_KEY_LENGTHS).join(', ')}`,
  );
}

function directionIndex(direction: KeyDirection): 0 | 1 {
  if (direction === 0 || direction === 'normal') return 0;
  if (direction === 1 || direction === 'inverse') return 1;
  throw new ConfigError(
    'key-direction',
    `key direction ${String(direction)} is invalid: use 0, 1, "normal" or "inverse"`,
  );
}

function keyFromHalf(block: Uint8Array, index: number, keyLen: number): DirectionalKey {
  const cipherOff = index * 2 * KEY_HALF_SIZE;
  const hmacOff = cipherOff + KEY_HALF_SIZE;
  return {
    key: block.slice(cipherOff, cipherOff + keyLen),
    implicitIv: block.slice(hmacOff, hmacOff + IMPLICIT_IV_SIZE),
  };
}

/** Format a 256-byte block as key file text (OpenVPN's layout: 16 lines of 16 bytes). */
export function formatStaticKey(block: Uint8Array): string {
  if (block.length !== STATIC_KEY_SIZE) {
    throw new ConfigError(
      'static-key',
      `static key block has ${block.length} bytes, expected ${STATIC_KEY_SIZE}`,
    );
  }
  const lines = ['#', '# 2048 bit OpenVPN static key', '#', STATIC_KEY_BEGIN];
  for (let off = 0; off < STATIC_KEY_SIZE; off += HEX_LINE_BYTES) {
    lines.push(Buffer.from(block.subarray(off, off + HEX_LINE_BYTES)).toString('hex'));
  }
  lines.push(STATIC_KEY_END, '');
  return lines.join('\n');
}

/** A fresh random key file text (crypto.randomBytes). */
export function generateStaticKey(): string {
  return formatStaticKey(new Uint8Array(randomBytes(STATIC_KEY_SIZE)));
}
