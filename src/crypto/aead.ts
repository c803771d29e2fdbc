// AEAD contexts for the data channel: batched, in-place seal/open over one slab.
//
// Flow of a batch (both implementations):
//   1. The caller lays packets out in a slab and fills, per packet, a 12-byte nonce and a
//      5-word descriptor: aadOff, aadLen, dataOff, dataLen, tagOff (offsets into the slab).
//   2. sealBatch encrypts each data region in place and writes the 16-byte tag at tagOff.
//      openBatch checks each tag, decrypts in place, and sets results[i] = 1 (ok) or 0.
//   3. On results[i] = 0 the data region holds unauthenticated garbage: drop the packet.
//
// For OpenVPN's DATA_V2 (openvpn-protocol.md §A2) one packet is
//   [op|kid peer_id 4][pkt_id 4][tag 16][ciphertext]  with AAD = the first 8 bytes,
// i.e. desc = (p, 8, p+24, len-24, p+8) and nonce = pkt_id || implicit IV.
//
// Error contract (identical for 'native' and 'node'):
// - Bad cipher name or key length: ConfigError at createAead (code OVPN_ERR_INVALID_OPTION).
// - Wrong argument types, n larger than desc/nonces/results allow: TypeError, code OVPN_ERR_INVALID_ARG.
// - sealBatch with any descriptor outside the slab or with overlapping regions: TypeError,
//   code OVPN_ERR_BAD_DESCRIPTOR, thrown before any byte is written.
// - openBatch with such a descriptor: result 0 for that packet (network lengths may be bad), no throw.
// - Use after free(): TypeError, code OVPN_ERR_AEAD_FREED. Seal on a decrypt context (or the
//   reverse): TypeError, code OVPN_ERR_AEAD_DIRECTION.
import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { CipherGCMTypes } from 'node:crypto';
import { ConfigError } from '../util/errors.js';
import { loadNative } from '../native/index.js';
import type { NativeAead, NativeAeadHandle } from '../native/index.js';

export type CipherName = 'AES-128-GCM' | 'AES-192-GCM' | 'AES-256-GCM' | 'CHACHA20-POLY1305';
export type AeadImpl = 'native' | 'node';

export const AEAD_KEY_LEN: Readonly<Record<CipherName, number>> = {
  'AES-128-GCM': 16,
  'AES-192-GCM': 24,
  'AES-256-GCM': 32,
  'CHACHA20-POLY1305': 32,
};
export const AEAD_TAG_LEN = 16;
export const AEAD_NONCE_LEN = 12;
/** Words per descriptor in `desc`. */
export const AEAD_DESC_WORDS = 5;

export interface AeadContext {
  readonly cipher: CipherName;
  readonly impl: AeadImpl;
  readonly encrypt: boolean;
  sealBatch(slab: Uint8Array, nonces: Uint8Array, desc: Uint32Array, n: number): void;
  /** Returns how many verified; results[i] = 1 ok, 0 rejected (data region is then garbage). */
  openBatch(slab: Uint8Array, nonces: Uint8Array, desc: Uint32Array, n: number, results: Uint8Array): number;
  /** Releases the key schedule now. Idempotent. */
  free(): void;
}

export interface CreateAeadOptions {
  /** Default: 'native' when the addon loads, else 'node'. */
  impl?: AeadImpl;
}

export function isCipherName(name: string): name is CipherName {
  return Object.hasOwn(AEAD_KEY_LEN, name);
}

/** Creates a context for one key and direction. The key bytes are copied. */
export function createAead(
  cipher: CipherName,
  key: Uint8Array,
  encrypt: boolean,
  options: CreateAeadOptions = {},
): AeadContext {
  if (!isCipherName(cipher)) {
    throw new ConfigError(
      'cipher',
      `cipher: unsupported "${String(cipher)}"; use one of ${Object.keys(AEAD_KEY_LEN).join(', ')}`,
    );
  }
  if (!(key instanceof Uint8Array) || key.length !== AEAD_KEY_LEN[cipher]) {
    throw new ConfigError('key', `key: ${cipher} needs a ${AEAD_KEY_LEN[cipher]}-byte Uint8Array`);
  }
  const native = options.impl === 'node' ? null : loadNative();
  if (options.impl === 'native' && native === null) {
    throw new ConfigError(
      'impl',
      "impl: 'native' requested but the addon is not built; run `npm run install` or use impl 'node'",
    );
  }
  if (native !== null) return new NativeAeadContext(native.aead, cipher, key, encrypt);
  return new NodeAeadContext(cipher, key, encrypt);
}

