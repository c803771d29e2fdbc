// The control API from another process's point of view: an engine driven entirely over its Unix
// socket (JSON lines), as OpenVPN drives ovpn-dco through IOCTLs. The peer is a second engine
// used as a library.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../src/engine/engine.js';
import { applyStaticKey } from '../../src/engine/static-key.js';
import { MemoryHost } from '../../src/os/memory-host.js';
import { createMemoryPair } from '../../src/transport/memory.js';
import { startControlServer } from '../../src/control-api/server.js';
import { ControlClient } from '../../src/control-api/client.js';
import type { ControlEvent, ControlPacket } from '../../src/control-api/schema.js';
import { deriveStaticDataKeys, generateStaticKey, parseStaticKey } from '../../src/protocol/static-key.js';
import { pump, waitFor } from './helpers.js';

test('control socket: configure, carry traffic, read stats, events and control packets', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ovt-ctl-'));
  const [ta, tb] = createMemoryPair({ rxSlotCount: 1024 });
  const hostA = new MemoryHost({ capture: false });
  const hostB = new MemoryHost({ capture: false });
  // Engine A opens its transport through the factory when told `newPeer {remote, proto}`.
  const a = await Engine.create({
    host: hostA,
    transportFactory: async () => ({ transport: ta, local: { address: '10.255.0.1', port: 1194 } }),
  });
  const b = await Engine.create({ host: hostB });
  const server = await startControlServer(a.api, { path: join(dir, 'a.sock') });
  const ctl = await ControlClient.connect(join(dir, 'a.sock'));
  try {
    const keyText = generateStaticKey();
    const k = deriveStaticDataKeys(parseStaticKey(keyText), 'CHACHA20-POLY1305', 0);
    assert.deepEqual(await ctl.call('getVersion', {}), { major: 0, minor: 1, patch: 0 });
    await ctl.call('newPeer', { remote: { address: '10.255.0.2', port: 1194 }, proto: 'udp' });
    await ctl.call('newKey', {
      cipher: 'CHACHA20-POLY1305',
      keyId: 0,
      slot: 'primary',
      peerId: 5,
      encrypt: {
        key: k.encrypt.key,
        nonceTail: k.encrypt.implicitIv,
      },
      decrypt: {
        key: k.decrypt.key,
        nonceTail: k.decrypt.implicitIv,
      },
    });
    await ctl.call('setPeer', { keepaliveInterval: 10, keepaliveTimeout: 60, mss: 1300 });
    await ctl.call('startVpn', {});
    await b.api.call('newPeer', { transport: tb });
    await applyStaticKey(b.api, { keyText, cipher: 'CHACHA20-POLY1305', direction: 1, peerId: 5 });

    await pump(hostA, 1000, (sent) => hostB.stats.rxPackets === sent);
    await pump(hostB, 500, (sent) => hostA.stats.rxPackets === sent);
    const stats = (await ctl.call('getStats', {})) as {
      sentDataPackets: number;
      receivedDataPackets: number;
    };
    assert.equal(stats.receivedDataPackets, 500);
    await waitFor(() => a.counters.stats.sentDataPackets === 1000, 'completions');
    const again = (await ctl.call('getStats', {})) as { sentDataPackets: number };
    assert.equal(again.sentDataPackets, 1000);
    const peers = (await ctl.call('getPeerStats', { peerId: -1 })) as {
      vpnTxBytes: number;
      vpnRxBytes: number;
    }[];
    assert.equal(peers[0]!.vpnTxBytes, 1000 * 512);
    assert.equal(peers[0]!.vpnRxBytes, 500 * 512);

    // A bad argument comes back as a typed error naming the field.
    await assert.rejects(
      ctl.call('setPeer', { keepaliveInterval: -7, keepaliveTimeout: 0, mss: 0 }),
      (e: { code: string; message: string }) =>
        e.code === 'OVPN_ERR_INVALID_FIELD' && e.message.includes('keepaliveInterval'),
    );

    // Control packets: written through the socket, they reach the peer engine's control channel
    // unchanged; received ones are pushed to subscribed clients.
    const events: ControlEvent[] = [];
    const packets: ControlPacket[] = [];
    await ctl.subscribe({ events: true, control: true });
    ctl.onEvent((e) => events.push(e));
    ctl.onControlPacket((p) => packets.push(p));
    const atB: Uint8Array[] = [];
    b.onControlPacket((p) => atB.push(p.data));
    const hardReset = Uint8Array.from([0x38, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0]);
    await ctl.writeControl(hardReset);
    await waitFor(() => atB.length === 1, 'control packet at B');
    assert.deepEqual(atB[0], hardReset);
    await b.api.call('writeControl', { data: Uint8Array.from([0x20, 9, 9, 9, 9, 9, 9, 9, 9, 0]) });
    await waitFor(() => packets.length === 1, 'control packet pushed to the socket client');
    assert.equal(packets[0]!.data[0], 0x20);

    await ctl.call('delPeer', {});
    await waitFor(() => events.length === 1, 'event');
    assert.deepEqual(events, [{ type: 'peerDeleted', peerId: 0, reason: 'userspace' }]);
  } finally {
    await ctl.close();
    await server.close();
    await Promise.all([a.close(), b.close()]);
    rmSync(dir, { recursive: true, force: true });
  }
});
