// The static key as the control channel uses it (tls-auth, tls-crypt, tls-crypt-v2 Kc): a typed
// view over the 256-byte block. Text parsing and formatting are the shared ones in
// ../static-key.ts (openvpn-protocol.md §B2).
//
//   -----BEGIN OpenVPN Static key V1-----      256 bytes as hex, any line breaks
//   keys[0].cipher(64) keys[0].hmac(64) keys[1].cipher(64) keys[1].hmac(64)
//   -----END OpenVPN Static key V1-----
// Anything outside the markers (comments written by --genkey) is ignored.
import { ConfigError } from '../../util/errors.js';
import { KEY_HALF_SIZE, STATIC_KEY_SIZE } from './constants.js';
import { formatStaticKey as formatKeyBlock, parseStaticKey as parseKeyBlock } from '../static-key.js';

/** The 256-byte key2 structure of a static key file. */
export class StaticKey {
  readonly bytes: Buffer;

  constructor(bytes: Buffer) {
    if (bytes.length !== STATIC_KEY_SIZE) {
      throw new ConfigError('staticKey', `static key must be ${STATIC_KEY_SIZE} bytes, got ${bytes.length}`);
    }
    this.bytes = Buffer.from(bytes);
  }

  /** keys[i].cipher, 64 bytes (i = 0 | 1). */
  cipher(i: 0 | 1): Buffer {
    return this.bytes.subarray(i * 2 * KEY_HALF_SIZE, i * 2 * KEY_HALF_SIZE + KEY_HALF_SIZE);
  }

  /** keys[i].hmac, 64 bytes (i = 0 | 1). */
  hmac(i: 0 | 1): Buffer {
    const o = i * 2 * KEY_HALF_SIZE + KEY_HALF_SIZE;
    return this.bytes.subarray(o, o + KEY_HALF_SIZE);
  }
}

/** Parses the text of `openvpn --genkey secret` (the shared parser; ConfigError naming the problem). */
export function parseStaticKey(text: string): StaticKey {
  return new StaticKey(Buffer.from(parseKeyBlock(text)));
}

/** Formats a key the way openvpn writes it (16 bytes of hex per line). */
export function formatStaticKey(key: StaticKey): string {
  return formatKeyBlock(key.bytes);
}
