import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReliableRecv, ReliableSend, type ReliableMessage } from '../../../src/protocol/control/reliable.js';
import { Prng } from './prng.js';

const P = Buffer.from('p');

function drain(s: ReliableSend, now: number): number[] {
  const ids: number[] = [];
  for (let m = s.takeDue(now); m !== undefined; m = s.takeDue(now)) ids.push(m.messageId);
  return ids;
}

test('send window: at most 6 unacked ids on the wire; ACKs open the window', () => {
  const s = new ReliableSend();
  for (let i = 0; i < 10; i++) assert.equal(s.enqueue(4, P), i);
  assert.deepEqual(drain(s, 0), [0, 1, 2, 3, 4, 5]);
  s.onAcks([1, 2]); // 0 still unacked: window stays [0, 6)
  assert.deepEqual(drain(s, 1), []);
  s.onAcks([0]);
  assert.deepEqual(drain(s, 1), [6, 7, 8]);
});

test('retransmit timeout starts at tls-timeout and doubles per retransmit', () => {
  const s = new ReliableSend({ timeoutMs: 2000 });
  s.enqueue(7, P);
  assert.deepEqual(drain(s, 0), [0]);
  assert.equal(s.nextTimeout(), 2000);
  assert.deepEqual(drain(s, 1999), []);
  assert.deepEqual(drain(s, 2000), [0]);
  assert.equal(s.nextTimeout(), 2000 + 4000);
  assert.deepEqual(drain(s, 6000), [0]);
  assert.equal(s.nextTimeout(), 6000 + 8000);
  assert.equal(s.retransmits, 2);
  s.onAcks([0]);
  assert.equal(s.nextTimeout(), undefined);
  assert.ok(s.idle);
});

test('fast retransmit after ACKs for 3 higher ids', () => {
  const s = new ReliableSend({ timeoutMs: 10_000 });
  for (let i = 0; i < 5; i++) s.enqueue(4, P);
  drain(s, 0);
  s.onAcks([1, 2]);
  assert.deepEqual(drain(s, 10), []);
  s.onAcks([3]);
  assert.deepEqual(drain(s, 10), [0], 'id 0 resent once three higher ids were acked');
  assert.deepEqual(drain(s, 11), []);
});

test('receive window: in-order delivery, out-of-order buffering, duplicates re-ACKed, far ids dropped', () => {
  const r = new ReliableRecv();
  assert.equal(r.receive(1, 4, Buffer.from('b')), 'accepted');
  assert.equal(r.takeInOrder(), undefined);
  assert.equal(r.receive(0, 4, Buffer.from('a')), 'accepted');
  assert.equal(r.takeInOrder()?.payload.toString(), 'a');
  assert.equal(r.takeInOrder()?.payload.toString(), 'b');
  assert.deepEqual(r.ackIds(4), [1, 0]);
  assert.equal(r.receive(0, 4, Buffer.from('a')), 'duplicate');
  assert.ok(r.acksPending, 'a duplicate is ACKed again');
  assert.equal(r.receive(2 + 12, 4, P), 'out-of-window');
  assert.equal(r.receive(2 + 11, 4, P), 'accepted');
});

test('ACK blocks: pending first, free slots filled from the MRU of the last 8 ids', () => {
  const r = new ReliableRecv();
  for (let i = 0; i < 10; i++) {
    r.receive(i, 4, P);
    r.ackIds(1);
  }
  assert.equal(r.acksPending, false);
  assert.deepEqual(r.ackIds(8), [9, 8, 7, 6, 5, 4, 3, 2], 'MRU keeps the last 8');
  r.receive(10, 4, P);
  assert.deepEqual(r.ackIds(4), [10, 9, 8, 7]);
});

interface SimPacket {
  acks: number[];
  msg: ReliableMessage | undefined;
}

interface Endpoint {
  send: ReliableSend;
  recv: ReliableRecv;
  out: Buffer[];
  got: Buffer[];
}

/** Two endpoints over a lossy, reordering, duplicating link; returns steps used or throws. */
function simulate(seed: number): number {
  const rng = new Prng(seed);
  const mk = (): Endpoint => ({
    send: new ReliableSend({ timeoutMs: 200 }),
    recv: new ReliableRecv(),
    out: [],
    got: [],
  });
  const a = mk();
  const b = mk();
  for (const ep of [a, b]) {
    const n = 20 + rng.int(40);
    for (let i = 0; i < n; i++) ep.out.push(rng.bytes(1 + rng.int(50)));
    for (const chunk of ep.out) ep.send.enqueue(4, chunk);
  }
  const loss = 0.1 + rng.next() * 0.3;
  const dup = rng.next() * 0.2;
  type InFlight = { at: number; to: Endpoint; pkt: SimPacket };
  let link: InFlight[] = [];
  const put = (to: Endpoint, pkt: SimPacket, now: number): void => {
    if (rng.next() < loss) return;
    const copies = rng.next() < dup ? 2 : 1;
    for (let c = 0; c < copies; c++) link.push({ at: now + 1 + rng.int(80), to, pkt });
  };
  let now = 0;
  const MAX_STEPS = 20_000;
  for (let step = 0; step < MAX_STEPS; step++) {
    now += 5;
    for (const [me, peer] of [
      [a, b],
      [b, a],
    ] as const) {
      for (let m = me.send.takeDue(now); m !== undefined; m = me.send.takeDue(now)) {
        put(peer, { acks: me.recv.ackIds(4), msg: m }, now);
      }
      if (me.recv.acksPending) put(peer, { acks: me.recv.ackIds(8), msg: undefined }, now);
    }
    const arrived = link.filter((f) => f.at <= now);
    link = link.filter((f) => f.at > now);
    for (const f of arrived) {
      f.to.send.onAcks(f.pkt.acks);
      if (f.pkt.msg !== undefined)
        f.to.recv.receive(f.pkt.msg.messageId, f.pkt.msg.opcode, f.pkt.msg.payload);
      for (let m = f.to.recv.takeInOrder(); m !== undefined; m = f.to.recv.takeInOrder())
        f.to.got.push(m.payload);
    }
    const done = a.send.idle && b.send.idle && a.got.length === b.out.length && b.got.length === a.out.length;
    if (done) {
      assert.deepEqual(Buffer.concat(b.got), Buffer.concat(a.out), `seed ${seed}: a -> b stream`);
      assert.deepEqual(Buffer.concat(a.got), Buffer.concat(b.out), `seed ${seed}: b -> a stream`);
      return step;
    }
  }
  throw new Error(`seed ${seed}: not delivered within ${MAX_STEPS} steps`);
}

test('property: lossy/reordering/duplicating link always delivers both streams in order (bounded)', () => {
  let worst = 0;
  for (let seed = 1; seed <= 60; seed++) worst = Math.max(worst, simulate(seed));
  assert.ok(worst < 20_000);
});
