// Replay window: a numbered table of edge cases (like WireGuard's replay selftest), then a
// differential test against a naive model (a Set of seen ids, the window rule and the time rule
// over recorded receive times) on random sequences with duplicates, reordering and big jumps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplayWindow } from '../../src/protocol/data/replay.js';
import { Drop, DROP_REASON_NAMES } from '../../src/protocol/constants.js';
import { isOvpnError } from '../../src/util/errors.js';
import { Prng } from './prng.js';

const A = Drop.NONE;
const { REPLAY, TOO_OLD, ZERO_ID } = Drop;
const MAX = 0xffffffff;

// Each case: window size n, time rule t (s), and steps [now ms, id, expected drop]; accepted ids
// are recorded with update(), as the receive path does after the tag verified.
const S = 64;
const table: {
  name: string;
  size: number;
  t: number;
  steps: readonly (readonly [number, number, Drop])[];
}[] = [
  { name: 'id 0 on a fresh window', size: S, t: 0, steps: [[0, 0, ZERO_ID]] },
  { name: 'first packet 1', size: S, t: 0, steps: [[0, 1, A]] },
  {
    name: 'id 0 after traffic',
    size: S,
    t: 0,
    steps: [
      [0, 1, A],
      [0, 0, ZERO_ID],
    ],
  },
  {
    name: 'duplicate of the highest',
    size: S,
    t: 0,
    steps: [
      [0, 5, A],
      [0, 5, REPLAY],
    ],
  },
  {
    name: 'first packet high, older ids inside the window',
    size: S,
    t: 0,
    steps: [
      [0, 1000, A],
      [0, 1000 - 63, A],
      [0, 1000 - 64, TOO_OLD],
    ],
  },
  {
    name: 'exactly size-1 behind',
    size: S,
    t: 0,
    steps: [
      [0, 100, A],
      [0, 100 - (S - 1), A],
      [0, 100 - (S - 1), REPLAY],
    ],
  },
  {
    name: 'exactly size behind',
    size: S,
    t: 0,
    steps: [
      [0, 100, A],
      [0, 100 - S, TOO_OLD],
    ],
  },
  {
    name: 'jump > window forgets the old range',
    size: S,
    t: 0,
    steps: [
      [0, 10, A],
      [0, 10 + S + 5, A],
      [0, 11, TOO_OLD],
      [0, 10 + S + 4, A],
      [0, 10 + S + 5, REPLAY],
    ],
  },
  {
    name: 'reorder across a 32-bit word boundary',
    size: S,
    t: 0,
    steps: [
      [0, 31, A],
      [0, 33, A],
      [0, 32, A],
      [0, 31, REPLAY],
      [0, 32, REPLAY],
    ],
  },
  {
    name: 'wrap: top ids accepted once',
    size: S,
    t: 0,
    steps: [
      [0, MAX - 1, A],
      [0, MAX, A],
      [0, MAX, REPLAY],
      [0, MAX - 1, REPLAY],
      [0, MAX - (S - 1), A],
    ],
  },
  {
    name: 'wrap: no acceptance past 0xFFFFFFFF',
    size: S,
    t: 0,
    steps: [
      [0, MAX, A],
      [0, 1, TOO_OLD],
      [0, 2, TOO_OLD],
    ],
  },
  {
    name: 'size 1 accepts only increasing ids',
    size: 1,
    t: 0,
    steps: [
      [0, 3, A],
      [0, 3, REPLAY],
      [0, 2, TOO_OLD],
      [0, 9, A],
    ],
  },
  {
    name: 'max window 65536',
    size: 65536,
    t: 0,
    steps: [
      [0, 70000, A],
      [0, 70000 - 65535, A],
      [0, 70000 - 65536, TOO_OLD],
    ],
  },
  {
    name: 'time rule: ids up to the one seen > t ago expire',
    size: S,
    t: 15,
    steps: [
      [0, 5, A],
      [1000, 3, A],
      [16_000, 9, A],
      [16_000, 4, TOO_OLD],
      [16_000, 8, A],
      [16_000, 7, A],
    ],
  },
  {
    name: 'time rule exactly at t does not expire yet',
    size: S,
    t: 15,
    steps: [
      [0, 5, A],
      [15_000, 9, A],
      [15_000, 4, A],
    ],
  },
  {
    name: 'time rule 0 disables it',
    size: S,
    t: 0,
    steps: [
      [0, 5, A],
      [3_600_000, 9, A],
      [3_600_000, 4, A],
    ],
  },
];

for (const [n, c] of table.entries()) {
  test(`replay edge case ${n + 1}: ${c.name}`, () => {
    const w = new ReplayWindow({ size: c.size, timeSeconds: c.t });
    for (const [i, [now, id, want]] of c.steps.entries()) {
      w.reap(now);
      const ok = w.check(id);
      assert.equal(
        DROP_REASON_NAMES[w.lastDrop],
        DROP_REASON_NAMES[want],
        `step ${i}: id ${id} at ${now} ms`,
      );
      assert.equal(ok, want === Drop.NONE);
      if (ok) w.update(id, now);
    }
  });
}

