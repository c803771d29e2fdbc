// AEAD batches: known-answer vectors, native vs node:crypto differential, forgeries, bounds.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { AEAD_DESC_WORDS, AEAD_KEY_LEN, createAead } from '../../src/crypto/aead.js';
import type { AeadImpl, CipherName } from '../../src/crypto/aead.js';
import { ConfigError } from '../../src/util/errors.js';
import { optionalNative, requireNative } from '../native/require-native.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const CIPHERS = Object.keys(AEAD_KEY_LEN) as CipherName[];

/** Implementations available to this test: 'node' always; 'native' unless skipped. */
function impls(t: TestContext): AeadImpl[] {
  return optionalNative(t) === null ? ['node'] : ['node', 'native'];
}

interface Vector {
  name: string;
  cipher: CipherName;
  key: string;
  nonce: string;
  aad: string;
  pt: string;
  ct: string;
  tag: string;
}

// GCM spec (McGrew & Viega) test cases as used by NIST CAVP; RFC 8439 §2.8.2.
const GCM_P =
  'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39';
const GCM_A = 'feedfacedeadbeeffeedfacedeadbeefabaddad2';
const VECTORS: Vector[] = [
  {
    name: 'AES-128 TC1 (empty)',
    cipher: 'AES-128-GCM',
    key: '00'.repeat(16),
    nonce: '00'.repeat(12),
    aad: '',
    pt: '',
    ct: '',
    tag: '58e2fccefa7e3061367f1d57a4e7455a',
  },
  {
    name: 'AES-128 TC2',
    cipher: 'AES-128-GCM',
    key: '00'.repeat(16),
    nonce: '00'.repeat(12),
    aad: '',
    pt: '00'.repeat(16),
    ct: '0388dace60b6a392f328c2b971b2fe78',
    tag: 'ab6e47d42cec13bdf53a67b21257bddf',
  },
  {
    name: 'AES-128 TC4',
    cipher: 'AES-128-GCM',
    key: 'feffe9928665731c6d6a8f9467308308',
    nonce: 'cafebabefacedbaddecaf888',
    aad: GCM_A,
    pt: GCM_P,
    ct: '42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091',
    tag: '5bc94fbc3221a5db94fae95ae7121a47',
  },
  {
    name: 'AES-256 TC13 (empty)',
    cipher: 'AES-256-GCM',
    key: '00'.repeat(32),
    nonce: '00'.repeat(12),
    aad: '',
    pt: '',
    ct: '',
    tag: '530f8afbc74536b9a963b4f1c4cb738b',
  },
  {
    name: 'AES-256 TC14',
    cipher: 'AES-256-GCM',
    key: '00'.repeat(32),
    nonce: '00'.repeat(12),
    aad: '',
    pt: '00'.repeat(16),
    ct: 'cea7403d4d606b6e074ec5d3baf39d18',
    tag: 'd0d1c8a799996bf0265b98b5d48ab919',
  },
  {
    name: 'AES-256 TC16',
    cipher: 'AES-256-GCM',
    key: 'feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308',
    nonce: 'cafebabefacedbaddecaf888',
    aad: GCM_A,
    pt: GCM_P,
    ct: '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662',
    tag: '76fc6ece0f4e1768cddf8853bb2d551b',
  },
  {
    name: 'RFC 8439 §2.8.2',
    cipher: 'CHACHA20-POLY1305',
    key: '808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f',
    nonce: '070000004041424344454647',
    aad: '50515253c0c1c2c3c4c5c6c7',
    pt: Buffer.from(
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
    ).toString('hex'),
    ct:
      'd31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b' +
      '1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc' +
      '3ff4def08e4b7a9de576d26586cec64b6116',
    tag: '1ae10b594f09e26a7e902ecbd0600691',
  },
];

describe('AEAD known-answer vectors', () => {
  for (const v of VECTORS) {
    it(v.name, (t) => {
      for (const impl of impls(t)) {
        // OpenVPN-like layout: [aad][tag 16][data]
        const aad = hex(v.aad);
        const pt = hex(v.pt);
        const slab = new Uint8Array(aad.length + 16 + pt.length);
        slab.set(aad, 0);
        slab.set(pt, aad.length + 16);
        const desc = Uint32Array.of(0, aad.length, aad.length + 16, pt.length, aad.length);
        const enc = createAead(v.cipher, hex(v.key), true, { impl });
        enc.sealBatch(slab, hex(v.nonce), desc, 1);
        assert.equal(Buffer.from(slab.subarray(aad.length + 16)).toString('hex'), v.ct, `${impl} ciphertext`);
        assert.equal(
          Buffer.from(slab.subarray(aad.length, aad.length + 16)).toString('hex'),
          v.tag,
          `${impl} tag`,
        );
        const dec = createAead(v.cipher, hex(v.key), false, { impl });
        const results = new Uint8Array(1);
        assert.equal(dec.openBatch(slab, hex(v.nonce), desc, 1, results), 1, `${impl} open`);
        assert.deepEqual(slab.subarray(aad.length + 16), pt, `${impl} plaintext restored`);
        enc.free();
        dec.free();
      }
    });
  }
});

