// The option table: every name ovpn-ts implements, refuses, or accepts and ignores.
//
// Refused options change security or behaviour in ways ovpn-ts cannot honour, so running without
// them would be wrong; ignored ones are about the host process (logging, daemon, privileges) or
// other platforms, and only earn a warning. Anything else is unknown: a warning, never fatal
// (openvpn would stop; we prefer to run a profile that carries a newer or GUI-specific option).

import type { OptionSpec } from './context.js';
import { OvpnConfigError } from './errors.js';
import { NET_OPTIONS } from './handlers-net.js';
import { TLS_OPTIONS } from './handlers-tls.js';

const MODE: OptionSpec = {
  min: 1,
  max: 1,
  usage: 'mode p2p',
  run: (_c, a, l) => {
    if (a[0] === 'server')
      throw new OvpnConfigError(
        l.pos,
        'mode',
        "'mode server' is a server setting; a client profile uses 'client'",
      );
    if (a[0] !== 'p2p') throw new OvpnConfigError(l.pos, 'mode', `expects 'p2p', got '${a[0] ?? ''}'`);
  },
};

export const OPTIONS: Readonly<Record<string, OptionSpec>> = { ...NET_OPTIONS, ...TLS_OPTIONS, mode: MODE };

const SERVER_ONLY = 'a server option; it has no place in a client profile: remove it';
const SCRIPT_VERIFY =
  'ovpn-ts does not run scripts, so this check would be silently skipped: remove it (use verify-x509-name / remote-cert-tls / peer-fingerprint)';

/** name -> why it is refused and what to do instead. */
export const REFUSED: Readonly<Record<string, string>> = {
  secret:
    "static-key mode is not supported (no forward secrecy; removed in OpenVPN 2.7): use TLS mode ('client' with ca/cert/key)",
  'tls-server': "ovpn-ts is a TLS client; use 'client' (or 'tls-client' for P2P)",
  server: SERVER_ONLY,
  'server-bridge': SERVER_ONLY,
  'server-ipv6': SERVER_ONLY,
  push: SERVER_ONLY,
  'push-reset': SERVER_ONLY,
  'client-to-client': SERVER_ONLY,
  'duplicate-cn': SERVER_ONLY,
  'client-config-dir': SERVER_ONLY,
  'ifconfig-pool': SERVER_ONLY,
  'ifconfig-push': SERVER_ONLY,
  'auth-user-pass-verify': SERVER_ONLY,
  'client-connect': SERVER_ONLY,
  'client-disconnect': SERVER_ONLY,
  'learn-address': SERVER_ONLY,
  'tls-verify': SCRIPT_VERIFY,
  fragment:
    'UDP fragmentation is not supported: remove fragment here and on the server (rely on mssfix / tun-mtu)',
  'socks-proxy': 'proxies are not supported: connect to the server directly',
  'http-proxy': 'proxies are not supported: connect to the server directly',
  'http-proxy-option': 'proxies are not supported: connect to the server directly',
  'http-proxy-retry': 'proxies are not supported: connect to the server directly',
  management: 'the management interface is not supported: remove it (ovpn-ts has its own control API)',
  plugin: 'plugins are not supported: remove it',
  cryptoapicert: 'the Windows certificate store is not available: export the certificate and use cert/key',
};

/** Prefixes refused as a family (pkcs11-providers, pkcs11-id, management-client-auth, ...). */
export const REFUSED_PREFIXES: readonly (readonly [string, string])[] = [
  ['pkcs11-', 'PKCS#11 tokens are not supported: use cert/key files or pkcs12'],
  ['management-', 'the management interface is not supported: remove it (ovpn-ts has its own control API)'],
];

const NO_EFFECT = 'has no effect in ovpn-ts; ignored';

/** name -> warning text; the option is accepted (arguments unchecked) and has no effect. */
export const IGNORED: Readonly<Record<string, string>> = {
  user: 'ovpn-ts does not drop privileges; run it as the user you want; ignored',
  group: 'ovpn-ts does not drop privileges; run it as the group you want; ignored',
  chroot: NO_EFFECT,
  daemon: 'ovpn-ts does not daemonize; use your service manager; ignored',
  log: 'ovpn-ts logs to stderr; ignored',
  'log-append': 'ovpn-ts logs to stderr; ignored',
  syslog: 'ovpn-ts logs to stderr; ignored',
  status: NO_EFFECT,
  writepid: NO_EFFECT,
  'suppress-timestamps': NO_EFFECT,
  'machine-readable-output': NO_EFFECT,
  nice: NO_EFFECT,
  mlock: NO_EFFECT,
  txqueuelen: NO_EFFECT,
  'dev-node': NO_EFFECT,
  engine: NO_EFFECT,
  'ecdh-curve': "deprecated; use 'tls-groups'; ignored",
  'link-mtu': "deprecated; use 'tun-mtu'; ignored",
  'mtu-disc': NO_EFFECT,
  'tun-mtu-extra': NO_EFFECT,
  'route-delay': NO_EFFECT,
  'route-metric': NO_EFFECT,
  'route-method': 'Windows only; ignored',
  'ip-win32': 'Windows only; ignored',
  'register-dns': 'Windows only; ignored',
  'dhcp-renew': 'Windows only; ignored',
  'dhcp-release': 'Windows only; ignored',
  'win-sys': 'Windows only; ignored',
  'persist-local-ip': NO_EFFECT,
  'persist-remote-ip': NO_EFFECT,
  'redirect-private': NO_EFFECT,
  inactive: NO_EFFECT,
  echo: NO_EFFECT,
  'http-proxy-user-pass': 'only meaningful with http-proxy, which ovpn-ts does not support; ignored',
  'auth-token-user': NO_EFFECT,
};

/** Accepted without a word: no-ops for ovpn-ts that profiles commonly carry. */
export const SILENT: ReadonlySet<string> = new Set(['disable-dco', 'ping-timer-rem', 'tun-ipv6']);

export type Disposition =
  | { readonly kind: 'spec'; readonly spec: OptionSpec }
  | { readonly kind: 'refused'; readonly fix: string }
  | { readonly kind: 'ignored'; readonly why: string }
  | { readonly kind: 'silent' }
  | { readonly kind: 'unknown' };

export function lookupOption(name: string): Disposition {
  const spec = Object.hasOwn(OPTIONS, name) ? OPTIONS[name] : undefined;
  if (spec !== undefined) return { kind: 'spec', spec };
  if (Object.hasOwn(REFUSED, name)) return { kind: 'refused', fix: REFUSED[name] as string };
  for (const [prefix, fix] of REFUSED_PREFIXES) if (name.startsWith(prefix)) return { kind: 'refused', fix };
  if (Object.hasOwn(IGNORED, name)) return { kind: 'ignored', why: IGNORED[name] as string };
  if (SILENT.has(name)) return { kind: 'silent' };
  return { kind: 'unknown' };
}
