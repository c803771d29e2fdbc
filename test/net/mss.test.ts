// MSS clamping: the incrementally patched checksum must equal a full recomputation (and verify
// with the independent naive sum of the test builders), for IPv4 and IPv6, even and odd option
// offsets, and random option layouts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clampMss } from '../../src/net/mss.js';
import { computeL4Checksum, updateChecksum16 } from '../../src/net/checksum.js';
import { IpInfo, parseIp } from '../../src/net/ip.js';
import { Prng } from '../protocol/prng.js';
import { EXT8, ipv4, ipv6, naiveSum, tcpSegment } from './packets.js';

const info = new IpInfo();

/** [mss value or -1, checksum field, full recomputation, naive verification ok]. */
function inspect(p: Uint8Array): { mss: number; csum: number; full: number; valid: boolean } {
  parseIp(p, 0, p.length, info);
  const t = info.l4Off;
  let mss = -1;
  for (let o = t + 20; o < t + info.l4HeaderLen;) {
    if (p[o] === 0) break;
    if (p[o] === 1) {
      o++;
      continue;
    }
    if (p[o] === 2) mss = (p[o + 2]! << 8) | p[o + 3]!;
    o += p[o + 1]!;
  }
  const csum = (p[t + 16]! << 8) | p[t + 17]!;
  const l4 = [...p.subarray(t, info.totalLen)];
  const pseudo =
    info.version === 4
      ? [...p.subarray(12, 20), 0, 6, (l4.length >> 8) & 0xff, l4.length & 0xff]
      : [...p.subarray(8, 40), 0, 0, (l4.length >> 8) & 0xff, l4.length & 0xff, 0, 0, 0, 6];
  return { mss, csum, full: computeL4Checksum(p, 0, info), valid: naiveSum([...pseudo, ...l4]) === 0xffff };
}

const MSS1460 = [2, 4, 0x05, 0xb4];

test('IPv4 and IPv6 SYN: MSS lowered to the limit, checksum patched (even and odd option offsets)', () => {
  const cases = [
    ipv4({ proto: 6, l4: tcpSegment({ flags: 0x02, options: MSS1460 }) }),
    ipv4({
      proto: 6,
      l4: tcpSegment({ flags: 0x12, options: [1, ...MSS1460, 1, 1, 1], payload: [9, 8, 7] }),
    }),
    ipv6({ proto: 6, l4: tcpSegment({ flags: 0x02, options: [1, 1, ...MSS1460, 4, 2] }) }),
    ipv6({ proto: 6, l4: tcpSegment({ flags: 0x02, options: [1, ...MSS1460] }), ext: [[0, EXT8]] }),
  ];
  for (const [i, p] of cases.entries()) {
    assert.ok(inspect(p).valid, `case ${i}: builder makes a valid packet`);
    assert.equal(clampMss(p, 0, p.length, 1360), true, `case ${i}: changed`);
    const r = inspect(p);
    assert.equal(r.mss, 1360, `case ${i}`);
    assert.equal(r.csum, r.full, `case ${i}: incremental = full recomputation`);
    assert.ok(r.valid, `case ${i}: checksum verifies`);
  }
});

test('left alone: not SYN, MSS already small, fragment, UDP, malformed options, no MSS option', () => {
  const same = (p: Uint8Array, why: string): void => {
    const before = Buffer.from(p).toString('hex');
    assert.equal(clampMss(p, 0, p.length, 1360), false, why);
    assert.equal(Buffer.from(p).toString('hex'), before, why);
  };
  same(ipv4({ proto: 6, l4: tcpSegment({ flags: 0x10, options: MSS1460 }) }), 'ACK only');
  same(ipv4({ proto: 6, l4: tcpSegment({ flags: 0x02, options: [2, 4, 0x05, 0x00] }) }), 'MSS 1280 < 1360');
  same(
    ipv4({ proto: 6, l4: tcpSegment({ flags: 0x02, options: [2, 4, 0x05, 0x50] }) }),
    'MSS equal to the limit',
  );
  same(ipv4({ proto: 6, l4: tcpSegment({ flags: 0x02, options: MSS1460 }), fragWord: 0x2000 }), 'fragment');
  same(ipv4({ proto: 17, l4: [0, 1, 0, 2, 0, 12, 0, 0, 2, 0x02, 2, 4, 5, 0xb4] }), 'UDP');
  same(ipv4({ proto: 6, l4: tcpSegment({ flags: 0x02, options: [8, 0, ...MSS1460] }) }), 'option length 0');
  same(
    ipv4({ proto: 6, l4: tcpSegment({ flags: 0x02, options: [8, 40, ...MSS1460] }) }),
    'option past the header',
  );
  same(
    ipv4({ proto: 6, l4: tcpSegment({ flags: 0x02, options: [0, ...MSS1460] }) }),
    'MSS after end-of-list',
  );
  same(ipv4({ proto: 6, l4: tcpSegment({ flags: 0x02, options: [3, 3, 7] }) }), 'no MSS option');
  same(Uint8Array.of(0x45, 0, 0), 'not a valid IP packet');
});

test('random option layouts and values: MSS = min(orig, limit), checksum always verifies', () => {
  const rnd = new Prng(42);
  for (let k = 0; k < 300; k++) {
    const opts: number[] = [];
    while (rnd.chance(0.5)) opts.push(1);
    if (rnd.chance(0.3)) opts.push(8, 10, ...rnd.bytes(8)); // timestamps
    const orig = rnd.range(500, 65535);
    opts.push(2, 4, orig >> 8, orig & 0xff);
    while (rnd.chance(0.4)) opts.push(1);
    if (opts.length > 40) continue;
    const l4 = tcpSegment({
      flags: 0x02 | (rnd.chance(0.5) ? 0x10 : 0),
      options: opts,
      payload: [...rnd.bytes(rnd.int(9))],
    });
    const p = rnd.chance(0.5) ? ipv4({ proto: 6, l4 }) : ipv6({ proto: 6, l4 });
    const limit = rnd.range(536, 1460);
    clampMss(p, 0, p.length, limit);
    const r = inspect(p);
    assert.equal(r.mss, Math.min(orig, limit), `case ${k}`);
    assert.equal(r.csum, r.full, `case ${k}: incremental = full`);
    assert.ok(r.valid, `case ${k}: verifies`);
  }
});

test('RFC 1624 update equals recomputation for random single-word changes', () => {
  // Word 0 stays 6, like the protocol in a TCP pseudo-header: covered data is never all zero, the
  // one case where one's-complement arithmetic has two zeros (RFC 1624 section 3).
  const rnd = new Prng(3);
  for (let k = 0; k < 500; k++) {
    const words = [6, ...Array.from({ length: 1 + rnd.int(20) }, () => rnd.u32() & 0xffff)];
    const bytes = (ws: number[]): number[] => ws.flatMap((w) => [w >> 8, w & 0xff]);
    const before = ~naiveSum(bytes(words)) & 0xffff;
    const i = 1 + rnd.int(words.length - 1);
    const old = words[i]!;
    words[i] = rnd.chance(0.1) ? 0 : rnd.u32() & 0xffff;
    const after = ~naiveSum(bytes(words)) & 0xffff;
    assert.equal(updateChecksum16(before, old, words[i]!), after, `case ${k}`);
  }
});
