// One ovpn-ts static-key peer for the tunnel bench, started inside a namespace by bench/tunnel.ts.
// Like test/netns/tunnel-peer.ts (UDP only), plus the engine knobs the bench tunes
// (--adapter: NetAdapterOptions ring sizes/budgets as JSON; --rx-slots; --gso on|off) so a run can try
// values without editing the engine defaults.
//
//   node dist/bench/lib/ovpn-peer.js --key K --direction 0|1 --local A:P --remote A:P \
//     --tun4 10.77.0.1/24 --dev ovtb0 [--mtu 1420] [--adapter '{"budget":{"rxIndicate":64}}']
//
// stdout: "READY {...}" once up; after SIGTERM "CLOSED {tun, engine, drops}" and exit 0.
// A setup failure prints "FAILED <message>" and exits 1.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Engine } from '../../src/engine/engine.js';
import type { EngineOptions } from '../../src/engine/engine.js';
import { applyStaticKey } from '../../src/engine/static-key.js';
import { RX_SLOT_COUNT, RX_SLOT_SIZE } from '../../src/engine/constants.js';
import { DEFAULT_UDP_SOCKET_BUFFER, defaultTransportFactory } from '../../src/engine/transport-factory.js';
import { createNativeUdpTransport } from '../../src/transport/native-udp.js';
import { TunHost } from '../../src/os/linux/tun-host.js';
import type { SockAddr } from '../../src/transport/addr.js';
import type { CipherName } from '../../src/crypto/aead.js';

const { values: a } = parseArgs({
  options: {
    key: { type: 'string' },
    cipher: { type: 'string', default: 'AES-256-GCM' },
    direction: { type: 'string', default: '0' },
    local: { type: 'string' },
    remote: { type: 'string' },
    tun4: { type: 'string' },
    dev: { type: 'string', default: 'ovtb%d' },
    mtu: { type: 'string', default: '1420' },
    adapter: { type: 'string' },
    'rx-slots': { type: 'string' },
    gso: { type: 'string' },
    gro: { type: 'boolean', default: false },
    'tun-offload': { type: 'string', default: 'on' },
  },
});

function sockaddr(s: string | undefined, what: string): SockAddr {
  const m = s === undefined ? null : /^([^:]+):(\d+)$/.exec(s);
  if (m === null) throw new Error(`--${what}: expected a.b.c.d:port, got ${s}`);
  return { address: m[1]!, port: Number(m[2]) };
}

function print(tag: string, value: unknown): void {
  process.stdout.write(`${tag} ${JSON.stringify(value)}\n`);
}

/** --gso on|off: the default factory with UDP_SEGMENT forced on or off (A/B trials). */
function factory(gso: boolean, slots: number): EngineOptions['transportFactory'] {
  return defaultTransportFactory({ gso, rxSlotSize: RX_SLOT_SIZE, rxSlotCount: slots });
}

/** --gro: native UDP with UDP_GRO (64 KiB slots, a coalesced buffer per slot) and GSO. */
const GRO_SLOT = 65536;
const GRO_SLOTS = 256;
const groFactory: EngineOptions['transportFactory'] = async (req) => {
  const t = createNativeUdpTransport({
    bind: req.local ?? { address: '0.0.0.0', port: 0 },
    ...(req.remote ? { remote: req.remote } : {}),
    gso: true,
    gro: true,
    rxSlotSize: GRO_SLOT,
    rxSlotCount: GRO_SLOTS,
    recvBufferSize: DEFAULT_UDP_SOCKET_BUFFER,
    sendBufferSize: DEFAULT_UDP_SOCKET_BUFFER,
  });
  return { transport: t, local: t.localAddress() };
};

async function main(): Promise<void> {
  const mtu = Number(a.mtu);
  const host = TunHost.open({
    name: a.dev,
    mtu,
    offload: a['tun-offload'] !== 'off',
    ...(a.tun4 ? { ipv4: a.tun4 } : {}),
  });
  const adapter = a.adapter ? (JSON.parse(a.adapter) as EngineOptions['adapter']) : undefined;
  const engine = await Engine.create({
    host,
    mtu,
    ...(adapter ? { adapter } : {}),
    ...(a['rx-slots'] ? { rxSlotCount: Number(a['rx-slots']) } : {}),
    ...(a.gso !== undefined
      ? { transportFactory: factory(a.gso === 'on', Number(a['rx-slots'] ?? RX_SLOT_COUNT)) }
      : {}),
    ...(a.gro ? { transportFactory: groFactory, rxSlotSize: GRO_SLOT - 1, rxSlotCount: GRO_SLOTS } : {}),
  });
  await engine.api.call('newPeer', {
    proto: 'udp',
    local: sockaddr(a.local, 'local'),
    remote: sockaddr(a.remote, 'remote'),
  });
  await applyStaticKey(engine.api, {
    keyText: readFileSync(a.key ?? '', 'utf8'),
    cipher: a.cipher as CipherName,
    direction: a.direction === '1' ? 1 : 0,
    keepaliveInterval: 0,
    keepaliveTimeout: 0,
  });
  process.once('SIGTERM', () => {
    void (async () => {
      const s = { tun: host.stats, engine: await engine.api.call('getStats', {}), drops: engine.drops() };
      await engine.close();
      host.close();
      print('CLOSED', s);
      process.exit(0);
    })();
  });
  print('READY', { tun: host.name, transport: engine.core.transport?.constructor.name ?? null });
}

main().catch((e: unknown) => {
  process.stdout.write(`FAILED ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
