// Option handlers: mode, connection entries, device, addressing/routing, timers and misc.
// Each handler validates its own arguments; cross-option rules live in finalize.ts.

import { OvpnConfigError } from './errors.js';
import type { ApplyContext, OptionSpec } from './context.js';
import { warn } from './context.js';
import type { ConfigLine } from './lexer.js';
import { DEFAULTS } from './options.js';
import { INT_MAX, intArg, ipv4Arg, ipv6PrefixArg, oneOf, portArg, protoArg, secondsArg } from './values.js';

type Run = OptionSpec['run'];

const flag =
  (set: (c: ApplyContext) => void): Run =>
  (c) =>
    set(c);

const REDIRECT_FLAGS = [
  'local',
  'autolocal',
  'def1',
  'bypass-dhcp',
  'bypass-dns',
  'block-local',
  'ipv6',
  '!ipv4',
] as const;

function remote(c: ApplyContext, a: readonly string[], l: ConfigLine): void {
  const host = a[0] as string;
  if (host === '') throw new OvpnConfigError(l.pos, 'remote', 'expects a host name or address');
  const port = a[1] === undefined ? undefined : portArg(l.pos, 'remote', a[1]);
  const proto = a[2] === undefined ? undefined : protoArg(l.pos, 'remote', a[2]);
  if (c.inBlock && c.conn.remotes.length > 0) {
    warn(c, l.pos, 'remote', 'a <connection> block holds one remote; this one replaces the previous');
    c.conn.remotes = [];
  }
  c.conn.remotes.push({ host, port, proto, pos: l.pos });
}

function keepalive(c: ApplyContext, a: readonly string[], l: ConfigLine): void {
  const ping = intArg(l.pos, 'keepalive', a[0], 1, INT_MAX, 'the ping interval');
  const restart = intArg(l.pos, 'keepalive', a[1], 1, INT_MAX, 'the restart timeout');
  if (restart < ping * 2) {
    throw new OvpnConfigError(
      l.pos,
      'keepalive',
      `the restart timeout (${restart}) must be at least twice the ping interval (${ping}); e.g. 'keepalive 10 60'`,
    );
  }
  // Client side: keepalive n m == ping n + ping-restart m (the server doubles m; protocol §A5).
  c.d.ping = ping;
  c.d.pingRestart = restart;
}

function connectRetry(c: ApplyContext, a: readonly string[], l: ConfigLine): void {
  const initial = secondsArg(l.pos, 'connect-retry', a[0]);
  const max =
    a[1] === undefined
      ? Math.max(DEFAULTS.connectRetry.max, initial)
      : secondsArg(l.pos, 'connect-retry', a[1]);
  c.conn.connectRetry = { initial, max: Math.max(max, initial) };
}

function mssfix(c: ApplyContext, a: readonly string[], l: ConfigLine): void {
  if (a.length === 0) {
    c.conn.mssfix = { ...DEFAULTS.mssfix };
    return;
  }
  const size = intArg(l.pos, 'mssfix', a[0], 0, 65535, 'a size');
  const mode = a[1] === undefined ? undefined : oneOf(l.pos, 'mssfix', a[1], ['mtu', 'fixed'] as const);
  c.conn.mssfix = { size, mtu: mode === 'mtu', fixed: mode === 'fixed' };
}

function dev(c: ApplyContext, a: readonly string[], l: ConfigLine): void {
  const name = a[0] as string;
  if (/^tap/.test(name)) {
    throw new OvpnConfigError(
      l.pos,
      'dev',
      `'${name}' is a TAP device: ovpn-ts supports only tun; use 'dev tun'`,
    );
  }
  if (name === 'null')
    throw new OvpnConfigError(l.pos, 'dev', "the null device is not supported; use 'dev tun'");
  if (name.length > 15)
    throw new OvpnConfigError(l.pos, 'dev', `interface name '${name}' is longer than 15 characters`);
  c.d.dev = { name, pos: l.pos };
}

function devType(c: ApplyContext, a: readonly string[], l: ConfigLine): void {
  const t = a[0] as string;
  if (t === 'tap')
    throw new OvpnConfigError(
      l.pos,
      'dev-type',
      "dev-type tap: ovpn-ts supports only tun; use 'dev-type tun'",
    );
  if (t !== 'tun') throw new OvpnConfigError(l.pos, 'dev-type', `expects 'tun', got '${t}'`);
  c.d.devType = { type: t, pos: l.pos };
}

function ifconfig(c: ApplyContext, a: readonly string[], l: ConfigLine): void {
  const local = ipv4Arg(l.pos, 'ifconfig', a[0], 'a local IPv4 address');
  const remoteOrNetmask = ipv4Arg(l.pos, 'ifconfig', a[1], 'a remote address or netmask');
  c.d.ifconfig = { local, remoteOrNetmask };
}

