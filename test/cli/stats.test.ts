// `ovpn-ts stats` and `ovpn-ts ctl` against a control server started in-process in front of an
// engine on a MemoryHost (the library path: no root, no TUN). Traffic is pushed through a pair of
// engines first, so the printed counters have something to show.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCli } from '../../src/cli/cli.js';
import type { StatsReport } from '../../src/cli/commands/stats.js';
import { startControlServer } from '../../src/control-api/server.js';
import { makePair, pump } from '../engine/helpers.js';
import { capture, tempDir } from './helpers.js';

const FRAMES = 400;

async function engineWithSocket(t: { after(fn: () => Promise<void> | void): void }) {
  const dir = tempDir(t);
  const pair = await makePair({ seed: 7 });
  await pump(pair.hostA, FRAMES, (sent) => pair.hostB.stats.rxPackets === sent);
  const path = join(dir, 'a.sock');
  const server = await startControlServer(pair.a.api, { path });
  t.after(async () => {
    await server.close();
    await pair.close();
  });
  return { path, pair, dir };
}

test('stats --json: the counters of the engine behind the socket', async (t) => {
  const { path, pair } = await engineWithSocket(t);
  const c = capture();
  assert.equal(await runCli(['stats', '--control-socket', path, '--json'], c.io), 0, c.err());
  const r = JSON.parse(c.out()) as StatsReport;
  assert.equal(r.socket, path);
  assert.match(r.version, /^\d+\.\d+\.\d+$/);
  assert.equal(r.stats.sentDataPackets, pair.a.counters.stats.sentDataPackets);
  assert.ok(r.stats.sentDataPackets >= FRAMES);
  assert.equal(r.stats.tunBytesReceived, FRAMES * pair.hostA.frameSize);
  assert.equal(r.peers.length, 1);
  assert.equal(r.peers[0]!.peerId, 0);
  assert.ok(r.peers[0]!.linkTxBytes > r.stats.tunBytesReceived, 'link bytes include the overhead');
  assert.deepEqual(r.drops, { in: 0, out: 0, total: 0 });
});

test('stats: human-readable table', async (t) => {
  const { path } = await engineWithSocket(t);
  const c = capture();
  assert.equal(await runCli(['stats', '--control-socket', path], c.io), 0, c.err());
  const out = c.out();
  assert.match(out, new RegExp(`^engine +ovpn-ts \\d+\\.\\d+\\.\\d+ at ${path}`, 'm'));
  assert.match(out, /^data +rx \d+ pkt .* tx 4\d\d pkt 120\.0 KB/m);
  assert.match(out, /^lost +data in 0 out 0/m);
  assert.match(out, /^peer 0 +link rx .* vpn rx/m);
});

test('stats: no engine, or an ambiguous target, is a clear error', async (t) => {
  const dir = tempDir(t);
  const none = capture();
  assert.equal(await runCli(['stats', '--control-socket', join(dir, 'nothing.sock')], none.io), 1);
  assert.match(none.err(), /cannot reach the engine at .*nothing\.sock.*is `ovpn-ts up` running/);
  const both = capture();
  assert.equal(await runCli(['stats', '--dev', 'ovt0', '--control-socket', 'x'], both.io), 2);
  assert.match(both.err(), /--dev and --control-socket both given/);
  const badDev = capture();
  assert.equal(await runCli(['stats', '--dev', 'no/slash'], badDev.io), 2);
  assert.match(badDev.err(), /--dev: "no\/slash" is not a valid interface name/);
});

test('ctl: runs any schema command; bad command, JSON or field is named', async (t) => {
  const { path } = await engineWithSocket(t);
  const v = capture();
  assert.equal(await runCli(['ctl', 'getVersion', '--control-socket', path], v.io), 0, v.err());
  assert.deepEqual(Object.keys(JSON.parse(v.out()) as object), ['major', 'minor', 'patch']);
  const ps = capture();
  assert.equal(await runCli(['ctl', 'getPeerStats', '{"peerId":-1}', '--control-socket', path], ps.io), 0);
  assert.equal((JSON.parse(ps.out()) as unknown[]).length, 1);
  const sw = capture();
  assert.equal(await runCli(['ctl', 'swapKeys', '--control-socket', path], sw.io), 0, sw.err());
  assert.deepEqual(JSON.parse(sw.out()), { ok: true });

  const unknown = capture();
  assert.equal(await runCli(['ctl', 'reboot', '--control-socket', path], unknown.io), 2);
  assert.match(unknown.err(), /unknown command "reboot"; one of newPeer, /);
  const json = capture();
  assert.equal(await runCli(['ctl', 'getPeerStats', '{peerId:1}', '--control-socket', path], json.io), 2);
  assert.match(json.err(), /JSON-ARGS is not valid JSON/);
  const field = capture();
  assert.equal(
    await runCli(['ctl', 'getPeerStats', '{"peerId":"x"}', '--control-socket', path], field.io),
    1,
  );
  assert.match(field.err(), /getPeerStats\.peerId.*OVPN_ERR_INVALID_FIELD/);
  const mode = capture();
  assert.equal(await runCli(['ctl', 'mpDelPeer', '{"peerId":1}', '--control-socket', path], mode.io), 1);
  assert.match(mode.err(), /OVPN_ERR_BAD_MODE/);
});
