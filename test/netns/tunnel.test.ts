// Two ovpn-ts engines on real TUN devices, one per namespace, in static-key mode (root only).
//
//   ns ovt-tnl-<hex>-a                                   ns ovt-tnl-<hex>-b
//   ┌──────────────────────────────────┐                 ┌──────────────────────────────────┐
//   │ ping / iperf3 -c                 │                 │ ping / iperf3 -s                 │
//   │ ovt0 10.77.0.1/24  fd77::1/64    │                 │ ovt0 10.77.0.2/24  fd77::2/64    │
//   │   │ TunHost (readBatch/writeBatch)                 │   │                              │
//   │ tunnel-peer.js: Engine, key dir 0│                 │ tunnel-peer.js: Engine, key dir 1│
//   │   │ UDP :1194 / TCP client       │                 │   │ UDP :1194 / TCP listen :1195 │
//   │ veth-a 10.99.X.1/24 ─────────────┼──── veth ───────┼─ veth-b 10.99.X.2/24             │
//   └──────────────────────────────────┘                 └──────────────────────────────────┘
//
// Each test starts its two peers (spawnIn) and stops them with SIGTERM; the peer prints
// READY / EVENT / STATS / CLOSED lines (see tunnel-peer.ts).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, afterEach, before, describe, it } from 'node:test';
import { generateStaticKey } from '../../src/protocol/static-key.js';
import { loadNative } from '../../src/native/index.js';
import { createTopology, execIn, skipUnless, spawnIn } from '../util/netns.js';
import type { NsProcess, Topology } from '../util/netns.js';

const here = fileURLToPath(import.meta.url);
const compiled = here.replace(/tunnel\.test\.(ts|js)$/, 'tunnel-peer.js');
/** Compiled peer next to a compiled test; under tsx the .ts with the tsx loader. */
const peerCmd =
  here.endsWith('.js') && existsSync(compiled)
    ? [compiled]
    : ['--import', 'tsx', here.replace(/tunnel\.test\.ts$/, 'tunnel-peer.ts')];

const skip =
  skipUnless('root', 'tun', 'ip', 'ping', 'iperf3') ||
  (loadNative() === null ? 'needs the native addon (npm run install)' : false);

