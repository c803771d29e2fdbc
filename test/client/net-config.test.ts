// TUN planning from pushed options (subnet, net30, IPv6, routes, redirect-gateway, DNS shown) and
// the `ip` commands the Linux configurator runs, with a fake runner: what it adds it removes.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mssFor } from '../../src/client/client.js';
import { resolveCredentials } from '../../src/client/credentials.js';
import { explainSessionFailure } from '../../src/client/errors.js';
import { IpNetConfigurator, maskToPrefix, planTun, type IpRunner } from '../../src/client/net-config.js';
import { parseConfigText } from '../../src/config/parse.js';
import { parsePushOptions } from '../../src/config/push.js';

const PEM = '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n';
const profile = parseConfigText(
  [
    'client',
    'dev tun',
    'remote 10.99.0.1 1194',
    `<ca>\n${PEM}</ca>`,
    `<cert>\n${PEM}</cert>`,
    `<key>\n${KEY}</key>`,
  ].join('\n'),
).options;

function pushed(items: string[]) {
  const r = parsePushOptions(items, profile);
  assert.ok(r.ok);
  return r.options;
}

test('maskToPrefix: contiguous masks only', () => {
  assert.equal(maskToPrefix('255.255.255.0'), 24);
  assert.equal(maskToPrefix('255.255.255.252'), 30);
  assert.equal(maskToPrefix('0.0.0.0'), 0);
  assert.equal(maskToPrefix('255.0.255.0'), undefined);
  assert.equal(maskToPrefix('nonsense'), undefined);
});

test('subnet topology: local/len, routes, IPv6, DNS shown; net30: point-to-point peer', () => {
  const sub = planTun(
    pushed([
      'topology subnet',
      'ifconfig 10.8.0.2 255.255.255.0',
      'ifconfig-ipv6 fd00:8::1000/64 fd00:8::1',
      'route 10.9.0.0 255.255.255.0',
      'route 192.168.5.7',
      'route-ipv6 fd00:9::/48',
      'dhcp-option DNS 10.8.0.1',
      'dhcp-option DOMAIN example.org',
      'tun-mtu 1400',
    ]),
    profile,
    '10.99.0.1',
  );
  assert.deepEqual(sub.ipv4, { local: '10.8.0.2', prefixLen: 24, peer: undefined });
  assert.deepEqual(sub.ipv6, { local: 'fd00:8::1000', prefixLen: 64 });
  assert.deepEqual(
    sub.routes4.map((r) => `${r.network}/${r.prefixLen}`),
    ['10.9.0.0/24', '192.168.5.7/32'],
  );
  assert.deepEqual(sub.routes6, [{ network: 'fd00:9::', prefixLen: 48, metric: undefined }]);
  assert.deepEqual(sub.dns, ['dhcp-option DNS 10.8.0.1', 'dhcp-option DOMAIN example.org']);
  assert.equal(sub.mtu, 1400);
  const net30 = planTun(pushed(['topology net30', 'ifconfig 10.8.0.6 10.8.0.5']), profile, '10.99.0.1');
  assert.deepEqual(net30.ipv4, { local: '10.8.0.6', prefixLen: 32, peer: '10.8.0.5' });
});

test('redirect-gateway: def1 keeps the server outside; local skips the host route; !ipv4 ipv6', () => {
  const def1 = planTun(pushed(['redirect-gateway def1 bypass-dhcp']), profile, '10.99.0.1');
  assert.deepEqual(def1.redirect, { ipv4: true, ipv6: false, bypass: '10.99.0.1' });
  const local = planTun(pushed(['redirect-gateway local def1']), profile, '10.99.0.1');
  assert.deepEqual(local.redirect, { ipv4: true, ipv6: false, bypass: undefined });
  const v6 = planTun(pushed(['redirect-gateway !ipv4 ipv6']), profile, '10.99.0.1');
  assert.deepEqual(v6.redirect, { ipv4: false, ipv6: true, bypass: undefined });
  const noDef1 = planTun(pushed(['redirect-gateway']), profile, '10.99.0.1');
  assert.ok(noDef1.warnings.some((w) => /applied as def1/.test(w)));
  const v6server = planTun(pushed(['redirect-gateway def1']), profile, 'fd00::1');
  assert.equal(v6server.redirect, undefined);
  assert.ok(v6server.warnings.some((w) => /refused/.test(w)));
});

function fakeIp(routeGet: string): { run: IpRunner; calls: string[] } {
  const calls: string[] = [];
  const run: IpRunner = async (args) => {
    calls.push(args.join(' '));
    if (args[0] === 'route' && args[1] === 'get') return { code: 0, stdout: routeGet, stderr: '' };
    return { code: 0, stdout: '', stderr: '' };
  };
  return { run, calls };
}