function ifconfigIpv6(c: ApplyContext, a: readonly string[], l: ConfigLine): void {
  const local = ipv6PrefixArg(l.pos, 'ifconfig-ipv6', a[0] as string, false);
  const remote = ipv6PrefixArg(l.pos, 'ifconfig-ipv6', a[1] as string, false);
  c.d.ifconfigIpv6 = { local, remote };
}

function route(c: ApplyContext, a: readonly string[], l: ConfigLine): void {
  const [network, netmask, gateway, metric] = a;
  if (netmask !== undefined && netmask !== 'default') ipv4Arg(l.pos, 'route', netmask, 'a netmask');
  c.d.routes.push({
    network: network as string,
    netmask: netmask === 'default' ? undefined : netmask,
    gateway: gateway === 'default' ? undefined : gateway,
    metric:
      metric === undefined || metric === 'default'
        ? undefined
        : intArg(l.pos, 'route', metric, 0, 0xffff, 'a metric'),
    pos: l.pos,
  });
}

function routeIpv6(c: ApplyContext, a: readonly string[], l: ConfigLine): void {
  const network = ipv6PrefixArg(l.pos, 'route-ipv6', a[0] as string, false);
  const metric = a[2] === undefined ? undefined : intArg(l.pos, 'route-ipv6', a[2], 0, 0xffff, 'a metric');
  c.d.routesIpv6.push({ network, gateway: a[1], metric, pos: l.pos });
}

function redirectGateway(c: ApplyContext, a: readonly string[], l: ConfigLine): void {
  for (const f of a) oneOf(l.pos, 'redirect-gateway', f, REDIRECT_FLAGS);
  c.d.redirectGateway = [...a];
}

function pullFilter(c: ApplyContext, a: readonly string[], l: ConfigLine): void {
  const action = oneOf(l.pos, 'pull-filter', a[0] as string, ['accept', 'ignore', 'reject'] as const);
  c.d.pullFilters.push({ action, text: a[1] as string });
}

function setenv(c: ApplyContext, a: readonly string[], _l: ConfigLine): void {
  c.d.setenv.push({ name: a[0] as string, value: a.slice(1).join(' ') });
}

function explicitExitNotify(c: ApplyContext, a: readonly string[], l: ConfigLine): void {
  c.conn.explicitExitNotify =
    a[0] === undefined
      ? DEFAULTS.explicitExitNotifyWhenGiven
      : intArg(l.pos, 'explicit-exit-notify', a[0], 0, INT_MAX);
}

function replayWindow(c: ApplyContext, a: readonly string[], l: ConfigLine): void {
  const r = DEFAULTS.replayWindowRange;
  const size = intArg(l.pos, 'replay-window', a[0], r.size[0], r.size[1], 'the window size');
  const time =
    a[1] === undefined
      ? DEFAULTS.replayWindow.time
      : intArg(l.pos, 'replay-window', a[1], r.time[0], r.time[1], 'the time window');
  c.d.replayWindow = { size, time };
}

function resolvRetry(c: ApplyContext, a: readonly string[], l: ConfigLine): void {
  c.d.resolvRetry = a[0] === 'infinite' ? 'infinite' : secondsArg(l.pos, 'resolv-retry', a[0]);
}

function script(name: string): Run {
  return (c, _a, l) => {
    c.d.scripts.push({ name, pos: l.pos });
  };
}

const seconds =
  (opt: string, set: (c: ApplyContext, n: number) => void): Run =>
  (c, a, l) =>
    set(c, secondsArg(l.pos, opt, a[0]));

