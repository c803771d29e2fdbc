// `ovpn-ts up`: a static-key tunnel in the foreground (tunnel.ts), its control socket, a live
// status line, event log lines, and a clean stop on SIGINT/SIGTERM.
//
// Output contract (scripts and the demo rely on it):
//   stdout  "ovpn-ts: READY ..." once everything is up; event lines; status lines (redrawn in
//           place on a terminal, one every 10 s otherwise, none with --quiet);
//           "ovpn-ts: stopped" after a clean stop.
//   stderr  errors. Exit 0 after a signal-initiated stop, 1 on failure, 2 on a bad option.

import { readFileSync } from 'node:fs';
import { parseStaticKey } from '../../protocol/static-key.js';
import { loadNative, nativeLoadError } from '../../native/index.js';
import type { ControlEvent } from '../../control-api/schema.js';
import { ConfigError, ControlApiError } from '../../util/errors.js';
import { EXIT_FAIL, EXIT_OK, reportError, type Io } from '../io.js';
import { defaultSocketPath } from '../paths.js';
import { NEED_NET_ADMIN, canAdminNetwork } from '../privilege.js';
import { flag, helpFor, parseCommand, str, strs, type CommandSpec } from '../spec.js';
import { redraw, sampleOf, statusLine, type Sample } from '../status.js';
import { Tunnel, cidrText, type Proto, type TunnelConfig } from '../tunnel.js';
import {
  parseChoice,
  parseCidr,
  parseHostPort,
  parseIfName,
  parseIntIn,
  required,
  type Cidr,
} from '../values.js';

export const UP_CIPHERS = ['AES-256-GCM', 'AES-128-GCM', 'CHACHA20-POLY1305'] as const;
const PROTOS = ['udp', 'tcp-client', 'tcp-server'] as const;
/** The engine's receive slots are 2048 bytes; a frame plus 26 bytes of overhead must fit. */
export const MTU_MIN = 576;
export const MTU_MAX = 2000;
const STATUS_PERIOD_TTY_MS = 1000;
const STATUS_PERIOD_PLAIN_MS = 10_000;
const STOP_TIMEOUT_MS = 5000;

export const upSpec: CommandSpec = {
  name: 'up',
  synopsis: [
    'ovpn-ts up --key FILE --cipher CIPHER --direction 0|1 --local ADDR:PORT --remote ADDR:PORT',
    '           --dev NAME --ifconfig ADDR/LEN [options]',
  ],
  summary:
    'Bring up a static-key tunnel (OpenVPN data channel, no TLS) on a new TUN device and run it in\n' +
    'the foreground until SIGINT/SIGTERM. Both ends use the same key file with opposite --direction.\n' +
    'Needs root or CAP_NET_ADMIN.',
  options: {
    key: { type: 'string', value: 'FILE', help: 'Static key file (create one with `ovpn-ts genkey FILE`).' },
    cipher: { type: 'string', value: 'CIPHER', help: `Data channel cipher: ${UP_CIPHERS.join(', ')}.` },
    direction: { type: 'string', value: '0|1', help: 'Key direction: 0 on one end, 1 on the other.' },
    local: {
      type: 'string',
      value: 'ADDR:PORT',
      help: 'Local address to bind ([v6]:port for IPv6); optional with tcp-client.',
    },
    remote: { type: 'string', value: 'ADDR:PORT', help: "The peer's address (not used with tcp-server)." },
    proto: { type: 'string', value: 'PROTO', help: 'udp (default), tcp-client or tcp-server.' },
    dev: { type: 'string', value: 'NAME', help: 'TUN device name to create (1-15 characters), e.g. ovpn0.' },
    ifconfig: { type: 'string', value: 'ADDR/LEN', help: 'IPv4 address of the device, e.g. 10.77.0.1/24.' },
    'ifconfig-ipv6': {
      type: 'string',
      value: 'ADDR/LEN',
      help: 'IPv6 address of the device, e.g. fd77::1/64.',
    },
    route: {
      type: 'string',
      value: 'NET/LEN',
      multiple: true,
      help: 'Route NET/LEN through the device (repeatable).',
    },
    mtu: { type: 'string', value: 'N', help: `Device MTU, ${MTU_MIN}..${MTU_MAX} (default 1500).` },
    'tun-offload': {
      type: 'string',
      value: 'on|off',
      help: 'TCP offloads on the TUN device (TSO reads, merged writes); default on.',
    },
    keepalive: {
      type: 'string',
      value: 'I,T',
      help: 'Ping after I s idle; timeout after T s silent (default 10,60; 0,0 off).',
    },
    'peer-id': {
      type: 'string',
      value: 'N',
      help: 'Peer id in DATA_V2 headers, same on both ends (default 0).',
    },
    'control-socket': {
      type: 'string',
      value: 'PATH',
      help: 'Control socket (default /run/ovpn-ts/<dev>.sock).',
    },
    quiet: { type: 'boolean', short: 'q', help: 'No status lines (events and errors are still printed).' },
  },
  notes:
    'Example (two hosts, 192.0.2.1 and 192.0.2.2):\n' +
    '  ovpn-ts genkey static.key          # copy it to the other host\n' +
    '  host 1: sudo ovpn-ts up --key static.key --cipher AES-256-GCM --direction 0 \\\n' +
    '            --local 192.0.2.1:1194 --remote 192.0.2.2:1194 --dev ovpn0 --ifconfig 10.77.0.1/24\n' +
    '  host 2: sudo ovpn-ts up --key static.key --cipher AES-256-GCM --direction 1 \\\n' +
    '            --local 192.0.2.2:1194 --remote 192.0.2.1:1194 --dev ovpn0 --ifconfig 10.77.0.2/24\n' +
    '  then:   ping 10.77.0.2; ovpn-ts stats --dev ovpn0',
};

