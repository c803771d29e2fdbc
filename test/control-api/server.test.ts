import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startControlServer, type ControlServer } from '../../src/control-api/server.js';
import { ControlClient } from '../../src/control-api/client.js';
import type { ControlEvent } from '../../src/control-api/schema.js';
import { FakeTarget } from './fake-target.js';

function sockPath(): string {
  return path.join(os.tmpdir(), `ovt-ctl-${process.pid}-${Math.random().toString(36).slice(2, 8)}.sock`);
}

async function setup(): Promise<{ target: FakeTarget; server: ControlServer; p: string }> {
  const target = new FakeTarget();
  const p = sockPath();
  const server = await startControlServer(target, { path: p });
  return { target, server, p };
}

/** A raw JSON-lines connection for malformed-input tests. */
async function raw(p: string): Promise<{ s: net.Socket; lines: () => Promise<Record<string, unknown>> }> {
  const s = net.connect(p);
  await new Promise<void>((r) => s.once('connect', () => r()));
  let buf = '';
  const queue: Record<string, unknown>[] = [];
  const waiters: ((v: Record<string, unknown>) => void)[] = [];
  s.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const obj = JSON.parse(buf.slice(0, i)) as Record<string, unknown>;
      buf = buf.slice(i + 1);
      const w = waiters.shift();
      if (w) w(obj);
      else queue.push(obj);
    }
  });
  return {
    s,
    lines: () => {
      const q = queue.shift();
      return q ? Promise.resolve(q) : new Promise((r) => waiters.push(r));
    },
  };
}

test('socket file is mode 0600 and removed on close', async () => {
  const { server, p } = await setup();
  assert.equal(fs.statSync(p).mode & 0o777, 0o600);
  await server.close();
  assert.equal(fs.existsSync(p), false);
});

test('typed client round trip: commands, results, validation and mode errors with stable codes', async () => {
  const { target, server, p } = await setup();
  const c = await ControlClient.connect(p);
  const stats = await c.call('getStats', {});
  assert.equal(stats.transportBytesReceived, 8000);
  assert.deepEqual(await c.call('getVersion', {}), { major: 0, minor: 1, patch: 0 });
  const key = new Uint8Array(32).fill(0xab);
  const tail = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
  await c.call('newPeer', { remote: { address: '127.0.0.1', port: 1194 }, proto: 'udp' });
  await c.call('newKey', {
    cipher: 'CHACHA20-POLY1305',
    keyId: 1,
    slot: 'primary',
    encrypt: { key, nonceTail: tail },
    decrypt: { key, nonceTail: tail },
  });
  const nk = target.calls.find((x) => x.cmd === 'newKey')!.args as { encrypt: { key: Uint8Array } };
  assert.deepEqual(nk.encrypt.key, key, 'key crossed the socket as hex and arrived intact');
  await assert.rejects(c.call('setMode', { mode: 'mp' }), { code: 'OVPN_ERR_ALREADY_INITIALIZED' });
  await assert.rejects(c.call('mpDelPeer', { peerId: 1 }), { code: 'OVPN_ERR_BAD_MODE' });
  await assert.rejects(
    c.call('newKey', {
      cipher: 'AES-128-GCM',
      keyId: 9,
      slot: 'primary',
      encrypt: { key, nonceTail: tail },
      decrypt: { key, nonceTail: tail },
    }),
    { code: 'OVPN_ERR_INVALID_FIELD', message: 'newKey.keyId: expected an integer 0..7, got 9' },
  );
  await c.close();
  await server.close();
});

test('events and control packets reach subscribed clients only; writeControl reaches the target', async () => {
  const { target, server, p } = await setup();
  const sub = await ControlClient.connect(p);
  const other = await ControlClient.connect(p);
  const seen: ControlEvent[] = [];
  const otherSeen: ControlEvent[] = [];
  sub.onEvent((e) => seen.push(e));
  other.onEvent((e) => otherSeen.push(e));
  await sub.subscribe({ events: true, control: true });
  await other.call('getVersion', {});
  target.emit({ type: 'peerDeleted', peerId: 3, reason: 'expired' });
  target.emit({ type: 'float', peerId: 3, address: { address: '2001:db8::9', port: 5000 } });
  target.injectControl({
    data: new Uint8Array([0x38, 0xaa, 0xbb]),
    remote: { address: '192.0.2.9', port: 1194 },
  });
  const pkt = await sub.readControl();
  assert.deepEqual(pkt.data, new Uint8Array([0x38, 0xaa, 0xbb]));
  assert.deepEqual(pkt.remote, { address: '192.0.2.9', port: 1194 });
  assert.deepEqual(seen, [
    { type: 'peerDeleted', peerId: 3, reason: 'expired' },
    { type: 'float', peerId: 3, address: { address: '2001:db8::9', port: 5000 } },
  ]);
  await other.call('getVersion', {}); // a full round trip after the pushes: nothing arrived
  assert.deepEqual(otherSeen, []);
  await other.writeControl(new Uint8Array([0x20, 1, 2, 3]));
  assert.deepEqual(target.written, [{ data: new Uint8Array([0x20, 1, 2, 3]) }]);
  await assert.rejects(other.writeControl(new Uint8Array(1501)), {
    code: 'OVPN_ERR_INVALID_FIELD',
    field: 'writeControl.data',
  });
  await sub.close();
  await other.close();
  await server.close();
});

