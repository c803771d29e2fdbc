import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketIdTx } from '../../src/protocol/data/packet-id.js';
import { PACKET_ID_WRAP_TRIGGER } from '../../src/protocol/constants.js';

test('ids start at 1 and increase by one', () => {
  const c = new PacketIdTx();
  assert.equal(c.lastId, 0);
  assert.deepEqual([c.next(), c.next(), c.next()], [1, 2, 3]);
  assert.equal(c.needsRenewal, false);
});

test('renewal flag from 0xFF000000 on, exhaustion returns 0 and never wraps', () => {
  const c = new PacketIdTx(PACKET_ID_WRAP_TRIGGER - 1);
  assert.equal(c.next(), 0xfeffffff);
  assert.equal(c.needsRenewal, false, 'below the trigger');
  assert.equal(c.next(), 0xff000000);
  assert.equal(c.needsRenewal, true, 'at the trigger');
  const end = new PacketIdTx(0xfffffffe);
  assert.deepEqual([end.next(), end.next()], [0xfffffffe, 0xffffffff]);
  assert.equal(end.exhausted, true);
  assert.deepEqual([end.next(), end.next()], [0, 0], 'exhausted: 0 forever');
  assert.equal(end.lastId, 0xffffffff);
});

test('bad first id is rejected', () => {
  for (const v of [0, -1, 2 ** 32, 1.5]) assert.throws(() => new PacketIdTx(v), RangeError);
});
