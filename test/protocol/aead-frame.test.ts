// The frame functions against packets captured from OpenVPN 2.6.14 (test/vectors/openvpn-*.json):
// parse + prepareOpen + openBatch must authenticate every captured datagram, and re-sealing the
// plaintext with prepareSealV1/V2 + sealBatch must reproduce the captured bytes exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoPath } from '../util/lab.js';
import { createAead } from '../../src/crypto/aead.js';
import type { CipherName } from '../../src/crypto/aead.js';
import {
  DESC_AAD_LEN,
  DESC_AAD_OFF,
  DESC_DATA_LEN,
  DESC_DATA_OFF,
  DESC_TAG_OFF,
  DESC_WORDS,
  DataFrameInfo,
  parseAndPrepareOpen,
  parseDataFrame,
  prepareOpen,
  prepareSealV1,
  prepareSealV2,
} from '../../src/protocol/data/aead-frame.js';
import { PacketClass } from '../../src/protocol/data/header.js';
import { isPing } from '../../src/protocol/data/special.js';
import { AEAD_OVERHEAD_V1, AEAD_OVERHEAD_V2, Drop, PEER_ID_UNDEF } from '../../src/protocol/constants.js';

interface Keys {
  key: Buffer;
  iv: Buffer;
}
interface Vec {
  file: string;
  cipher: CipherName;
  keys: Record<'c2s' | 's2c', Keys>;
  packets: { dir: 'c2s' | 's2c'; bytes: Buffer }[];
}

function loadVectors(): Vec[] {
  const dir = repoPath('test/vectors');
  return readdirSync(dir)
    .filter((f) => f.startsWith('openvpn-') && f.endsWith('.json'))
    .map((file) => {
      const j = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
        cipher: CipherName;
        keys: Record<'clientToServer' | 'serverToClient', { key: string; implicitIv: string }>;
        packets: { direction: 'c2s' | 's2c'; hex: string }[];
      };
      const k = (x: { key: string; implicitIv: string }): Keys => ({
        key: Buffer.from(x.key, 'hex'),
        iv: Buffer.from(x.implicitIv, 'hex'),
      });
      return {
        file,
        cipher: j.cipher,
        keys: { c2s: k(j.keys.clientToServer), s2c: k(j.keys.serverToClient) },
        packets: j.packets.map((p) => ({ dir: p.direction, bytes: Buffer.from(p.hex, 'hex') })),
      };
    });
}

const vectors = loadVectors();

test('vectors are present (V1 and V2 frames, two ciphers)', () => {
  assert.ok(vectors.length >= 3, 'expected at least three vector files');
  const firstBytes = new Set(vectors.flatMap((v) => v.packets.map((p) => p.bytes[0])));
  assert.ok(firstBytes.has(0x48) && firstBytes.has(0x30), 'both P_DATA_V2 and P_DATA_V1 captured');
});

for (const v of vectors) {
  test(`${v.file}: batch open of every captured packet, then byte-exact re-seal`, () => {
    let pings = 0;
    for (const dir of ['c2s', 's2c'] as const) {
      const pkts = v.packets.filter((p) => p.dir === dir);
      if (pkts.length === 0) continue;
      const k = v.keys[dir];
      // Slab: packets back to back, each at a 64-byte aligned slot with headroom for re-sealing.
      const slot = 2048;
      const slab = new Uint8Array(slot * pkts.length);
      const nonces = new Uint8Array(12 * pkts.length);
      const desc = new Uint32Array(DESC_WORDS * pkts.length);
      const infos = pkts.map(() => new DataFrameInfo());
      pkts.forEach((p, i) => {
        slab.set(p.bytes, i * slot + 64);
        const info = infos[i]!;
        assert.equal(parseDataFrame(slab, i * slot + 64, p.bytes.length, info), Drop.NONE);
        assert.equal(info.keyId, 0);
        if (info.format === PacketClass.DATA_V2) assert.equal(info.peerId, p.bytes.readUIntBE(1, 3));
        else assert.equal(info.peerId, PEER_ID_UNDEF);
        prepareOpen(info, k.iv, nonces, i, desc);
      });
      assert.deepEqual(
        infos.map((f) => f.packetId),
        pkts.map((_, i) => i + 1),
        'packet ids count from 1 in capture order',
      );
      const dec = createAead(v.cipher, k.key, false, { impl: 'node' });
      const results = new Uint8Array(pkts.length);
      assert.equal(
        dec.openBatch(slab, nonces, desc, pkts.length, results),
        pkts.length,
        `${dir}: all authenticate`,
      );

      const enc = createAead(v.cipher, k.key, true, { impl: 'node' });
      const out = new Uint8Array(slot * pkts.length);
      const encDesc = new Uint32Array(DESC_WORDS * pkts.length);
      const frames: number[] = [];
      pkts.forEach((_p, i) => {
        const info = infos[i]!;
        const pt = slab.subarray(info.payloadOff, info.payloadOff + info.payloadLen);
        assert.equal(desc[i * DESC_WORDS + DESC_DATA_OFF], info.payloadOff);
        assert.equal(desc[i * DESC_WORDS + DESC_DATA_LEN], info.payloadLen);
        if (isPing(slab, info.payloadOff, info.payloadLen)) pings++;
        else assert.ok(pt[0]! >> 4 === 4 || pt[0]! >> 4 === 6, 'plaintext is an IP packet');
        const payOff = i * slot + 128;
        out.set(pt, payOff);
        frames.push(
          info.format === PacketClass.DATA_V2
            ? prepareSealV2(
                out,
                payOff,
                pt.length,
                info.keyId,
                info.peerId,
                info.packetId,
                k.iv,
                nonces,
                i,
                encDesc,
              )
            : prepareSealV1(out, payOff, pt.length, info.keyId, info.packetId, k.iv, nonces, i, encDesc),
        );
      });
      enc.sealBatch(out, nonces, encDesc, pkts.length);
      pkts.forEach((p, i) => {
        const f = frames[i]!;
        const got = Buffer.from(out.subarray(f, f + p.bytes.length));
        assert.equal(got.toString('hex'), p.bytes.toString('hex'), `${dir} packet ${i} re-seals identically`);
      });
      dec.free();
      enc.free();
    }
    assert.ok(pings > 0, 'the captures (ping 1) contain keepalives, recognised by isPing');
  });
}

