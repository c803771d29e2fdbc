import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  deriveStaticDataKeys,
  formatStaticKey,
  generateStaticKey,
  parseStaticKey,
  tryParseStaticKey,
} from '../../src/protocol/static-key.js';
import {
  DESC_WORDS,
  DataFrameInfo,
  parseAndPrepareOpen,
  prepareSealV2,
} from '../../src/protocol/data/aead-frame.js';
import { createAead } from '../../src/crypto/aead.js';
import { Drop } from '../../src/protocol/constants.js';
import { isOvpnError } from '../../src/util/errors.js';

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

function block(): Uint8Array {
  return Uint8Array.from({ length: 256 }, (_, i) => i);
}

test('generate → parse round trip; 16 lines of 32 hex digits between the markers', () => {
  const text = generateStaticKey();
  const lines = text.split('\n');
  const b = lines.indexOf('-----BEGIN OpenVPN Static key V1-----');
  const e = lines.indexOf('-----END OpenVPN Static key V1-----');
  assert.equal(e - b - 1, 16);
  for (const l of lines.slice(b + 1, e)) assert.match(l, /^[0-9a-f]{32}$/);
  const k = parseStaticKey(text);
  assert.equal(k.length, 256);
  assert.equal(formatStaticKey(k), text);
  assert.notEqual(hex(parseStaticKey(generateStaticKey())), hex(k), 'fresh random key each time');
});

test('text outside the markers, CRLF and spacing are ignored', () => {
  const body = formatStaticKey(block());
  const messy = `# comment 0123\r\nsecret stuff\r\n${body.replace(/\n/g, '\r\n').replace(/([0-9a-f]{8})/g, '$1 ')}trailing junk zz\n`;
  assert.equal(hex(parseStaticKey(messy)), hex(block()));
});

test('clear errors: missing markers, bad hex, wrong length', () => {
  const good = formatStaticKey(block());
  const cases: [string, RegExp][] = [
    ['no key here', /missing "-----BEGIN OpenVPN Static key V1-----"/],
    [good.replace('-----END', '-----FIN'), /missing "-----END OpenVPN Static key V1-----"/],
    [good.replace('000102', '0x0102'), /"x" is not a hex digit/],
    [
      good.replace(/\n[0-9a-f]{32}\n-----END/, '\n-----END'),
      /480 hex digits \(240 bytes\), expected 512 \(256 bytes\)/,
    ],
    [good.replace('000102', '00010'), /511 hex digits/],
  ];
  for (const [text, re] of cases) {
    assert.throws(
      () => parseStaticKey(text),
      (e: unknown) => isOvpnError(e) && e.code === 'OVPN_ERR_INVALID_OPTION' && re.test(e.message),
      re.source,
    );
    assert.equal(tryParseStaticKey(text), null);
  }
});

test('direction 0/normal encrypts with keys[0], 1/inverse with keys[1]; AEAD key + implicit IV slices', () => {
  const b = block();
  const d0 = deriveStaticDataKeys(b, 'AES-256-GCM', 0);
  assert.equal(hex(d0.encrypt.key), hex(b.subarray(0, 32)));
  assert.equal(hex(d0.encrypt.implicitIv), hex(b.subarray(64, 72)));
  assert.equal(hex(d0.decrypt.key), hex(b.subarray(128, 160)));
  assert.equal(hex(d0.decrypt.implicitIv), hex(b.subarray(192, 200)));
  const d1 = deriveStaticDataKeys(b, 'aes-256-gcm', 'inverse');
  assert.equal(hex(d1.encrypt.key), hex(d0.decrypt.key));
  assert.equal(hex(d1.decrypt.implicitIv), hex(d0.encrypt.implicitIv));
  assert.deepEqual(deriveStaticDataKeys(b, 'AES-256-GCM', 'normal'), d0);
  assert.equal(deriveStaticDataKeys(b, 'AES-128-GCM', 1).encrypt.key.length, 16);
  assert.equal(deriveStaticDataKeys(b, 'CHACHA20-POLY1305', 1).decrypt.key.length, 32);
  assert.throws(
    () => deriveStaticDataKeys(b, 'BF-CBC', 0),
    (e: unknown) => isOvpnError(e) && /BF-CBC/.test(e.message),
  );
  assert.throws(() => deriveStaticDataKeys(b.subarray(1), 'AES-256-GCM', 0), /255 bytes/);
  assert.throws(() => deriveStaticDataKeys(b, 'AES-256-GCM', 2 as 0), /key direction 2/);
});

test('two ends with opposite directions talk: seal on one, open on the other', () => {
  const k = parseStaticKey(generateStaticKey());
  const a = deriveStaticDataKeys(k, 'CHACHA20-POLY1305', 0);
  const b = deriveStaticDataKeys(k, 'CHACHA20-POLY1305', 1);
  const slab = new Uint8Array(128);
  const msg = Buffer.from('hello through the tunnel');
  slab.set(msg, 40);
  const nonces = new Uint8Array(12);
  const desc = new Uint32Array(DESC_WORDS);
  const f = prepareSealV2(slab, 40, msg.length, 0, 7, 1, a.encrypt.implicitIv, nonces, 0, desc);
  createAead('CHACHA20-POLY1305', a.encrypt.key, true, { impl: 'node' }).sealBatch(slab, nonces, desc, 1);
  const info = new DataFrameInfo();
  const results = new Uint8Array(1);
  const len = msg.length + 24;
  assert.equal(parseAndPrepareOpen(slab, f, len, b.decrypt.implicitIv, nonces, 0, desc, info), Drop.NONE);
  const dec = createAead('CHACHA20-POLY1305', b.decrypt.key, false, { impl: 'node' });
  assert.equal(dec.openBatch(slab, nonces, desc, 1, results), 1);
  assert.equal(
    Buffer.from(slab.subarray(info.payloadOff, info.payloadOff + info.payloadLen)).toString(),
    msg.toString(),
  );
  // Same direction on both ends does not authenticate.
  parseAndPrepareOpen(slab, f, len, a.decrypt.implicitIv, nonces, 0, desc, info);
  const wrong = createAead('CHACHA20-POLY1305', a.decrypt.key, false, { impl: 'node' });
  assert.equal(wrong.openBatch(slab, nonces, desc, 1, results), 0);
});

test('parses a key file made by openvpn --genkey', (t) => {
  const probe = spawnSync('openvpn', ['--version'], { encoding: 'utf8' });
  if (probe.error || !/OpenVPN 2\./.test(probe.stdout)) {
    t.skip('openvpn binary not available');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'ovt-key-'));
  try {
    const file = join(dir, 'static.key');
    const r = spawnSync('openvpn', ['--genkey', 'secret', file], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.status, 0, r.stderr);
    const text = readFileSync(file, 'utf8');
    const k = parseStaticKey(text);
    assert.equal(
      formatStaticKey(k).split('-----BEGIN')[1],
      text.split('-----BEGIN')[1],
      'same body layout as openvpn',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