test('malformed JSON, non-objects, unknown commands and oversize lines get errors, not a crash', async () => {
  const { server, p } = await setup();
  const { s, lines } = await raw(p);
  s.write('{"id":1,"cmd":\n');
  let r = await lines();
  assert.equal(r.ok, false);
  assert.equal((r.error as { code: string }).code, 'OVPN_ERR_BAD_REQUEST');
  assert.match((r.error as { message: string }).message, /malformed JSON/);
  s.write('[1,2]\n{"id":"x"}\n{"id":2,"cmd":"frob"}\n');
  r = await lines();
  assert.equal((r.error as { code: string }).code, 'OVPN_ERR_BAD_REQUEST');
  r = await lines();
  assert.deepEqual([r.id, (r.error as { code: string }).code], ['x', 'OVPN_ERR_BAD_REQUEST']);
  r = await lines();
  assert.deepEqual([r.id, (r.error as { code: string }).code], [2, 'OVPN_ERR_UNKNOWN_COMMAND']);
  // 70 KiB line in several writes, then a normal request on the same connection.
  const big = `{"id":3,"cmd":"getStats","args":{"pad":"${'a'.repeat(70 * 1024)}"}}`;
  for (let i = 0; i < big.length; i += 16384) s.write(big.slice(i, i + 16384));
  s.write('\n{"id":4,"cmd":"getVersion","args":{}}\n');
  r = await lines();
  assert.equal((r.error as { code: string }).code, 'OVPN_ERR_LINE_TOO_LONG');
  r = await lines();
  assert.deepEqual(r, { id: 4, ok: true, result: { major: 0, minor: 1, patch: 0 } });
  s.write('{"id":5,"cmd":"getStats","args":{"pad":1}}\n');
  r = await lines();
  assert.deepEqual(r.error, {
    code: 'OVPN_ERR_INVALID_FIELD',
    message: 'getStats.pad: unknown field; this command takes no arguments',
    field: 'getStats.pad',
  });
  s.destroy();
  await server.close();
});

test('two clients at once get their own replies', async () => {
  const { server, p } = await setup();
  const a = await ControlClient.connect(p);
  const b = await ControlClient.connect(p);
  const [ra, rb, rc] = await Promise.all([
    a.call('getPeerStats', { peerId: 7 }),
    b.call('getPeerStats', { peerId: 9 }),
    a.call('getVersion', {}),
  ]);
  assert.equal(ra[0]!.peerId, 7);
  assert.equal(rb[0]!.peerId, 9);
  assert.equal(rc.major, 0);
  assert.equal(server.clientCount, 2);
  await a.close();
  await b.close();
  await server.close();
});

test('a stale socket file is replaced; a live server is not; the client reports a missing server', async () => {
  const { server, p } = await setup();
  await assert.rejects(startControlServer(new FakeTarget(), { path: p }), {
    code: 'OVPN_ERR_ADDRESS_IN_USE',
    message: /another server is listening/,
  });
  await server.close();
  await assert.rejects(ControlClient.connect(p), { code: 'OVPN_ERR_NOT_CONNECTED' });
  // Leave a dead socket file behind (as after a crash), then start again on the same path.
  const dead = net.createServer();
  await new Promise<void>((r) => dead.listen(p, () => r()));
  const copy = `${p}.keep`;
  fs.linkSync(p, copy);
  await new Promise<void>((r) => dead.close(() => r()));
  fs.renameSync(copy, p);
  const again = await startControlServer(new FakeTarget(), { path: p });
  const c = await ControlClient.connect(p);
  assert.equal((await c.call('getVersion', {})).minor, 1);
  await c.close();
  await again.close();
});

test('closing the server rejects pending client calls with OVPN_ERR_NOT_CONNECTED', async () => {
  const target = new FakeTarget();
  let release: () => void = () => undefined;
  target.getStats = () => new Promise((r) => (release = () => r({} as never)));
  const p = sockPath();
  const server = await startControlServer(target, { path: p });
  const c = await ControlClient.connect(p);
  const call = c.call('getStats', {});
  await new Promise((r) => setTimeout(r, 20));
  await server.close();
  await assert.rejects(call, { code: 'OVPN_ERR_NOT_CONNECTED' });
  release();
});
