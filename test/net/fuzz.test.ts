// Property tests of the IP decoders on random and mutated packets: parseIp never throws, returns
// NONE or a drop reason, and a NONE result satisfies the framework's layout sanity rules; clampMss
// never throws, writes nothing outside the packet, and keeps a valid TCP checksum valid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IpInfo, L3Type, L4Type, parseIp } from '../../src/net/ip.js';
import { clampMss } from '../../src/net/mss.js';
import { computeL4Checksum } from '../../src/net/checksum.js';
import { DROP_REASON_COUNT, Drop } from '../../src/protocol/constants.js';
import { Prng } from '../protocol/prng.js';
import { EXT8, ipv4, ipv6, tcpSegment, udpDatagram } from './packets.js';

const info = new IpInfo();

function seedPacket(rnd: Prng): Uint8Array {
  const tcp = tcpSegment({
    flags: 0x02,
    options: [1, 2, 4, 0x05, 0xb4, 1, 1, 1],
    payload: [...rnd.bytes(rnd.int(6))],
  });
  switch (rnd.int(5)) {
    case 0:
      return ipv4({ proto: 6, l4: tcp });
    case 1:
      return ipv4({ proto: 17, l4: udpDatagram([1, 2]), options: [1, 1, 1, 0] });
    case 2:
      return ipv6({ proto: 6, l4: tcp });
    case 3:
      return ipv6({
        proto: 6,
        l4: tcp,
        ext: [
          [0, EXT8],
          [44, [0, 0, 0, 0, 0, 0, 1]],
        ],
      });
    default:
      return rnd.bytes(rnd.int(70));
  }
}

function checkLayout(k: number, len: number): void {
  const c = `case ${k}`;
  assert.ok(info.totalLen <= len && info.l3HeaderLen <= info.totalLen, c);
  assert.ok(info.l4Off + info.l4HeaderLen <= info.totalLen, c);
  if (info.version === 4) {
    assert.ok(info.l3Type === L3Type.IPV4_NO_OPTIONS || info.l3Type === L3Type.IPV4_WITH_OPTIONS, c);
    assert.ok(info.l3HeaderLen >= 20 && info.l3HeaderLen <= 60, c);
  } else {
    assert.equal(info.version, 6, c);
    assert.ok(
      info.l3Type >= L3Type.IPV6_UNSPECIFIED_EXTENSIONS && info.l3Type <= L3Type.IPV6_NO_EXTENSIONS,
      c,
    );
    assert.ok(
      info.l3HeaderLen === 0 ? info.l3Type === L3Type.IPV6_UNSPECIFIED_EXTENSIONS : info.l3HeaderLen >= 40,
      c,
    );
    assert.ok(info.l3HeaderLen <= 511, c);
  }
  if (info.l4Type === L4Type.TCP)
    assert.ok(info.l4HeaderLen >= 20 && info.l4HeaderLen <= 60 && info.l4HeaderLen % 4 === 0, c);
  else if (info.l4Type === L4Type.UDP) assert.equal(info.l4HeaderLen, 8, c);
  else assert.equal(info.l4HeaderLen, 0, c);
}

test('parseIp on random and mutated packets: no throw, layout sanity on success', () => {
  const rnd = new Prng(201);
  for (let k = 0; k < 4000; k++) {
    const p = rnd.chance(0.8) ? rnd.mutate(seedPacket(rnd)) : rnd.bytes(rnd.int(100));
    const off = rnd.int(4);
    const buf = new Uint8Array(off + p.length + rnd.int(4));
    buf.set(p, off);
    const len = rnd.chance(0.05) ? rnd.int(buf.length + 6) - 3 : p.length;
    const r = parseIp(buf, off, len, info);
    assert.ok(Number.isInteger(r) && r >= 0 && r < DROP_REASON_COUNT, `case ${k}`);
    if (r === Drop.NONE) checkLayout(k, len);
  }
});

test('clampMss on random and mutated packets: no throw, no write outside, checksum stays valid', () => {
  const rnd = new Prng(202);
  for (let k = 0; k < 3000; k++) {
    const p = rnd.chance(0.5) ? seedPacket(rnd) : rnd.mutate(seedPacket(rnd));
    const buf = new Uint8Array(p.length + 8).fill(0xa5);
    buf.set(p, 4);
    const validBefore =
      parseIp(buf, 4, p.length, info) === Drop.NONE && info.l4Type === L4Type.TCP
        ? computeL4Checksum(buf, 4, info) === ((buf[4 + info.l4Off + 16]! << 8) | buf[4 + info.l4Off + 17]!)
        : false;
    const changed = clampMss(buf, 4, p.length, 536);
    for (const i of [0, 1, 2, 3, buf.length - 4, buf.length - 3, buf.length - 2, buf.length - 1]) {
      assert.equal(buf[i], 0xa5, `case ${k}: byte ${i} outside the packet`);
    }
    if (changed && validBefore) {
      parseIp(buf, 4, p.length, info);
      const stored = (buf[4 + info.l4Off + 16]! << 8) | buf[4 + info.l4Off + 17]!;
      assert.equal(computeL4Checksum(buf, 4, info), stored, `case ${k}: checksum still valid`);
    }
  }
});
