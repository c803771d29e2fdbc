// PUSH_REPLY parsing (openvpn-protocol.md §E; openvpn `apply_push_options`).
//
//   PUSH_REPLY,route 10.9.0.0 255.255.255.0,topology subnet,...,push-continuation 2
//   └ prefix ─┘└──────── options: comma-separated, each a config line ─────────────┘
//
// 1. Split on ',' (there is no escaping of commas). Parts of a long reply end with
//    `push-continuation 2`; the last with `push-continuation 1`. PushReplyCollector joins them.
// 2. Per option: leading spaces skipped, then the local pull-filters (first prefix match wins:
//    accept / ignore / reject = the whole reply is refused and the client must restart), then
//    the openvpn tokenizer, then route-nopull (drops routes, redirect-gateway, dhcp/dns options).
// 3. Known options fill PushedOptions; unknown ones are kept as text with a warning.
//
// This is network input: nothing here throws. A bad value is reported in `errors`, a reply the
// client must not accept comes back as `{ ok: false, reason }`.

import { isIPv4 } from 'node:net';
import { tokenizeLine } from './lexer.js';
import type { ClientOptions, DataCipher, PullFilter } from './options.js';
import { aeadName } from './values.js';

export interface PushedRoute {
  readonly network: string;
  readonly netmask: string | undefined;
  readonly gateway: string | undefined;
  readonly metric: number | undefined;
}

export interface PushedDnsServer {
  readonly priority: number;
  readonly addresses: string[];
  readonly resolveDomains: string[];
  /** Other `dns server N key value...` settings (dnssec, transport, sni), kept as text. */
  readonly settings: Record<string, string>;
}

export interface ProtocolFlags {
  readonly ccExit: boolean;
  readonly tlsEkm: boolean;
  readonly dynTlsCrypt: boolean;
  readonly aeadEpoch: boolean;
}

export interface PushedOptions {
  /** Subnet topology: local + netmask. net30/p2p: local + remote. */
  ifconfig: { local: string; netmask: string | undefined; remote: string | undefined } | undefined;
  ifconfigIpv6: { local: string; bits: number; remote: string | undefined } | undefined;
  routes: PushedRoute[];
  routesIpv6: { network: string; gateway: string | undefined; metric: number | undefined }[];
  routeGateway: string | undefined;
  topology: 'net30' | 'p2p' | 'subnet' | undefined;
  redirectGateway: string[] | undefined;
  tunMtu: number | undefined;
  peerId: number | undefined;
  cipher: DataCipher | undefined;
  ping: number | undefined;
  pingRestart: number | undefined;
  keyDerivation: 'tls-ekm' | undefined;
  protocolFlags: ProtocolFlags | undefined;
  dhcpOptions: { type: string; value: string | undefined }[];
  dns: { servers: PushedDnsServer[]; searchDomains: string[] };
  authToken: string | undefined;
  authTokenUser: string | undefined;
  explicitExitNotify: number | undefined;
  /** Pushed `comp-lzo`/`compress`: framing to use (never real compression). */
  compression: 'comp-lzo' | 'compress' | 'compress-v2' | undefined;
  blockIpv6: boolean;
  setenv: { name: string; value: string }[];
  echo: string[];
  inactive: { seconds: number; bytes: number } | undefined;
  /** Options not understood, verbatim. */
  unknown: string[];
  /** Options dropped by pull-filter ignore or route-nopull, verbatim. */
  filtered: string[];
}

export type PushParseResult =
  | {
      readonly ok: true;
      readonly options: PushedOptions;
      readonly warnings: string[];
      readonly errors: string[];
    }
  | { readonly ok: false; readonly reason: string };

/** The local settings that shape how a push is applied. */
export type PushLocalOptions = Pick<
  ClientOptions,
  'pullFilters' | 'routeNopull' | 'dataCiphers' | 'topology'
>;

const PREFIX = 'PUSH_REPLY';
/** Bounds for a malicious or broken server: parts per reply and total bytes kept. */
export const MAX_PUSH_PARTS = 64;
export const MAX_PUSH_BYTES = 256 * 1024;

/** Options route-nopull removes (openvpn OPT_P_ROUTE | OPT_P_DHCPDNS). */
const ROUTE_CLASS = new Set([
  'route',
  'route-ipv6',
  'redirect-gateway',
  'redirect-private',
  'dhcp-option',
  'dns',
  'block-ipv6',
  'block-outside-dns',
]);