/** A random batch laid out in one slab: per packet [aad][tag][data] or [aad][data][tag], with gaps. */
function randomBatch(n: number): { slab: Uint8Array; nonces: Uint8Array; desc: Uint32Array } {
  const desc = new Uint32Array(n * AEAD_DESC_WORDS);
  let off = 0;
  const plan: number[][] = [];
  for (let i = 0; i < n; i++) {
    const aadLen = [0, 4, 8, 12, 13, 32][randInt(6)]!;
    const dataLen = randInt(5) === 0 ? randInt(16) : randInt(2001);
    const tagFirst = randInt(2) === 0;
    const aadOff = off;
    const tagOff = tagFirst ? aadOff + aadLen : aadOff + aadLen + dataLen;
    const dataOff = tagFirst ? tagOff + 16 : aadOff + aadLen;
    off = aadOff + aadLen + dataLen + 16 + randInt(8);
    plan.push([aadOff, aadLen, dataOff, dataLen, tagOff]);
  }
  plan.forEach((p, i) => desc.set(p, i * AEAD_DESC_WORDS));
  return { slab: new Uint8Array(randomBytes(off + 7)), nonces: new Uint8Array(randomBytes(n * 12)), desc };
}

function randInt(n: number): number {
  return Math.floor(Math.random() * n);
}

describe('AEAD native vs node:crypto', () => {
  for (const cipher of CIPHERS) {
    it(`${cipher}: identical ciphertext and tags, round trip, forgeries rejected by both`, (t) => {
      if (requireNative(t) === null) return;
      const key = new Uint8Array(randomBytes(AEAD_KEY_LEN[cipher]));
      const ctx = {
        sealN: createAead(cipher, key, true, { impl: 'native' }),
        sealJ: createAead(cipher, key, true, { impl: 'node' }),
        openN: createAead(cipher, key, false, { impl: 'native' }),
        openJ: createAead(cipher, key, false, { impl: 'node' }),
      };
      for (const n of [1, 2, 7, 33, 64, 1 + randInt(64)]) {
        const { slab, nonces, desc } = randomBatch(n);
        const plain = slab.slice();
        const a = slab.slice();
        const b = slab.slice();
        ctx.sealN.sealBatch(a, nonces, desc, n);
        ctx.sealJ.sealBatch(b, nonces, desc, n);
        assert.deepEqual(a, b, `n=${n}: native and node sealed differently`);
        assert.notDeepEqual(a, plain);

        // Forge every third packet in one of its three regions.
        const forged = new Set<number>();
        for (let i = 0; i < n; i += 3) {
          const region = [0, 2, 4].filter((w) => w === 4 || desc[i * 5 + w + 1]! > 0)[randInt(3)] ?? 4;
          const len = region === 4 ? 16 : desc[i * 5 + region + 1]!;
          a[desc[i * 5 + region]! + randInt(len)]! ^= 1 << randInt(8);
          forged.add(i);
        }
        b.set(a);
        const ra = new Uint8Array(n);
        const rb = new Uint8Array(n);
        assert.equal(ctx.openN.openBatch(a, nonces, desc, n, ra), n - forged.size);
        assert.equal(ctx.openJ.openBatch(b, nonces, desc, n, rb), n - forged.size);
        for (let i = 0; i < n; i++) {
          const expect = forged.has(i) ? 0 : 1;
          assert.equal(ra[i], expect, `native result ${i}`);
          assert.equal(rb[i], expect, `node result ${i}`);
          if (expect === 1) {
            const [off, len] = [desc[i * 5 + 2]!, desc[i * 5 + 3]!];
            assert.deepEqual(
              a.subarray(off, off + len),
              plain.subarray(off, off + len),
              `native plaintext ${i}`,
            );
            assert.deepEqual(
              b.subarray(off, off + len),
              plain.subarray(off, off + len),
              `node plaintext ${i}`,
            );
          }
        }
      }
      for (const c of Object.values(ctx)) c.free();
    });
  }

  it('a nonce mismatch fails the tag', (t) => {
    for (const impl of impls(t)) {
      const key = new Uint8Array(32);
      const { slab, nonces, desc } = randomBatch(4);
      createAead('AES-256-GCM', key, true, { impl }).sealBatch(slab, nonces, desc, 4);
      nonces[12 * 2]! ^= 0x80;
      const r = new Uint8Array(4);
      assert.equal(
        createAead('AES-256-GCM', key, false, { impl }).openBatch(slab, nonces, desc, 4, r),
        3,
        impl,
      );
      assert.deepEqual([...r], [1, 1, 0, 1], impl);
    }
  });
});