test('IpNetConfigurator: addresses, routes, def1 with a host route via the original gateway; clear() undoes the routes', async () => {
  const plan = planTun(
    pushed([
      'topology subnet',
      'ifconfig 10.8.0.2 255.255.255.0',
      'route 10.9.0.0 255.255.255.0',
      'redirect-gateway def1',
    ]),
    profile,
    '203.0.113.9',
  );
  const ip = fakeIp('203.0.113.9 via 192.168.1.1 dev eth0 src 192.168.1.20 uid 0\n    cache\n');
  const net = new IpNetConfigurator('ovc0', ip.run);
  const notes = await net.apply(plan);
  assert.ok(notes.some((n) => /all IPv4/.test(n)));
  assert.deepEqual(ip.calls, [
    'link set dev ovc0 up',
    'addr replace 10.8.0.2/24 dev ovc0',
    'route add 10.9.0.0/24 dev ovc0',
    'route get 203.0.113.9',
    'route add 203.0.113.9/32 via 192.168.1.1 dev eth0',
    'route add 0.0.0.0/1 dev ovc0',
    'route add 128.0.0.0/1 dev ovc0',
  ]);
  ip.calls.length = 0;
  await net.clear();
  assert.deepEqual(ip.calls, [
    'route del 128.0.0.0/1 dev ovc0',
    'route del 0.0.0.0/1 dev ovc0',
    'route del 203.0.113.9/32 via 192.168.1.1 dev eth0',
    'route del 10.9.0.0/24 dev ovc0',
    'addr flush dev ovc0',
  ]);
});

test('IpNetConfigurator: def1 refused when the only route to the server is the tunnel itself', async () => {
  const plan = planTun(pushed(['redirect-gateway def1']), profile, '203.0.113.9');
  const ip = fakeIp('203.0.113.9 dev ovc0 src 10.8.0.2\n');
  const notes = await new IpNetConfigurator('ovc0', ip.run).apply(plan);
  assert.ok(notes.some((n) => /redirect-gateway refused/.test(n)));
  assert.ok(!ip.calls.some((c) => c.includes('0.0.0.0/1')));
});

test('failure messages name the cause and the check', () => {
  const ctx = { wrapMode: 'tls-crypt', handWindowSec: 60, peerSeen: false, wrapDrops: 0 };
  assert.match(
    explainSessionFailure('CERT_HAS_EXPIRED', 'certificate has expired', ctx).message,
    /^TLS handshake failed: server certificate verify failed: certificate has expired \(check the server's certificate dates\)$/,
  );
  assert.match(
    explainSessionFailure('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'x', ctx).message,
    /not signed by the configured CA/,
  );
  assert.match(
    explainSessionFailure('HAND_WINDOW', 'x', ctx).message,
    /within hand-window \(60 s\): check tls-crypt key/,
  );
  assert.match(
    explainSessionFailure('HAND_WINDOW', 'x', { ...ctx, wrapDrops: 3 }).message,
    /3 packet\(s\) failed tls-crypt authentication/,
  );
  assert.match(
    explainSessionFailure('ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED', 'alert', ctx).message,
    /the server rejected our certificate: it has expired/,
  );
  assert.match(
    explainSessionFailure('OVPN_CERT_VERIFY', 'remote-cert-tls server: peer certificate lacks EKU', ctx)
      .message,
    /server certificate rejected: remote-cert-tls server/,
  );
});

test('mssfix: default 1492 with AEAD gives MSS 1428; mtu counts the outer IPv4/UDP header; 0 = off', () => {
  const conn = profile.connections[0]!;
  const remote = { address: '10.99.0.1', port: 1194 };
  assert.equal(mssFor(conn, remote), 1492 - 24 - 40);
  assert.equal(
    mssFor({ ...conn, mssfix: { size: 1450, mtu: true, fixed: false } }, remote),
    1450 - 28 - 24 - 40,
  );
  assert.equal(mssFor({ ...conn, mssfix: { size: 0, mtu: false, fixed: false } }, remote), 0);
});

test('auth-user-pass: file values used as is; a missing password without a terminal is a clear error', async () => {
  assert.deepEqual(
    await resolveCredentials({ source: 'file', path: 'x', username: 'u', password: 'p' }, undefined),
    {
      username: 'u',
      password: 'p',
    },
  );
  await assert.rejects(
    resolveCredentials({ source: 'file', path: 'x', username: 'u' }, undefined),
    /no terminal to ask/,
  );
  assert.deepEqual(
    await resolveCredentials({ source: 'file', path: 'x', username: 'u' }, async (need) => ({
      username: need.username ?? '?',
      password: 'typed',
    })),
    { username: 'u', password: 'typed' },
  );
  assert.equal(await resolveCredentials(undefined, undefined), undefined);
});
