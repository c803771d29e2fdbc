// Known-answer checks against datagrams captured from real OpenVPN 2.6 (test/vectors/openvpn-*.json,
// made by scripts/make-vectors.sh). Needs no root: only the committed JSON and node:crypto.
//
// AEAD data packet (openvpn-protocol.md §A2), key_id 0:
//   V2: [0x48|kid][peer_id:3][pkt_id:4][tag:16][ciphertext]   AAD = bytes 0..7
//   V1: [0x30|kid]           [pkt_id:4][tag:16][ciphertext]   AAD = pkt_id only (opcode not covered)
//   nonce = pkt_id(4) || implicit IV(8) of the sending direction
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { join } from 'node:path';
import { repoPath } from '../util/lab.js';

type Direction = 'c2s' | 's2c';

interface DirectionKeys {
  readonly key: Buffer;
  readonly implicitIv: Buffer;
}

interface Vector {
  readonly file: string;
  readonly cipher: 'AES-256-GCM' | 'CHACHA20-POLY1305';
  readonly openvpnVersion: string;
  readonly keys: Readonly<Record<Direction, DirectionKeys>>;
  readonly packets: readonly { readonly direction: Direction; readonly bytes: Buffer }[];
}

/** The parsed layout of one captured datagram. */
interface DataPacket {
  readonly v2: boolean;
  readonly keyId: number;
  readonly peerId: number | null;
  readonly packetId: number;
  readonly aad: Buffer;
  readonly tag: Buffer;
  readonly ciphertext: Buffer;
}

const KEEPALIVE = Buffer.from('2a187bf3641eb4cb07ed2d0a981fc748', 'hex');
const VECTOR_DIR = repoPath('test/vectors'); // not copied to dist/: found from either location

function hex(value: unknown, bytes: number, what: string): Buffer {
  assert.ok(typeof value === 'string' && /^([0-9a-f]{2})+$/.test(value), `${what}: hex string expected`);
  const b = Buffer.from(value, 'hex');
  if (bytes > 0) assert.equal(b.length, bytes, `${what}: ${bytes} bytes expected`);
  return b;
}

function field(obj: unknown, key: string): unknown {
  assert.ok(typeof obj === 'object' && obj !== null, `object expected around "${key}"`);
  return (obj as Record<string, unknown>)[key];
}

function loadVector(file: string): Vector {
  const json: unknown = JSON.parse(readFileSync(join(VECTOR_DIR, file), 'utf8'));
  const cipher = field(json, 'cipher');
  assert.ok(
    cipher === 'AES-256-GCM' || cipher === 'CHACHA20-POLY1305',
    `${file}: unsupported cipher ${String(cipher)}`,
  );
  const dirKeys = (name: string): DirectionKeys => {
    const k = field(field(json, 'keys'), name);
    return {
      key: hex(field(k, 'key'), 32, `${file} ${name}.key`),
      implicitIv: hex(field(k, 'implicitIv'), 8, `${name}.iv`),
    };
  };
  const rawPackets = field(json, 'packets');
  assert.ok(Array.isArray(rawPackets), `${file}: packets must be an array`);
  const packets = rawPackets.map((p: unknown, i): Vector['packets'][number] => {
    const direction = field(p, 'direction');
    assert.ok(direction === 'c2s' || direction === 's2c', `${file} packet ${i}: bad direction`);
    return { direction, bytes: hex(field(p, 'hex'), 0, `${file} packet ${i}`) };
  });
  const openvpnVersion = String(field(json, 'openvpnVersion'));
  return {
    file,
    cipher,
    openvpnVersion,
    keys: { c2s: dirKeys('clientToServer'), s2c: dirKeys('serverToClient') },
    packets,
  };
}

function parsePacket(b: Buffer): DataPacket {
  const opcode = b[0]! >> 3;
  assert.ok(opcode === 6 || opcode === 9, `opcode ${opcode} is not P_DATA_V1/V2`);
  const v2 = opcode === 9;
  const hdr = v2 ? 4 : 1;
  assert.ok(b.length >= hdr + 4 + 16, 'shorter than header + packet id + tag');
  return {
    v2,
    keyId: b[0]! & 7,
    peerId: v2 ? b.readUIntBE(1, 3) : null,
    packetId: b.readUInt32BE(hdr),
    aad: v2 ? b.subarray(0, 8) : b.subarray(1, 5),
    tag: b.subarray(hdr + 4, hdr + 20),
    ciphertext: b.subarray(hdr + 20),
  };
}

