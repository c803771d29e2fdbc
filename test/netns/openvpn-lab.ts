// The openvpn 2.6 server / ovpn-ts client lab of the netns tests (openvpn-client.test.ts,
// faults/handshake-loss): per-case server and client configs, starting both, ping, iperf3 and a
// checked client stop. Case n uses 10.8.N.0/24, port 1190+N, devices ovs<N>/ovc<N>.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { labPki, repoPath, type LabPki } from '../util/lab.js';
import { createTopology, execIn, spawnIn, type NsProcess, type Topology } from '../util/netns.js';

export const RUNNER = repoPath('test/client/run-connect.ts');

export type Wrap = 'tls-crypt' | 'tls-auth' | 'none';
export type Cipher = 'AES-256-GCM' | 'CHACHA20-POLY1305';

export interface Case {
  /** 10.8.N.0/24, port 1190+N, devices ovs<N>/ovc<N>. */
  n: number;
  proto: 'udp' | 'tcp';
  wrap: Wrap;
  cipher: Cipher;
  serverExtra?: string[];
  serverCert?: { crt: string; key: string };
  clientExtra?: string[];
  clientCa?: string;
  clientTlsCryptKey?: string;
}

export function wrapLines(pki: LabPki, wrap: Wrap, side: 'server' | 'client', key?: string): string[] {
  if (wrap === 'tls-crypt') return [`tls-crypt ${key ?? pki.tlsCryptKey}`];
  if (wrap === 'tls-auth') return [`tls-auth ${pki.tlsAuthKey} ${side === 'server' ? 0 : 1}`];
  return [];
}

/** §H server.conf, per case. */
export function serverConf(pki: LabPki, topo: Topology, c: Case): string {
  const cert = c.serverCert ?? pki.server;
  return [
    'mode server',
    'tls-server',
    `dev ovs${c.n}`,
    'dev-type tun',
    'topology subnet',
    c.proto === 'udp' ? 'proto udp4' : 'proto tcp4-server',
    `local ${topo.a.ipv4}`,
    `port ${1190 + c.n}`,
    `server 10.8.${c.n}.0 255.255.255.0`,
    'keepalive 10 60',
    `ca ${pki.ca.crt}`,
    `cert ${cert.crt}`,
    `key ${cert.key}`,
    'dh none',
    'tls-version-min 1.2',
    `data-ciphers ${c.cipher}`,
    ...wrapLines(pki, c.wrap, 'server'),
    'allow-compression no',
    'disable-dco',
    'reneg-sec 0',
    ...(c.proto === 'udp' ? ['explicit-exit-notify 1'] : []),
    `push "route 10.9.${c.n}.0 255.255.255.0"`,
    `push "dhcp-option DNS 10.8.${c.n}.1"`,
    'verb 3',
    ...(c.serverExtra ?? []),
  ].join('\n');
}

export function clientConf(pki: LabPki, topo: Topology, c: Case): string {
  return [
    'client',
    `dev ovc${c.n}`,
    'dev-type tun',
    c.proto === 'udp' ? 'proto udp4' : 'proto tcp4-client',
    `remote ${topo.a.ipv4} ${1190 + c.n}`,
    'nobind',
    'remote-cert-tls server',
    `ca ${c.clientCa ?? pki.ca.crt}`,
    `cert ${pki.client.crt}`,
    `key ${pki.client.key}`,
    'tls-version-min 1.2',
    'data-ciphers AES-256-GCM:CHACHA20-POLY1305',
    ...wrapLines(pki, c.wrap, 'client', c.clientTlsCryptKey),
    'allow-compression no',
    ...(c.proto === 'udp' ? ['explicit-exit-notify 1'] : []),
    'verb 3',
    ...(c.clientExtra ?? []),
  ].join('\n');
}

export function write(pki: LabPki, name: string, text: string): string {
  const path = join(pki.dir, `${name}-${randomBytes(3).toString('hex')}.conf`);
  writeFileSync(path, text + '\n');
  return path;
}

export async function startServer(pki: LabPki, topo: Topology, c: Case): Promise<NsProcess> {
  const conf = write(pki, `server${c.n}`, serverConf(pki, topo, c));
  const srv = spawnIn(topo.a.ns, 'openvpn', ['--config', conf]);
  await srv.waitForOutput(/Initialization Sequence Completed/, 15_000);
  return srv;
}

export function startClient(pki: LabPki, topo: Topology, c: Case, args: string[] = []): NsProcess {
  const conf = write(pki, `client${c.n}`, clientConf(pki, topo, c));
  return spawnIn(topo.b.ns, process.execPath, ['--import', 'tsx', RUNNER, '--config', conf, ...args], {
    cwd: repoPath(),
  });
}

export async function ping(topo: Topology, n: number, count = 3): Promise<{ ok: boolean; out: string }> {
  const r = await execIn(
    topo.b.ns,
    'ping',
    ['-c', String(count), '-i', '0.2', '-W', '2', `10.8.${n}.1`],
    count * 200 + 10_000,
  );
  return { ok: r.code === 0, out: r.stdout + r.stderr };
}

/** iperf3 client -> server over the tunnel; returns received bits/s. */
export async function iperf(topo: Topology, n: number, seconds: number): Promise<number> {
  const srv = spawnIn(topo.a.ns, 'iperf3', [
    '-s',
    '-1',
    '--forceflush',
    '-B',
    `10.8.${n}.1`,
    '-p',
    String(5200 + n),
  ]);
  await srv.waitForOutput(/Server listening/, 5000);
  const r = await execIn(
    topo.b.ns,
    'iperf3',
    ['-c', `10.8.${n}.1`, '-p', String(5200 + n), '-t', String(seconds), '-J'],
    (seconds + 20) * 1000,
  );
  await srv.kill();
  assert.equal(r.code, 0, `iperf3 failed: ${r.stderr || r.stdout.slice(-500)}`);
  const j = JSON.parse(r.stdout) as { end: { sum_received: { bits_per_second: number } } };
  return j.end.sum_received.bits_per_second;
}

export async function stopClient(topo: Topology, cli: NsProcess, dev: string): Promise<void> {
  await cli.kill(8000);
  assert.match(cli.stdout(), /ovpn-ts: stopped/, cli.stdout().slice(-1500));
  assert.equal(cli.exitCode, 0, `client exit code\n${cli.stderr()}`);
  const link = await execIn(topo.b.ns, 'ip', ['link', 'show', 'dev', dev]);
  assert.notEqual(link.code, 0, `TUN ${dev} still exists after exit`);
}

export async function withTopology(
  prefix: string,
  fn: (topo: Topology, pki: LabPki) => Promise<void>,
): Promise<void> {
  const pki = await labPki();
  const topo = await createTopology({ prefix });
  try {
    await fn(topo, pki);
  } finally {
    await topo.destroy();
  }
}

export const CONNECTED = /ovpn-ts: CONNECTED/;
