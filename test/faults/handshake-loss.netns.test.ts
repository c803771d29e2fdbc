// The ovpn-ts client against a real openvpn 2.6 server (test/netns/openvpn-lab.ts) with 20%
// random loss both ways on the server's veth: three handshakes, each until CONNECTED and a ping
// through the tunnel. Bounded by openvpn's hand-window (60 s), not a tight timing; the median and
// the maximum are reported. One handshake without loss first, for reference.
//
// Loss: tc netem where sch_netem exists, else nftables (numgen random), else iptables statistic.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { execIn, haveCommand, skipUnless, type Topology } from '../util/netns.js';
import {
  CONNECTED,
  ping,
  startClient,
  startServer,
  stopClient,
  withTopology,
  type Case,
} from '../netns/openvpn-lab.js';

const SKIP =
  skipUnless('root', 'tun', 'openvpn', 'ping') ||
  (['tc', 'nft', 'iptables'].some(haveCommand) ? false : 'needs tc (sch_netem), nft or iptables');
const LOSS = 20;
const HAND_WINDOW_MS = 60_000;
const RUNS = 3;

/** Drop LOSS% of packets in each direction on side a's veth; returns the method used. */
async function addLoss(topo: Topology): Promise<string> {
  const { ns, ifname } = topo.a;
  if (haveCommand('tc')) {
    const r = await execIn(ns, 'tc', ['qdisc', 'add', 'dev', ifname, 'root', 'netem', 'loss', `${LOSS}%`]);
    // netem only shapes egress: the same on the other end covers the way in.
    const r2 = await execIn(topo.b.ns, 'tc', [
      'qdisc',
      'add',
      'dev',
      topo.b.ifname,
      'root',
      'netem',
      'loss',
      `${LOSS}%`,
    ]);
    if (r.code === 0 && r2.code === 0) return 'tc netem';
    await execIn(ns, 'tc', ['qdisc', 'del', 'dev', ifname, 'root']);
  }
  if (haveCommand('nft')) {
    const rules = [
      'table inet ovtloss {',
      `  chain in { type filter hook input priority 0; iifname "${ifname}" numgen random mod 100 < ${LOSS} counter drop; }`,
      `  chain out { type filter hook output priority 0; oifname "${ifname}" numgen random mod 100 < ${LOSS} counter drop; }`,
      '}',
    ].join('\n');
    const r = await execIn(ns, 'sh', ['-c', `printf '%s\\n' '${rules}' | nft -f -`]);
    if (r.code === 0) return 'nftables';
  }
  for (const [chain, dir] of [
    ['INPUT', '-i'],
    ['OUTPUT', '-o'],
  ] as const) {
    const r = await execIn(ns, 'iptables', [
      ...['-A', chain, dir, ifname, '-m', 'statistic', '--mode', 'random'],
      ...['--probability', String(LOSS / 100), '-j', 'DROP'],
    ]);
    assert.equal(r.code, 0, `no way to add loss: iptables ${r.stderr}`);
  }
  return 'iptables statistic';
}

/** Start a client, wait for CONNECTED (ms from spawn), ping the server through the tunnel, stop. */
async function handshake(topo: Topology, pki: Parameters<typeof startServer>[0], c: Case): Promise<number> {
  const t0 = Date.now();
  const cli = startClient(pki, topo, c);
  try {
    await cli.waitForOutput(CONNECTED, HAND_WINDOW_MS + 10_000);
    const ms = Date.now() - t0;
    // With 20% each way a single echo gets through 64% of the time: ping succeeds on any reply.
    const p = await ping(topo, c.n, 10);
    assert.ok(p.ok, `no ping reply through the tunnel:\n${p.out}\n${cli.stdout().slice(-1500)}`);
    return ms;
  } finally {
    await stopClient(topo, cli, `ovc${c.n}`);
  }
}

test(
  `handshake under ${LOSS}% loss both ways against openvpn 2.6: ${RUNS} times CONNECTED and a ping, each within hand-window`,
  { skip: SKIP, timeout: 400_000 },
  async (t) => {
    await withTopology('ovcloss', async (topo, pki) => {
      const c: Case = { n: 21, proto: 'udp', wrap: 'tls-crypt', cipher: 'AES-256-GCM' };
      await startServer(pki, topo, c);
      const clean = await handshake(topo, pki, c);
      const method = await addLoss(topo);
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const ms = await handshake(topo, pki, c);
        times.push(ms);
        t.diagnostic(`handshake ${i + 1} under ${LOSS}% loss: ${(ms / 1000).toFixed(1)} s`);
      }
      const sorted = [...times].sort((x, y) => x - y);
      const median = sorted[Math.floor(sorted.length / 2)]!;
      const max = sorted[sorted.length - 1]!;
      t.diagnostic(
        `${LOSS}% loss (${method}): median ${(median / 1000).toFixed(1)} s, max ${(max / 1000).toFixed(1)} s ` +
          `(no loss: ${(clean / 1000).toFixed(1)} s; times include the client's start)`,
      );
      if (method === 'nftables') {
        const r = await execIn(topo.a.ns, 'nft', ['list', 'table', 'inet', 'ovtloss']);
        assert.match(r.stdout, /counter packets [1-9]/, 'the loss rules dropped packets');
      }
      assert.ok(max < HAND_WINDOW_MS, `a handshake took ${max} ms, past hand-window ${HAND_WINDOW_MS} ms`);
    });
  },
);