test('check() never changes the window; counters split by reason', () => {
  const w = new ReplayWindow();
  assert.ok(w.check(500) && w.check(500), 'an unverified id can be checked any number of times');
  assert.equal(w.highestId, 0);
  w.update(500, 0);
  assert.ok(!w.check(500) && !w.check(0) && !w.check(500 - 64) && !w.check(0), 'replay, zero, too old, zero');
  assert.deepEqual([w.replayCount, w.tooOldCount, w.zeroCount], [1, 1, 2]);
  w.update(1, 0); // out of the window: ignored, no throw
  assert.equal(w.highestId, 500);
  assert.equal(w.check(1), false, 'still too old after the ignored update');
  w.reset();
  assert.ok(w.check(500), 'reset forgets ids');
});

test('bad options are ConfigErrors naming replay-window', () => {
  for (const o of [{ size: 0 }, { size: 65537 }, { size: 1.5 }, { timeSeconds: -1 }, { timeSeconds: 601 }]) {
    assert.throws(
      () => new ReplayWindow(o),
      (e: unknown) =>
        isOvpnError(e) && e.code === 'OVPN_ERR_INVALID_OPTION' && e.message.includes('replay-window'),
    );
  }
  assert.equal(new ReplayWindow().size, 64);
  assert.equal(new ReplayWindow().timeMs, 15_000);
});

/** Naive reference: everything kept in plain collections. */
class Model {
  private seen = new Set<number>();
  private highest = 0;
  private floor = 0;
  private log: { id: number; at: number }[] = [];
  private next = 0;
  counts = [0, 0, 0];

  constructor(
    private readonly size: number,
    private readonly tMs: number,
  ) {}

  check(id: number): Drop {
    let r: Drop = Drop.NONE;
    if (id === 0) r = Drop.ZERO_ID;
    else if (id > this.highest) r = Drop.NONE;
    else if (this.highest - id >= this.size || id <= this.floor) r = Drop.TOO_OLD;
    else if (this.seen.has(id)) r = Drop.REPLAY;
    if (r === Drop.REPLAY) this.counts[0]!++;
    if (r === Drop.TOO_OLD) this.counts[1]!++;
    if (r === Drop.ZERO_ID) this.counts[2]!++;
    return r;
  }

  update(id: number, now: number): void {
    this.seen.add(id);
    this.highest = Math.max(this.highest, id);
    this.reap(now);
    this.log.push({ id, at: now });
  }

  /** floor = highest id received strictly before now - t. */
  reap(now: number): void {
    if (this.tMs === 0) return;
    while (this.next < this.log.length && this.log[this.next]!.at < now - this.tMs) {
      this.floor = Math.max(this.floor, this.log[this.next]!.id);
      this.next++;
    }
  }
}

function runDifferential(seed: number, size: number, t: number, start: number, steps: number): void {
  const rnd = new Prng(seed);
  const w = new ReplayWindow({ size, timeSeconds: t });
  const m = new Model(size, t * 1000);
  let sent = start; // sender's last id
  let now = 0;
  const recent: number[] = [];
  for (let s = 0; s < steps; s++) {
    const r = rnd.int(100);
    let id: number;
    if (r < 50) id = sent = Math.min(sent + 1, MAX);
    else if (r < 65 && recent.length > 0)
      id = recent[rnd.int(recent.length)]!; // duplicate / late
    else if (r < 75)
      id = Math.max(0, sent - rnd.int(size * 2 + 2)); // reordered or too old
    else if (r < 80)
      id = sent = Math.min(sent + 1 + rnd.int(size * 3), MAX); // big jump
    else if (r < 82) id = 0;
    else id = sent = Math.min(sent + 1 + rnd.int(4), MAX); // small gap (loss)
    recent.push(id);
    if (recent.length > 32) recent.shift();
    if (t > 0 && rnd.chance(0.1)) now += 1000 * rnd.int(t + 3); // whole seconds: bucketing is exact
    if (rnd.chance(0.2)) {
      w.reap(now);
      m.reap(now);
    }
    const want = m.check(id);
    const ok = w.check(id);
    const ctx = `seed ${seed} size ${size} t ${t} step ${s} id ${id} now ${now}`;
    assert.equal(DROP_REASON_NAMES[w.lastDrop], DROP_REASON_NAMES[want], ctx);
    assert.equal(ok, want === Drop.NONE, ctx);
    if (ok) {
      w.update(id, now);
      m.update(id, now);
    }
  }
  assert.deepEqual([w.replayCount, w.tooOldCount, w.zeroCount], m.counts, `seed ${seed}: counters`);
}

test('differential: random sequences against the naive model (no time rule)', () => {
  const configs: [number, number][] = [
    [1, 1],
    [7, 1],
    [32, 1],
    [64, 1],
    [100, 1],
    [1000, 1],
    [64, MAX - 3000],
    [33, MAX - 500],
  ];
  let seed = 1;
  for (const [size, start] of configs)
    for (let k = 0; k < 3; k++) runDifferential(seed++, size, 0, start - 1, 2500);
});

test('differential: random sequences against the naive model (time rule)', () => {
  let seed = 100;
  for (const [size, t] of [
    [64, 15],
    [64, 1],
    [500, 3],
    [16, 600],
  ] as const) {
    for (let k = 0; k < 3; k++) runDifferential(seed++, size, t, 0, 2500);
  }
});
