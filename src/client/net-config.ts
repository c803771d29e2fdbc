// What the pushed (and local) options mean for the TUN device, and applying that on Linux.
//
// 1. planTun(): pure. Pushed options override local ones; routes add up. Produces addresses,
//    routes, the redirect-gateway decision and DNS settings to show (DNS is never applied).
// 2. IpNetConfigurator.apply(): `ip` commands on the TUN named `dev`; every route it adds is
//    remembered so clear() removes exactly those (the host route to the server lives on the
//    physical interface and would outlive the TUN otherwise).
//
// redirect-gateway def1 = 0.0.0.0/1 + 128.0.0.0/1 through the tunnel plus a /32 to the server via
// the route it has now. It is applied only when that original route is known and does not already
// go through the TUN; otherwise it is refused with a warning (no default route is touched).

import { execFile } from 'node:child_process';
import { isIPv4, isIPv6 } from 'node:net';
import type { ClientOptions } from '../config/options.js';
import type { PushedOptions } from '../config/push.js';

export interface PlannedRoute {
  readonly network: string;
  readonly prefixLen: number;
  readonly metric: number | undefined;
}

export interface TunPlan {
  readonly mtu: number | undefined;
  readonly topology: 'net30' | 'p2p' | 'subnet';
  /** subnet: local/prefixLen; net30/p2p: local with a point-to-point peer. */
  readonly ipv4:
    { readonly local: string; readonly prefixLen: number; readonly peer: string | undefined } | undefined;
  readonly ipv6: { readonly local: string; readonly prefixLen: number } | undefined;
  readonly routes4: readonly PlannedRoute[];
  readonly routes6: readonly PlannedRoute[];
  /** Send all IPv4 (and with `ipv6`, global IPv6) through the tunnel; bypass = the server's address. */
  readonly redirect:
    { readonly ipv4: boolean; readonly ipv6: boolean; readonly bypass: string | undefined } | undefined;
  /** `dhcp-option` / `dns` settings as text, shown to the user, not applied. */
  readonly dns: readonly string[];
  readonly warnings: readonly string[];
}

/** 255.255.255.0 -> 24; undefined when not a contiguous mask. */
export function maskToPrefix(mask: string): number | undefined {
  if (!isIPv4(mask)) return undefined;
  const n = mask.split('.').reduce((acc, p) => ((acc << 8) | Number(p)) >>> 0, 0);
  const inv = ~n >>> 0;
  if ((inv & (inv + 1)) !== 0) return undefined;
  return 32 - Math.log2(inv + 1);
}

function route4(
  network: string,
  netmask: string | undefined,
  metric: number | undefined,
  warn: string[],
): PlannedRoute | undefined {
  const prefixLen = netmask === undefined ? 32 : maskToPrefix(netmask);
  if (!isIPv4(network) || prefixLen === undefined) {
    warn.push(
      `route ${network} ${netmask ?? ''}: not an IPv4 network/netmask (only literal addresses are supported), skipped`,
    );
    return undefined;
  }
  return { network, prefixLen, metric };
}

function route6(spec: string, metric: number | undefined, warn: string[]): PlannedRoute | undefined {
  const [network, bits] = spec.split('/');
  const prefixLen = bits === undefined ? 128 : Number(bits);
  if (
    network === undefined ||
    !isIPv6(network) ||
    !Number.isInteger(prefixLen) ||
    prefixLen < 0 ||
    prefixLen > 128
  ) {
    warn.push(`route-ipv6 ${spec}: not an IPv6 prefix, skipped`);
    return undefined;
  }
  return { network, prefixLen, metric };
}

