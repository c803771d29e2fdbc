import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VerifierError } from '../../src/framework/index.js';
import type { RxQueue, TxQueue } from '../../src/framework/index.js';
import { ScriptDriver, ipv4Frame } from './helpers.js';

/** Start a scripted driver, inject `hooks`, make traffic, and return the verifier error thrown. */
async function violation(hooks: ScriptDriver['hooks'], traffic: 'tx' | 'rx'): Promise<VerifierError> {
  const d = new ScriptDriver();
  await d.start();
  d.hooks = hooks;
  if (traffic === 'tx') d.host.generate(3);
  else d.receive(ipv4Frame(60, 1));
  d.rx.notify();
  let caught: unknown = null;
  try {
    d.adapter.runUntilIdle();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof VerifierError, `expected a VerifierError, got ${String(caught)}`);
  return caught;
}

function txOnce(f: (q: TxQueue) => void): (q: TxQueue) => boolean {
  return (q) => {
    if (q.rings.packets.beginIndex === q.rings.packets.endIndex) return false;
    f(q);
    return true;
  };
}

function rxBind(
  q: RxQueue,
  d: { count?: number; layout?: boolean; validLength?: boolean; moveFragBegin?: boolean },
): void {
  const p = q.rings.packets;
  const f = q.rings.fragments;
  const i = p.beginIndex;
  const j = f.beginIndex;
  if (d.validLength !== false) {
    f.validLength[j] = 60;
    f.offset[j] = 0;
  }
  p.fragmentIndex[i] = j;
  p.fragmentCount[i] = d.count ?? 1;
  if (d.layout !== false) p.clearLayout(i);
  p.beginIndex = p.incrementIndex(i);
  if (d.moveFragBegin !== false) f.beginIndex = f.incrementIndex(j);
}

const cases: { rule: string; ring: string; traffic: 'tx' | 'rx'; hooks: ScriptDriver['hooks'] }[] = [
  {
    rule: 'RING_END_INDEX_WRITTEN',
    ring: 'tx-packet',
    traffic: 'tx',
    hooks: { tx: txOnce((q) => (q.rings.packets.endIndex = q.rings.packets.beginIndex)) },
  },
  {
    rule: 'RING_OS_RESERVED_WRITTEN',
    ring: 'tx-fragment',
    traffic: 'tx',
    hooks: { tx: txOnce((q) => (q.rings.fragments.osReserved0 = 5)) },
  },
  {
    rule: 'RING_INDEX_UNMASKED',
    ring: 'tx-packet',
    traffic: 'tx',
    hooks: { tx: txOnce((q) => (q.rings.packets.nextIndex = q.rings.packets.numberOfElements + 1)) },
  },
  {
    rule: 'RING_BEGIN_OUT_OF_RANGE',
    ring: 'tx-packet',
    traffic: 'tx',
    hooks: {
      tx: txOnce(
        (q) => (q.rings.packets.beginIndex = q.rings.packets.incrementIndex(q.rings.packets.endIndex)),
      ),
    },
  },
  {
    rule: 'TX_PACKET_MODIFIED',
    ring: 'tx-packet',
    traffic: 'tx',
    hooks: { tx: txOnce((q) => (q.rings.packets.fragmentCount[q.rings.packets.beginIndex] = 2)) },
  },
  {
    rule: 'TX_PACKET_IGNORE_MODIFIED',
    ring: 'tx-packet',
    traffic: 'tx',
    hooks: { tx: txOnce((q) => (q.rings.packets.ignore[q.rings.packets.beginIndex] = 1)) },
  },
  {
    rule: 'TX_FRAGMENT_MODIFIED',
    ring: 'tx-fragment',
    traffic: 'tx',
    hooks: { tx: txOnce((q) => (q.rings.fragments.validLength[q.rings.fragments.beginIndex] = 1)) },
  },
  {
    rule: 'RING_OS_ELEMENT_MODIFIED',
    ring: 'tx-packet',
    traffic: 'tx',
    hooks: { tx: txOnce((q) => (q.rings.packets.fragmentIndex[q.rings.packets.endIndex] = 3)) },
  },
  {
    rule: 'RX_PACKET_NO_FRAGMENTS',
    ring: 'rx-packet',
    traffic: 'rx',
    hooks: { rx: (q) => (rxBind(q, { count: 0 }), true) },
  },
  {
    rule: 'RX_PACKET_LAYOUT_NOT_WRITTEN',
    ring: 'rx-packet',
    traffic: 'rx',
    hooks: { rx: (q) => (rxBind(q, { layout: false }), true) },
  },
  {
    rule: 'RX_FRAGMENT_NOT_WRITTEN',
    ring: 'rx-fragment',
    traffic: 'rx',
    hooks: { rx: (q) => (rxBind(q, { validLength: false }), true) },
  },
  {
    rule: 'RX_PACKET_FRAGMENT_OUT_OF_RANGE',
    ring: 'rx-fragment',
    traffic: 'rx',
    hooks: { rx: (q) => (rxBind(q, { moveFragBegin: false }), true) },
  },
  {
    rule: 'RX_IGNORED_PACKET_MODIFIED',
    ring: 'rx-packet',
    traffic: 'rx',
    hooks: {
      rx: (q) => {
        const p = q.rings.packets;
        p.ignore[p.beginIndex] = 1;
        p.fragmentCount[p.beginIndex] = 1;
        p.beginIndex = p.incrementIndex(p.beginIndex);
        return true;
      },
    },
  },
  {
    rule: 'RX_LAYOUT_INVALID',
    ring: 'rx-packet',
    traffic: 'rx',
    hooks: {
      rx: (q) => {
        const i = q.rings.packets.beginIndex;
        rxBind(q, {});
        q.rings.packets.layer2Type[i] = 1; // Null L2 ...
        q.rings.packets.layer2HeaderLength[i] = 5; // ... with a length
        return true;
      },
    },
  },
  {
    rule: 'RX_FRAGMENT_CAPACITY_MODIFIED',
    ring: 'rx-fragment',
    traffic: 'rx',
    hooks: {
      rx: (q) => {
        q.rings.fragments.capacity[q.rings.fragments.beginIndex] = 100;
        rxBind(q, {});
        return true;
      },
    },
  },
];

