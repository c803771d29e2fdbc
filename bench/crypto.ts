// AEAD cost per packet: the addon (reused EVP contexts) vs node:crypto (a Cipher per packet),
// one packet per call and 64 per call, beside `openssl speed` from the same machine and run.
//
// Layout per packet is OpenVPN DATA_V2: [hdr 8 = AAD][tag 16][payload], nonce 12 bytes.
// Open needs valid ciphertext every round, so each open round first restores the sealed slab
// (one memcpy of the batch); that copy is timed on its own and subtracted.
// Run: npm run bench:crypto   (about 25 s)
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { AEAD_KEY_LEN, createAead } from '../src/crypto/aead.js';
import type { AeadContext, AeadImpl, CipherName } from '../src/crypto/aead.js';
import { loadNative } from '../src/native/index.js';

const BATCH = 64;
const CELL_MS = 300;
const CIPHERS: CipherName[] = ['AES-256-GCM', 'CHACHA20-POLY1305'];
const SIZES = [64, 1400];

interface Layout {
  slab: Uint8Array;
  nonces: Uint8Array;
  desc: Uint32Array;
  /** Per-packet views for the one-at-a-time runs (made up front: no allocation while timing). */
  one: { nonce: Uint8Array; desc: Uint32Array }[];
}

function layout(size: number): Layout {
  const slot = 24 + size;
  const slab = new Uint8Array(randomBytes(BATCH * slot));
  const nonces = new Uint8Array(randomBytes(BATCH * 12));
  const desc = new Uint32Array(BATCH * 5);
  const one: Layout['one'] = [];
  for (let i = 0; i < BATCH; i++) {
    const p = i * slot;
    desc.set([p, 8, p + 24, size, p + 8], i * 5);
    one.push({ nonce: nonces.subarray(i * 12, i * 12 + 12), desc: desc.subarray(i * 5, i * 5 + 5) });
  }
  return { slab, nonces, desc, one };
}

/** Runs `round` (which handles BATCH packets) for about CELL_MS; returns ns per packet. */
function time(round: () => void): number {
  for (let i = 0; i < 3; i++) round();
  let rounds = 0;
  const start = process.hrtime.bigint();
  const stop = start + BigInt(CELL_MS * 1e6);
  let now = start;
  while (now < stop) {
    round();
    rounds++;
    if ((rounds & 3) === 0) now = process.hrtime.bigint();
  }
  now = process.hrtime.bigint();
  return Number(now - start) / (rounds * BATCH);
}

function sealRound(ctx: AeadContext, l: Layout, batched: boolean): () => void {
  if (batched) return () => ctx.sealBatch(l.slab, l.nonces, l.desc, BATCH);
  return () => {
    for (const p of l.one) ctx.sealBatch(l.slab, p.nonce, p.desc, 1);
  };
}

function openRound(ctx: AeadContext, l: Layout, sealed: Uint8Array, batched: boolean): () => void {
  const results = new Uint8Array(BATCH);
  const one = results.subarray(0, 1);
  if (batched) {
    return () => {
      l.slab.set(sealed);
      if (ctx.openBatch(l.slab, l.nonces, l.desc, BATCH, results) !== BATCH) throw new Error('open failed');
    };
  }
  return () => {
    l.slab.set(sealed);
    for (const p of l.one)
      if (ctx.openBatch(l.slab, p.nonce, p.desc, 1, one) !== 1) throw new Error('open failed');
  };
}

/** ns per packet from `openssl speed` (1000s of bytes/s on the last line), or null. */
function opensslSpeed(cipher: CipherName, size: number, aead: boolean): number | null {
  const args = [
    'speed',
    ...(aead ? ['-aead'] : []),
    '-evp',
    cipher.toLowerCase(),
    '-bytes',
    String(size),
    '-seconds',
    '1',
  ];
  const r = spawnSync('openssl', args, { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) return null;
  const m = /([\d.]+)k\s*$/.exec(r.stdout.trim());
  return m ? 1e9 / ((Number(m[1]) * 1000) / size) : null;
}

function fmt(ns: number | null): string {
  return ns === null ? '-' : ns.toFixed(0);
}

function main(): void {
  const native = loadNative();
  const impls: AeadImpl[] = native ? ['native', 'node'] : ['node'];
  const haveOpenssl = spawnSync('openssl', ['version'], { encoding: 'utf8' }).status === 0;
  console.log(
    `node ${process.version}; addon: ${native ? native.aead.opensslVersion : 'not built (native columns skipped)'}`,
  );
  if (!haveOpenssl) console.log('openssl CLI not found: openssl columns skipped');
  const head = [
    'cipher',
    'bytes',
    'op',
    'native x1',
    'native x64',
    'node x1',
    'node x64',
    'openssl speed',
    'openssl -aead',
  ];
  const rows: string[][] = [];
  for (const cipher of CIPHERS) {
    const key = new Uint8Array(randomBytes(AEAD_KEY_LEN[cipher]));
    for (const size of SIZES) {
      const l = layout(size);
      const copy = l.slab.slice();
      const copyNs = time(() => l.slab.set(copy)); // the restore step inside each open round
      const seal: Record<string, number | null> = {};
      const open: Record<string, number | null> = {};
      for (const impl of impls) {
        const enc = createAead(cipher, key, true, { impl });
        const dec = createAead(cipher, key, false, { impl });
        for (const batched of [false, true]) {
          const col = `${impl} x${batched ? BATCH : 1}`;
          seal[col] = time(sealRound(enc, l, batched));
          enc.sealBatch(l.slab, l.nonces, l.desc, BATCH);
          open[col] = time(openRound(dec, l, l.slab.slice(), batched)) - copyNs;
          enc.sealBatch(l.slab, l.nonces, l.desc, BATCH); // slab holds plaintext again: re-seal
        }
        enc.free();
        dec.free();
      }
      const ossl = haveOpenssl
        ? [opensslSpeed(cipher, size, false), opensslSpeed(cipher, size, true)]
        : [null, null];
      const cols = ['native x1', 'native x64', 'node x1', 'node x64'];
      rows.push([
        cipher,
        String(size),
        'seal',
        ...cols.map((c) => fmt(seal[c] ?? null)),
        fmt(ossl[0]!),
        fmt(ossl[1]!),
      ]);
      rows.push([cipher, String(size), 'open', ...cols.map((c) => fmt(open[c] ?? null)), '', '']);
    }
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string =>
    r.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(
    "\nns per packet (lower is better); xN = packets per call; openssl columns: encrypt only, 'speed' = Update calls on one stream, '-aead' = init+AAD+update+final per record",
  );
  console.log(line(head));
  for (const r of rows) console.log(line(r));
}

main();