describe('AEAD bounds and misuse', () => {
  /** A 100-byte slab viewed in the middle of a 200-byte buffer with guard bytes either side. */
  function guarded(): { buf: Uint8Array; slab: Uint8Array } {
    const buf = new Uint8Array(200).fill(0xa5);
    return { buf, slab: new Uint8Array(buf.buffer, 50, 100) };
  }
  const bad: [string, number[]][] = [
    ['data past the end', [0, 8, 24, 77, 8]],
    ['tag past the end', [0, 8, 24, 60, 85]],
    ['AAD past the end', [90, 11, 24, 10, 8]],
    ['offset near 2^32', [0, 8, 0xfffffff0, 0x20, 8]],
    ['tag overlaps data', [0, 8, 20, 40, 8]],
    ['AAD overlaps data', [0, 30, 24, 40, 70]],
  ];

  for (const [what, d] of bad) {
    it(`${what}: seal throws before writing, open rejects that packet only`, (t) => {
      for (const impl of impls(t)) {
        const key = new Uint8Array(16);
        const { buf, slab } = guarded();
        const before = buf.slice();
        const desc = Uint32Array.from([0, 8, 24, 40, 8, ...d]);
        const nonces = new Uint8Array(24);
        assert.throws(
          () => createAead('AES-128-GCM', key, true, { impl }).sealBatch(slab, nonces, desc, 2),
          (e: unknown) =>
            e instanceof TypeError && (e as { code?: string }).code === 'OVPN_ERR_BAD_DESCRIPTOR',
          `${impl} seal`,
        );
        assert.deepEqual(buf, before, `${impl}: seal changed bytes`);

        createAead('AES-128-GCM', key, true, { impl }).sealBatch(slab, nonces, desc, 1);
        const sealed = buf.slice();
        const r = new Uint8Array(2).fill(9);
        assert.equal(
          createAead('AES-128-GCM', key, false, { impl }).openBatch(slab, nonces, desc, 2, r),
          1,
          impl,
        );
        assert.deepEqual([...r], [1, 0], impl);
        assert.deepEqual(buf.subarray(0, 50), sealed.subarray(0, 50), `${impl}: guard before the slab`);
        assert.deepEqual(buf.subarray(150), sealed.subarray(150), `${impl}: guard after the slab`);
      }
    });
  }

  it('shape errors, direction, use after free and config errors are typed', (t) => {
    for (const impl of impls(t)) {
      const code = (c: string) => (e: unknown) =>
        e instanceof TypeError && (e as { code?: string }).code === c;
      const enc = createAead('CHACHA20-POLY1305', new Uint8Array(32), true, { impl });
      const dec = createAead('CHACHA20-POLY1305', new Uint8Array(32), false, { impl });
      const slab = new Uint8Array(64);
      assert.throws(
        () => enc.sealBatch(slab, new Uint8Array(12), new Uint32Array(5), 2),
        code('OVPN_ERR_INVALID_ARG'),
        impl,
      );
      assert.throws(
        () => enc.sealBatch(slab, new Uint8Array(24), new Uint32Array(10), 2.5),
        code('OVPN_ERR_INVALID_ARG'),
        impl,
      );
      assert.throws(
        () => dec.openBatch(slab, new Uint8Array(24), new Uint32Array(10), 2, new Uint8Array(1)),
        code('OVPN_ERR_INVALID_ARG'),
        impl,
      );
      assert.throws(
        () => dec.sealBatch(slab, new Uint8Array(12), new Uint32Array(5), 1),
        code('OVPN_ERR_AEAD_DIRECTION'),
        impl,
      );
      assert.throws(
        () => enc.openBatch(slab, new Uint8Array(12), new Uint32Array(5), 1, new Uint8Array(1)),
        code('OVPN_ERR_AEAD_DIRECTION'),
        impl,
      );
      enc.sealBatch(slab, new Uint8Array(0), new Uint32Array(0), 0);
      enc.free();
      enc.free();
      assert.throws(
        () => enc.sealBatch(slab, new Uint8Array(12), Uint32Array.of(0, 0, 16, 8, 0), 1),
        code('OVPN_ERR_AEAD_FREED'),
        impl,
      );
      assert.throws(() => createAead('AES-256-GCM', new Uint8Array(16), true, { impl }), ConfigError);
      assert.throws(
        () => createAead('AES-512-GCM' as CipherName, new Uint8Array(16), true, { impl }),
        ConfigError,
      );
    }
  });
});