describe('tunnel between namespaces over TUN', { skip, timeout: 90_000 }, () => {
  let topo: Topology;
  let dir: string;
  let keyFile: string;

  before(async () => {
    topo = await createTopology({ prefix: 'tnl' });
    dir = mkdtempSync(join(tmpdir(), 'ovt-tnl-'));
    keyFile = join(dir, 'static.key');
    writeFileSync(keyFile, generateStaticKey(), { mode: 0o600 });
  });

  /** Everything a test started; afterEach stops what a failed test left running. */
  const running: NsProcess[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.kill(2000).catch(() => undefined)));
  });

  after(async () => {
    await topo?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  interface PeerOpts {
    proto: 'udp' | 'tcp';
    listen?: boolean;
    keepalive?: string;
  }

  async function startPeer(side: 'a' | 'b', o: PeerOpts): Promise<NsProcess> {
    const me = side === 'a' ? topo.a : topo.b;
    const other = side === 'a' ? topo.b : topo.a;
    const n = side === 'a' ? 1 : 2;
    const port = o.proto === 'udp' ? 1194 : 1195;
    const args = [
      ...peerCmd,
      '--key',
      keyFile,
      '--direction',
      side === 'a' ? '0' : '1',
      '--proto',
      o.proto,
      '--local',
      `${me.ipv4}:${o.proto === 'tcp' && !o.listen ? 0 : port}`,
      '--remote',
      `${other.ipv4}:${port}`,
      '--tun4',
      `10.77.0.${n}/24`,
      '--tun6',
      `fd77::${n}/64`,
      '--keepalive',
      o.keepalive ?? '1,0',
      ...(o.listen ? ['--listen'] : []),
    ];
    const p = spawnIn(me.ns, process.execPath, args);
    running.push(p);
    await p.waitForOutput(/^READY /m, 10_000);
    return p;
  }

  async function stop(p: NsProcess): Promise<Record<string, unknown>> {
    await p.kill(3000);
    const m = /^CLOSED (.*)$/m.exec(p.stdout());
    assert.ok(m, `peer did not close cleanly:\n${p.stdout()}\n${p.stderr()}`);
    return JSON.parse(m[1]!) as Record<string, unknown>;
  }

  async function ping(ns: string, target: string): Promise<void> {
    const r = await execIn(ns, 'ping', ['-c', '3', '-i', '0.2', '-W', '2', target], 15_000);
    assert.equal(r.code, 0, `ping ${target} from ${ns} failed:\n${r.stdout}${r.stderr}`);
    assert.match(r.stdout, / 0% packet loss/);
  }

  async function pingAll(): Promise<void> {
    await ping(topo.a.ns, '10.77.0.2');
    await ping(topo.b.ns, '10.77.0.1');
    await ping(topo.a.ns, 'fd77::2');
    await ping(topo.b.ns, 'fd77::1');
  }

  it('pings both ways over UDP, IPv4 and IPv6 inside the tunnel', async () => {
    const a = await startPeer('a', { proto: 'udp' });
    const b = await startPeer('b', { proto: 'udp' });
    await pingAll();
    const sa = await stop(a);
    const sb = await stop(b);
    const tunA = sa['tun'] as Record<string, number>;
    const tunB = sb['tun'] as Record<string, number>;
    assert.ok(tunA['readFrames']! >= 6 && tunA['writeFrames']! >= 6, JSON.stringify(tunA));
    assert.ok(tunB['readFrames']! >= 6 && tunB['writeFrames']! >= 6, JSON.stringify(tunB));
    assert.equal(tunA['writeErrors'], 0);
    assert.equal(tunA['readTruncated'], 0);
  });

  it('pings both ways over TCP (b listens, a connects)', async () => {
    const b = await startPeer('b', { proto: 'tcp', listen: true });
    const a = await startPeer('a', { proto: 'tcp' });
    assert.match(a.stdout(), /"transport":"TcpTransport"/);
    assert.match(b.stdout(), /"transport":"TcpP2pListener"/);
    await pingAll();
    await stop(a);
    await stop(b);
  });

  it('carries a 5 s iperf3 TCP run over UDP without error', async (t) => {
    const a = await startPeer('a', { proto: 'udp' });
    const b = await startPeer('b', { proto: 'udp' });
    assert.match(a.stdout(), /"transport":"(Native)?UdpTransport"/);
    const server = spawnIn(topo.b.ns, 'iperf3', ['-s', '-1', '-B', '10.77.0.2', '--forceflush']);
    running.push(server);
    await server.waitForOutput(/Server listening/, 5000);
    const r = await execIn(topo.a.ns, 'iperf3', ['-c', '10.77.0.2', '-t', '5', '-J'], 20_000);
    assert.equal(r.code, 0, `iperf3 failed:\n${r.stdout.slice(-2000)}${r.stderr}`);
    const j = JSON.parse(r.stdout) as IperfReport;
    const sent = j.end.sum_sent;
    const recv = j.end.sum_received;
    assert.ok(recv.bytes > 0 && recv.seconds >= 4.5, JSON.stringify(j.end));
    t.diagnostic(
      `iperf3 through the tunnel: ${(recv.bits_per_second / 1e6).toFixed(0)} Mbit/s received, ` +
        `${(sent.bits_per_second / 1e6).toFixed(0)} Mbit/s sent, ${sent.retransmits ?? 0} retransmits ` +
        `(transport ${/"transport":"(\w+)"/.exec(a.stdout())?.[1]})`,
    );
    await server.waitForExit(5000);
    const sa = await stop(a);
    const sb = await stop(b);
    t.diagnostic(`peer a: ${JSON.stringify(sa)}`);
    t.diagnostic(`peer b: ${JSON.stringify(sb)}`);
  });

  it('raises the keepalive-timeout event when the other side stops', async () => {
    const a = await startPeer('a', { proto: 'udp', keepalive: '1,3' });
    const b = await startPeer('b', { proto: 'udp', keepalive: '1,0' });
    await ping(topo.a.ns, '10.77.0.2');
    await stop(b);
    const stoppedAt = Date.now();
    const m = await a.waitForOutput(/^EVENT (.*"reason":"expired".*)$/m, 8000);
    const e = JSON.parse(m[1]!) as { type: string; peerId: number; reason: string };
    assert.deepEqual(e, { type: 'peerDeleted', peerId: 0, reason: 'expired' });
    const waited = Date.now() - stoppedAt;
    assert.ok(waited >= 1000 && waited <= 6000, `expired after ${waited} ms (timeout 3 s)`);
    await stop(a);
  });

  it('leaves no TUN device or process behind, and no namespace after destroy', async () => {
    for (const s of [topo.a, topo.b]) {
      const r = await execIn(s.ns, 'ip', ['-o', 'link', 'show']);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /ovt\d+/, `a TUN is left in ${s.ns}:\n${r.stdout}`);
      const pids = await execIn0('ip', ['netns', 'pids', s.ns]);
      assert.equal(pids.trim(), '', `processes left in ${s.ns}: ${pids}`);
    }
    const names = [topo.a.ns, topo.b.ns];
    await topo.destroy();
    const list = await execIn0('ip', ['netns', 'list']);
    for (const n of names) assert.ok(!list.includes(n), `${n} still listed:\n${list}`);
  });
});

interface IperfSum {
  bytes: number;
  seconds: number;
  bits_per_second: number;
  retransmits?: number;
}
interface IperfReport {
  end: { sum_sent: IperfSum; sum_received: IperfSum };
}

/** `ip netns list` runs in the root namespace: no namespace helper applies. */
function execIn0(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { timeout: 5000 }, (err, out) => (err ? reject(err) : resolve(out))),
  );
}
