// The tunnels compared by bench/tunnel.ts, each brought up between the two namespaces of one
// topology and torn down again before the next (so they never compete for the 2 cores).
//
//   ns a (clients: iperf3 -c, ping)                  ns b (iperf3 -s, ping target)
//   veth-a 10.99.X.1 ───────────── veth ─────────────── veth-b 10.99.X.2        bare veth
//   ovtb-ts   10.77.0.1/24  ovpn-ts peer, UDP 1194   ── ovtb-ts   10.77.0.2/24  ovpn-ts
//   ovtb-ovpn 10.78.0.1 p2p openvpn tls-client       ── ovtb-ovpn 10.78.0.2     openvpn 2.6
//   ovtwgXXXXa 10.79.0.1/24 wireguard-go, UDP 51820  ── ovtwgXXXXb 10.79.0.2/24 wireguard-go
//
// Every tunnel has MTU 1420 (wireguard-go's default; set explicitly on the others) and carries
// AES-256-GCM over UDP (WireGuard: ChaCha20-Poly1305, its only cipher). Every process is started
// with spawnIn (tracked, killed by PID group in stop(), and by the topology's safety net on
// Ctrl-C). The wireguard interface names have a random suffix because their UAPI sockets live in
// the shared /var/run/wireguard.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execIn, haveCommand, spawnIn } from '../../test/util/netns.js';
import type { NsProcess, Topology } from '../../test/util/netns.js';
import { generateStaticKey } from '../../src/protocol/static-key.js';
import { loadNative } from '../../src/native/index.js';

export const TUNNEL_MTU = 1420;

export interface BenchContext {
  topo: Topology;
  /** Private work directory (keys, configs, PKI); removed by the caller. */
  dir: string;
  /** Extra node flags for the ovpn-ts peers (e.g. --cpu-prof). */
  nodeArgs: string[];
  /** JSON NetAdapterOptions overrides for the ovpn-ts peers ('' = engine defaults). */
  adapterJson: string;
  /** More ovpn-peer.ts options (e.g. ['--gso', 'off']). */
  peerArgs?: string[];
  /** 'cli': run ovpn-ts as `ovpn-ts up` (the shipped CLI, engine defaults, no knobs). */
  peer?: 'bench' | 'cli';
}

export interface Running {
  /** Address of ns b's end, reached from ns a through this contender. */
  server: string;
  /** The tunnel's own processes (their CPU time is measured). */
  pids: number[];
  /** Stop every process this contender started; returns notes worth printing (peer stats). */
  stop(): Promise<string[]>;
}

export interface Contender {
  id: 'veth' | 'ovpn-ts' | 'ovpn-ts-plain' | 'openvpn' | 'wireguard-go';
  label: string;
  /** Why it cannot run here (missing binary or addon), or false. */
  unavailable(): string | false;
  start(ctx: BenchContext): Promise<Running>;
}

const here = fileURLToPath(import.meta.url);
/** The compiled peer next to this file, or the .ts through tsx when run from source. */
const peerCmd = here.endsWith('.js')
  ? [here.replace(/contenders\.js$/, 'ovpn-peer.js')]
  : ['--import', 'tsx', here.replace(/contenders\.ts$/, 'ovpn-peer.ts')];
/** `ovpn-ts up` (src/cli/main), compiled or through tsx. */
const cliCmd = here.endsWith('.js')
  ? [fileURLToPath(new URL('../../src/cli/main.js', import.meta.url))]
  : ['--import', 'tsx', fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))];

async function stopAll(procs: NsProcess[]): Promise<void> {
  await Promise.all(procs.map((p) => p.kill(3000).catch(() => undefined)));
}