for (const c of cases) {
  test(`verifier catches ${c.rule}`, async () => {
    const e = await violation(c.hooks, c.traffic);
    assert.equal(e.rule, c.rule);
    assert.equal(e.ring, c.ring);
    assert.equal(e.code, 'NETCX_ERR_VERIFIER');
    assert.ok(Number.isInteger(e.index) && e.index >= 0);
    assert.match(
      e.message,
      new RegExp(`rule ${c.rule} broken on ${c.ring} ring of queue 0 at index ${e.index}`),
    );
  });
}

test('verifier catches CANCEL_NOT_DRAINED: an Rx cancel that returns nothing fails the pause', async () => {
  const d = new ScriptDriver({ scheduling: 'auto', verifier: { drainTimeoutMs: 50 } });
  const started = d.adapter.start(d.host);
  await started;
  d.hooks = { rxCancel: () => true, rx: () => true }; // keeps every Rx packet forever
  await assert.rejects(d.adapter.pause(), (e: unknown) => {
    assert.ok(e instanceof VerifierError);
    assert.equal(e.rule, 'CANCEL_NOT_DRAINED');
    assert.equal(e.ring, 'rx-packet');
    assert.match(e.message, /CANCEL_NOT_DRAINED.*still owns 7 packets/);
    return true;
  });
});

test('a well-behaved driver passes the verifier on every callback', async () => {
  const d = new ScriptDriver();
  await d.start();
  d.host.generate(20);
  for (let k = 0; k < 20; k++) d.receive(ipv4Frame(60, k));
  d.adapter.runUntilIdle();
  assert.equal(d.sent.length, 20);
  assert.equal(d.host.stats.rxPackets, 20);
  assert.ok(d.tx.verifier!.checks > 0 && d.rx.verifier!.checks > 0);
  await d.stop();
});