test('seal descriptors: V2 AAD = 8 header bytes, V1 AAD = packet-id only, tag before data', () => {
  const buf = new Uint8Array(100);
  const nonces = new Uint8Array(24);
  const desc = new Uint32Array(10);
  const iv = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
  const f2 = prepareSealV2(buf, 30, 10, 2, 0xabcdef, 0x01020304, iv, nonces, 0, desc);
  assert.equal(f2, 30 - AEAD_OVERHEAD_V2);
  assert.deepEqual([...buf.subarray(f2, f2 + 8)], [0x4a, 0xab, 0xcd, 0xef, 1, 2, 3, 4]);
  assert.deepEqual([...desc.subarray(0, 5)], [f2, 8, 30, 10, 30 - 16]);
  assert.deepEqual([...nonces.subarray(0, 12)], [1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8]);
  const f1 = prepareSealV1(buf, 80, 5, 1, 0xfffffffe, iv, nonces, 1, desc);
  assert.equal(f1, 80 - AEAD_OVERHEAD_V1);
  assert.deepEqual([...buf.subarray(f1, f1 + 5)], [0x31, 0xff, 0xff, 0xff, 0xfe]);
  assert.equal(desc[5 + DESC_AAD_OFF], f1 + 1);
  assert.equal(desc[5 + DESC_AAD_LEN], 4);
  assert.equal(desc[5 + DESC_TAG_OFF], 80 - 16);
  assert.deepEqual([...nonces.subarray(12, 16)], [0xff, 0xff, 0xff, 0xfe]);
  assert.throws(() => prepareSealV2(buf, 23, 1, 0, 0, 1, iv, nonces, 0, desc), RangeError, 'no headroom');
});

test('receive parse: minimum length is header + 4 + 16, non-data opcodes rejected', () => {
  const info = new DataFrameInfo();
  const buf = new Uint8Array(64);
  const iv = new Uint8Array(8);
  const nonces = new Uint8Array(12);
  const desc = new Uint32Array(5);
  buf[0] = 0x48;
  assert.equal(parseDataFrame(buf, 0, 23, info), Drop.TRUNCATED);
  assert.equal(parseAndPrepareOpen(buf, 0, 24, iv, nonces, 0, desc, info), Drop.NONE);
  assert.equal(info.payloadLen, 0, 'empty plaintext is a valid frame');
  buf[0] = 0x30;
  assert.equal(parseDataFrame(buf, 0, 20, info), Drop.TRUNCATED);
  assert.equal(parseDataFrame(buf, 0, 21, info), Drop.NONE);
  assert.equal(info.headerLen, 1);
  buf[0] = 0x20; // P_CONTROL_V1
  assert.equal(parseDataFrame(buf, 0, 40, info), Drop.BAD_OPCODE);
  assert.equal(parseDataFrame(buf, 60, 40, info), Drop.TRUNCATED, 'range beyond the buffer');
});
