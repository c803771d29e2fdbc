import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FrameworkError,
  NetRing,
  netRingAdvanceIndex,
  netRingGetRangeCount,
  netRingIncrementIndex,
  ringRangeContains,
} from '../../src/framework/index.js';
import { Rand, testSeed } from '../util/rand.js';

test('ring arithmetic matches the model examples on an 8-ring', () => {
  const r = new NetRing(8, 'r');
  assert.equal(r.elementIndexMask, 7);
  assert.equal(r.getRangeCount(1, 4), 3);
  assert.equal(r.getRangeCount(4, 1), 5);
  for (let k = 0; k < 8; k++) assert.equal(r.getRangeCount(k, k), 0);
  assert.equal(r.incrementIndex(7), 0, 'increment wraps at N-1');
  assert.equal(r.advanceIndex(0, -1), 7, 'signed advance: -1 is the previous slot');
  assert.equal(r.advanceIndex(6, 5), 3);
  assert.equal(netRingAdvanceIndex(r, 2, -3), 7);
  assert.equal(netRingIncrementIndex(r, 3), 4);
  assert.equal(netRingGetRangeCount(r, 6, 2), 4);
  assert.ok(ringRangeContains(r, 6, 2, 7) && ringRangeContains(r, 6, 2, 1) && !ringRangeContains(r, 6, 2, 2));
});

test('ring sizes must be powers of two > 1 (typed config error)', () => {
  for (const n of [0, 1, 3, 12, 1.5]) {
    assert.throws(
      () => new NetRing(n, 'txPackets'),
      (e: unknown) =>
        e instanceof FrameworkError && e.code === 'NETCX_ERR_CONFIG' && e.message.includes('txPackets'),
    );
  }
});

test('one-slot gap: the framework can post at most N-1 elements, across index wrap', () => {
  const r = new NetRing(4, 'r');
  for (let round = 0; round < 5; round++) {
    const free = r.freeToPost(r.osReserved0);
    assert.equal(free, 3, `round ${round}: N-1 free when the driver owns nothing`);
    r.endIndex = r.advanceIndex(r.endIndex, free);
    assert.equal(r.freeToPost(r.osReserved0), 0);
    assert.equal(r.getRangeCount(r.beginIndex, r.endIndex), 3, 'driver owns N-1, never N');
    // driver returns everything, OS reclaims: indexes wrap a little further each round
    r.beginIndex = r.endIndex;
    r.osReserved0 = r.beginIndex;
  }
  assert.ok(r.endIndex !== 0, 'indexes moved around the ring');
});

test('property: ring ownership matches a naive queue model over random operations', () => {
  const rand = new Rand(testSeed(0xc0ffee));
  for (let trial = 0; trial < 40; trial++) {
    const n = 1 << rand.range(1, 6);
    const r = new NetRing(n, 'r');
    // naive model: absolute counters, no wrap
    let posted = 0; // framework posts (end)
    let returned = 0; // driver returns (begin)
    let reclaimed = 0; // OS cursor
    for (let step = 0; step < 300; step++) {
      const op = rand.int(3);
      if (op === 0) {
        const k = rand.int(r.freeToPost(r.osReserved0) + 1);
        r.endIndex = r.advanceIndex(r.endIndex, k);
        posted += k;
      } else if (op === 1) {
        const k = rand.int(r.getRangeCount(r.beginIndex, r.endIndex) + 1);
        r.beginIndex = r.advanceIndex(r.beginIndex, k);
        returned += k;
      } else {
        const k = rand.int(r.getRangeCount(r.osReserved0, r.beginIndex) + 1);
        r.osReserved0 = r.advanceIndex(r.osReserved0, k);
        reclaimed += k;
      }
      assert.ok(posted - reclaimed <= n - 1, 'never more than N-1 outside the free region');
      assert.equal(r.getRangeCount(r.beginIndex, r.endIndex), posted - returned);
      assert.equal(r.getRangeCount(r.osReserved0, r.beginIndex), returned - reclaimed);
      assert.equal(r.freeToPost(r.osReserved0), n - 1 - (posted - reclaimed));
      assert.equal(r.endIndex, posted % n);
      assert.equal(r.beginIndex, returned % n);
    }
  }
});
