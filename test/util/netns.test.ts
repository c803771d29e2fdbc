// Root-only: the namespace helper builds a working dual-stack link and leaves nothing behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createTopology, execIn, haveCommand, spawnIn, skipUnless, NetnsError } from './netns.js';
import { labPki } from './lab.js';

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

// The lab PKI helper (test/util/lab.ts) is checked here too, since both are shared test plumbing.
test(
  'labPki: certificates chain, EKUs and validity windows are what negative tests rely on',
  { skip: skipUnless('openssl') },
  async () => {
    const pki = await labPki();
    assert.equal(await labPki(), pki, 'generated once per process');
    const load = (path: string): X509Certificate => new X509Certificate(readFileSync(path));
    const ca = load(pki.ca.crt);
    const otherCa = load(pki.otherCa.crt);
    const now = Date.now();
    for (const [c, eku] of [
      [pki.server, '1.3.6.1.5.5.7.3.1'],
      [pki.client, '1.3.6.1.5.5.7.3.2'],
    ] as const) {
      const x = load(c.crt);
      assert.ok(x.verify(ca.publicKey) && x.checkIssued(ca));
      assert.deepEqual(x.keyUsage, [eku]);
      assert.ok(Date.parse(x.validFrom) <= now && now < Date.parse(x.validTo));
      assert.ok(x.checkPrivateKey(createPrivateKey(readFileSync(c.key))));
    }
    for (const c of [pki.expiredClient, pki.expiredServer]) {
      const x = load(c.crt);
      assert.ok(x.verify(ca.publicKey));
      assert.ok(Date.parse(x.validTo) < now, 'expired');
    }
    assert.ok(Date.parse(load(pki.notYetClient.crt).validFrom) > now, 'not yet valid');
    for (const c of [pki.otherClient, pki.otherServer]) {
      const x = load(c.crt);
      assert.ok(x.verify(otherCa.publicKey) && !x.verify(ca.publicKey));
    }
    assert.match(
      readFileSync(pki.tlsCryptKey, 'utf8'),
      /-----BEGIN OpenVPN Static key V1-----\n([0-9a-f]{32}\n){16}-----END/,
    );
    if (haveCommand('openvpn')) assert.notEqual(pki.tlsCryptV2, null);
  },
);
