// Root only: two real `ovpn-ts up` processes, one per namespace of a veth topology, ping through
// the tunnel, `ovpn-ts stats --json` over the control socket, then SIGTERM: exit 0, the TUN
// device and the socket file are gone.
//
//   ns <a>: ovt0 10.78.0.1 fd78::1 ── udp or tcp over veth 10.99.X.1 <-> 10.99.X.2 ── ns <b>: ovt0 10.78.0.2 fd78::2

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { generateStaticKey } from '../../src/protocol/static-key.js';
import type { StatsReport } from '../../src/cli/commands/stats.js';
import { loadNative } from '../../src/native/index.js';
import { createTopology, execIn, skipUnless, spawnIn, type NsProcess, type Side } from '../util/netns.js';
import { cliArgv, tempDir } from './helpers.js';

const skip =
  skipUnless('root', 'tun', 'ip', 'ping') || (loadNative() === null ? 'needs the native addon' : false);

type Proto = 'udp' | 'tcp';

function upArgs(dir: string, me: Side, peer: Side, n: 1 | 2, proto: Proto): string[] {
  const endpoints =
    proto === 'udp'
      ? ['--local', `${me.ipv4}:1194`, '--remote', `${peer.ipv4}:1194`]
      : n === 1
        ? ['--proto', 'tcp-server', '--local', `${me.ipv4}:1194`]
        : ['--proto', 'tcp-client', '--remote', `${peer.ipv4}:1194`];
  return [
    ...cliArgv().slice(1),
    'up',
    ...['--key', join(dir, 'static.key'), '--cipher', 'CHACHA20-POLY1305', '--direction', String(n - 1)],
    ...endpoints,
    ...[
      '--dev',
      'ovt0',
      '--ifconfig',
      `10.78.0.${n}/24`,
      '--ifconfig-ipv6',
      `fd78::${n}/64`,
      '--mtu',
      '1400',
    ],
    ...['--control-socket', join(dir, `${n}.sock`)],
    // One end without the TUN offloads: the wire is the same, so mixed ends must interoperate.
    ...(n === 2 ? ['--tun-offload', 'off'] : []),
  ];
}

async function pair(t: { after(fn: () => Promise<void> | void): void }, proto: Proto) {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'static.key'), generateStaticKey(), { mode: 0o600 });
  const topo = await createTopology({ prefix: `cli${proto}` });
  t.after(() => topo.destroy());
  const p1 = spawnIn(topo.a.ns, process.execPath, upArgs(dir, topo.a, topo.b, 1, proto));
  if (proto === 'tcp') await p1.waitForOutput(/READY/, 15_000); // the server listens first
  const p2 = spawnIn(topo.b.ns, process.execPath, upArgs(dir, topo.b, topo.a, 2, proto));
  await Promise.all([p1.waitForOutput(/READY/, 15_000), p2.waitForOutput(/READY/, 15_000)]);
  return { dir, topo, p1, p2 };
}

async function stopCleanly(p: NsProcess, ns: string, sock: string): Promise<void> {
  await p.kill(5000);
  assert.equal(p.exitCode, 0, p.stdout() + p.stderr());
  assert.match(p.stdout(), /SIGTERM: stopping[\s\S]*ovpn-ts: stopped/);
  assert.equal(existsSync(sock), false, 'control socket removed');
  const link = await execIn(ns, 'ip', ['link', 'show', 'ovt0']);
  assert.notEqual(link.code, 0, 'TUN device gone');
}

test(
  'up (udp): ping v4 and v6 through the tunnel, stats over the socket, clean SIGTERM',
  { skip, timeout: 60_000 },
  async (t) => {
    const { dir, topo, p1, p2 } = await pair(t, 'udp');
    const v4 = await execIn(topo.a.ns, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', '10.78.0.2']);
    assert.equal(v4.code, 0, v4.stdout + v4.stderr);
    const v6 = await execIn(topo.a.ns, 'ping', ['-6', '-c', '2', '-i', '0.2', '-W', '2', 'fd78::2']);
    assert.equal(v6.code, 0, v6.stdout + v6.stderr);

    const [node, ...cli] = cliArgv();
    const r = spawnSync(node!, [...cli, 'stats', '--json', '--control-socket', join(dir, '2.sock')], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout) as StatsReport;
    assert.ok(s.stats.receivedDataPackets >= 4, 'b received the echo requests');
    assert.ok(s.stats.sentDataPackets >= 4, 'b sent the replies');
    assert.equal(s.drops.in, 0);

    await stopCleanly(p1, topo.a.ns, join(dir, '1.sock'));
    await stopCleanly(p2, topo.b.ns, join(dir, '2.sock'));
    assert.match(p2.stdout(), /peer sent an exit notification/, 'udp: a told b it was leaving');
  },
);

test(
  'up (tcp-server / tcp-client): ping; server SIGTERM, then the client stops on the lost connection',
  { skip, timeout: 60_000 },
  async (t) => {
    const { dir, topo, p1, p2 } = await pair(t, 'tcp');
    const v4 = await execIn(topo.b.ns, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', '10.78.0.1']);
    assert.equal(v4.code, 0, v4.stdout + v4.stderr);
    await stopCleanly(p1, topo.a.ns, join(dir, '1.sock'));
    // The server is gone: the client sees its TCP connection close and stops by itself (exit 1).
    const code = await p2.waitForExit(10_000);
    assert.equal(code, 1, p2.stdout() + p2.stderr());
    assert.match(p2.stdout(), /transport disconnected[\s\S]*does not reconnect[\s\S]*ovpn-ts: stopped/);
    assert.equal(existsSync(join(dir, '2.sock')), false, 'control socket removed');
    assert.notEqual((await execIn(topo.b.ns, 'ip', ['link', 'show', 'ovt0'])).code, 0, 'TUN device gone');
  },
);
