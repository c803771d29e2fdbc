// Longest-prefix match against a naive linear scan over random prefixes and addresses, with
// interleaved deletes (which prune nodes) and re-inserts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PrefixTrie4, PrefixTrie6 } from '../../src/net/prefix-trie.js';
import { Prng } from '../protocol/prng.js';

function bitOf(addr: Uint8Array, i: number): number {
  return (addr[i >> 3]! >> (7 - (i & 7))) & 1;
}

/** Naive table: a list of (address bytes, length, value); lookup scans all entries. */
class Naive {
  entries: { addr: Uint8Array; len: number; value: number }[] = [];

  private find(addr: Uint8Array, len: number): number {
    return this.entries.findIndex((e) => e.len === len && this.matches(e.addr, addr, len));
  }

  private matches(a: Uint8Array, b: Uint8Array, len: number): boolean {
    for (let i = 0; i < len; i++) if (bitOf(a, i) !== bitOf(b, i)) return false;
    return true;
  }

  insert(addr: Uint8Array, len: number, value: number): number {
    const i = this.find(addr, len);
    if (i >= 0) {
      const prev = this.entries[i]!.value;
      this.entries[i]!.value = value;
      return prev;
    }
    this.entries.push({ addr: Uint8Array.from(addr), len, value });
    return -1;
  }

  delete(addr: Uint8Array, len: number): number {
    const i = this.find(addr, len);
    if (i < 0) return -1;
    return this.entries.splice(i, 1)[0]!.value;
  }

  lookup(addr: Uint8Array): number {
    let best = -1;
    let bestLen = -1;
    for (const e of this.entries) {
      if (e.len > bestLen && this.matches(e.addr, addr, e.len)) {
        best = e.value;
        bestLen = e.len;
      }
    }
    return best;
  }
}

function u32(b: Uint8Array): number {
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

test('IPv4 examples: longest prefix wins, /0 default, /32 host, delete falls back', () => {
  const t = new PrefixTrie4();
  assert.equal(t.lookup(0x0a010203), -1, 'empty');
  t.insert(0x0a000000, 8, 5);
  t.insert(0x0a010000, 16, 7);
  t.insert(0x0a0102ff, 24, 9); // host bits ignored
  assert.deepEqual(
    [t.lookup(0x0a010203), t.lookup(0x0a01ff01), t.lookup(0x0a020001), t.lookup(0x0b000001)],
    [9, 7, 5, -1],
  );
  t.insert(0, 0, 1);
  t.insert(0x0b000001, 32, 2);
  assert.deepEqual([t.lookup(0x0b000001), t.lookup(0x0b000002)], [2, 1]);
  assert.equal(t.delete(0x0a010200, 24), 9);
  assert.equal(t.delete(0x0a010200, 24), -1, 'already gone');
  assert.equal(t.lookup(0x0a010203), 7);
  assert.equal(t.insert(0x0a000000, 8, 6), 5, 'replace returns the previous value');
  assert.equal(t.size, 4);
  assert.throws(() => t.insert(0, 33, 1), RangeError);
  assert.throws(() => t.insert(0, 8, -1), RangeError);
  t.clear();
  assert.equal(t.lookup(0x0b000001), -1);
});

test('IPv6 lookup reads the address straight from a packet buffer', () => {
  const t = new PrefixTrie6();
  const net = Uint8Array.from([0xfd, 0, 0, 0, 0, 0, 0, 0x10, ...new Array<number>(8).fill(0)]);
  t.insert(net, 0, 64, 3);
  t.insert(net, 0, 48, 4);
  const pkt = new Uint8Array(40);
  pkt.set(net, 24);
  pkt[39] = 0x99;
  assert.equal(t.lookup(pkt, 24), 3);
  pkt[31] = 0x11;
  assert.equal(t.lookup(pkt, 24), 4);
  pkt[24] = 0xfe;
  assert.equal(t.lookup(pkt, 24), -1);
  assert.throws(() => t.insert(net, 1, 64, 1), RangeError, 'needs 16 bytes');
});

function clustered(rnd: Prng, n: number, bases: Uint8Array[]): Uint8Array {
  // Addresses near a few bases so prefixes nest and overlap.
  const a = Uint8Array.from(bases[rnd.int(bases.length)]!);
  const flips = rnd.int(4);
  for (let k = 0; k < flips; k++) {
    const bit = rnd.int(n * 8);
    a[bit >> 3] = a[bit >> 3]! ^ (1 << (7 - (bit & 7)));
  }
  return a;
}

function differential(family: 4 | 6, seed: number): void {
  const rnd = new Prng(seed);
  const n = family === 4 ? 4 : 16;
  const bits = n * 8;
  const bases = Array.from({ length: 3 }, () => rnd.bytes(n));
  const t4 = new PrefixTrie4();
  const t6 = new PrefixTrie6();
  const naive = new Naive();
  const live: { addr: Uint8Array; len: number }[] = [];
  for (let step = 0; step < 1500; step++) {
    const r = rnd.int(10);
    const ctx = `seed ${seed} step ${step}`;
    if (r < 4) {
      const addr = clustered(rnd, n, bases);
      const len = rnd.chance(0.1) ? rnd.int(bits + 1) : Math.max(0, bits - rnd.int(bits / 2));
      const value = rnd.int(0xffffff);
      const got = family === 4 ? t4.insert(u32(addr), len, value) : t6.insert(addr, 0, len, value);
      assert.equal(got, naive.insert(addr, len, value), `${ctx} insert`);
      live.push({ addr, len });
    } else if (r < 6 && live.length > 0) {
      const { addr, len } = live.splice(rnd.int(live.length), 1)[0]!;
      const got = family === 4 ? t4.delete(u32(addr), len) : t6.delete(addr, 0, len);
      assert.equal(got, naive.delete(addr, len), `${ctx} delete`);
    } else {
      const addr = clustered(rnd, n, bases);
      const got = family === 4 ? t4.lookup(u32(addr)) : t6.lookup(addr, 0);
      assert.equal(got, naive.lookup(addr), `${ctx} lookup`);
    }
    assert.equal(family === 4 ? t4.size : t6.size, naive.entries.length, `${ctx} size`);
  }
}

test('differential vs linear scan: IPv4', () => {
  for (let s = 1; s <= 4; s++) differential(4, s);
});

test('differential vs linear scan: IPv6', () => {
  for (let s = 11; s <= 13; s++) differential(6, s);
});

test('delete prunes: churn does not grow the node arrays', () => {
  const t = new PrefixTrie6();
  const rnd = new Prng(5);
  const addrs = Array.from({ length: 50 }, () => rnd.bytes(16));
  const capacity = (): number => (t as unknown as { child0: Int32Array }).child0.length;
  for (const a of addrs) t.insert(a, 0, 128, 1);
  const cap = capacity();
  for (let round = 0; round < 20; round++) {
    for (const a of addrs) t.delete(a, 0, 128);
    assert.equal(t.size, 0);
    for (const a of addrs) t.insert(a, 0, 128, round);
  }
  assert.equal(capacity(), cap, 'freed nodes are reused');
});
