// Root-only: the namespace helper builds a working dual-stack link and leaves nothing behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createTopology, execIn, spawnIn, skipUnless, NetnsError } from './netns.js';

const skip = skipUnless('root', 'ip', 'ping');

test(
  'topology: ping both ways over IPv4 and IPv6, then destroy removes namespaces and processes',
  { skip, timeout: 30_000 },
  async () => {
    const topo = await createTopology({ prefix: 'selftest' });
    try {
      assert.match(topo.a.ns, /^ovt-selftest-[0-9a-f]{6}-a$/);
      assert.ok(existsSync(`/run/netns/${topo.a.ns}`) && existsSync(`/run/netns/${topo.b.ns}`));
      const pings: [string, string][] = [
        [topo.a.ns, topo.b.ipv4],
        [topo.b.ns, topo.a.ipv4],
        [topo.a.ns, topo.b.ipv6],
        [topo.b.ns, topo.a.ipv6],
      ];
      for (const [ns, dst] of pings) {
        const r = await execIn(ns, 'ping', ['-c', '1', '-W', '2', dst], 5000);
        assert.equal(r.code, 0, `ping ${dst} from ${ns}: ${r.stdout}${r.stderr}`);
        assert.match(r.stdout, /1 received/);
      }
      const sleeper = spawnIn(topo.a.ns, 'sleep', ['60']);
      const r = await execIn(topo.a.ns, 'cat', [`/proc/${sleeper.pid}/comm`], 2000);
      assert.equal(r.stdout.trim(), 'sleep');
      await topo.destroy();
      assert.ok(sleeper.exited, 'sleep must have been killed');
      assert.ok(!existsSync(`/proc/${sleeper.pid}`), 'sleep must be reaped');
      assert.ok(!existsSync(`/run/netns/${topo.a.ns}`) && !existsSync(`/run/netns/${topo.b.ns}`));
      await topo.destroy(); // idempotent
      assert.throws(
        () => spawnIn(topo.a.ns, 'true', []),
        (e: unknown) => e instanceof NetnsError && e.code === 'UNKNOWN_NAMESPACE',
      );
    } finally {
      await topo.destroy();
    }
  },
);

test(
  'spawnIn: waitForOutput sees output, reports early exit and times out',
  { skip, timeout: 20_000 },
  async () => {
    const topo = await createTopology({ prefix: 'selftest' });
    try {
      const p = spawnIn(topo.b.ns, 'sh', ['-c', 'echo ready; ip -4 -o addr show dev veth-b; sleep 30']);
      await p.waitForOutput(/ready/, 3000);
      await p.waitForOutput(new RegExp(topo.b.ipv4.replace(/\./g, '\\.')), 3000);
      await assert.rejects(
        p.waitForOutput(/never printed/, 200),
        (e: unknown) => e instanceof NetnsError && e.code === 'TIMEOUT',
      );
      await p.kill();
      assert.ok(p.exited);
      const q = spawnIn(topo.a.ns, 'sh', ['-c', 'echo bye >&2; exit 3']);
      await assert.rejects(
        q.waitForOutput(/never printed/, 3000),
        (e: unknown) => e instanceof NetnsError && e.code === 'EXITED',
      );
      assert.equal(q.exitCode, 3);
      assert.match(q.stderr(), /bye/);
    } finally {
      await topo.destroy();
    }
  },
);