/** Splits one `PUSH_REPLY,...` message into its option texts. Undefined if the prefix is wrong. */
export function splitPushReply(message: string): string[] | undefined {
  const msg = message.replace(/[\r\n\0]+$/, '');
  if (msg === PREFIX) return [];
  if (!msg.startsWith(PREFIX + ',')) return undefined;
  return msg.slice(PREFIX.length + 1).split(',');
}

/** `push-continuation` value of an option list: 2 = more parts follow, 1 = last, 0 = none. */
export function continuationOf(items: readonly string[]): 0 | 1 | 2 {
  for (let i = items.length - 1; i >= 0; i--) {
    const t = (items[i] as string).trim();
    if (t === 'push-continuation 2') return 2;
    if (t === 'push-continuation 1') return 1;
  }
  return 0;
}

/** Joins the option lists of continuation parts, dropping the push-continuation markers. */
export function mergePushParts(parts: readonly (readonly string[])[]): string[] {
  const out: string[] = [];
  for (const p of parts) for (const item of p) if (!/^\s*push-continuation\b/.test(item)) out.push(item);
  return out;
}

/** Accumulates PUSH_REPLY messages until the last part of a (possibly continued) reply. */
export class PushReplyCollector {
  private parts: string[][] = [];
  private bytes = 0;

  /** Returns the merged option list once complete; `pending` while parts are missing. */
  add(
    message: string,
  ): { state: 'pending' } | { state: 'complete'; items: string[] } | { state: 'error'; reason: string } {
    const items = splitPushReply(message);
    if (items === undefined) return this.fail('not a PUSH_REPLY message');
    this.bytes += message.length;
    this.parts.push(items);
    if (this.parts.length > MAX_PUSH_PARTS || this.bytes > MAX_PUSH_BYTES)
      return this.fail('push reply too large');
    if (continuationOf(items) === 2) return { state: 'pending' };
    const merged = mergePushParts(this.parts);
    this.reset();
    return { state: 'complete', items: merged };
  }

  reset(): void {
    this.parts = [];
    this.bytes = 0;
  }

  private fail(reason: string): { state: 'error'; reason: string } {
    this.reset();
    return { state: 'error', reason };
  }
}

function emptyPushed(): PushedOptions {
  return {
    ifconfig: undefined,
    ifconfigIpv6: undefined,
    routes: [],
    routesIpv6: [],
    routeGateway: undefined,
    topology: undefined,
    redirectGateway: undefined,
    tunMtu: undefined,
    peerId: undefined,
    cipher: undefined,
    ping: undefined,
    pingRestart: undefined,
    keyDerivation: undefined,
    protocolFlags: undefined,
    dhcpOptions: [],
    dns: { servers: [], searchDomains: [] },
    authToken: undefined,
    authTokenUser: undefined,
    explicitExitNotify: undefined,
    compression: undefined,
    blockIpv6: false,
    setenv: [],
    echo: [],
    inactive: undefined,
    unknown: [],
    filtered: [],
  };
}

/** First matching pull-filter for an option text (openvpn: strncmp prefix match, in order). */
export function matchPullFilter(filters: readonly PullFilter[], text: string): PullFilter | undefined {
  return filters.find((f) => text.startsWith(f.text));
}

/** Parses a complete PUSH_REPLY (one message, or several continuation parts in order). */
export function parsePushReply(
  message: string | readonly string[],
  local?: PushLocalOptions,
): PushParseResult {
  const messages = typeof message === 'string' ? [message] : message;
  const parts: string[][] = [];
  for (const m of messages) {
    const items = splitPushReply(m);
    if (items === undefined) return { ok: false, reason: `not a PUSH_REPLY message: '${m.slice(0, 40)}'` };
    parts.push(items);
  }
  return parsePushOptions(mergePushParts(parts), local);
}

/** Applies the option texts of a PUSH_REPLY (already merged, without the prefix). */
export function parsePushOptions(items: readonly string[], local?: PushLocalOptions): PushParseResult {
  const out = emptyPushed();
  const warnings: string[] = [];
  const errors: string[] = [];
  for (let i = 0; i < items.length; i++) {
    const text = (items[i] as string).replace(/^[ \t\n\r\v\f]+/, '');
    if (text === '') continue;
    const filter = local === undefined ? undefined : matchPullFilter(local.pullFilters, text);
    if (filter?.action === 'reject')
      return { ok: false, reason: `pushed option '${text}' rejected by pull-filter reject "${filter.text}"` };
    if (filter?.action === 'ignore') {
      out.filtered.push(text);
      continue;
    }
    let tokens: string[];
    try {
      tokens = tokenizeLine(text, { file: '[PUSH-OPTIONS]', line: i + 1 }).tokens;
    } catch (err) {
      errors.push(`malformed pushed option '${text}': ${err instanceof Error ? err.message : String(err)}`);
      continue;
    }
    const [name, ...args] = tokens;
    if (name === undefined) continue;
    if (local?.routeNopull === true && ROUTE_CLASS.has(name)) {
      out.filtered.push(text);
      continue;
    }
    const problem = applyPushed(out, name, args, warnings);
    if (problem === 'unknown') {
      out.unknown.push(text);
      warnings.push(`unknown pushed option '${text}' ignored`);
    } else if (problem !== undefined) {
      errors.push(`pushed '${text}': ${problem}`);
    }
  }
  resolveIfconfig(out, local?.topology);
  const bad = checkCipher(out, local);
  if (bad !== undefined) return { ok: false, reason: bad };
  return { ok: true, options: out, warnings, errors };
}

