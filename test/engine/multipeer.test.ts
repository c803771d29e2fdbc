// Multi-peer mode: one server engine (setMode mp) and three client engines on an in-memory switch.
//
//        client 1 (10.8.0.2) ──┐
//        client 2 (10.8.0.3) ──┼── switch ── server (10.8.0.1), iroute 192.168.50.0/24 -> client 2
//        client 3 (10.8.0.4) ──┘
//
// Frames carry "<peer>:<n>" as payload so every delivery can be attributed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine.js';
import { applyStaticKey } from '../../src/engine/static-key.js';
import { MemoryHost } from '../../src/os/memory-host.js';
import { createMemoryNetwork } from '../../src/transport/memory-network.js';
import type { Impairments } from '../../src/transport/memory.js';
import type { MemoryNetworkEndpoint } from '../../src/transport/memory-network.js';
import { deriveStaticDataKeys, generateStaticKey, parseStaticKey } from '../../src/protocol/static-key.js';
import type { ControlEvent } from '../../src/control-api/schema.js';
import { settle, waitFor } from './helpers.js';

const SERVER = { address: '10.99.0.1', port: 1194 };
const vpn = (i: number): string => `10.8.0.${i + 2}`;

/** An IPv4/UDP frame src -> dst whose payload is `tag`. */
function frame(src: string, dst: string, tag: string): Uint8Array {
  const body = Buffer.from(tag);
  const f = new Uint8Array(28 + body.length);
  f[0] = 0x45;
  f[2] = f.length >> 8;
  f[3] = f.length & 0xff;
  f[8] = 64;
  f[9] = 17;
  f.set(src.split('.').map(Number), 12);
  f.set(dst.split('.').map(Number), 16);
  let sum = 0;
  for (let k = 0; k < 20; k += 2) sum += (f[k]! << 8) | f[k + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const c = ~sum & 0xffff;
  f[10] = c >> 8;
  f[11] = c & 0xff;
  f[20] = 0x13;
  f[22] = 0x13;
  f[24] = (8 + body.length) >> 8;
  f[25] = (8 + body.length) & 0xff;
  f.set(body, 28);
  return f;
}
const tagOf = (f: Uint8Array): string => Buffer.from(f.subarray(28)).toString();

interface Net {
  server: Engine;
  serverHost: MemoryHost;
  clients: Engine[];
  hosts: MemoryHost[];
  eps: MemoryNetworkEndpoint[];
  events: ControlEvent[];
  close(): Promise<void>;
}

async function makeNet(impair?: Impairments): Promise<Net> {
  const net = createMemoryNetwork({ seed: 11, rxSlotCount: 1024, ...(impair ? { impair } : {}) });
  const serverHost = new MemoryHost({ capture: true, verifyPayload: false });
  const server = await Engine.create({
    host: serverHost,
    verifier: true,
    transportFactory: async (req) => ({ transport: net.endpoint(req.local!), local: req.local! }),
  });
  const events: ControlEvent[] = [];
  server.onEvent((e) => events.push(e));
  await server.api.call('setMode', { mode: 'mp' });
  const bound = await server.api.call('mpStartVpn', { listen: SERVER });
  assert.deepEqual(bound, SERVER);
  const clients: Engine[] = [];
  const hosts: MemoryHost[] = [];
  const eps: MemoryNetworkEndpoint[] = [];
  for (let i = 0; i < 3; i++) {
    const addr = { address: `10.99.0.${10 + i}`, port: 40000 + i };
    const keyText = generateStaticKey();
    const host = new MemoryHost({ capture: true, verifyPayload: false });
    const c = await Engine.create({ host, verifier: true });
    const ep = net.endpoint(addr, { remote: SERVER });
    await c.api.call('newPeer', { transport: ep });
    await applyStaticKey(c.api, { keyText, cipher: 'AES-256-GCM', direction: 0, peerId: i });
    await server.api.call('mpNewPeer', { local: SERVER, remote: addr, vpnAddr4: vpn(i), peerId: i });
    const k = deriveStaticDataKeys(parseStaticKey(keyText), 'AES-256-GCM', 1);
    await server.api.call('newKey', {
      cipher: 'AES-256-GCM',
      keyId: 0,
      slot: 'primary',
      peerId: i,
      encrypt: { key: k.encrypt.key, nonceTail: k.encrypt.implicitIv },
      decrypt: { key: k.decrypt.key, nonceTail: k.decrypt.implicitIv },
    });
    clients.push(c);
    hosts.push(host);
    eps.push(ep);
  }
  await server.api.call('mpAddIroute', { addr: '192.168.50.0', netbits: 24, peerId: 1 });
  return {
    server,
    serverHost,
    clients,
    hosts,
    eps,
    events,
    async close() {
      await Promise.all([server.close(), ...clients.map((c) => c.close())]);
    },
  };
}

/** Send `n` frames each way (server -> every client incl. the iroute, every client -> server). */
async function exchange(t: Net, n: number, round: string): Promise<void> {
  for (let k = 0; k < n; k++) {
    const down: Uint8Array[] = [];
    for (let i = 0; i < 3; i++) down.push(frame('10.8.0.1', vpn(i), `${round}:s>${i}:${k}`));
    down.push(frame('10.8.0.1', '192.168.50.7', `${round}:s>ir:${k}`));
    t.serverHost.sendFrames(down);
    for (let i = 0; i < 3; i++) t.hosts[i]!.sendFrames([frame(vpn(i), '10.8.0.1', `${round}:${i}>s:${k}`)]);
    if (k % 50 === 49) await settle(5);
  }
}

test('multi-peer: routing by VPN address and iroute, both ways, nothing crosses to the wrong peer', async () => {
  const t = await makeNet();
  try {
    await exchange(t, 200, 'r1');
    await waitFor(
      () =>
        t.serverHost.stats.rxPackets === 600 &&
        t.hosts.every((h, i) => h.stats.rxPackets === (i === 1 ? 400 : 200)),
      'delivery',
    );
    for (let i = 0; i < 3; i++) {
      const tags = t.hosts[i]!.captured.map(tagOf);
      assert.ok(
        tags.every((x) => x.includes(`s>${i}:`) || (i === 1 && x.includes('s>ir:'))),
        `client ${i} got only its own`,
      );
    }
    const fromPeer = [0, 1, 2].map(
      (i) => t.serverHost.captured.map(tagOf).filter((x) => x.startsWith(`r1:${i}>s`)).length,
    );
    assert.deepEqual(fromPeer, [200, 200, 200]);
    const stats = await t.server.api.call('getPeerStats', { peerId: -1 });
    assert.deepEqual(stats.map((s) => s.peerId).sort(), [0, 1, 2]);
    assert.ok(stats.every((s) => s.vpnRxBytes > 0 && s.vpnTxBytes > 0));
    assert.deepEqual(t.server.drops(), {});
  } finally {
    await t.close();
  }
});

test("multi-peer: reverse-path check drops a peer spoofing another peer's address", async () => {
  const t = await makeNet();
  try {
    t.hosts[2]!.sendFrames([frame(vpn(0), '10.8.0.1', 'spoof'), frame(vpn(2), '10.8.0.1', 'honest')]);
    await waitFor(
      () => t.serverHost.stats.rxPackets === 1 && (t.server.drops().rxReversePath ?? 0) === 1,
      'verdicts',
    );
    assert.deepEqual(t.serverHost.captured.map(tagOf), ['honest']);
    const [p2] = await t.server.peerDetails().filter((p) => p.peerId === 2);
    assert.equal(p2!.drops.rxReversePath, 1, 'counted on the sending peer');
  } finally {
    await t.close();
  }
});

test('multi-peer under loss, reordering and duplication: nothing delivered twice', async () => {
  const t = await makeNet({ loss: 0.05, reorder: 0.2, duplicate: 0.1 });
  try {
    await exchange(t, 300, 'r2');
    await settle(300);
    for (const h of [t.serverHost, ...t.hosts]) {
      const tags = h.captured.map(tagOf);
      assert.equal(new Set(tags).size, tags.length, 'no duplicate delivery');
    }
    const replays = t.server.drops().rxReplay ?? 0;
    assert.ok(replays > 10, `duplicates dropped as replays (${replays})`);
    assert.ok(t.serverHost.stats.rxPackets > 700 && t.serverHost.stats.rxPackets < 900);
  } finally {
    await t.close();
  }
});

test('multi-peer: a client floats to a new address, the server follows; delete peer under traffic', async () => {
  const t = await makeNet();
  try {
    await exchange(t, 20, 'a');
    await waitFor(() => t.serverHost.stats.rxPackets === 60, 'first round');
    const moved = { address: '10.99.0.77', port: 50000 };
    t.eps[2]!.setAddress(moved);
    // Until the client speaks from its new address the server still sends to the old one (lost,
    // as with a real NAT rebinding); its first authenticated packet moves the peer.
    t.hosts[2]!.sendFrames([frame(vpn(2), '10.8.0.1', 'hello from the new address')]);
    await waitFor(() => t.events.some((e) => e.type === 'float'), 'float event');
    await exchange(t, 20, 'b');
    await waitFor(
      () => t.serverHost.stats.rxPackets === 121 && t.hosts[2]!.stats.rxPackets === 40,
      'after float',
    );
    assert.deepEqual(
      t.events.filter((e) => e.type === 'float'),
      [{ type: 'float', peerId: 2, address: moved }],
    );
    // Delete peer 0 while traffic flows: its frames are counted as "no peer", the others continue.
    const before = t.hosts[1]!.stats.rxPackets;
    const run = exchange(t, 100, 'c');
    await t.server.api.call('mpDelPeer', { peerId: 0 });
    await run;
    await waitFor(() => t.hosts[1]!.stats.rxPackets === before + 200, 'peer 1 unaffected');
    assert.ok((t.server.drops().txNoPeer ?? 0) > 0, 'frames to the deleted peer counted');
    assert.ok(t.events.some((e) => e.type === 'peerDeleted' && e.peerId === 0 && e.reason === 'userspace'));
    await assert.rejects(t.server.api.call('mpSwapKeys', { peerId: 0 }), { code: 'OVPN_ERR_NO_PEER' });
  } finally {
    await t.close();
  }
});
