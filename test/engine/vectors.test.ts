// Known answers from real OpenVPN 2.6.14 (test/vectors, made by scripts/make-vectors.sh): the
// engine, configured through the control API with the logged keys, must
//   - decrypt every captured datagram of a direction and deliver exactly the IP packets
//     (keepalives swallowed), with nothing dropped;
//   - reproduce the captured datagrams byte for byte when it sends the same plaintexts with the
//     same packet ids (data from its OS side, keepalives from its own timer).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDecipheriv } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Engine } from '../../src/engine/engine.js';
import { MemoryHost } from '../../src/os/memory-host.js';
import { createMemoryPair } from '../../src/transport/memory.js';
import type { RxBatch } from '../../src/transport/types.js';
import { ManualClock } from '../../src/util/clock.js';
import { PING_STRING } from '../../src/protocol/constants.js';
import { repoPath } from '../util/lab.js';
import { waitFor } from './helpers.js';

interface Vector {
  cipher: 'AES-256-GCM' | 'CHACHA20-POLY1305';
  keys: Record<'clientToServer' | 'serverToClient', { key: string; implicitIv: string }>;
  packets: { direction: 'c2s' | 's2c'; hex: string }[];
}

const FILES = ['openvpn-aes-256-gcm', 'openvpn-chacha20-poly1305', 'openvpn-aes-256-gcm-data-v1'];
const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));

/** Independent reference: node:crypto, straight from the protocol description. */
function referenceOpen(v: Vector, dir: 'c2s' | 's2c', d: Uint8Array): Uint8Array {
  const k = v.keys[dir === 'c2s' ? 'clientToServer' : 'serverToClient'];
  const v2 = d[0]! >> 3 === 9;
  const h = v2 ? 4 : 1;
  const nonce = Buffer.concat([Buffer.from(d.subarray(h, h + 4)), Buffer.from(k.implicitIv, 'hex')]);
  const alg = v.cipher === 'AES-256-GCM' ? 'aes-256-gcm' : 'chacha20-poly1305';
  const dc = createDecipheriv(alg as 'aes-256-gcm', Buffer.from(k.key, 'hex'), nonce, { authTagLength: 16 });
  dc.setAAD(Buffer.from(v2 ? d.subarray(0, 8) : d.subarray(1, 5)));
  dc.setAuthTag(Buffer.from(d.subarray(h + 4, h + 20)));
  return Uint8Array.from(Buffer.concat([dc.update(d.subarray(h + 20)), dc.final()]));
}

const isPing = (p: Uint8Array): boolean => Buffer.from(p).equals(Buffer.from(PING_STRING));

/** An engine playing one end: `role` 'client' encrypts c2s and decrypts s2c. */
async function endpoint(v: Vector, role: 'client' | 'server', txPeerId: number | undefined) {
  const [raw, t] = createMemoryPair({ rxSlotSize: 2048, rxSlotCount: 256 });
  const host = new MemoryHost({ capture: true });
  const clock = new ManualClock(1000);
  const engine = await Engine.create({ host, clock, verifier: true });
  await engine.api.call('newPeer', { transport: t });
  const c2s = v.keys.clientToServer;
  const s2c = v.keys.serverToClient;
  const [enc, dec] = role === 'client' ? [c2s, s2c] : [s2c, c2s];
  await engine.api.call('newKey', {
    cipher: v.cipher,
    keyId: 0,
    slot: 'primary',
    ...(txPeerId === undefined ? {} : { peerId: txPeerId }),
    encrypt: { key: hex(enc.key), nonceTail: hex(enc.implicitIv) },
    decrypt: { key: hex(dec.key), nonceTail: hex(dec.implicitIv) },
  });
  await engine.api.call('setPeer', { keepaliveInterval: 1, keepaliveTimeout: 0, mss: 0 });
  await engine.api.call('startVpn', {});
  const got: Uint8Array[] = [];
  raw.onReceive((b: RxBatch) => {
    for (let k = 0; k < b.count; k++) {
      got.push(raw.rxSlab.slice(b.offsets[k]!, b.offsets[k]! + b.lengths[k]!));
      raw.release(b.slots[k]!);
    }
  });
  return { raw, engine, host, clock, got };
}

for (const file of FILES) {
  const v = JSON.parse(readFileSync(repoPath('test/vectors', `${file}.json`), 'utf8')) as Vector;
  for (const dir of ['c2s', 's2c'] as const) {
    const wire = v.packets.filter((p) => p.direction === dir).map((p) => hex(p.hex));
    const first = wire[0]!;
    const v2 = first[0]! >> 3 === 9;
    const peerId = v2 ? (first[1]! << 16) | (first[2]! << 8) | first[3]! : undefined;
    const plain = wire.map((d) => referenceOpen(v, dir, d));

    test(`${file} ${dir}: the engine decrypts OpenVPN's datagrams to the same packets`, async () => {
      const receiver = dir === 'c2s' ? 'server' : 'client';
      const e = await endpoint(v, receiver, undefined);
      try {
        const slab = new Uint8Array(64 * 1024);
        let off = 0;
        const offsets = new Uint32Array(wire.length);
        const lengths = new Uint32Array(wire.length);
        wire.forEach((d, k) => {
          slab.set(d, off);
          offsets[k] = off;
          lengths[k] = d.length;
          off += d.length;
        });
        const tokens = new Uint32Array(wire.length);
        e.raw.send({ count: wire.length, slab, offsets, lengths, tokens, addrs: null });
        const ips = plain.filter((p) => !isPing(p));
        await waitFor(() => e.host.stats.rxPackets === ips.length, 'delivery');
        assert.deepEqual(
          e.host.captured.map((x) => Buffer.from(x).toString('hex')),
          ips.map((x) => Buffer.from(x).toString('hex')),
        );
        const [peer] = e.engine.peerDetails();
        assert.equal(peer!.keepaliveRx, plain.length - ips.length);
        assert.ok(peer!.keepaliveRx > 0, 'the capture holds keepalives');
        assert.deepEqual(e.engine.drops(), {});
      } finally {
        await e.engine.close();
      }
    });

    test(`${file} ${dir}: the engine reproduces OpenVPN's ciphertext for the same packet ids`, async () => {
      const sender = dir === 'c2s' ? 'client' : 'server';
      const e = await endpoint(v, sender, peerId);
      try {
        for (let k = 0; k < plain.length; k++) {
          if (isPing(plain[k]!))
            e.clock.advance(1000); // the keepalive timer sends the ping
          else e.host.sendFrames([plain[k]!]);
          await waitFor(() => e.got.length === k + 1, `datagram ${k + 1}`);
        }
        for (let k = 0; k < wire.length; k++) {
          assert.equal(
            Buffer.from(e.got[k]!).toString('hex'),
            Buffer.from(wire[k]!).toString('hex'),
            `datagram ${k + 1}`,
          );
        }
      } finally {
        await e.engine.close();
      }
    });
  }
}