export interface UpOptions extends TunnelConfig {
  readonly keyFile: string;
  readonly quiet: boolean;
}

/** Parse and validate `up` arguments (reads the key file); ConfigError names the bad option. */
export function parseUpArgs(argv: readonly string[]): UpOptions | 'help' {
  const { values } = parseCommand(upSpec, argv, 0);
  if (flag(values, 'help')) return 'help';
  const keyFile = required('--key', str(values, 'key'), 'static.key');
  const cipher = parseChoice(
    '--cipher',
    required('--cipher', str(values, 'cipher'), 'AES-256-GCM'),
    UP_CIPHERS,
  );
  const direction = parseChoice('--direction', required('--direction', str(values, 'direction'), '0'), [
    '0',
    '1',
  ]);
  const proto: Proto = parseChoice('--proto', str(values, 'proto') ?? 'udp', PROTOS);
  const { local, remote } = endpoints(proto, str(values, 'local'), str(values, 'remote'));
  const dev = parseIfName('--dev', required('--dev', str(values, 'dev'), 'ovpn0'));
  const ifconfig = parseCidr(
    '--ifconfig',
    required('--ifconfig', str(values, 'ifconfig'), '10.77.0.1/24'),
    4,
  );
  const v6 = str(values, 'ifconfig-ipv6');
  const ifconfig6 = v6 === undefined ? undefined : parseCidr('--ifconfig-ipv6', v6, 6);
  const routes = strs(values, 'route').map((r) => parseRoute(r));
  const mtu = parseMtu(str(values, 'mtu'), ifconfig6);
  const keepalive = parseKeepalive(str(values, 'keepalive') ?? '10,60');
  const offloadText = str(values, 'tun-offload');
  const tunOffload =
    offloadText === undefined ? undefined : parseChoice('--tun-offload', offloadText, ['on', 'off']) === 'on';
  const peerId = parseIntIn('--peer-id', str(values, 'peer-id') ?? '0', 0, 0xfffffe);
  const controlSocket = str(values, 'control-socket') ?? defaultSocketPath(dev);
  if (controlSocket === '') throw new ConfigError('--control-socket', '--control-socket: give a file path');
  return {
    keyFile,
    keyText: readKey(keyFile),
    cipher,
    direction: direction === '0' ? 0 : 1,
    proto,
    local,
    remote,
    dev,
    ifconfig,
    ifconfig6,
    routes,
    mtu,
    ...(tunOffload !== undefined ? { tunOffload } : {}),
    keepalive,
    peerId,
    controlSocket,
    quiet: flag(values, 'quiet'),
  };
}