function nonce(k: DirectionKeys, packetId: number): Buffer {
  const n = Buffer.alloc(12);
  n.writeUInt32BE(packetId, 0);
  k.implicitIv.copy(n, 4);
  return n;
}

/** Decrypts and authenticates; throws if the tag does not verify. */
function open(v: Vector, k: DirectionKeys, p: DataPacket): Buffer {
  const iv = nonce(k, p.packetId);
  const d =
    v.cipher === 'AES-256-GCM'
      ? createDecipheriv('aes-256-gcm', k.key, iv, { authTagLength: 16 })
      : createDecipheriv('chacha20-poly1305', k.key, iv, { authTagLength: 16 });
  d.setAAD(p.aad, { plaintextLength: p.ciphertext.length });
  d.setAuthTag(p.tag);
  return Buffer.concat([d.update(p.ciphertext), d.final()]);
}

/** Builds the datagram OpenVPN would send for `plaintext` under `header` (1 or 4 bytes). */
function seal(v: Vector, k: DirectionKeys, header: Buffer, packetId: number, plaintext: Buffer): Buffer {
  const id = Buffer.alloc(4);
  id.writeUInt32BE(packetId);
  const iv = nonce(k, packetId);
  const c =
    v.cipher === 'AES-256-GCM'
      ? createCipheriv('aes-256-gcm', k.key, iv, { authTagLength: 16 })
      : createCipheriv('chacha20-poly1305', k.key, iv, { authTagLength: 16 });
  c.setAAD(header.length === 4 ? Buffer.concat([header, id]) : id, { plaintextLength: plaintext.length });
  const ct = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([header, id, c.getAuthTag(), ct]);
}

function ipv4HeaderChecksumOk(ip: Buffer, ihl: number): boolean {
  let sum = 0;
  for (let i = 0; i < ihl; i += 2) sum += ip.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum === 0xffff;
}

/** 'keepalive', 'ipv4' or 'ipv6' if the plaintext is exactly that, else a reason string. */
function classify(pt: Buffer): 'keepalive' | 'ipv4' | 'ipv6' | string {
  if (pt.equals(KEEPALIVE)) return 'keepalive';
  const version = pt.length > 0 ? pt[0]! >> 4 : -1;
  if (version === 4 && pt.length >= 20) {
    const ihl = (pt[0]! & 0x0f) * 4;
    if (pt.readUInt16BE(2) !== pt.length) return `IPv4 total length ${pt.readUInt16BE(2)} != ${pt.length}`;
    return ipv4HeaderChecksumOk(pt, ihl) ? 'ipv4' : 'IPv4 header checksum wrong';
  }
  if (version === 6 && pt.length >= 40) {
    return pt.readUInt16BE(4) + 40 === pt.length ? 'ipv6' : 'IPv6 payload length mismatch';
  }
  return `neither IP nor keepalive: ${pt.subarray(0, 16).toString('hex')}`;
}

const files = readdirSync(VECTOR_DIR)
  .filter((f) => /^openvpn-.*\.json$/.test(f))
  .sort();
const vectors = files.map(loadVector);

test('vector set covers both 2.6 AEAD ciphers and both data packet formats', () => {
  assert.deepEqual([...new Set(vectors.map((v) => v.cipher))].sort(), ['AES-256-GCM', 'CHACHA20-POLY1305']);
  const formats = new Set(vectors.flatMap((v) => v.packets.map((p) => p.bytes[0]! >> 3)));
  assert.deepEqual([...formats].sort(), [6, 9]);
  for (const v of vectors) assert.match(v.openvpnVersion, /^OpenVPN 2\.6\./, v.file);
});

