// src/util/clock.ts is owned with the control API; its tests live here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, RealClock } from '../../src/util/clock.js';

test('ManualClock fires timers in deadline order with now() at each deadline', () => {
  const c = new ManualClock(1000);
  const log: string[] = [];
  c.setTimeout(() => log.push(`b@${c.now()}`), 20);
  c.setTimeout(() => log.push(`a@${c.now()}`), 10);
  const iv = c.setInterval(() => log.push(`i@${c.now()}`), 15);
  const gone = c.setTimeout(() => log.push('never'), 5);
  c.clear(gone);
  c.advance(9);
  assert.deepEqual(log, []);
  c.advance(40);
  assert.deepEqual(log, ['a@1010', 'i@1015', 'b@1020', 'i@1030', 'i@1045']);
  assert.equal(c.now(), 1049);
  c.clear(iv);
  assert.equal(c.pending, 0);
  c.advance(100);
  assert.equal(log.length, 5);
});

test('ManualClock: a timer set from a callback runs in the same advance if due', () => {
  const c = new ManualClock();
  const log: number[] = [];
  c.setTimeout(() => c.setTimeout(() => log.push(c.now()), 5), 5);
  c.advance(10);
  assert.deepEqual(log, [10]);
});

test('RealClock is monotonic and its timers fire and can be cleared', async () => {
  const c = new RealClock();
  const t0 = c.now();
  let fired = 0;
  let cleared = 0;
  c.setTimeout(() => fired++, 5);
  c.clear(c.setTimeout(() => cleared++, 5));
  const iv = c.setInterval(() => fired++, 2);
  await new Promise((r) => setTimeout(r, 30));
  c.clear(iv);
  assert.ok(fired >= 2, `fired ${fired}`);
  assert.equal(cleared, 0);
  assert.ok(c.now() - t0 >= 25);
});