/** TUN settings from the push reply and the local profile; `server` is the remote's IP address. */
export function planTun(p: PushedOptions, o: ClientOptions, server: string): TunPlan {
  const warnings: string[] = [];
  const topology = p.topology ?? o.topology;
  let ipv4: TunPlan['ipv4'];
  const ifc =
    p.ifconfig ??
    (o.ifconfig && {
      local: o.ifconfig.local,
      netmask: topology === 'subnet' ? o.ifconfig.remoteOrNetmask : undefined,
      remote: topology === 'subnet' ? undefined : o.ifconfig.remoteOrNetmask,
    });
  if (ifc !== undefined) {
    const prefixLen = topology === 'subnet' && ifc.netmask !== undefined ? maskToPrefix(ifc.netmask) : 32;
    if (prefixLen === undefined)
      warnings.push(`ifconfig ${ifc.local} ${ifc.netmask ?? ''}: bad netmask, address not set`);
    else ipv4 = { local: ifc.local, prefixLen, peer: topology === 'subnet' ? undefined : ifc.remote };
  }
  let ipv6: TunPlan['ipv6'];
  if (p.ifconfigIpv6 !== undefined) ipv6 = { local: p.ifconfigIpv6.local, prefixLen: p.ifconfigIpv6.bits };
  else if (o.ifconfigIpv6 !== undefined) {
    const [local, bits] = o.ifconfigIpv6.local.split('/');
    if (local !== undefined) ipv6 = { local, prefixLen: Number(bits ?? 64) };
  }
  const routes4: PlannedRoute[] = [];
  for (const r of [...o.routes, ...p.routes]) {
    const pr = route4(r.network, r.netmask, r.metric, warnings);
    if (pr !== undefined) routes4.push(pr);
  }
  const routes6: PlannedRoute[] = [];
  for (const r of [...o.routesIpv6, ...p.routesIpv6]) {
    const pr = route6(r.network, r.metric, warnings);
    if (pr !== undefined) routes6.push(pr);
  }
  const redirect = planRedirect(p.redirectGateway ?? o.redirectGateway, server, warnings);
  const dns = [
    ...p.dhcpOptions.map((d) => `dhcp-option ${d.type}${d.value === undefined ? '' : ' ' + d.value}`),
    ...p.dns.servers.map((s) => `dns server ${s.priority} address ${s.addresses.join(' ')}`),
    ...(p.dns.searchDomains.length > 0 ? [`dns search-domains ${p.dns.searchDomains.join(' ')}`] : []),
  ];
  if (p.blockIpv6) warnings.push('block-ipv6 pushed: not applied by ovpn-ts');
  return { mtu: p.tunMtu, topology, ipv4, ipv6, routes4, routes6, redirect, dns, warnings };
}

function planRedirect(
  flags: readonly string[] | undefined,
  server: string,
  warn: string[],
): TunPlan['redirect'] {
  if (flags === undefined) return undefined;
  const ipv4 = !flags.includes('!ipv4');
  const ipv6 = flags.includes('ipv6');
  if (ipv4 && !flags.includes('def1')) {
    warn.push(
      'redirect-gateway without def1: applied as def1 (two /1 routes); the default route is left alone',
    );
  }
  const local = flags.includes('local');
  if (!local && ipv4 && !isIPv4(server)) {
    warn.push(
      `redirect-gateway: server ${server} is not IPv4, so no host route can keep it outside the tunnel: refused`,
    );
    return undefined;
  }
  return { ipv4, ipv6, bypass: local || !ipv4 ? undefined : server };
}

/** Human-readable lines describing a plan (shown after connecting). */
export function describePlan(plan: TunPlan): string[] {
  const out: string[] = [];
  if (plan.ipv4 !== undefined) {
    const a = plan.ipv4;
    out.push(
      `ipv4 ${a.local}/${a.prefixLen}${a.peer !== undefined ? ` peer ${a.peer}` : ''} (topology ${plan.topology})`,
    );
  }
  if (plan.ipv6 !== undefined) out.push(`ipv6 ${plan.ipv6.local}/${plan.ipv6.prefixLen}`);
  for (const r of [...plan.routes4, ...plan.routes6]) out.push(`route ${r.network}/${r.prefixLen}`);
  if (plan.redirect !== undefined) {
    out.push(`redirect-gateway${plan.redirect.ipv4 ? ' ipv4' : ''}${plan.redirect.ipv6 ? ' ipv6' : ''}`);
  }
  if (plan.mtu !== undefined) out.push(`tun-mtu ${plan.mtu}`);
  for (const d of plan.dns) out.push(`${d} (not applied: configure DNS yourself)`);
  return out;
}

/** Applies a plan to the OS. The client calls clear() before a reconnect and on exit. */
export interface NetConfigurator {
  apply(plan: TunPlan): Promise<string[]>;
  clear(): Promise<void>;
}

export type IpRunner = (args: readonly string[]) => Promise<{ code: number; stdout: string; stderr: string }>;