async function mustIn(ns: string, cmd: string, args: string[]): Promise<void> {
  const r = await execIn(ns, cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} in ${ns}: ${r.stderr.trim()}`);
}

const veth: Contender = {
  id: 'veth',
  label: 'bare veth',
  unavailable: () => false,
  async start(ctx) {
    return { server: ctx.topo.b.ipv4, pids: [], stop: async () => [] };
  },
};

const ovpnTs: Contender = {
  id: 'ovpn-ts',
  label: 'ovpn-ts',
  unavailable: () => (loadNative() === null ? 'the native addon is not built (npm run install)' : false),
  async start(ctx) {
    const key = join(ctx.dir, 'ovpn-ts.key');
    writeFileSync(key, generateStaticKey(), { mode: 0o600 });
    const { a, b } = ctx.topo;
    const cli = (ns: string, me: string, other: string, n: number): NsProcess =>
      spawnIn(ns, process.execPath, [
        ...ctx.nodeArgs,
        ...cliCmd,
        ...['up', '--key', key, '--cipher', 'AES-256-GCM', '--direction', String(n - 1)],
        ...['--local', `${me}:1194`, '--remote', `${other}:1194`, '--dev', 'ovtb-ts'],
        ...['--ifconfig', `10.77.0.${n}/24`, '--mtu', String(TUNNEL_MTU), '--keepalive', '0,0', '--quiet'],
        ...['--control-socket', join(ctx.dir, `ovpn-ts-${n}.sock`)],
      ]);
    const bench = (ns: string, me: string, other: string, n: number): NsProcess =>
      spawnIn(ns, process.execPath, [
        ...ctx.nodeArgs,
        ...peerCmd,
        ...['--key', key, '--direction', String(n - 1), '--dev', 'ovtb-ts', '--mtu', String(TUNNEL_MTU)],
        ...['--local', `${me}:1194`, '--remote', `${other}:1194`, '--tun4', `10.77.0.${n}/24`],
        ...(ctx.adapterJson ? ['--adapter', ctx.adapterJson] : []),
        ...(ctx.peerArgs ?? []),
      ]);
    const peer = (ns: string, me: string, other: string, n: number): NsProcess =>
      ctx.peer === 'cli' ? cli(ns, me, other, n) : bench(ns, me, other, n);
    const procs = [peer(a.ns, a.ipv4, b.ipv4, 1), peer(b.ns, b.ipv4, a.ipv4, 2)];
    try {
      for (const p of procs) await p.waitForOutput(/^(ovpn-ts: )?(READY|FAILED) /m, 15_000);
      const failed = procs.find((p) => /^FAILED /m.test(p.stdout()));
      if (failed) throw new Error(`ovpn-ts peer failed:\n${failed.stdout().slice(-1500)}`);
    } catch (e) {
      await stopAll(procs);
      throw e;
    }
    return {
      server: '10.77.0.2',
      pids: procs.map((p) => p.pid),
      async stop() {
        await stopAll(procs);
        return procs.map(
          (p, k) => `peer ${k === 0 ? 'a' : 'b'}: ${/^CLOSED (.*)$/m.exec(p.stdout())?.[1] ?? '?'}`,
        );
      },
    };
  },
};

/**
 * ovpn-ts with the TUN's virtio-net offloads off (one packet per read and write): the same engine,
 * side by side, to show what TSO reads and merged GRO writes are worth.
 */
const ovpnTsPlain: Contender = {
  id: 'ovpn-ts-plain',
  label: 'ovpn-ts, TUN offload off',
  unavailable: ovpnTs.unavailable,
  start: (ctx) =>
    ovpnTs.start({
      ...ctx,
      peer: 'bench',
      peerArgs: [...(ctx.peerArgs ?? []), '--tun-offload', 'off'],
    }),
};

/** openvpn 2.6 P2P TLS (openvpn-protocol.md §H): b is the tls-server, a the tls-client. */
function openvpnConfig(side: 'server' | 'client', me: string, peerAddr: string): string {
  const common = [
    'dev ovtb-ovpn',
    'dev-type tun',
    'proto udp4',
    `tun-mtu ${TUNNEL_MTU}`,
    'ca ca.crt',
    'tls-version-min 1.2',
    'data-ciphers AES-256-GCM',
    'tls-crypt tc.key',
    'allow-compression no',
    'disable-dco',
    'reneg-sec 0',
    'keepalive 10 60',
    'verb 3',
  ];
  const own =
    side === 'server'
      ? ['tls-server', `local ${me}`, 'lport 1195', 'ifconfig 10.78.0.2 10.78.0.1', 'cert server.crt']
      : [
          'tls-client',
          `remote ${peerAddr} 1195`,
          'nobind',
          'ifconfig 10.78.0.1 10.78.0.2',
          'cert client.crt',
        ];
  const extra =
    side === 'server' ? ['key server.key', 'dh none'] : ['key client.key', 'remote-cert-tls server'];
  return [...own, ...extra, ...common].join('\n') + '\n';
}

const openvpn: Contender = {
  id: 'openvpn',
  label: 'OpenVPN 2.6',
  unavailable: () =>
    !haveCommand('openvpn')
      ? 'openvpn not found (apt-get install openvpn)'
      : !haveCommand('openssl')
        ? 'openssl not found (needed for the lab PKI)'
        : false,
  async start(ctx) {
    const pki = join(ctx.dir, 'pki');
    const script = fileURLToPath(new URL('../../../scripts/lab/pki.sh', import.meta.url));
    const pkiScript = existsSync(script)
      ? script
      : fileURLToPath(new URL('../../scripts/lab/pki.sh', import.meta.url));
    execFileSync('bash', [pkiScript, pki], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
    const { a, b } = ctx.topo;
    writeFileSync(join(pki, 'server.conf'), openvpnConfig('server', b.ipv4, a.ipv4));
    writeFileSync(join(pki, 'client.conf'), openvpnConfig('client', a.ipv4, b.ipv4));
    const procs = [
      spawnIn(b.ns, 'openvpn', ['--cd', pki, '--config', 'server.conf']),
      spawnIn(a.ns, 'openvpn', ['--cd', pki, '--config', 'client.conf']),
    ];
    try {
      for (const p of procs) await p.waitForOutput(/Initialization Sequence Completed/, 20_000);
    } catch (e) {
      await stopAll(procs);
      throw e;
    }
    return {
      server: '10.78.0.2',
      pids: procs.map((p) => p.pid),
      async stop() {
        await stopAll(procs);
        return [];
      },
    };
  },
};

function wgKey(): { priv: string; pub: string } {
  const priv = execFileSync('wg', ['genkey'], { encoding: 'utf8', timeout: 5000 }).trim();
  const pub = execFileSync('wg', ['pubkey'], { input: priv, encoding: 'utf8', timeout: 5000 }).trim();
  return { priv, pub };
}

const wireguardGo: Contender = {
  id: 'wireguard-go',
  label: 'wireguard-go',
  unavailable: () =>
    !haveCommand('wireguard-go')
      ? 'wireguard-go not found (apt-get install wireguard-go)'
      : !haveCommand('wg')
        ? 'wg not found (apt-get install wireguard-tools)'
        : false,
  async start(ctx) {
    const tag = randomBytes(4).toString('hex');
    const { a, b } = ctx.topo;
    const sides = [
      { side: a, other: b, name: `ovtwg${tag}a`, keys: wgKey() },
      { side: b, other: a, name: `ovtwg${tag}b`, keys: wgKey() },
    ];
    const env = { WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: '1', LOG_LEVEL: 'error' };
    const procs = sides.map((s) => spawnIn(s.side.ns, 'wireguard-go', ['-f', s.name], { env }));
    try {
      for (const [k, s] of sides.entries()) {
        await waitForSocket(s.name, procs);
        const keyFile = join(ctx.dir, `wg-${k}.key`);
        writeFileSync(keyFile, s.keys.priv + '\n', { mode: 0o600 });
        const peerPub = sides[1 - k]!.keys.pub;
        await mustIn(s.side.ns, 'wg', [
          ...['set', s.name, 'private-key', keyFile, 'listen-port', '51820'],
          ...['peer', peerPub, 'endpoint', `${s.other.ipv4}:51820`, 'allowed-ips', '10.79.0.0/24'],
        ]);
        await mustIn(s.side.ns, 'ip', ['addr', 'add', `10.79.0.${k + 1}/24`, 'dev', s.name]);
        await mustIn(s.side.ns, 'ip', ['link', 'set', s.name, 'mtu', String(TUNNEL_MTU), 'up']);
      }
    } catch (e) {
      await stopAll(procs);
      throw e;
    }
    return {
      server: '10.79.0.2',
      pids: procs.map((p) => p.pid),
      async stop() {
        await stopAll(procs);
        return [];
      },
    };
  },
};

/**
 * wireguard-go names its UAPI socket after the interface in the shared /var/run/wireguard (not
 * per namespace), so each side has its own name; the socket appears once the device is up.
 */
async function waitForSocket(name: string, procs: NsProcess[]): Promise<void> {
  const path = `/var/run/wireguard/${name}.sock`;
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const dead = procs.find((p) => p.exited);
    if (dead) throw new Error(`wireguard-go exited: ${dead.stdout()}${dead.stderr()}`.slice(0, 800));
    if (existsSync(path)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`wireguard-go: no ${path} after 5 s`);
}

export const CONTENDERS: readonly Contender[] = [veth, ovpnTs, ovpnTsPlain, openvpn, wireguardGo];