function resolveIfconfig(out: PushedOptions, localTopology: PushLocalOptions['topology'] | undefined): void {
  if (out.ifconfig === undefined) return;
  const second = out.ifconfig.netmask ?? out.ifconfig.remote;
  const topo = out.topology ?? localTopology ?? 'net30';
  out.ifconfig =
    topo === 'subnet'
      ? { local: out.ifconfig.local, netmask: second, remote: undefined }
      : { local: out.ifconfig.local, netmask: undefined, remote: second };
}

function checkCipher(out: PushedOptions, local: PushLocalOptions | undefined): string | undefined {
  if (out.cipher === undefined || local === undefined) return undefined;
  if (local.dataCiphers.includes(out.cipher)) return undefined;
  return `server pushed cipher ${out.cipher}, which is not in data-ciphers (${local.dataCiphers.join(':')})`;
}

function num(s: string | undefined, min: number, max: number): number | undefined {
  if (s === undefined || !/^\d+$/.test(s)) return undefined;
  const n = Number(s);
  return n >= min && n <= max ? n : undefined;
}

const U31 = 0x7fffffff;

/** Fills one option; returns undefined on success, 'unknown', or a description of the problem. */
function applyPushed(out: PushedOptions, name: string, a: string[], warnings: string[]): string | undefined {
  const n = a.length;
  switch (name) {
    case 'ifconfig': {
      if (n !== 2 || !isIPv4(a[0] as string) || !isIPv4(a[1] as string)) return 'expects two IPv4 addresses';
      out.ifconfig = { local: a[0] as string, netmask: a[1] as string, remote: undefined };
      return undefined;
    }
    case 'ifconfig-ipv6':
      return ifconfigIpv6(out, a);
    case 'route': {
      if (n < 1 || n > 4) return 'expects NETWORK [NETMASK [GATEWAY [METRIC]]]';
      const netmask = a[1] === undefined || a[1] === 'default' ? undefined : a[1];
      if (netmask !== undefined && !isIPv4(netmask)) return 'bad netmask';
      const metric = a[3] === undefined || a[3] === 'default' ? undefined : num(a[3], 0, 0xffff);
      if (a[3] !== undefined && a[3] !== 'default' && metric === undefined) return 'bad metric';
      out.routes.push({
        network: a[0] as string,
        netmask,
        gateway: a[2] === 'default' ? undefined : a[2],
        metric,
      });
      return undefined;
    }
    case 'route-ipv6': {
      if (n < 1 || n > 3 || !(a[0] as string).includes(':')) return 'expects NETWORK/BITS [GATEWAY [METRIC]]';
      out.routesIpv6.push({ network: a[0] as string, gateway: a[1], metric: num(a[2], 0, 0xffff) });
      return undefined;
    }
    case 'route-gateway':
      if (n !== 1) return 'expects one gateway';
      out.routeGateway = a[0];
      return undefined;
    case 'topology':
      if (a[0] !== 'subnet' && a[0] !== 'net30' && a[0] !== 'p2p') return 'expects subnet|net30|p2p';
      out.topology = a[0];
      return undefined;
    case 'redirect-gateway':
    case 'redirect-private':
      out.redirectGateway = a;
      return undefined;
    case 'tun-mtu':
      return setNum(out, 'tunMtu', a, 68, 65535);
    case 'peer-id':
      return setNum(out, 'peerId', a, 0, 0xffffff);
    case 'ping':
      return setNum(out, 'ping', a, 0, U31);
    case 'ping-restart':
      return setNum(out, 'pingRestart', a, 0, U31);
    case 'cipher': {
      const c = n === 1 ? aeadName(a[0] as string) : undefined;
      if (c === undefined) return 'not a supported AEAD cipher';
      out.cipher = c;
      return undefined;
    }
    case 'key-derivation':
      if (a[0] !== 'tls-ekm') return "expects 'tls-ekm'";
      out.keyDerivation = 'tls-ekm';
      return undefined;
    case 'protocol-flags':
      out.protocolFlags = protocolFlags(a, warnings);
      return undefined;
    case 'dhcp-option':
      if (n < 1 || n > 2) return 'expects TYPE [VALUE]';
      out.dhcpOptions.push({ type: (a[0] as string).toUpperCase(), value: a[1] });
      return undefined;
    case 'dns':
      return dns(out, a);
    case 'auth-token':
      if (n !== 1) return 'expects one token';
      out.authToken = a[0];
      return undefined;
    case 'auth-token-user':
      if (n !== 1) return 'expects one base64 user name';
      out.authTokenUser = a[0];
      return undefined;
    case 'explicit-exit-notify':
      if (n === 0) out.explicitExitNotify = 1;
      else return setNum(out, 'explicitExitNotify', a, 0, U31);
      return undefined;
    case 'comp-lzo':
      out.compression = 'comp-lzo';
      return undefined;
    case 'compress':
      out.compression =
        a[0] === 'stub-v2' || a[0] === 'lz4-v2' ? 'compress-v2' : a[0] === 'lzo' ? 'comp-lzo' : 'compress';
      return undefined;
    case 'block-ipv6':
      out.blockIpv6 = true;
      return undefined;
    case 'setenv':
      if (n < 1) return 'expects NAME [VALUE]';
      out.setenv.push({ name: a[0] as string, value: a.slice(1).join(' ') });
      return undefined;
    case 'echo':
      out.echo.push(a.join(' '));
      return undefined;
    case 'inactive': {
      const seconds = num(a[0], 0, U31);
      if (seconds === undefined) return 'expects SECONDS [BYTES]';
      out.inactive = { seconds, bytes: num(a[1], 0, Number.MAX_SAFE_INTEGER) ?? 0 };
      return undefined;
    }
    case 'push-continuation':
    case 'tun-ipv6':
      return undefined;
    default:
      return 'unknown';
  }
}