/** A thin shell over the addon: all checks happen in C. */
class NativeAeadContext implements AeadContext {
  readonly impl = 'native';
  private readonly handle: NativeAeadHandle;

  constructor(
    private readonly api: NativeAead,
    readonly cipher: CipherName,
    key: Uint8Array,
    readonly encrypt: boolean,
  ) {
    this.handle = api.create(cipher, key, encrypt);
  }

  sealBatch(slab: Uint8Array, nonces: Uint8Array, desc: Uint32Array, n: number): void {
    this.api.sealBatch(this.handle, slab, nonces, desc, n);
  }

  openBatch(slab: Uint8Array, nonces: Uint8Array, desc: Uint32Array, n: number, results: Uint8Array): number {
    return this.api.openBatch(this.handle, slab, nonces, desc, n, results);
  }

  free(): void {
    this.api.free(this.handle);
  }
}

// ChaCha20-Poly1305 takes the same options as GCM (authTagLength, setAAD, getAuthTag); the cast
// only picks the GCM overload of createCipheriv in @types/node 20.
const NODE_ALG: Readonly<Record<CipherName, CipherGCMTypes>> = {
  'AES-128-GCM': 'aes-128-gcm',
  'AES-192-GCM': 'aes-192-gcm',
  'AES-256-GCM': 'aes-256-gcm',
  'CHACHA20-POLY1305': 'chacha20-poly1305' as CipherGCMTypes,
};

/**
 * Reference and fallback: node:crypto with one Cipher object per packet (8-12 µs each; see
 * node-platform.md §4). Mirrors the addon's checks exactly so the two are interchangeable.
 */
class NodeAeadContext implements AeadContext {
  readonly impl = 'node';
  private key: Buffer | null;

  constructor(
    readonly cipher: CipherName,
    key: Uint8Array,
    readonly encrypt: boolean,
  ) {
    this.key = Buffer.from(key);
  }

  sealBatch(slab: Uint8Array, nonces: Uint8Array, desc: Uint32Array, n: number): void {
    const key = this.ready(false, slab, nonces, desc, n, null);
    for (let i = 0; i < n; i++) {
      const why = descProblem(desc, i, slab.length);
      if (why !== null) {
        throw usage(
          'OVPN_ERR_BAD_DESCRIPTOR',
          `desc[${i}]: ${why} (slab is ${slab.length} bytes); nothing was sealed`,
        );
      }
    }
    const alg = NODE_ALG[this.cipher];
    for (let i = 0; i < n; i++) {
      const d = i * AEAD_DESC_WORDS;
      const ao = desc[d]!,
        al = desc[d + 1]!,
        dof = desc[d + 2]!,
        dl = desc[d + 3]!,
        to = desc[d + 4]!;
      const c = createCipheriv(alg, key, nonces.subarray(i * 12, i * 12 + 12), {
        authTagLength: AEAD_TAG_LEN,
      });
      c.setAAD(slab.subarray(ao, ao + al));
      slab.set(c.update(slab.subarray(dof, dof + dl)), dof);
      c.final();
      slab.set(c.getAuthTag(), to);
    }
  }

  openBatch(slab: Uint8Array, nonces: Uint8Array, desc: Uint32Array, n: number, results: Uint8Array): number {
    const key = this.ready(true, slab, nonces, desc, n, results);
    let ok = 0;
    for (let i = 0; i < n; i++) {
      const r =
        descProblem(desc, i, slab.length) === null && this.openOne(key, slab, nonces, desc, i) ? 1 : 0;
      results[i] = r;
      ok += r;
    }
    return ok;
  }

  free(): void {
    this.key?.fill(0);
    this.key = null;
  }

