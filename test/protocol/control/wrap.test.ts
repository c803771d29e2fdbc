import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Opcode } from '../../../src/protocol/control/constants.js';
import { decodeControlPacket, encodeControlPacket } from '../../../src/protocol/control/packet.js';
import { StaticKey, formatStaticKey, parseStaticKey } from '../../../src/protocol/control/static-key.js';
import {
  encodeEarlyNegFlags,
  formatTlsCryptV2ClientKey,
  formatTlsCryptV2ServerKey,
  generateTlsCryptV2ClientKey,
  generateTlsCryptV2ServerKey,
  parseEarlyNegPayload,
  parseTlsCryptV2ClientKey,
  parseTlsCryptV2ServerKey,
  splitWkc,
  unwrapClientKey,
} from '../../../src/protocol/control/tls-crypt-v2.js';
import {
  type ControlWrap,
  NoWrap,
  TlsAuthWrap,
  TlsCryptWrap,
  tlsCryptV2ClientWrap,
} from '../../../src/protocol/control/wrap.js';
import { Prng } from './prng.js';

const NOW = 1_700_000_000;
const SID = Buffer.from('1122334455667788', 'hex');

function plainPacket(opcode: Opcode, msgId: number, payload = Buffer.alloc(0), acks: number[] = []): Buffer {
  return encodeControlPacket({
    opcode,
    keyId: 0,
    sessionId: SID,
    acks,
    ackSessionId: acks.length > 0 ? Buffer.alloc(8, 0x5a) : undefined,
    messageId: opcode === Opcode.ACK_V1 ? undefined : msgId,
    payload,
  });
}

