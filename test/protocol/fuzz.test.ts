// Property tests of every protocol decoder on random and mutated bytes: never throws, always a
// defined result or a drop reason, results stay inside the input range, and decoders write no byte
// outside the packet they were given.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketClass, classifyPacket } from '../../src/protocol/data/header.js';
import {
  DESC_WORDS,
  DataFrameInfo,
  parseDataFrame,
  prepareOpen,
  prepareSealV2,
} from '../../src/protocol/data/aead-frame.js';
import { CompressMode, decodeFraming } from '../../src/protocol/data/compress.js';
import { isPing, occType } from '../../src/protocol/data/special.js';
import { ReplayWindow } from '../../src/protocol/data/replay.js';
import { formatStaticKey, parseStaticKey } from '../../src/protocol/static-key.js';
import { DROP_REASON_COUNT, Drop } from '../../src/protocol/constants.js';
import { isOvpnError } from '../../src/util/errors.js';
import { Prng } from './prng.js';

const ITER = 3000;

/** A random buffer and a (possibly out-of-range) window into it. */
function sample(rnd: Prng, seedBytes: Uint8Array | null): { buf: Uint8Array; off: number; len: number } {
  const body = seedBytes && rnd.chance(0.7) ? rnd.mutate(seedBytes) : rnd.bytes(rnd.int(80));
  const pad = rnd.int(8);
  const buf = new Uint8Array(pad + body.length + rnd.int(8));
  buf.set(body, pad);
  const off = rnd.chance(0.05) ? rnd.int(buf.length + 4) - 2 : pad;
  const len = rnd.chance(0.05) ? rnd.int(buf.length + 8) - 2 : body.length;
  return { buf, off, len };
}

function isDrop(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v < DROP_REASON_COUNT;
}

function validFrame(rnd: Prng): Uint8Array {
  const buf = new Uint8Array(24 + 30);
  const nonces = new Uint8Array(12);
  const desc = new Uint32Array(DESC_WORDS);
  prepareSealV2(buf, 24, 30, rnd.int(8), rnd.int(0x1000000), rnd.u32(), new Uint8Array(8), nonces, 0, desc);
  if (rnd.chance(0.3)) buf[0] = 0x30 | rnd.int(8); // make it V1-shaped
  return buf;
}

test('header classify + data frame parse: no throw, consistent fields', () => {
  const rnd = new Prng(101);
  const info = new DataFrameInfo();
  const nonces = new Uint8Array(12);
  const desc = new Uint32Array(DESC_WORDS);
  for (let k = 0; k < ITER; k++) {
    const { buf, off, len } = sample(rnd, validFrame(rnd));
    const cls = classifyPacket(buf, off, len);
    assert.ok(cls >= PacketClass.INVALID && cls <= PacketClass.CONTROL, `case ${k}`);
    const r = parseDataFrame(buf, off, len, info);
    assert.ok(isDrop(r), `case ${k}: ${r}`);
    if (r !== Drop.NONE) continue;
    assert.equal(info.format, cls, `case ${k}: parse agrees with classify`);
    assert.ok(info.headerLen === 1 || info.headerLen === 4);
    assert.ok(info.payloadLen >= 0 && info.payloadOff + info.payloadLen === off + len, `case ${k}`);
    assert.ok(info.packetId >= 0 && info.packetId <= 0xffffffff && info.peerId <= 0xffffff);
    prepareOpen(info, new Uint8Array(8), nonces, 0, desc);
    assert.ok(desc[4]! >= off && desc[2]! + desc[3]! === off + len, `case ${k}: descriptor inside the frame`);
  }
});

test('compression decode in every mode: no throw, result inside the input, no write outside it', () => {
  const rnd = new Prng(102);
  const out = new Int32Array(2);
  const markers = Uint8Array.of(0xfa, 0xfb, 0x66, 0x69, 0x50, 0x50, 0x45, 0x60);
  for (let k = 0; k < ITER; k++) {
    const seed = rnd.bytes(rnd.int(40));
    if (seed.length > 0) seed[0] = markers[rnd.int(markers.length)]!;
    if (seed.length > 1 && rnd.chance(0.5)) seed[1] = rnd.int(5);
    const { buf, off, len } = sample(rnd, seed);
    const before = Uint8Array.from(buf);
    const mode = rnd.int(4) as CompressMode;
    const r = decodeFraming(mode, buf, off, len, out);
    assert.ok(isDrop(r), `case ${k}`);
    if (r === Drop.NONE) {
      assert.ok(out[0]! >= off && out[1]! >= 0 && out[0]! + out[1]! <= off + len, `case ${k}: inside`);
    }
    for (let i = 0; i < buf.length; i++) {
      if (i < off || i >= off + len) assert.equal(buf[i], before[i], `case ${k}: byte ${i} outside touched`);
    }
  }
});

test('special payload recognisers and replay window take any input', () => {
  const rnd = new Prng(103);
  const w = new ReplayWindow({ size: 1 + rnd.int(200), timeSeconds: 3 });
  const odd = [NaN, -1, 2 ** 32, 2 ** 40 + 5, 1.5, Infinity, -Infinity];
  for (let k = 0; k < ITER; k++) {
    const { buf, off, len } = sample(rnd, null);
    assert.equal(typeof isPing(buf, off, len), 'boolean');
    const t = occType(buf, off, len);
    assert.ok(t >= -1 && t <= 255);
    const id = rnd.chance(0.1) ? odd[rnd.int(odd.length)]! : rnd.u32();
    if (w.check(id)) w.update(id, k * 10);
    assert.ok(isDrop(w.lastDrop));
  }
});

test('static key parse: any text yields a 256-byte block or a typed ConfigError', () => {
  const rnd = new Prng(104);
  const good = formatStaticKey(rnd.bytes(256));
  const alphabet = '0123456789abcdefABCDEF \n\r-#xyzOpenVPN';
  for (let k = 0; k < 800; k++) {
    let text = good;
    const edits = 1 + rnd.int(4);
    for (let e = 0; e < edits; e++) {
      const at = rnd.int(text.length + 1);
      const cut = rnd.int(3) === 0 ? rnd.int(40) : 0;
      const ins = rnd.chance(0.5) ? alphabet[rnd.int(alphabet.length)]! : '';
      text = text.slice(0, at) + ins + text.slice(at + cut);
    }
    try {
      assert.equal(parseStaticKey(text).length, 256);
    } catch (e) {
      assert.ok(isOvpnError(e) && e.code === 'OVPN_ERR_INVALID_OPTION', `case ${k}: ${String(e)}`);
    }
  }
});
