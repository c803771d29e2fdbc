import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  IpInfo,
  L3Type,
  L4Type,
  copyIpv6Dst,
  copyIpv6Src,
  ipVersion,
  ipv4Dst,
  parseIp,
} from '../../src/net/ip.js';
import { Drop, DROP_REASON_NAMES } from '../../src/protocol/constants.js';
import { EXT8, V6_DST, V6_SRC, ipv4, ipv6, tcpSegment, udpDatagram } from './packets.js';

const info = new IpInfo();

function layout(p: Uint8Array): string {
  const r = parseIp(p, 0, p.length, info);
  if (r !== Drop.NONE) return `drop:${DROP_REASON_NAMES[r]}`;
  return `v${info.version} l3=${info.l3Type}/${info.l3HeaderLen} l4=${info.l4Type}/${info.l4HeaderLen} total=${info.totalLen}`;
}

const SYN = tcpSegment({ flags: 0x02, options: [2, 4, 0x05, 0xb4] });
const UDP = udpDatagram([1, 2, 3]);

test('IPv4: layout types and lengths for the framework', () => {
  assert.equal(
    layout(ipv4({ proto: 6, l4: SYN })),
    `v4 l3=${L3Type.IPV4_NO_OPTIONS}/20 l4=${L4Type.TCP}/24 total=44`,
  );
  assert.equal(
    layout(ipv4({ proto: 17, l4: UDP, options: [1, 1, 1, 0] })),
    `v4 l3=${L3Type.IPV4_WITH_OPTIONS}/24 l4=${L4Type.UDP}/8 total=35`,
  );
  assert.equal(
    layout(ipv4({ proto: 1, l4: [8, 0, 0, 0] })),
    `v4 l3=3/20 l4=${L4Type.IP_NOT_FRAGMENT}/0 total=24`,
  );
  assert.equal(
    layout(ipv4({ proto: 6, l4: SYN, fragWord: 0x2000 })),
    `v4 l3=3/20 l4=${L4Type.IP_FRAGMENT}/0 total=44`,
    'MF',
  );
  assert.equal(
    layout(ipv4({ proto: 17, l4: UDP, fragWord: 0x0010 })),
    `v4 l3=3/20 l4=3/0 total=31`,
    'offset',
  );
  assert.equal(
    layout(ipv4({ proto: 6, l4: SYN.slice(0, 12) })),
    `v4 l3=3/20 l4=0/0 total=32`,
    'TCP header cut',
  );
  const p = ipv4({ proto: 17, l4: UDP, src: 0x0a000001, dst: 0xfffefdfc });
  parseIp(p, 0, p.length, info);
  assert.equal(info.src4, 0x0a000001);
  assert.equal(info.dst4, 0xfffefdfc);
  assert.equal(ipv4Dst(p, 0), 0xfffefdfc);
  assert.equal(info.protocol, 17);
});

test('IPv4: length validation', () => {
  const p = ipv4({ proto: 17, l4: UDP });
  assert.equal(layout(p.subarray(0, 19)), 'drop:ip-bad-length', 'shorter than 20');
  assert.equal(layout(p.subarray(0, p.length - 1)), 'drop:ip-bad-length', 'total length > buffer');
  const padded = new Uint8Array(p.length + 5);
  padded.set(p);
  assert.match(layout(padded), /total=31$/, 'trailing padding allowed, totalLen reports the IP length');
  const badIhl = Uint8Array.from(p);
  badIhl[0] = 0x44;
  assert.equal(layout(badIhl), 'drop:ip-bad-length', 'IHL < 5');
  const shortTotal = Uint8Array.from(p);
  shortTotal[3] = 10;
  assert.equal(layout(shortTotal), 'drop:ip-bad-length', 'total < header');
  assert.equal(layout(Uint8Array.of(0x50, 0, 0)), 'drop:ip-bad-version');
  assert.equal(layout(new Uint8Array(0)), 'drop:ip-bad-length');
  assert.equal(ipVersion(p, 0, p.length), 4);
});

test('IPv6: extension headers walked, fragments classified, addresses copied', () => {
  assert.equal(layout(ipv6({ proto: 6, l4: SYN })), `v6 l3=${L3Type.IPV6_NO_EXTENSIONS}/40 l4=1/24 total=64`);
  assert.equal(
    layout(
      ipv6({
        proto: 17,
        l4: UDP,
        ext: [
          [0, EXT8],
          [60, EXT8],
        ],
      }),
    ),
    `v6 l3=${L3Type.IPV6_WITH_EXTENSIONS}/56 l4=2/8 total=67`,
  );
  // Fragment header: [reserved][offset:13|res:2|M:1][id:4]
  assert.equal(
    layout(ipv6({ proto: 17, l4: UDP, ext: [[44, [0, 0, 1, 0, 0, 0, 7]]] })),
    'v6 l3=5/48 l4=3/0 total=59',
    'M',
  );
  assert.equal(
    layout(ipv6({ proto: 17, l4: UDP, ext: [[44, [0, 0, 0, 0, 0, 0, 7]]] })),
    'v6 l3=5/48 l4=2/8 total=59',
    'atomic',
  );
  assert.equal(layout(ipv6({ proto: 58, l4: [128, 0, 0, 0] })), 'v6 l3=6/40 l4=4/0 total=44');
  assert.equal(
    layout(ipv6({ proto: 59, l4: [] })),
    'v6 l3=6/40 l4=4/0 total=40',
    'no next header, empty payload',
  );
  const nine: [number, number[]][] = Array.from({ length: 9 }, () => [60, EXT8]);
  assert.equal(
    layout(ipv6({ proto: 17, l4: UDP, ext: nine })),
    `v6 l3=${L3Type.IPV6_UNSPECIFIED_EXTENSIONS}/0 l4=0/0 total=123`,
  );
  const p = ipv6({ proto: 17, l4: UDP });
  const addr = new Uint8Array(34);
  copyIpv6Src(p, 0, addr, 1);
  copyIpv6Dst(p, 0, addr, 17);
  assert.deepEqual([...addr.subarray(1, 17)], V6_SRC);
  assert.deepEqual([...addr.subarray(17, 33)], V6_DST);
  assert.equal(layout(p.subarray(0, 39)), 'drop:ip-bad-length');
  assert.equal(layout(p.subarray(0, p.length - 1)), 'drop:ip-bad-length', 'payload length > buffer');
});

test('parse at a nonzero offset inside a larger buffer', () => {
  const p = ipv4({ proto: 6, l4: SYN });
  const slab = new Uint8Array(200).fill(0xee);
  slab.set(p, 77);
  assert.equal(parseIp(slab, 77, p.length, info), Drop.NONE);
  assert.equal(info.l4Type, L4Type.TCP);
  assert.equal(info.l4Off, 20);
  assert.equal(parseIp(slab, 190, 20, info), Drop.TRUNCATED, 'range beyond the buffer');
});