const runIp: IpRunner = (args) =>
  new Promise((resolve) => {
    execFile('ip', args, { timeout: 5000, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code =
        err === null
          ? 0
          : typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : 1;
      resolve({ code, stdout, stderr: stderr || (err?.message ?? '') });
    });
  });

/** `ip`-based configuration of one TUN device (Linux). */
export class IpNetConfigurator implements NetConfigurator {
  private added: string[][] = [];

  constructor(
    private readonly dev: string,
    private readonly run: IpRunner = runIp,
  ) {}

  async apply(plan: TunPlan): Promise<string[]> {
    const notes: string[] = [];
    const up = ['link', 'set', 'dev', this.dev, 'up'];
    await this.must(plan.mtu === undefined ? up : [...up, 'mtu', String(plan.mtu)]);
    if (plan.ipv4 !== undefined) {
      const a = plan.ipv4;
      const addr = a.peer === undefined ? [`${a.local}/${a.prefixLen}`] : [a.local, 'peer', a.peer];
      await this.must(['addr', 'replace', ...addr, 'dev', this.dev]);
    }
    if (plan.ipv6 !== undefined) {
      await this.must([
        '-6',
        'addr',
        'replace',
        `${plan.ipv6.local}/${plan.ipv6.prefixLen}`,
        'dev',
        this.dev,
        'nodad',
      ]);
    }
    for (const r of plan.routes4)
      await this.addRoute(['route', 'add', `${r.network}/${r.prefixLen}`], r.metric, notes);
    for (const r of plan.routes6)
      await this.addRoute(['-6', 'route', 'add', `${r.network}/${r.prefixLen}`], r.metric, notes);
    if (plan.redirect !== undefined) await this.redirect(plan.redirect, notes);
    return notes;
  }

  private async redirect(r: NonNullable<TunPlan['redirect']>, notes: string[]): Promise<void> {
    if (r.ipv4 && r.bypass !== undefined) {
      const via = await this.originalRoute(r.bypass);
      if (via === undefined) {
        notes.push(
          `redirect-gateway refused: no usable route to the server ${r.bypass} outside the tunnel (ip route get)`,
        );
        return;
      }
      await this.addRoute(['route', 'add', `${r.bypass}/32`, ...via], undefined, notes);
    }
    if (r.ipv4) {
      for (const n of ['0.0.0.0/1', '128.0.0.0/1'])
        await this.addRoute(['route', 'add', n], undefined, notes);
    }
    if (r.ipv6) await this.addRoute(['-6', 'route', 'add', '2000::/3'], undefined, notes);
    notes.push(
      'redirect-gateway: all IPv4' +
        (r.ipv6 ? ' and global IPv6' : '') +
        ' traffic now goes through the tunnel',
    );
  }

  /** `via G dev D` / `dev D` of the current route to `server`, unless that already is the TUN. */
  private async originalRoute(server: string): Promise<string[] | undefined> {
    const r = await this.run(['route', 'get', server]);
    if (r.code !== 0) return undefined;
    const dev = /\bdev (\S+)/.exec(r.stdout)?.[1];
    const via = /\bvia (\S+)/.exec(r.stdout)?.[1];
    if (dev === undefined || dev === this.dev || dev === 'lo') return undefined;
    return via === undefined ? ['dev', dev] : ['via', via, 'dev', dev];
  }

  private async addRoute(base: string[], metric: number | undefined, notes: string[]): Promise<void> {
    const hasDev = base.includes('dev');
    const args = [
      ...base,
      ...(hasDev ? [] : ['dev', this.dev]),
      ...(metric !== undefined ? ['metric', String(metric)] : []),
    ];
    const r = await this.run(args);
    if (r.code === 0) {
      this.added.push(args.map((a) => (a === 'add' ? 'del' : a)));
      return;
    }
    if (/File exists/.test(r.stderr)) return; // e.g. a pushed route inside the ifconfig subnet
    notes.push(`ip ${args.join(' ')} failed: ${r.stderr.trim()}`);
  }

  private async must(args: string[]): Promise<void> {
    const r = await this.run(args);
    if (r.code !== 0) throw new Error(`ip ${args.join(' ')} failed: ${r.stderr.trim()}`);
  }

  async clear(): Promise<void> {
    const routes = this.added.reverse();
    this.added = [];
    for (const args of routes) await this.run(args);
    await this.run(['addr', 'flush', 'dev', this.dev]);
  }
}