export const NET_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  client: {
    min: 0,
    max: 0,
    usage: 'client',
    run: (c) => {
      // client = pull + tls-client
      c.d.client = true;
      c.d.pull = true;
      c.d.tlsClient = true;
    },
  },
  pull: { min: 0, max: 0, usage: 'pull', run: flag((c) => (c.d.pull = true)) },
  'tls-client': { min: 0, max: 0, usage: 'tls-client', run: flag((c) => (c.d.tlsClient = true)) },
  remote: { min: 1, max: 3, usage: 'remote HOST [PORT] [PROTO]', conn: true, run: remote },
  'remote-random': { min: 0, max: 0, usage: 'remote-random', run: flag((c) => (c.d.remoteRandom = true)) },
  'remote-random-hostname': {
    min: 0,
    max: 0,
    usage: 'remote-random-hostname',
    run: flag((c) => (c.d.remoteRandomHostname = true)),
  },
  proto: {
    min: 1,
    max: 1,
    usage: 'proto udp|tcp|...',
    conn: true,
    run: (c, a, l) => (c.conn.proto = protoArg(l.pos, 'proto', a[0] as string)),
  },
  port: {
    min: 1,
    max: 1,
    usage: 'port N',
    conn: true,
    run: (c, a, l) => {
      const p = portArg(l.pos, 'port', a[0]);
      c.conn.rport = p;
      c.conn.lport = p;
    },
  },
  rport: {
    min: 1,
    max: 1,
    usage: 'rport N',
    conn: true,
    run: (c, a, l) => (c.conn.rport = portArg(l.pos, 'rport', a[0])),
  },
  lport: {
    min: 1,
    max: 1,
    usage: 'lport N',
    conn: true,
    run: (c, a, l) => {
      c.conn.lport = portArg(l.pos, 'lport', a[0], true);
      c.conn.bind = true; // openvpn: lport implies bind
    },
  },
  nobind: { min: 0, max: 0, usage: 'nobind', conn: true, run: flag((c) => (c.conn.bind = false)) },
  bind: { min: 0, max: 1, usage: 'bind [ipv6only]', conn: true, run: flag((c) => (c.conn.bind = true)) },
  local: {
    min: 1,
    max: 2,
    usage: 'local HOST [PORT]',
    conn: true,
    run: (c, a, l) => {
      c.conn.localAddress = a[0];
      if (a[1] !== undefined) c.conn.lport = portArg(l.pos, 'local', a[1], true);
      c.conn.bind = true;
    },
  },
  float: { min: 0, max: 0, usage: 'float', conn: true, run: flag((c) => (c.conn.float = true)) },
  'connect-retry': { min: 1, max: 2, usage: 'connect-retry SECONDS [MAX]', conn: true, run: connectRetry },
  'connect-retry-max': {
    min: 1,
    max: 1,
    usage: 'connect-retry-max N',
    run: (c, a, l) => (c.d.connectRetryMax = intArg(l.pos, 'connect-retry-max', a[0], 1, INT_MAX)),
  },
  'connect-timeout': {
    min: 1,
    max: 1,
    usage: 'connect-timeout SECONDS',
    conn: true,
    run: seconds('connect-timeout', (c, n) => (c.conn.connectTimeout = n)),
  },
  'server-poll-timeout': {
    min: 1,
    max: 1,
    usage: 'server-poll-timeout SECONDS',
    conn: true,
    run: seconds('server-poll-timeout', (c, n) => (c.conn.connectTimeout = n)),
  },
  'resolv-retry': { min: 1, max: 1, usage: 'resolv-retry SECONDS|infinite', run: resolvRetry },
  'explicit-exit-notify': {
    min: 0,
    max: 1,
    usage: 'explicit-exit-notify [N]',
    conn: true,
    run: explicitExitNotify,
  },
  'tun-mtu': {
    min: 1,
    max: 2,
    usage: 'tun-mtu N [OCC-MTU]',
    conn: true,
    run: (c, a, l) => (c.conn.tunMtu = intArg(l.pos, 'tun-mtu', a[0], 68, 65535, 'an MTU')),
  },
  mssfix: { min: 0, max: 2, usage: 'mssfix [N [mtu|fixed]]', conn: true, run: mssfix },
  dev: { min: 1, max: 1, usage: 'dev tun|tunN|NAME', run: dev },
  'dev-type': { min: 1, max: 1, usage: 'dev-type tun', run: devType },
  topology: {
    min: 1,
    max: 1,
    usage: 'topology net30|p2p|subnet',
    run: (c, a, l) =>
      (c.d.topology = oneOf(l.pos, 'topology', a[0] as string, ['net30', 'p2p', 'subnet'] as const)),
  },
  ifconfig: { min: 2, max: 2, usage: 'ifconfig LOCAL REMOTE-OR-NETMASK', run: ifconfig },
  'ifconfig-ipv6': { min: 2, max: 2, usage: 'ifconfig-ipv6 ADDR/BITS REMOTE', run: ifconfigIpv6 },
  route: { min: 1, max: 4, usage: 'route NETWORK [NETMASK] [GATEWAY] [METRIC]', run: route },
  'route-ipv6': { min: 1, max: 3, usage: 'route-ipv6 NETWORK/BITS [GATEWAY] [METRIC]', run: routeIpv6 },
  'route-gateway': {
    min: 1,
    max: 1,
    usage: 'route-gateway GATEWAY|dhcp',
    run: (c, a) => (c.d.routeGateway = a[0]),
  },
  'redirect-gateway': { min: 0, max: 8, usage: 'redirect-gateway [FLAGS...]', run: redirectGateway },
  'dhcp-option': {
    min: 1,
    max: 2,
    usage: 'dhcp-option TYPE [VALUE]',
    run: (c, a) => c.d.dhcpOptions.push({ type: (a[0] as string).toUpperCase(), value: a[1] }),
  },
  'block-outside-dns': {
    min: 0,
    max: 0,
    usage: 'block-outside-dns',
    run: (c, _a, l) => {
      c.d.blockOutsideDns = true;
      warn(c, l.pos, 'block-outside-dns', 'Windows only; it has no effect with ovpn-ts on Linux');
    },
  },
  'route-nopull': { min: 0, max: 0, usage: 'route-nopull', run: flag((c) => (c.d.routeNopull = true)) },
  'pull-filter': { min: 2, max: 2, usage: 'pull-filter accept|ignore|reject "TEXT"', run: pullFilter },
  keepalive: { min: 2, max: 2, usage: 'keepalive PING RESTART', run: keepalive },
  ping: { min: 1, max: 1, usage: 'ping SECONDS', run: seconds('ping', (c, n) => (c.d.ping = n)) },
  'ping-restart': {
    min: 1,
    max: 1,
    usage: 'ping-restart SECONDS',
    run: seconds('ping-restart', (c, n) => (c.d.pingRestart = n)),
  },
  'ping-exit': {
    min: 1,
    max: 1,
    usage: 'ping-exit SECONDS',
    run: seconds('ping-exit', (c, n) => (c.d.pingExit = n)),
  },
  'replay-window': { min: 1, max: 2, usage: 'replay-window N [SECONDS]', run: replayWindow },
  'mute-replay-warnings': {
    min: 0,
    max: 0,
    usage: 'mute-replay-warnings',
    run: flag((c) => (c.d.muteReplayWarnings = true)),
  },
  'persist-tun': { min: 0, max: 0, usage: 'persist-tun', run: flag((c) => (c.d.persistTun = true)) },
  'persist-key': { min: 0, max: 0, usage: 'persist-key', run: flag((c) => (c.d.persistKey = true)) },
  sndbuf: {
    min: 1,
    max: 1,
    usage: 'sndbuf BYTES',
    run: (c, a, l) => (c.d.sndbuf = intArg(l.pos, 'sndbuf', a[0], 0, INT_MAX, 'a size')),
  },
  rcvbuf: {
    min: 1,
    max: 1,
    usage: 'rcvbuf BYTES',
    run: (c, a, l) => (c.d.rcvbuf = intArg(l.pos, 'rcvbuf', a[0], 0, INT_MAX, 'a size')),
  },
  'fast-io': { min: 0, max: 0, usage: 'fast-io', run: flag((c) => (c.d.fastIo = true)) },
  verb: {
    min: 1,
    max: 1,
    usage: 'verb 0..11',
    run: (c, a, l) => (c.d.verb = intArg(l.pos, 'verb', a[0], 0, 11, 'a verbosity')),
  },
  mute: {
    min: 1,
    max: 1,
    usage: 'mute N',
    run: (c, a, l) => (c.d.mute = intArg(l.pos, 'mute', a[0], 0, INT_MAX)),
  },
  'script-security': {
    min: 1,
    max: 1,
    usage: 'script-security 0..3',
    run: (c, a, l) => (c.d.scriptSecurity = intArg(l.pos, 'script-security', a[0], 0, 3, 'a level')),
  },
  setenv: { min: 1, max: 2, usage: 'setenv NAME [VALUE]', run: setenv },
  'setenv-safe': {
    min: 1,
    max: 2,
    usage: 'setenv-safe NAME [VALUE]',
    run: (c, a) => c.d.setenv.push({ name: `OPENVPN_${a[0] as string}`, value: a[1] ?? '' }),
  },
  'ignore-unknown-option': {
    min: 1,
    max: 15,
    usage: 'ignore-unknown-option NAME...',
    run: (c, a) => c.d.ignoreUnknownOptions.push(...a),
  },
  'push-peer-info': { min: 0, max: 0, usage: 'push-peer-info', run: flag((c) => (c.d.pushPeerInfo = true)) },
  up: { min: 1, max: 15, usage: 'up CMD', run: script('up') },
  down: { min: 1, max: 15, usage: 'down CMD', run: script('down') },
  'route-up': { min: 1, max: 15, usage: 'route-up CMD', run: script('route-up') },
  'route-pre-down': { min: 1, max: 15, usage: 'route-pre-down CMD', run: script('route-pre-down') },
  ipchange: { min: 1, max: 15, usage: 'ipchange CMD', run: script('ipchange') },
};