  private openOne(key: Buffer, slab: Uint8Array, nonces: Uint8Array, desc: Uint32Array, i: number): boolean {
    const d = i * AEAD_DESC_WORDS;
    const ao = desc[d]!,
      al = desc[d + 1]!,
      dof = desc[d + 2]!,
      dl = desc[d + 3]!,
      to = desc[d + 4]!;
    const c = createDecipheriv(NODE_ALG[this.cipher], key, nonces.subarray(i * 12, i * 12 + 12), {
      authTagLength: AEAD_TAG_LEN,
    });
    c.setAAD(slab.subarray(ao, ao + al));
    c.setAuthTag(slab.subarray(to, to + AEAD_TAG_LEN));
    slab.set(c.update(slab.subarray(dof, dof + dl)), dof);
    try {
      c.final();
      return true;
    } catch {
      return false; // tag mismatch: the caller drops the packet
    }
  }

  /** The same shape checks, in the same order, as native/aead.c get_batch. */
  private ready(
    open: boolean,
    slab: Uint8Array,
    nonces: Uint8Array,
    desc: Uint32Array,
    n: number,
    results: Uint8Array | null,
  ): Buffer {
    if (this.key === null) throw usage('OVPN_ERR_AEAD_FREED', 'ctx: this AEAD context was already freed');
    if (!(slab instanceof Uint8Array)) throw usage('OVPN_ERR_INVALID_ARG', 'slab: expected a Uint8Array');
    if (!(nonces instanceof Uint8Array)) throw usage('OVPN_ERR_INVALID_ARG', 'nonces: expected a Uint8Array');
    if (!(desc instanceof Uint32Array)) throw usage('OVPN_ERR_INVALID_ARG', 'desc: expected a Uint32Array');
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff)
      throw usage('OVPN_ERR_INVALID_ARG', 'n: expected an integer 0..2^32-1');
    if (open && !(results instanceof Uint8Array))
      throw usage('OVPN_ERR_INVALID_ARG', 'results: expected a Uint8Array');
    if (this.encrypt === open) {
      throw usage(
        'OVPN_ERR_AEAD_DIRECTION',
        `ctx: created with encrypt=${this.encrypt}, cannot ${open ? 'open' : 'seal'}`,
      );
    }
    if (
      n * AEAD_DESC_WORDS > desc.length ||
      n * AEAD_NONCE_LEN > nonces.length ||
      (results !== null && n > results.length)
    ) {
      throw usage(
        'OVPN_ERR_INVALID_ARG',
        `n: ${n} packets need desc >= ${n * 5} words, nonces >= ${n * 12} bytes${open ? ' and results >= n' : ''}`,
      );
    }
    return this.key;
  }
}

/** Null when descriptor i fits in the slab with disjoint regions; else why not (same text as C). */
export function descProblem(desc: Uint32Array, i: number, slabLen: number): string | null {
  const d = i * AEAD_DESC_WORDS;
  const ao = desc[d]!,
    al = desc[d + 1]!,
    dof = desc[d + 2]!,
    dl = desc[d + 3]!,
    to = desc[d + 4]!;
  if (!fits(ao, al, slabLen)) return 'AAD range is outside the slab';
  if (!fits(dof, dl, slabLen)) return 'data range is outside the slab';
  if (!fits(to, AEAD_TAG_LEN, slabLen)) return 'tag range is outside the slab';
  if (dl > 0x7fffffff || al > 0x7fffffff) return 'length above 2^31-1';
  if (dl > 0 && to < dof + dl && dof < to + AEAD_TAG_LEN) return 'tag overlaps data';
  if (al > 0 && to < ao + al && ao < to + AEAD_TAG_LEN) return 'tag overlaps AAD';
  if (al > 0 && dl > 0 && ao < dof + dl && dof < ao + al) return 'AAD overlaps data';
  return null;
}

function fits(off: number, len: number, slabLen: number): boolean {
  return off <= slabLen && len <= slabLen - off;
}

function usage(code: string, message: string): TypeError {
  return Object.assign(new TypeError(message), { code });
}
