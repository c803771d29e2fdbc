import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CompressMode,
  decodeFraming,
  encodeFraming,
  framingHeadroom,
  framingTailroom,
  parseCompressOption,
} from '../../src/protocol/data/compress.js';
import { Drop, DROP_REASON_NAMES } from '../../src/protocol/constants.js';
import { isOvpnError } from '../../src/util/errors.js';
import { Prng } from './prng.js';

const out = new Int32Array(2);
const MODES = [CompressMode.NONE, CompressMode.LZO_NO, CompressMode.STUB, CompressMode.STUB_V2] as const;

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/** Encode `pkt` placed with 4 bytes of head- and tailroom; returns the framed bytes. */
function encode(mode: CompressMode, pkt: string): string {
  const p = Buffer.from(pkt, 'hex');
  const buf = new Uint8Array(p.length + 8);
  buf.set(p, 4);
  encodeFraming(mode, buf, 4, p.length, out);
  return hex(buf.subarray(out[0], out[0]! + out[1]!));
}

function decode(mode: CompressMode, framed: string): string {
  const b = Buffer.from(framed, 'hex');
  const r = decodeFraming(mode, b, 0, b.length, out);
  return r === Drop.NONE ? hex(b.subarray(out[0], out[0]! + out[1]!)) : `drop:${DROP_REASON_NAMES[r]}`;
}

test('encode: the table of §A5', () => {
  assert.equal(encode(CompressMode.NONE, '45000014'), '45000014');
  assert.equal(encode(CompressMode.LZO_NO, '45000014'), 'fa45000014');
  assert.equal(encode(CompressMode.STUB, '45000014'), 'fb00001445', 'byte0 moved to the end');
  assert.equal(encode(CompressMode.STUB_V2, '45000014'), '45000014', 'raw unless byte0 is 0x50');
  assert.equal(encode(CompressMode.STUB_V2, '50aabb'), '500050aabb', 'escaped');
  assert.equal(encode(CompressMode.STUB, ''), 'fb', 'empty packet: marker only');
});

test('decode: framing removed; compressed markers and foreign framing dropped', () => {
  assert.equal(decode(CompressMode.LZO_NO, 'fa45000014'), '45000014');
  assert.equal(decode(CompressMode.LZO_NO, '66abcdef'), 'drop:compressed');
  assert.equal(decode(CompressMode.LZO_NO, 'fb000014'), 'drop:bad-framing');
  assert.equal(decode(CompressMode.LZO_NO, ''), 'drop:truncated');
  assert.equal(decode(CompressMode.STUB, 'fb00001445'), '45000014');
  assert.equal(decode(CompressMode.STUB, 'fb'), '', 'marker only decodes to an empty packet');
  assert.equal(decode(CompressMode.STUB, '69abcdef'), 'drop:compressed');
  assert.equal(decode(CompressMode.STUB, 'fa45000014'), 'drop:bad-framing');
  assert.equal(decode(CompressMode.STUB_V2, '45000014'), '45000014');
  assert.equal(decode(CompressMode.STUB_V2, '500050aabb'), '50aabb');
  assert.equal(decode(CompressMode.STUB_V2, '5001aabb'), 'drop:compressed');
  assert.equal(decode(CompressMode.STUB_V2, '5002aabb'), 'drop:compressed');
  assert.equal(decode(CompressMode.STUB_V2, '5077aabb'), 'drop:bad-framing');
  assert.equal(decode(CompressMode.STUB_V2, '50'), 'drop:truncated');
  assert.equal(decode(CompressMode.NONE, '66aa'), '66aa', 'no framing configured: bytes pass through');
});

test('round trip over random packets in every mode, with exactly the declared head/tailroom', () => {
  const rnd = new Prng(7);
  for (let k = 0; k < 400; k++) {
    const mode = MODES[k % 4]!;
    const len = rnd.int(80);
    const pkt = rnd.bytes(len);
    if (len > 0 && rnd.chance(0.3)) pkt[0] = 0x50;
    const head = framingHeadroom(mode);
    const buf = new Uint8Array(head + len + framingTailroom(mode));
    buf.set(pkt, head);
    encodeFraming(mode, buf, head, len, out);
    const r = decodeFraming(mode, buf, out[0]!, out[1]!, out);
    assert.equal(r, Drop.NONE, `mode ${mode} case ${k}`);
    assert.equal(hex(buf.subarray(out[0], out[0]! + out[1]!)), hex(pkt), `mode ${mode} case ${k}`);
  }
});

test('encode without the reserved room is caller misuse (RangeError)', () => {
  const b = new Uint8Array(4);
  assert.throws(() => encodeFraming(CompressMode.LZO_NO, b, 0, 4, out), RangeError);
  assert.throws(() => encodeFraming(CompressMode.STUB, b, 0, 4, out), RangeError);
  b[1] = 0x50;
  assert.throws(() => encodeFraming(CompressMode.STUB_V2, b, 1, 3, out), RangeError);
});

test('option strings map to modes; unknown ones are ConfigErrors', () => {
  assert.equal(parseCompressOption('comp-lzo  no'), CompressMode.LZO_NO);
  assert.equal(parseCompressOption('compress'), CompressMode.STUB);
  assert.equal(parseCompressOption('compress stub-v2'), CompressMode.STUB_V2);
  assert.equal(parseCompressOption(''), CompressMode.NONE);
  assert.throws(
    () => parseCompressOption('compress zstd'),
    (e: unknown) => isOvpnError(e) && e.code === 'OVPN_ERR_INVALID_OPTION' && e.message.includes('zstd'),
  );
});
