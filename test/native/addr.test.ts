// 20-byte address records: encoding, RFC 5952 formatting, parsing, comparison.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/util/errors.js';
import {
  addrCopy,
  addrEqual,
  addrFrom,
  addrHost,
  decodeAddr,
  formatAddr,
  parseAddr,
} from '../../src/transport/addr.js';

describe('address records', () => {
  it('lays out family, port and address bytes as the addon does', () => {
    assert.deepEqual(
      [...addrFrom('10.1.2.3', 1194)],
      [4, 0, 4, 170, 10, 1, 2, 3, ...new Array<number>(12).fill(0)],
    );
    const v6 = addrFrom('2001:db8::1', 443);
    assert.deepEqual([...v6.subarray(0, 8)], [6, 0, 1, 187, 0x20, 0x01, 0x0d, 0xb8]);
    assert.equal(v6[19], 1);
  });

  it('formats IPv6 canonically (RFC 5952)', () => {
    const cases: [string, string][] = [
      ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['::', '::'],
      ['::1', '::1'],
      ['fe80::', 'fe80::'],
      ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
      ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
      ['1:0:3:4:5:6:7:8', '1:0:3:4:5:6:7:8'],
      ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
      ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
      ['FE80::ABCD', 'fe80::abcd'],
    ];
    for (const [input, want] of cases) assert.equal(addrHost(addrFrom(input, 1)), want, input);
  });

  it('parses and formats host:port text', () => {
    assert.equal(formatAddr(parseAddr('192.0.2.7:51820')), '192.0.2.7:51820');
    assert.equal(formatAddr(parseAddr('[2001:db8::7]:1194')), '[2001:db8::7]:1194');
    assert.deepEqual(decodeAddr(parseAddr('[::1]:0')), { address: '::1', port: 0 });
    assert.equal(formatAddr(new Uint8Array(20)), 'none');
    for (const bad of ['1.2.3.4', 'host:1', '[::1]:70000', '1.2.3.256:1', '[1::2::3]:1']) {
      assert.throws(() => parseAddr(bad), ConfigError, bad);
    }
    assert.throws(() => addrFrom('1.2.3.4', -1), ConfigError);
  });

  it('compares and copies in place', () => {
    const batch = new Uint8Array(60);
    batch.set(addrFrom('10.0.0.1', 1), 0);
    batch.set(addrFrom('10.0.0.1', 2), 20);
    addrCopy(batch, 40, batch, 0);
    assert.ok(addrEqual(batch, 0, batch, 40));
    assert.ok(!addrEqual(batch, 0, batch, 20), 'port differs');
    assert.ok(!addrEqual(addrFrom('::1', 1), 0, addrFrom('0.0.0.1', 1), 0), 'family differs');
    assert.ok(addrEqual(addrFrom('::1', 1), 0, addrFrom('0::0:1', 1), 0));
    batch[12] = 99; // junk past the IPv4 bytes is ignored
    assert.ok(addrEqual(batch, 0, batch, 40));
  });
});
