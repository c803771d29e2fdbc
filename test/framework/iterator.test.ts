import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FragmentIterator,
  FragmentRing,
  FrameworkError,
  PacketIterator,
  PacketRing,
} from '../../src/framework/index.js';
import type { NetRingCollection } from '../../src/framework/index.js';

function rings(begin: number, next: number, end: number): NetRingCollection {
  const packets = new PacketRing(8);
  const fragments = new FragmentRing(8);
  for (const r of [packets, fragments]) {
    r.beginIndex = begin;
    r.nextIndex = next;
    r.endIndex = end;
  }
  return { packets, fragments };
}

test('iterator table: start, end and the index each set() publishes', () => {
  const cases = [
    { make: 'post', start: 'next', end: 'end', sets: 'nextIndex' },
    { make: 'drain', start: 'begin', end: 'next', sets: 'beginIndex' },
    { make: 'all', start: 'begin', end: 'end', sets: 'beginIndex' },
  ] as const;
  for (const kind of ['packet', 'fragment'] as const) {
    for (const c of cases) {
      const rc = rings(6, 1, 3); // begin 6, next 1, end 3: ranges wrap
      const ring = kind === 'packet' ? rc.packets : rc.fragments;
      const it = kind === 'packet' ? new PacketIterator()[c.make](rc) : new FragmentIterator()[c.make](rc);
      const want = { begin: 6, next: 1, end: 3 };
      assert.equal(it.getIndex(), want[c.start], `${kind} ${c.make} start`);
      assert.equal(it.end, want[c.end], `${kind} ${c.make} end`);
      assert.equal(it.getCount(), ring.getRangeCount(want[c.start], want[c.end]));
      it.advance();
      const before = { beginIndex: ring.beginIndex, nextIndex: ring.nextIndex };
      it.set();
      assert.equal(
        ring[c.sets],
        ring.incrementIndex(want[c.start]),
        `${kind} ${c.make} set() writes ${c.sets}`,
      );
      const other = c.sets === 'beginIndex' ? 'nextIndex' : 'beginIndex';
      assert.equal(ring[other], before[other], `${kind} ${c.make} leaves ${other} alone`);
      assert.equal(ring.endIndex, 3, 'set() never touches endIndex');
    }
  }
});

test('end is a snapshot; hasAny / advanceToEnd / getCount', () => {
  const rc = rings(0, 0, 2);
  const pi = new PacketIterator().all(rc);
  rc.packets.endIndex = 5; // framework posts more after the iterator was made
  assert.equal(pi.getCount(), 2);
  pi.advance();
  pi.advance();
  assert.equal(pi.hasAny(), false, 'the later post is not seen');
  const fi = new FragmentIterator().all(rings(7, 7, 3));
  assert.equal(fi.getCount(), 4);
  fi.advanceToEnd();
  assert.equal(fi.hasAny(), false);
  assert.equal(fi.get(), 3);
});

test("a packet's fragment iterator covers wrapped fragments and cannot set()", () => {
  const rc = rings(0, 0, 0);
  rc.packets.fragmentIndex[2] = 6;
  rc.packets.fragmentCount[2] = 4; // fragments 6, 7, 0, 1
  const pi = new PacketIterator().all(rings(0, 0, 0));
  pi.rings = rc;
  pi.index = 2;
  const fi = new FragmentIterator().ofPacket(pi);
  const seen: number[] = [];
  while (fi.hasAny()) {
    seen.push(fi.getIndex());
    fi.advance();
  }
  assert.deepEqual(seen, [6, 7, 0, 1]);
  assert.throws(
    () => fi.set(),
    (e: unknown) => e instanceof FrameworkError && e.code === 'NETCX_ERR_ITERATOR_SET',
  );
  assert.equal(rc.fragments.beginIndex, 0);
  assert.equal(rc.fragments.nextIndex, 0);
});