function openvpnAvailable(): boolean {
  try {
    execFileSync('openvpn', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (e) {
    // openvpn --version exits 1 on some builds while printing fine; only ENOENT means absent.
    return (e as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

/** Skip message, or a failure in CI where openvpn is required. */
function needOpenvpn(t: { skip(msg: string): void }): boolean {
  if (openvpnAvailable()) return true;
  if (process.env['CI'] === 'true') assert.fail('openvpn is required in CI (apt-get install openvpn)');
  t.skip('openvpn not installed: real-key interop not checked');
  return false;
}

/** Every single-byte change of the wire packet must be rejected (authenticated modes). */
function assertTamperRejected(make: () => [ControlWrap, ControlWrap], plain: Buffer): void {
  const [tx] = make();
  const wire = tx.wrap(plain, NOW);
  for (let i = 0; i < wire.length; i++) {
    const [, rx] = make();
    const bad = Buffer.from(wire);
    bad[i] = (bad[i] as number) ^ 0x01;
    const r = rx.unwrap(bad);
    assert.equal(r.ok, false, `flipping byte ${i} must be rejected`);
  }
}

function roundTrip(tx: ControlWrap, rx: ControlWrap, plain: Buffer): Buffer {
  const r = rx.unwrap(tx.wrap(plain, NOW));
  assert.ok(r.ok, r.ok ? '' : r.reason);
  assert.deepEqual(r.plain, plain);
  return r.plain;
}

test('static key parser: openvpn --genkey format, comments ignored, bad bodies rejected', () => {
  const key = new StaticKey(randomBytes(256));
  const text = formatStaticKey(key);
  assert.deepEqual(parseStaticKey(text).bytes, key.bytes);
  assert.deepEqual(parseStaticKey(`# note\n${text}\ntrailing junk`).bytes, key.bytes);
  assert.throws(() => parseStaticKey('nothing here'), /BEGIN OpenVPN Static key V1/);
  assert.throws(() => parseStaticKey(text.replace(/[0-9a-f]{2}\n-----END/, '\n-----END')), /255 bytes/);
  assert.throws(() => parseStaticKey(text.replace(/[0-9a-f]\n/, 'z\n')), /hex/);
});

test('none: the plain packet is the wire packet', () => {
  const p = plainPacket(Opcode.HARD_RESET_CLIENT_V2, 0);
  assert.equal(new NoWrap().wrap(p).length, 14);
  roundTrip(new NoWrap(), new NoWrap(), p);
});

for (const digest of ['SHA1', 'SHA256', 'SHA512']) {
  test(`tls-auth ${digest}: direction 1 -> direction 0 round trip, sizes, independent HMAC`, () => {
    const key = new StaticKey(randomBytes(256));
    const client = new TlsAuthWrap({ key, direction: 1, digest });
    const server = new TlsAuthWrap({ key, direction: 0, digest });
    const hlen = { SHA1: 20, SHA256: 32, SHA512: 64 }[digest] as number;
    const reset = plainPacket(Opcode.HARD_RESET_CLIENT_V2, 0);
    const wire = client.wrap(reset, NOW);
    assert.equal(wire.length, 14 + hlen + 8);
    if (digest === 'SHA1') assert.equal(wire.length, 42); // §B2 table
    // Independent check: direction 1 sends with keys[1].hmac = file offset 192.
    const pidTime = wire.subarray(9 + hlen, 9 + hlen + 8);
    assert.equal(pidTime.readUInt32BE(0), 1);
    assert.equal(pidTime.readUInt32BE(4), NOW);
    const mac = createHmac(digest, key.bytes.subarray(192, 192 + hlen))
      .update(pidTime)
      .update(wire.subarray(0, 9))
      .update(wire.subarray(9 + hlen + 8))
      .digest();
    assert.deepEqual(wire.subarray(9, 9 + hlen), mac);
    const r = server.unwrap(wire);
    assert.ok(r.ok);
    assert.deepEqual(r.plain, reset);
    roundTrip(server, client, plainPacket(Opcode.CONTROL_V1, 1, randomBytes(300), [0, 1]));
  });
}

test('tls-auth: no direction uses keys[0].hmac both ways; mismatched directions fail', () => {
  const key = new StaticKey(randomBytes(256));
  const a = new TlsAuthWrap({ key });
  const b = new TlsAuthWrap({ key });
  const wire = a.wrap(plainPacket(Opcode.CONTROL_V1, 3, Buffer.from('x')), NOW);
  const mac = createHmac('sha1', key.bytes.subarray(64, 84))
    .update(wire.subarray(29, 37))
    .update(wire.subarray(0, 9))
    .update(wire.subarray(37))
    .digest();
  assert.deepEqual(wire.subarray(9, 29), mac);
  assert.ok(b.unwrap(wire).ok);
  const c1 = new TlsAuthWrap({ key, direction: 1 });
  const wrongPeer = new TlsAuthWrap({ key, direction: 1 });
  assert.deepEqual(wrongPeer.unwrap(c1.wrap(plainPacket(Opcode.CONTROL_V1, 1), NOW)), {
    ok: false,
    reason: 'bad-hmac',
  });
  assert.throws(() => new TlsAuthWrap({ key, digest: 'NOPE' }), /unknown digest/);
});

test('tls-auth: tamper of any byte and replays are rejected', () => {
  const key = new StaticKey(randomBytes(256));
  const plain = plainPacket(Opcode.CONTROL_V1, 5, Buffer.from('hello'), [4]);
  assertTamperRejected(
    () => [new TlsAuthWrap({ key, direction: 1 }), new TlsAuthWrap({ key, direction: 0 })],
    plain,
  );
  const tx = new TlsAuthWrap({ key, direction: 1 });
  const rx = new TlsAuthWrap({ key, direction: 0 });
  const w1 = tx.wrap(plain, NOW);
  const w2 = tx.wrap(plain, NOW);
  assert.ok(rx.unwrap(w2).ok);
  assert.ok(rx.unwrap(w1).ok, 'older id inside the window is accepted once');
  assert.deepEqual(rx.unwrap(w1), { ok: false, reason: 'replay' });
  assert.deepEqual(rx.unwrap(w2), { ok: false, reason: 'replay' });
});

test('tls-crypt: client sends with keys[1], server with keys[0]; sizes 54/66; independent decrypt', () => {
  const key = new StaticKey(randomBytes(256));
  const client = new TlsCryptWrap({ key, role: 'client' });
  const server = new TlsCryptWrap({ key, role: 'server' });
  const reset = plainPacket(Opcode.HARD_RESET_CLIENT_V2, 0);
  const wire = client.wrap(reset, NOW);
  assert.equal(wire.length, 54);
  // Independent: Ke = bytes 128..159, Ka = 192..223 for the client's direction.
  const tag = wire.subarray(17, 49);
  const dec = createCipheriv('aes-256-ctr', key.bytes.subarray(128, 160), tag.subarray(0, 16)).update(
    wire.subarray(49),
  );
  assert.deepEqual(dec, reset.subarray(9));
  const want = createHmac('sha256', key.bytes.subarray(192, 224))
    .update(wire.subarray(0, 17))
    .update(dec)
    .digest();
  assert.deepEqual(tag, want);
  assert.ok(server.unwrap(wire).ok);
  const sReset = plainPacket(Opcode.HARD_RESET_SERVER_V2, 0, Buffer.alloc(0), [0]);
  assert.equal(server.wrap(sReset, NOW).length, 66);
  roundTrip(server, client, plainPacket(Opcode.CONTROL_V1, 1, randomBytes(1000), [0, 1, 2, 3]));
  // The same side cannot read its own packets (directional keys).
  assert.deepEqual(new TlsCryptWrap({ key, role: 'client' }).unwrap(client.wrap(reset, NOW)), {
    ok: false,
    reason: 'bad-tag',
  });
});

test('tls-crypt: tamper of any byte and replays are rejected; hostile bytes never throw', () => {
  const key = new StaticKey(randomBytes(256));
  const plain = plainPacket(Opcode.CONTROL_V1, 2, Buffer.from('tls bytes'), [1]);
  assertTamperRejected(
    () => [new TlsCryptWrap({ key, role: 'client' }), new TlsCryptWrap({ key, role: 'server' })],
    plain,
  );
  const tx = new TlsCryptWrap({ key, role: 'client' });
  const rx = new TlsCryptWrap({ key, role: 'server' });
  const w = tx.wrap(plain, NOW);
  assert.ok(rx.unwrap(w).ok);
  assert.deepEqual(rx.unwrap(w), { ok: false, reason: 'replay' });
  const r = new Prng(7);
  const auth = new TlsAuthWrap({ key, direction: 0 });
  for (let i = 0; i < 3000; i++) {
    const junk = r.bytes(r.int(120));
    assert.equal(rx.unwrap(junk).ok, false);
    assert.equal(auth.unwrap(junk).ok, false);
  }
});

test('tls-crypt-v2 (TS keys): V3 reset = tls-crypt + WKc, first id 0x0F000001, server recovers Kc', () => {
  const srv = generateTlsCryptV2ServerKey();
  const cli = generateTlsCryptV2ClientKey(srv, NOW);
  const reparsedSrv = parseTlsCryptV2ServerKey(formatTlsCryptV2ServerKey(srv));
  const reparsedCli = parseTlsCryptV2ClientKey(formatTlsCryptV2ClientKey(cli));
  assert.deepEqual(reparsedCli.wkc, cli.wkc);
  const tx = tlsCryptV2ClientWrap(reparsedCli.kc, reparsedCli.wkc);
  const reset = plainPacket(Opcode.HARD_RESET_CLIENT_V3, 0);
  const wire = tx.wrap(reset, NOW);
  assert.equal(wire.length, 54 + cli.wkc.length);
  assert.equal(wire.readUInt32BE(9), 0x0f000001);
  const parts = splitWkc(wire);
  assert.ok(parts);
  assert.deepEqual(parts.wkc, cli.wkc);
  const un = unwrapClientKey(reparsedSrv, parts.wkc);
  assert.ok(un.ok);
  assert.deepEqual(un.kc.bytes, cli.kc.bytes);
  assert.equal(un.metadata[0], 1);
  assert.equal(Number(un.metadata.readBigUInt64BE(1)), NOW);
  const rx = new TlsCryptWrap({ key: un.kc, role: 'server' });
  const r = rx.unwrap(parts.packet);
  assert.ok(r.ok);
  assert.equal(r.packetId, 0x0f000001);
  assert.deepEqual(r.plain, reset);
  // Only V3 and WKC_V1 carry WKc.
  assert.equal(tx.wrap(plainPacket(Opcode.CONTROL_V1, 1), NOW).length, 54);
  const wkcPkt = tx.wrap(plainPacket(Opcode.CONTROL_WKC_V1, 1, Buffer.alloc(0), [0]), NOW);
  assert.deepEqual(wkcPkt.subarray(wkcPkt.length - cli.wkc.length), cli.wkc);
  // A WKc tampered anywhere fails its tag; a wrong server key fails too.
  for (let i = 0; i < cli.wkc.length - 2; i += 37) {
    const bad = Buffer.from(cli.wkc);
    bad[i] = (bad[i] as number) ^ 0x80;
    assert.equal(unwrapClientKey(srv, bad).ok, false, `WKc byte ${i}`);
  }
  assert.deepEqual(unwrapClientKey(generateTlsCryptV2ServerKey(), cli.wkc), { ok: false, reason: 'wkc-tag' });
});

test('tls-crypt-v2: early-negotiation TLV round trip and hostile TLV payloads', () => {
  assert.deepEqual(parseEarlyNegPayload(encodeEarlyNegFlags(1)), { resendWkc: true });
  assert.deepEqual(parseEarlyNegPayload(encodeEarlyNegFlags(0)), { resendWkc: false });
  assert.deepEqual(parseEarlyNegPayload(Buffer.alloc(0)), { resendWkc: false });
  const unknownFirst = Buffer.concat([Buffer.from([0, 9, 0, 1, 0xff]), encodeEarlyNegFlags(1)]);
  assert.deepEqual(parseEarlyNegPayload(unknownFirst), { resendWkc: true });
  const r = new Prng(5);
  for (let i = 0; i < 2000; i++) parseEarlyNegPayload(r.bytes(r.int(20)));
  for (let i = 0; i < 2000; i++) splitWkc(r.bytes(r.int(400)));
});

test('tls-crypt-v2 against real openvpn --genkey keys: our unwrap of WKc yields the real Kc', (t) => {
  if (!needOpenvpn(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'ovt-tcv2-'));
  try {
    const srvFile = join(dir, 'server.key');
    const cliFile = join(dir, 'client.key');
    const secretFile = join(dir, 'tc.key');
    execFileSync('openvpn', ['--genkey', 'tls-crypt-v2-server', srvFile], {
      stdio: 'ignore',
      timeout: 10_000,
    });
    execFileSync('openvpn', ['--tls-crypt-v2', srvFile, '--genkey', 'tls-crypt-v2-client', cliFile], {
      stdio: 'ignore',
      timeout: 10_000,
    });
    execFileSync('openvpn', ['--genkey', 'secret', secretFile], { stdio: 'ignore', timeout: 10_000 });
    assert.ok(existsSync(cliFile));
    const srv = parseTlsCryptV2ServerKey(readFileSync(srvFile, 'utf8'));
    const cli = parseTlsCryptV2ClientKey(readFileSync(cliFile, 'utf8'));
    const un = unwrapClientKey(srv, cli.wkc);
    assert.ok(un.ok, 'real WKc must authenticate under the real server key');
    assert.deepEqual(un.kc.bytes, cli.kc.bytes);
    assert.equal(un.metadata[0], 1, 'openvpn writes a timestamp metadata block by default');
    const ts = Number(un.metadata.readBigUInt64BE(1));
    assert.ok(Math.abs(ts - Date.now() / 1000) < 600, `timestamp ${ts} should be about now`);
    // Full packet path with the real keys.
    const tx = tlsCryptV2ClientWrap(cli.kc, cli.wkc);
    const wire = tx.wrap(plainPacket(Opcode.HARD_RESET_CLIENT_V3, 0), NOW);
    const parts = splitWkc(wire);
    assert.ok(parts);
    const rx = new TlsCryptWrap({ key: un.kc, role: 'server' });
    assert.ok(rx.unwrap(parts.packet).ok);
    // Real static key parses and drives tls-crypt.
    const sk = parseStaticKey(readFileSync(secretFile, 'utf8'));
    roundTrip(
      new TlsCryptWrap({ key: sk, role: 'client' }),
      new TlsCryptWrap({ key: sk, role: 'server' }),
      plainPacket(Opcode.CONTROL_V1, 1),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('decoded plain form after unwrap is a valid control packet', () => {
  const key = new StaticKey(randomBytes(256));
  const tx = new TlsCryptWrap({ key, role: 'server' });
  const rx = new TlsCryptWrap({ key, role: 'client' });
  const r = rx.unwrap(tx.wrap(plainPacket(Opcode.ACK_V1, 0, Buffer.alloc(0), [1, 2, 3]), NOW));
  assert.ok(r.ok);
  const d = decodeControlPacket(r.plain);
  assert.ok(d.ok);
  assert.deepEqual(d.packet.acks, [1, 2, 3]);
});