for (const v of vectors) {
  test(`${v.file}: every packet authenticates and decrypts to IP or keepalive with its direction's key`, () => {
    const kinds = new Map<string, number>();
    for (const [i, { direction, bytes }] of v.packets.entries()) {
      const p = parsePacket(bytes);
      assert.equal(p.keyId, 0, `packet ${i}: key_id`);
      const kind = classify(open(v, v.keys[direction], p));
      assert.ok(
        kind === 'keepalive' || kind === 'ipv4' || kind === 'ipv6',
        `packet ${i} (${direction}): ${kind}`,
      );
      kinds.set(`${direction}:${kind}`, (kinds.get(`${direction}:${kind}`) ?? 0) + 1);
    }
    const seen = (k: string): number => kinds.get(k) ?? 0;
    assert.ok(seen('c2s:ipv4') >= 2 && seen('s2c:ipv4') >= 2, `IPv4 both ways: ${[...kinds]}`);
    assert.ok(seen('c2s:ipv6') + seen('s2c:ipv6') >= 1, `some IPv6: ${[...kinds]}`);
    assert.ok(seen('c2s:keepalive') + seen('s2c:keepalive') >= 1, `some keepalive: ${[...kinds]}`);
  });

  test(`${v.file}: packet ids start at 1 and increase by one per direction; peer-id is stable`, () => {
    for (const direction of ['c2s', 's2c'] as const) {
      const parsed = v.packets.filter((p) => p.direction === direction).map((p) => parsePacket(p.bytes));
      assert.ok(parsed.length >= 4, `${direction}: at least 4 packets`);
      assert.deepEqual(
        parsed.map((p) => p.packetId),
        parsed.map((_, i) => i + 1),
      );
      assert.equal(new Set(parsed.map((p) => p.v2)).size, 1, `${direction}: one data format per direction`);
      assert.equal(new Set(parsed.map((p) => p.peerId)).size, 1, `${direction}: one peer-id`);
    }
    // When both directions use DATA_V2 they carry the same peer-id (pushed id, or the P2P EKM id).
    const v2Ids = new Set(
      v.packets
        .map((p) => parsePacket(p.bytes))
        .filter((p) => p.v2)
        .map((p) => p.peerId),
    );
    assert.equal(v2Ids.size, 1, `peer-ids seen: ${[...v2Ids]}`);
  });

  test(`${v.file}: re-sealing each plaintext with the same key and packet id reproduces the datagram`, () => {
    for (const [i, { direction, bytes }] of v.packets.entries()) {
      const p = parsePacket(bytes);
      const pt = open(v, v.keys[direction], p);
      const header = bytes.subarray(0, p.v2 ? 4 : 1);
      assert.ok(seal(v, v.keys[direction], header, p.packetId, pt).equals(bytes), `packet ${i} differs`);
    }
  });

  test(`${v.file}: tampering, a wrong direction key or a wrong packet id fails authentication`, () => {
    const { direction, bytes } =
      v.packets.find((p) => p.bytes.length > 60) ?? assert.fail('no packet > 60 bytes');
    const k = v.keys[direction];
    const hdr = parsePacket(bytes).v2 ? 4 : 1;
    const flipped = (at: number): Buffer => {
      const b = Buffer.from(bytes);
      b[at]! ^= 0x01;
      return b;
    };
    // Positions: pkt_id (AAD + nonce), first tag byte, a ciphertext byte, the last byte.
    for (const at of [hdr + 3, hdr + 4, hdr + 30, bytes.length - 1]) {
      assert.throws(
        () => open(v, k, parsePacket(flipped(at))),
        /unable to authenticate|auth/i,
        `flip at ${at}`,
      );
    }
    const other = v.keys[direction === 'c2s' ? 's2c' : 'c2s'];
    assert.throws(() => open(v, other, parsePacket(bytes)), /auth/i, 'other direction key');
    if (hdr === 4) {
      assert.throws(() => open(v, k, parsePacket(flipped(3))), /auth/i, 'peer-id is in the AAD');
    }
  });
}

test('P_DATA_V1: the opcode/key_id byte is outside the AAD (only pkt_id is authenticated)', () => {
  const v1 = vectors.flatMap((v) => v.packets.filter((p) => p.bytes[0]! >> 3 === 6).map((p) => ({ v, p })));
  assert.ok(v1.length > 0, 'the vector set must contain P_DATA_V1 packets');
  const { v, p } = v1[0]!;
  const b = Buffer.from(p.bytes);
  b[0] = 0x31; // key_id 1: still authenticates, so key_id must be checked by key lookup, not by the tag
  assert.ok(open(v, v.keys[p.direction], parsePacket(b)).length > 0);
});
