// `ovpn-ts --config FILE [--option ...]` / `ovpn-ts connect ...`: an OpenVPN 2.6 client from an
// ordinary profile. Options are openvpn's, applied in order (later ones override the file).
//
//   1. parseArgv: profile + overrides -> ClientOptions (warnings printed)
//   2. TunHost (dev NAME, or the kernel's tunN for `dev tun`) + Engine (data channel) with the
//      default transports; the engine exists before any peer, as ovpn-dco's device does
//   3. OpenVpnClient drives the engine through its control API; TUN settings go through `ip`
//   4. SIGINT/SIGTERM: exit notify, delPeer, engine closed, TUN device gone; exit code 0
//
// Output contract: log lines (timestamped, filtered by --verb) on stdout, one
// "ovpn-ts: CONNECTED ..." line per (re)connection, "ovpn-ts: stopped" at the end; errors on
// stderr as "ovpn-ts: ERROR: ...". Exit 0 after a signal, 1 on a fatal error, 2 on a bad option.

import { readFileSync } from 'node:fs';
import { OpenVpnClient, type ClientEvent, type ConnectionInfo } from '../../client/client.js';
import { ttyPrompt } from '../../client/credentials.js';
import { IpNetConfigurator } from '../../client/net-config.js';
import { parseArgv } from '../../config/parse.js';
import type { ClientOptions } from '../../config/options.js';
import { Engine } from '../../engine/engine.js';
import { defaultTransportFactory } from '../../engine/transport-factory.js';
import { TunHost } from '../../os/linux/tun-host.js';
import { CompressMode } from '../../protocol/data/compress.js';
import { VERSION } from '../../index.js';
import { isOvpnError } from '../../util/errors.js';
import { NEED_NET_ADMIN, canAdminNetwork } from '../privilege.js';

const EXIT_OK = 0;
const EXIT_FAIL = 1;
const EXIT_USAGE = 2;

const HELP = `usage: ovpn-ts --config FILE [--option value ...]
       ovpn-ts connect --config FILE [--option value ...]

Connects to an OpenVPN 2.6 server with an ordinary client profile. Any openvpn option can be
given on the command line after --config and overrides the file (e.g. --verb 4, --remote HOST
PORT, --hand-window 10). Needs root or CAP_NET_ADMIN (it creates a TUN device).
Stop with Ctrl-C or SIGTERM (explicit-exit-notify is honoured).
`;

/** openvpn accepts `--opt=value`? It does not, but `--config=FILE` is a common habit: split it. */
function normalize(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (const a of argv) {
    const m = /^(--[a-z0-9-]+)=(.*)$/.exec(a);
    if (m !== null) out.push(m[1] as string, m[2] as string);
    else out.push(a);
  }
  return out;
}

function stamp(): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

const out = (line: string): void => void process.stdout.write(`${stamp()} ${line}\n`);
const err = (line: string): void => void process.stderr.write(`ovpn-ts: ${line}\n`);

function compressOf(p: ClientOptions): CompressMode {
  const f = p.compression.framing;
  return f === 'comp-lzo'
    ? CompressMode.LZO_NO
    : f === 'compress'
      ? CompressMode.STUB
      : f === 'compress-v2'
        ? CompressMode.STUB_V2
        : CompressMode.NONE;
}

function connectedLine(i: ConnectionInfo, dev: string): string {
  const a = i.plan.ipv4;
  const addr = a === undefined ? 'no ipv4' : `${a.local}/${a.prefixLen}`;
  const v6 = i.plan.ipv6 === undefined ? '' : ` ${i.plan.ipv6.local}/${i.plan.ipv6.prefixLen}`;
  return (
    `ovpn-ts: CONNECTED dev ${dev} ${addr}${v6} server ${i.remote.address}:${i.remote.port}/${i.proto} ` +
    `cipher ${i.cipher} peer-id ${i.peerId ?? 'none'} keys ${i.keyDerivation} (Initialization Sequence Completed)`
  );
}

function onClientEvent(e: ClientEvent, dev: string): void {
  if (e.type === 'connected') {
    process.stdout.write(connectedLine(e.info, dev) + '\n');
    for (const d of e.info.plan.dns) out(`pushed ${d}: not applied, configure DNS yourself`);
  } else if (e.type === 'error') {
    err(`ERROR: ${e.message}`);
  } else if (e.type === 'state') {
    out(`state: ${e.state}${e.reason !== undefined ? ` (${e.reason})` : ''}`);
  }
}

export async function runConnect(argv: string[]): Promise<number> {
  const args = argv[0] === 'connect' ? argv.slice(1) : argv;
  if (args.length === 0 || args.includes('--help') || args.includes('-h')) {
    process.stdout.write(HELP);
    return args.length === 0 ? EXIT_USAGE : EXIT_OK;
  }
  let profile: ClientOptions;
  try {
    const parsed = parseArgv(normalize(args), { readFile: (p) => readFileSync(p) });
    profile = parsed.options;
    if (profile.verb >= 1) for (const w of parsed.warnings) err(`WARNING: ${w.message}`);
  } catch (e) {
    err(e instanceof Error ? e.message : String(e));
    return EXIT_USAGE;
  }
  if (!canAdminNetwork()) {
    err(NEED_NET_ADMIN);
    return EXIT_FAIL;
  }
  return run(profile);
}

async function run(profile: ClientOptions): Promise<number> {
  const mtu = profile.connections[0]?.tunMtu ?? 1500;
  const devName = profile.dev.name === 'tun' ? 'tun%d' : profile.dev.name;
  let tun: TunHost;
  try {
    tun = TunHost.open({ name: devName, mtu, up: true });
  } catch (e) {
    err(e instanceof Error ? e.message : String(e));
    return EXIT_FAIL;
  }
  const engine = await Engine.create({
    host: tun,
    mtu,
    transportFactory: defaultTransportFactory(),
    replayWindow: profile.replayWindow.size,
    replayTimeSeconds: profile.replayWindow.time,
    compress: compressOf(profile),
  });
  let client: OpenVpnClient;
  try {
    client = new OpenVpnClient({
      profile,
      api: engine.api,
      net: new IpNetConfigurator(tun.name),
      log: out,
      ...(ttyPrompt() !== undefined ? { prompt: ttyPrompt() } : {}),
      occExit: () => engine.sendExitNotify(),
      setCompress: (m) => engine.setCompress(m),
      version: `ovpn-ts-${VERSION.major}.${VERSION.minor}.${VERSION.patch}`,
    });
  } catch (e) {
    err(isOvpnError(e) ? e.message : String(e));
    await engine.close();
    tun.close();
    return EXIT_FAIL;
  }
  out(`ovpn-ts ${VERSION.major}.${VERSION.minor}.${VERSION.patch}: OpenVPN client on ${tun.name}`);
  client.on((e) => onClientEvent(e, tun.name));
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (++signals > 1) return out(`${sig} again: already stopping`);
    out(`${sig} received, exiting`);
    void client.stop(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  client.start();
  const code = await client.done;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  await engine.close();
  tun.close();
  process.stdout.write('ovpn-ts: stopped\n');
  return code;
}