function endpoints(
  proto: Proto,
  localText: string | undefined,
  remoteText: string | undefined,
): Pick<UpOptions, 'local' | 'remote'> {
  if (proto === 'tcp-server' && remoteText !== undefined) {
    throw new ConfigError(
      '--remote',
      '--remote is not used with --proto tcp-server (the server takes whichever client connects); remove it',
    );
  }
  // tcp-client may leave --local out (any address, any port); udp and tcp-server bind to it.
  if (localText === undefined && proto !== 'tcp-client') required('--local', localText, '192.0.2.1:1194');
  const local =
    localText === undefined ? undefined : parseHostPort('--local', localText, proto === 'tcp-client');
  const remote =
    proto === 'tcp-server'
      ? undefined
      : parseHostPort('--remote', required('--remote', remoteText, '192.0.2.2:1194'), false);
  if (local && remote && local.address.includes(':') !== remote.address.includes(':')) {
    throw new ConfigError(
      '--local',
      `--local ${local.address} and --remote ${remote.address} are different address families; use IPv4 for both or IPv6 for both`,
    );
  }
  return { local, remote };
}

function parseRoute(text: string): Cidr {
  return parseCidr('--route', text, 0);
}

function parseMtu(text: string | undefined, v6: Cidr | undefined): number {
  const mtu = parseIntIn('--mtu', text ?? '1500', MTU_MIN, MTU_MAX);
  if (v6 !== undefined && mtu < 1280) {
    throw new ConfigError(
      '--mtu',
      `--mtu ${mtu} is below 1280, the IPv6 minimum; raise it or drop --ifconfig-ipv6`,
    );
  }
  return mtu;
}

/** `I,T` (or `I T`): OpenVPN's rule that T be at least twice I, unless either is 0. */
function parseKeepalive(text: string): { interval: number; timeout: number } {
  const parts = text.split(/[,\s]+/).filter((p) => p !== '');
  if (parts.length !== 2) {
    throw new ConfigError(
      '--keepalive',
      `--keepalive: "${text}" is not INTERVAL,TIMEOUT; e.g. --keepalive 10,60`,
    );
  }
  const interval = parseIntIn('--keepalive', parts[0]!, 0, 86400);
  const timeout = parseIntIn('--keepalive', parts[1]!, 0, 86400);
  if (interval > 0 && timeout > 0 && timeout < 2 * interval) {
    throw new ConfigError(
      '--keepalive',
      `--keepalive ${interval},${timeout}: the timeout must be at least twice the interval, e.g. ${interval},${interval * 6}`,
    );
  }
  return { interval, timeout };
}

function readKey(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new ConfigError(
      '--key',
      `--key: cannot read ${file} (${why}); create a key with: ovpn-ts genkey ${file}`,
    );
  }
  try {
    parseStaticKey(text);
  } catch (e) {
    throw new ConfigError(
      '--key',
      `--key ${file}: ${(e as Error).message} (create a key with: ovpn-ts genkey FILE)`,
    );
  }
  return text;
}

// ---- running ----------------------------------------------------------------------------------

/** Prints log lines without tearing a status line that is being redrawn in place. */
class Console {
  private statusShown = false;
  constructor(private readonly io: Io) {}

  get isTTY(): boolean {
    return this.io.isTTY;
  }

  log(line: string): void {
    const clear = this.statusShown ? '\r\x1b[K' : '';
    this.statusShown = false;
    this.io.out(`${clear}${timestamp()} ${line}\n`);
  }

  status(line: string): void {
    if (this.io.isTTY) {
      this.io.out(redraw(line, this.io.columns));
      this.statusShown = true;
    } else {
      this.io.out(`${timestamp()} ${line}\n`);
    }
  }

  endStatus(): void {
    if (this.statusShown) this.io.out('\n');
    this.statusShown = false;
  }
}

function timestamp(): string {
  return new Date().toTimeString().slice(0, 8);
}

export async function runUp(argv: readonly string[], io: Io): Promise<number> {
  let o: UpOptions | 'help';
  try {
    o = parseUpArgs(argv);
  } catch (e) {
    return reportError(io, e);
  }
  if (o === 'help') {
    io.out(helpFor(upSpec));
    return EXIT_OK;
  }
  if (!canAdminNetwork()) {
    io.err(`ovpn-ts up: ${NEED_NET_ADMIN}\n`);
    return EXIT_FAIL;
  }
  if (loadNative() === null) {
    io.err(
      `ovpn-ts up: the native addon is not available (${nativeLoadError()}); build it with \`npm ci\` or \`npm run install\`\n`,
    );
    return EXIT_FAIL;
  }
  const con = new Console(io);
  let tunnel: Tunnel;
  try {
    tunnel = await Tunnel.start(o, (l) => con.log(l));
  } catch (e) {
    return reportError(io, asControlSocketError(e, o.controlSocket));
  }
  io.out(`ovpn-ts: READY ${describe(o)}\n`);
  return supervise(tunnel, o, con);
}

