import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { ScriptDriver, ipv4Frame } from './helpers.js';

test('notification race: work that arrives between the last empty pass and arming is not lost', async () => {
  const d = new ScriptDriver();
  await d.start();
  d.adapter.runUntilIdle();
  assert.ok(d.rx.ec.armed, 'idle Rx queue is armed');
  let raced = false;
  d.hooks.onNotify = (dir, on) => {
    // The producer checked the armed flag just before it was set, so it will NOT Notify:
    // the frame lands in the driver's queue silently while the EC is arming.
    if (dir === 'rx' && on && !raced) {
      raced = true;
      d.rxPending.push(ipv4Frame(60, 7));
      d.rxArmed = false; // and the producer's view of the flag is stale
    }
  };
  d.rx.notify(); // one spurious wake-up starts a poll; its first pass is empty and arms
  const passes = d.adapter.runUntilIdle();
  assert.ok(raced, 'the race was exercised');
  assert.equal(d.host.stats.rxPackets, 1, 'the recheck pass after arming indicated the frame');
  assert.ok(passes >= 3, `empty pass, arm, recheck pass found work (${passes} passes)`);
  await d.stop();
});

test('2100 forwards only TRUE (Tx only when the driver owns packets); 2004 forwards TRUE and FALSE', async () => {
  for (const style of ['2100', '2004'] as const) {
    const d = new ScriptDriver({ notificationStyle: style });
    await d.start();
    d.host.generate(5);
    d.adapter.runUntilIdle();
    d.receive(ipv4Frame(60, 1));
    d.adapter.runUntilIdle();
    assert.equal(d.host.stats.rxPackets, 1);
    const n = d.notifications;
    if (style === '2100') {
      assert.ok(!n.some((x) => x.endsWith(':false')), `2100 never sends FALSE: ${n.join(',')}`);
      assert.ok(!n.includes('tx:true'), 'the copy driver owns no Tx packets when idle, so Tx is never armed');
      assert.ok(n.includes('rx:true'));
    } else {
      assert.ok(
        n.includes('rx:false') && n.includes('tx:false') && n.includes('tx:true'),
        `2004: ${n.join(',')}`,
      );
    }
    await d.stop();
  }
});

test('idle means armed with nothing scheduled: no passes while nothing happens', async () => {
  const d = new ScriptDriver({ scheduling: 'auto' });
  await d.adapter.start(d.host);
  d.host.generate(10);
  for (let i = 0; i < 20; i++) await tick();
  assert.equal(d.sent.length, 10);
  const runs = d.tx.ec.stats.runs + d.rx.ec.stats.runs;
  for (let i = 0; i < 50; i++) await tick();
  assert.equal(d.tx.ec.stats.runs + d.rx.ec.stats.runs, runs, 'no EC ran while idle');
  assert.ok(d.tx.ec.armed && d.rx.ec.armed && d.tx.ec.idle && d.rx.ec.idle);
  d.receive(ipv4Frame(60, 2)); // the one-shot Notify wakes it
  for (let i = 0; i < 5; i++) await tick();
  assert.equal(d.host.stats.rxPackets, 1);
  await d.adapter.stop();
});

test('queue tasks run ahead of polling and the time slice yields', async () => {
  const d = new ScriptDriver({ scheduling: 'auto', budget: { timeSliceMs: 1 } });
  await d.adapter.start(d.host);
  let slow = 0;
  d.hooks.tx = (q) => {
    const t = Date.now();
    while (Date.now() - t < 1); // each Advance takes ~1 ms
    slow++;
    d.txAdvance(q);
    return true;
  };
  d.host.generate(200);
  for (let i = 0; i < 200 && d.sent.length < 200; i++) await tick();
  assert.equal(d.sent.length, 200);
  assert.ok(d.tx.ec.stats.yields > 0, 'long polls yielded to the event loop');
  await d.adapter.stop();
  assert.ok(slow > 0);
});
