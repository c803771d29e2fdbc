// Root only: `ovpn-ts demo`, the main job of a fresh machine (`npm start`), end to end: it must
// bring the tunnel up, ping, move data, stop both engines cleanly and leave nothing behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { loadNative } from '../../src/native/index.js';
import { skipUnless } from '../util/netns.js';
import { cliArgv } from './helpers.js';

const skip = skipUnless('root', 'tun', 'ip') || (loadNative() === null ? 'needs the native addon' : false);

function namespaces(): string[] {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l.startsWith('ovt-demo-'));
}

test('ovpn-ts demo: ping and throughput through the tunnel, clean stop, nothing left', { skip }, () => {
  const before = namespaces();
  const [node, ...args] = cliArgv();
  const r = spawnSync(node!, [...args, 'demo', '--seconds', '2'], { encoding: 'utf8', timeout: 90_000 });
  const out = `${r.stdout}\n${r.stderr}`;
  assert.equal(r.status, 0, out);
  assert.match(out, /iperf3: sent \d+ Mbit\/s .*received [1-9]\d* Mbit\/s/, 'data moved');
  assert.match(out, /IPv4 \S+ -> \S+: 3\/3 replies/, 'IPv4 ping through the tunnel');
  assert.match(out, /IPv6 \S+ -> \S+: 3\/3 replies/, 'IPv6 ping through the tunnel');
  assert.match(out, /ovpn-ts up \(a\): exit 0, TUN closed and control socket removed/);
  assert.match(out, /ovpn-ts up \(b\): exit 0, TUN closed and control socket removed/);
  assert.match(out, /cleaned up: processes stopped, namespaces \S+ and \S+ deleted/);
  assert.deepEqual(namespaces(), before, 'no demo namespace left');
});
