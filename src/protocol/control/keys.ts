// Data-channel key derivation (openvpn-protocol.md §D).
//
//   key block (256)  off 0 keys[0].cipher  off 64 keys[0].hmac   TLS client -> server
//                    off 128 keys[1].cipher off 192 keys[1].hmac TLS server -> client
//   AEAD: key = first 16/24/32 bytes of the cipher half, implicit IV = first 8 of the hmac half.
//   The TLS client encrypts with keys[0] (NORMAL), the TLS server with keys[1] (INVERSE).
//
// The block comes from EKM (RFC 5705 exporter, label EXPORTER-OpenVPN-datakeys, *no* context)
// or, for peers without TLS_KEY_EXPORT, from the legacy TLS 1.0 PRF over the key-method-2 randoms.
import { createHmac } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { ConfigError } from '../../util/errors.js';
import { KEY_HALF_SIZE, PRE_MASTER_SIZE, RANDOM_SIZE, SID_SIZE } from './constants.js';

export const EKM_DATAKEYS_LABEL = 'EXPORTER-OpenVPN-datakeys';
export const EKM_DYN_TLS_CRYPT_LABEL = 'EXPORTER-OpenVPN-dynamic-tls-crypt';
export const EKM_P2P_PEERID_LABEL = 'EXPORTER-OpenVPN-p2p-peerid';
export const KEY_BLOCK_SIZE = 256;
export const IMPLICIT_IV_SIZE = 8;
const MASTER_SIZE = 48;

/**
 * RFC 5705 exporter without a context. @types/node declares `context` mandatory, but passing an
 * empty Buffer gives different bytes under TLS 1.2 (node-platform.md §5), so cast around it.
 */
export function exportKeyingMaterial(sock: TLSSocket, length: number, label: string): Buffer {
  const fn = sock.exportKeyingMaterial as unknown as (len: number, lbl: string) => Buffer;
  return fn.call(sock, length, label);
}

/** The 256-byte EKM key block of an established TLS session. */
export function ekmKeyBlock(sock: TLSSocket): Buffer {
  return exportKeyingMaterial(sock, KEY_BLOCK_SIZE, EKM_DATAKEYS_LABEL);
}

function pHash(digest: 'md5' | 'sha1', secret: Buffer, seed: Buffer, length: number): Buffer {
  const out: Buffer[] = [];
  let a = seed; // A(0)
  let have = 0;
  while (have < length) {
    a = createHmac(digest, secret).update(a).digest();
    const block = createHmac(digest, secret).update(a).update(seed).digest();
    out.push(block);
    have += block.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

/** TLS 1.0/1.1 PRF: P_MD5(S1, seed) XOR P_SHA1(S2, seed); halves share the middle byte if odd. */
export function tls1Prf(secret: Buffer, seed: Buffer, length: number): Buffer {
  const half = Math.ceil(secret.length / 2);
  const s1 = secret.subarray(0, half);
  const s2 = secret.subarray(secret.length - half);
  const md5 = pHash('md5', s1, seed, length);
  const sha1 = pHash('sha1', s2, seed, length);
  for (let i = 0; i < length; i++) md5[i] = (md5[i] as number) ^ (sha1[i] as number);
  return md5;
}

/** Inputs of the legacy derivation, all taken from the key-method-2 exchange and the control sids. */
export interface LegacyKeySource {
  readonly preMaster: Buffer; // client's, 48
  readonly clientRandom1: Buffer; // 32 each
  readonly clientRandom2: Buffer;
  readonly serverRandom1: Buffer;
  readonly serverRandom2: Buffer;
  readonly clientSid: Buffer; // 8, the TLS client's control session id
  readonly serverSid: Buffer;
}

/** The OpenVPN PRF key block (§D3). Throws ConfigError on wrong input sizes (caller misuse). */
export function deriveLegacyKeyBlock(src: LegacyKeySource): Buffer {
  const sizes: [keyof LegacyKeySource, number][] = [
    ['preMaster', PRE_MASTER_SIZE],
    ['clientRandom1', RANDOM_SIZE],
    ['clientRandom2', RANDOM_SIZE],
    ['serverRandom1', RANDOM_SIZE],
    ['serverRandom2', RANDOM_SIZE],
    ['clientSid', SID_SIZE],
    ['serverSid', SID_SIZE],
  ];
  for (const [k, n] of sizes) {
    if (src[k].length !== n) throw new ConfigError(`keySource.${k}`, `${k} must be ${n} bytes`);
  }
  const master = tls1Prf(
    src.preMaster,
    Buffer.concat([Buffer.from('OpenVPN master secret'), src.clientRandom1, src.serverRandom1]),
    MASTER_SIZE,
  );
  return tls1Prf(
    master,
    Buffer.concat([
      Buffer.from('OpenVPN key expansion'),
      src.clientRandom2,
      src.serverRandom2,
      src.clientSid,
      src.serverSid,
    ]),
    KEY_BLOCK_SIZE,
  );
}

/** Key lengths of the data ciphers OpenVPN 2.6 negotiates (AEAD only; DCO supports nothing else). */
export const DATA_CIPHER_KEY_LENGTH: Readonly<Record<string, number>> = {
  'AES-128-GCM': 16,
  'AES-192-GCM': 24,
  'AES-256-GCM': 32,
  'CHACHA20-POLY1305': 32,
};

export interface DirectionKeys {
  /** The AEAD key (first keylen bytes of the cipher half). */
  readonly cipherKey: Buffer;
  /** First 8 bytes of the hmac half: the nonce tail under AEAD. */
  readonly implicitIv: Buffer;
  /** The full 64-byte hmac half (non-AEAD modes take their first digest-len bytes). */
  readonly hmacHalf: Buffer;
}

export interface DataChannelKeys {
  readonly cipher: string;
  readonly encrypt: DirectionKeys;
  readonly decrypt: DirectionKeys;
}

/**
 * Splits a 256-byte block for one side. `tlsRole` is the TLS role, which stays fixed across
 * renegotiations: 'client' encrypts with keys[0] (NORMAL), 'server' with keys[1] (INVERSE).
 */
export function splitKeyBlock(block: Buffer, cipher: string, tlsRole: 'client' | 'server'): DataChannelKeys {
  if (block.length !== KEY_BLOCK_SIZE) {
    throw new ConfigError('keyBlock', `key block must be ${KEY_BLOCK_SIZE} bytes, got ${block.length}`);
  }
  const name = cipher.toUpperCase();
  const keyLen = DATA_CIPHER_KEY_LENGTH[name];
  if (keyLen === undefined) {
    throw new ConfigError(
      'cipher',
      `unsupported data cipher "${cipher}"; use one of ${Object.keys(DATA_CIPHER_KEY_LENGTH).join(', ')}`,
    );
  }
  const dir = (i: 0 | 1): DirectionKeys => {
    const c = i * 2 * KEY_HALF_SIZE;
    const h = c + KEY_HALF_SIZE;
    return {
      cipherKey: Buffer.from(block.subarray(c, c + keyLen)),
      implicitIv: Buffer.from(block.subarray(h, h + IMPLICIT_IV_SIZE)),
      hmacHalf: Buffer.from(block.subarray(h, h + KEY_HALF_SIZE)),
    };
  };
  const [enc, dec] = tlsRole === 'client' ? ([0, 1] as const) : ([1, 0] as const);
  return { cipher: name, encrypt: dir(enc), decrypt: dir(dec) };
}
