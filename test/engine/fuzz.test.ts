// Hostile input: 1M+ random, mutated and replayed datagrams into the engine's receive path.
// Nothing may throw, nothing forged may reach the OS side, every datagram is accounted for
// (delivered, keepalive, control, or exactly one drop reason), and every slot comes back.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine.js';
import { MemoryHost } from '../../src/os/memory-host.js';
import { generateStaticKey } from '../../src/protocol/static-key.js';
import { applyStaticKey } from '../../src/engine/static-key.js';
import { settle, sumDrops } from './helpers.js';
import { HostileFeed, InjectTransport, SLOTS } from './hostile.js';

test('fuzz: 1M random, mutated and replayed datagrams; no exception, every datagram accounted for', async () => {
  const keyText = generateStaticKey();
  const host = new MemoryHost({ verifyPayload: false });
  const engine = await Engine.create({ host });
  const t = new InjectTransport();
  await engine.api.call('newPeer', { transport: t });
  await applyStaticKey(engine.api, { keyText, cipher: 'AES-256-GCM', direction: 1 });
  const feed = new HostileFeed(keyText);
  const TOTAL = 1_000_000;
  await feed.feed(t, TOTAL);
  const kinds = feed.kinds;
  const VALID = HostileFeed.VALID;
  await settle(200);
  const s = engine.counters.stats;
  const delivered = host.stats.rxPackets;
  const keepalive = engine.peerDetails()[0]?.keepaliveRx ?? 0;
  const drops = sumDrops(engine.drops());
  assert.equal(
    delivered + keepalive + s.receivedControlPackets + drops,
    TOTAL,
    JSON.stringify({ delivered, control: s.receivedControlPackets, drops: engine.drops() }),
  );
  assert.equal(delivered, s.receivedDataPackets);
  assert.ok(
    delivered > 0 && delivered <= VALID,
    `only authentic, never-seen packets are delivered (${delivered})`,
  );
  assert.ok((engine.drops().rxAuthFailed ?? 0) > 100_000, 'mutations fail authentication');
  assert.ok((engine.drops().rxReplay ?? 0) > 10_000, 'replays are caught after authentication');
  assert.equal(t.freeSlots, SLOTS, 'every slot released exactly once');
  assert.ok(kinds.random > 400_000 && kinds.mutated > 300_000, JSON.stringify(kinds));
  await engine.close();
});
