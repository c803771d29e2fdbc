// One side of the namespace tunnel test: an ovpn-ts engine on a real TUN in static-key mode.
// Started by tunnel.test.ts inside a namespace (`ip netns exec`); usable by hand too:
//
//   node dist/test/netns/tunnel-peer.js --key k.txt --direction 0 --proto udp \
//     --local 10.99.1.1:1194 --remote 10.99.1.2:1194 --tun4 10.77.0.1/24 --tun6 fd77::1/64
//
// Output, one line each (stdout):
//   READY {"tun":"ovt0","local":{...},"transport":"NativeUdpTransport"}
//   EVENT {...}            every engine event (peerDeleted with reason 'expired' on keepalive timeout)
//   STATS {...}            on SIGUSR1, and every --stats-ms if given
//   CLOSED {...}           after SIGTERM: engine closed, TUN closed; then exit 0
// Any setup failure prints FAILED <message> and exits 1.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Engine } from '../../src/engine/engine.js';
import { applyStaticKey } from '../../src/engine/static-key.js';
import { createTcpP2pListener } from '../../src/engine/transport-factory.js';
import { TunHost } from '../../src/os/linux/tun-host.js';
import type { SockAddr } from '../../src/transport/addr.js';
import type { CipherName } from '../../src/crypto/aead.js';

const { values: a } = parseArgs({
  options: {
    key: { type: 'string' },
    cipher: { type: 'string', default: 'AES-256-GCM' },
    direction: { type: 'string', default: '0' },
    proto: { type: 'string', default: 'udp' },
    listen: { type: 'boolean', default: false },
    local: { type: 'string' },
    remote: { type: 'string' },
    tun4: { type: 'string' },
    tun6: { type: 'string' },
    'tun-name': { type: 'string', default: 'ovt%d' },
    mtu: { type: 'string', default: '1400' },
    keepalive: { type: 'string', default: '0,0' },
    'stats-ms': { type: 'string', default: '0' },
  },
});

function sockaddr(s: string | undefined, what: string): SockAddr {
  const m = s === undefined ? null : /^\[?([^\]]+?)\]?:(\d+)$/.exec(s);
  if (m === null) throw new Error(`--${what}: expected host:port or [v6]:port, got ${s}`);
  return { address: m[1]!, port: Number(m[2]) };
}

function print(tag: string, value: unknown): void {
  process.stdout.write(`${tag} ${JSON.stringify(value)}\n`);
}

function nonZero(o: object): Record<string, number> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== 0)) as Record<string, number>;
}

async function main(): Promise<void> {
  const mtu = Number(a.mtu);
  const host = TunHost.open({
    name: a['tun-name'],
    mtu,
    ...(a.tun4 ? { ipv4: a.tun4 } : {}),
    ...(a.tun6 ? { ipv6: a.tun6 } : {}),
  });
  const engine = await Engine.create({ host, mtu });
  engine.onEvent((e) => print('EVENT', e));
  const local = sockaddr(a.local, 'local');
  if (a.proto === 'tcp' && a.listen) {
    const transport = await createTcpP2pListener({ listen: local });
    await engine.api.call('newPeer', { transport });
  } else {
    const proto = a.proto === 'tcp' ? 'tcp' : 'udp';
    await engine.api.call('newPeer', { proto, local, remote: sockaddr(a.remote, 'remote') });
  }
  const [interval, timeout] = a.keepalive.split(',').map(Number);
  await applyStaticKey(engine.api, {
    keyText: readFileSync(a.key ?? '', 'utf8'),
    cipher: a.cipher as CipherName,
    direction: a.direction === '1' ? 1 : 0,
    keepaliveInterval: interval ?? 0,
    keepaliveTimeout: timeout ?? 0,
  });
  const snapshot = async (): Promise<unknown> => ({
    tun: host.stats,
    engine: await engine.api.call('getStats', {}),
    drops: engine.drops(),
    transport: nonZero(engine.core.transport?.counters ?? {}),
  });
  const statsMs = Number(a['stats-ms']);
  const timer =
    statsMs > 0 ? setInterval(() => void snapshot().then((s) => print('STATS', s)), statsMs) : null;
  process.on('SIGUSR1', () => void snapshot().then((s) => print('STATS', s)));
  process.once('SIGTERM', () => {
    if (timer !== null) clearInterval(timer);
    void (async () => {
      const s = await snapshot();
      await engine.close();
      host.close();
      print('CLOSED', s);
      process.exit(0);
    })();
  });
  print('READY', { tun: host.name, local, transport: engine.core.transport?.constructor.name ?? null });
}

main().catch((e: unknown) => {
  process.stdout.write(`FAILED ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