/** A control socket that cannot be made is a usage error naming --control-socket (exit 2). */
function asControlSocketError(e: unknown, path: string): unknown {
  if (!(e instanceof ControlApiError) || e.field !== 'path') return e;
  return new ConfigError(
    '--control-socket',
    `--control-socket ${path}: ${e.message}; choose a path in a writable directory`,
  );
}

function describe(o: UpOptions): string {
  const addrs = [cidrText(o.ifconfig), ...(o.ifconfig6 ? [cidrText(o.ifconfig6)] : [])].join(' ');
  const link =
    o.proto === 'tcp-server'
      ? `tcp-server on ${fmt(o.local!)}`
      : `${o.proto} ${o.local ? fmt(o.local) : '*'} -> ${fmt(o.remote!)}`;
  return `dev ${o.dev} ${addrs} ${link} ${o.cipher} direction ${o.direction}, control socket ${o.controlSocket}`;
}

function fmt(a: { address: string; port: number }): string {
  return a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

/** Run until a signal (exit 0) or a fatal transport loss (exit 1); always stop the tunnel. */
function supervise(t: Tunnel, o: UpOptions, con: Console): Promise<number> {
  return new Promise<number>((resolve) => {
    let peerSilent = false;
    let prev: Sample = sampleOf(t.engine.counters.stats, Date.now());
    // With --quiet the timer still runs: it notices a silent peer coming back.
    const periodMs = con.isTTY || o.quiet ? STATUS_PERIOD_TTY_MS : STATUS_PERIOD_PLAIN_MS;
    const timer = setInterval(() => {
      const cur = sampleOf(t.engine.counters.stats, Date.now());
      if (peerSilent && cur.rxPackets > prev.rxPackets) {
        peerSilent = false;
        con.log('peer is back: packets are arriving again');
      }
      if (!o.quiet) con.status(statusLine(o.dev, prev, cur));
      prev = cur;
    }, periodMs);
    const offEvent = t.engine.onEvent((e) => {
      if (e.type === 'peerDeleted' && e.reason === 'expired') peerSilent = true;
      con.log(describeEvent(e, o));
      if (e.type === 'peerDeleted' && e.reason === 'transport_disconnect' && o.proto === 'tcp-client') {
        con.log(
          'the TCP connection is gone and tcp-client does not reconnect; stopping (start it again to reconnect)',
        );
        void stop(EXIT_FAIL, false);
      }
    });
    let stopping = false;
    const stop = async (code: number, notifyPeer: boolean): Promise<void> => {
      if (stopping) return;
      stopping = true;
      clearInterval(timer);
      offEvent();
      con.endStatus();
      const guard = setTimeout(() => {
        con.log(`stop took longer than ${STOP_TIMEOUT_MS / 1000} s; exiting anyway`);
        resolve(EXIT_FAIL);
      }, STOP_TIMEOUT_MS);
      guard.unref();
      try {
        await t.stop(notifyPeer);
        con.log('ovpn-ts: stopped');
        resolve(code);
      } catch (e) {
        con.log(`error while stopping: ${(e as Error).message}`);
        resolve(EXIT_FAIL);
      } finally {
        clearTimeout(guard);
        for (const s of SIGNALS) process.off(s, onSignal);
      }
    };
    const onSignal = (sig: NodeJS.Signals): void => {
      con.endStatus();
      if (stopping) return;
      con.log(`${sig}: stopping`);
      void stop(EXIT_OK, o.proto === 'udp');
    };
    for (const s of SIGNALS) process.on(s, onSignal);
  });
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

function describeEvent(e: ControlEvent, o: UpOptions): string {
  switch (e.type) {
    case 'peerDeleted':
      if (e.reason === 'expired')
        return `keepalive timeout: nothing received from the peer for ${o.keepalive.timeout} s (the tunnel stays up and resumes when the peer is back)`;
      if (e.reason === 'transport_disconnect') return 'transport disconnected: the TCP connection closed';
      return `peer ${e.peerId} deleted (${e.reason})`;
    case 'float':
      return `peer floated to ${fmt(e.address)}`;
    case 'exitNotify':
      return 'peer sent an exit notification (it is shutting down)';
    case 'keySwapped':
      return `keys swapped: key id ${e.keyId} is now primary`;
    case 'keyRenewalNeeded':
      return 'key renewal needed: packet ids are running out (static keys cannot be renegotiated; restart with a new key)';
  }
}
