// Minimal OpenVPN static key file parser (openvpn-protocol.md §B2). There is no shared
// src/protocol/static-key.ts yet; when one lands, this file should re-export it.
//
//   -----BEGIN OpenVPN Static key V1-----      256 bytes as hex, any line breaks
//   keys[0].cipher(64) keys[0].hmac(64) keys[1].cipher(64) keys[1].hmac(64)
//   -----END OpenVPN Static key V1-----
// Anything outside the markers (comments written by --genkey) is ignored.
import { ConfigError } from '../../util/errors.js';
import { KEY_HALF_SIZE, STATIC_KEY_SIZE } from './constants.js';

const BEGIN = '-----BEGIN OpenVPN Static key V1-----';
const END = '-----END OpenVPN Static key V1-----';

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

/** Parses the PEM-like text of `openvpn --genkey secret`. Throws ConfigError naming the problem. */
export function parseStaticKey(text: string): StaticKey {
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (start < 0 || end < start) {
    throw new ConfigError(
      'staticKey',
      `no "${BEGIN}" ... "${END}" block found; use a file from openvpn --genkey secret`,
    );
  }
  const hex = text.slice(start + BEGIN.length, end).replace(/\s+/g, '');
  if (!/^[0-9a-fA-F]*$/.test(hex)) {
    throw new ConfigError('staticKey', 'static key body contains non-hex characters');
  }
  if (hex.length !== STATIC_KEY_SIZE * 2) {
    throw new ConfigError(
      'staticKey',
      `static key body has ${hex.length / 2} bytes, expected ${STATIC_KEY_SIZE}`,
    );
  }
  return new StaticKey(Buffer.from(hex, 'hex'));
}

/** Formats a key the way openvpn writes it (16 bytes of hex per line). */
export function formatStaticKey(key: StaticKey): string {
  const hex = key.bytes.toString('hex');
  const lines: string[] = [];
  for (let i = 0; i < hex.length; i += 32) lines.push(hex.slice(i, i + 32));
  return `#\n# 2048 bit OpenVPN static key\n#\n${BEGIN}\n${lines.join('\n')}\n${END}\n`;
}