type NumKey = 'tunMtu' | 'peerId' | 'ping' | 'pingRestart' | 'explicitExitNotify';

function setNum(out: PushedOptions, key: NumKey, a: string[], min: number, max: number): string | undefined {
  const v = a.length === 1 ? num(a[0], min, max) : undefined;
  if (v === undefined) return `expects a number in ${min}..${max}`;
  out[key] = v;
  return undefined;
}

function ifconfigIpv6(out: PushedOptions, a: string[]): string | undefined {
  const [addr, bitsText] = (a[0] ?? '').split('/');
  const bits = num(bitsText, 0, 128);
  if (a.length < 1 || a.length > 2 || addr === undefined || !addr.includes(':') || bits === undefined)
    return 'expects ADDR/BITS [REMOTE]';
  out.ifconfigIpv6 = { local: addr, bits, remote: a[1] };
  return undefined;
}

function protocolFlags(a: readonly string[], warnings: string[]): ProtocolFlags {
  const known = ['cc-exit', 'tls-ekm', 'dyn-tls-crypt', 'aead-epoch'];
  for (const f of a) if (!known.includes(f)) warnings.push(`unknown protocol-flags flag '${f}' ignored`);
  return {
    ccExit: a.includes('cc-exit'),
    tlsEkm: a.includes('tls-ekm'),
    dynTlsCrypt: a.includes('dyn-tls-crypt'),
    aeadEpoch: a.includes('aead-epoch'),
  };
}

/** `dns search-domains D...` and `dns server N address|resolve-domains|dnssec|transport|sni ...`. */
function dns(out: PushedOptions, a: string[]): string | undefined {
  if (a[0] === 'search-domains' && a.length > 1) {
    out.dns.searchDomains.push(...a.slice(1));
    return undefined;
  }
  const priority = a[0] === 'server' ? num(a[1]?.replace(/^-/, ''), 0, 128) : undefined;
  if (priority === undefined || a[2] === undefined || a.length < 4)
    return "expects 'dns search-domains ...' or 'dns server N KEY VALUE...'";
  const prio = a[1]?.startsWith('-') ? -priority : priority;
  let server = out.dns.servers.find((s) => s.priority === prio);
  if (server === undefined) {
    server = { priority: prio, addresses: [], resolveDomains: [], settings: {} };
    out.dns.servers.push(server);
  }
  if (a[2] === 'address') server.addresses.push(...a.slice(3));
  else if (a[2] === 'resolve-domains') server.resolveDomains.push(...a.slice(3));
  else server.settings[a[2]] = a.slice(3).join(' ');
  return undefined;
}
