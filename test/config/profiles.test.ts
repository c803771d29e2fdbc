import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OvpnConfigError, loadConfigFile, parseArgv, parseConfigText } from '../../src/config/index.js';
import {
  CA_PEM,
  CERT_PEM,
  CONNECTION_PROFILE,
  INLINE_PROFILE,
  KEY_PEM,
  LAB_CLIENT_CONF,
  LAB_FILES,
  MULTI_REMOTE_PROFILE,
  STATIC_KEY,
  TLS_AUTH_PROFILE,
  memReader,
} from './fixtures.js';

const readFile = memReader(LAB_FILES);

test('§H client.conf: the verified lab profile', () => {
  const { options: o, warnings } = parseConfigText(LAB_CLIENT_CONF, { name: 'client.conf', readFile });
  assert.deepEqual(warnings, []);
  assert.equal(o.pull, true);
  assert.deepEqual(o.dev, { name: 'tun-ovpnc', type: 'tun' });
  const c = o.connections[0];
  assert.equal(o.connections.length, 1);
  assert.deepEqual(
    [c?.host, c?.port, c?.transport, c?.family, c?.bind],
    ['10.99.0.1', 1194, 'udp', 'inet', false],
  );
  assert.equal(c?.explicitExitNotify, 1);
  assert.equal(c?.tlsWrap?.mode, 'tls-crypt');
  assert.equal(c?.tlsWrap?.key.text, STATIC_KEY);
  assert.equal(o.tls.remoteCertTls, 'server');
  assert.equal(o.tls.ca?.text, CA_PEM);
  assert.deepEqual(o.dataCiphers, ['AES-256-GCM', 'CHACHA20-POLY1305']);
  assert.deepEqual(o.compression, { requested: 'none', framing: 'none', allow: 'no' });
  assert.deepEqual(o.tls.renegSec, { max: 0, min: undefined });
  assert.equal(o.verb, 4);
});

test('§H P2P client side (tls-client without pull, ifconfig, tls-auth 1)', () => {
  const text =
    'tls-client\nremote 10.99.0.1 1195\nnobind\nifconfig 10.200.0.2 10.200.0.1\nremote-cert-tls server\ndev tun-X\ndev-type tun\nproto udp4\nkeepalive 10 60\nca ca.crt\ncert client.crt\nkey client.key\ntls-auth ta.key 1\n';
  const o = parseConfigText(text, { readFile }).options;
  assert.equal(o.pull, false);
  assert.deepEqual(o.ifconfig, { local: '10.200.0.2', remoteOrNetmask: '10.200.0.1' });
  assert.deepEqual([o.ping, o.pingRestart], [10, 60]);
  assert.equal(o.tls.wrap?.mode === 'tls-auth' && o.tls.wrap.direction, 1);
});

test('inline-everything profile with CRLF, setenv opt and ignore-unknown-option', () => {
  const { options: o, warnings } = parseConfigText(INLINE_PROFILE, { name: 'alice.ovpn' });
  assert.equal(o.tls.ca?.origin, 'inline');
  assert.equal(o.tls.ca?.text, CA_PEM);
  assert.equal(o.tls.cert?.text, CERT_PEM);
  assert.equal(o.tls.key?.text, KEY_PEM);
  assert.equal(o.tls.wrap?.mode, 'tls-crypt');
  assert.equal(o.tls.wrap?.key.text, STATIC_KEY); // '#' lines inside the block survive
  assert.equal(o.tls.auth, 'SHA256');
  assert.deepEqual(o.tls.verifyX509Name, { name: 'vpn.example.com', type: 'name' });
  assert.equal(o.tls.cipherList, 'TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256');
  assert.deepEqual(o.dataCiphers, ['AES-256-GCM', 'AES-128-GCM']);
  assert.equal(o.connections[0]?.host, 'vpn.example.com');
  assert.equal(o.blockOutsideDns, true);
  // block-outside-dns is known to ovpn-ts, so ignore-unknown-option does not hide its warning
  assert.deepEqual(
    warnings.map((w) => w.message),
    ['alice.ovpn:16: block-outside-dns: Windows only; it has no effect with ovpn-ts on Linux'],
  );
});

test('tls-auth file + key-direction 1 + auth SHA256 + legacy cipher + comp-less', () => {
  const { options: o, warnings } = parseConfigText(TLS_AUTH_PROFILE, { name: 'office.conf', readFile });
  assert.deepEqual(
    o.tls.wrap && { mode: o.tls.wrap.mode, dir: o.tls.wrap.mode === 'tls-auth' ? o.tls.wrap.direction : -1 },
    { mode: 'tls-auth', dir: 1 },
  );
  assert.equal(o.tls.auth, 'SHA256');
  assert.equal(o.legacyCipher, 'AES-256-CBC');
  assert.deepEqual(o.dataCiphers, ['AES-256-GCM', 'AES-128-GCM', 'CHACHA20-POLY1305']);
  assert.equal(o.mute, 20);
  assert.deepEqual(
    warnings.map((w) => `${w.line}:${w.option}`),
    ['8:user', '9:group', '19:cipher', '19:cipher'],
  );
});

test('multiple remotes, remote-random, proto tcp, auth-user-pass file, pull-filters, scripts', () => {
  const { options: o, warnings } = parseConfigText(MULTI_REMOTE_PROFILE, { name: 'provider.ovpn', readFile });
  assert.deepEqual(
    o.connections.map((c) => `${c.host}:${c.port}/${c.transport}/${c.family}`),
    ['nl1.provider.example:443/tcp/any', 'nl2.provider.example:443/tcp/any', '198.51.100.7:8443/tcp/inet'],
  );
  assert.equal(o.remoteRandom, true);
  assert.equal(o.connections[1]?.connectTimeout, 4);
  assert.deepEqual(o.connections[2]?.connectRetry, { initial: 2, max: 60 });
  assert.equal(o.connectRetryMax, 5);
  assert.deepEqual(o.authUserPass, {
    source: 'file',
    path: 'creds.txt',
    username: 'alice',
    password: 's3cret',
  });
  assert.equal(o.tls.cert, undefined);
  assert.deepEqual(o.redirectGateway, ['def1', 'ipv6']);
  assert.equal(o.pullFilters.length, 2);
  assert.deepEqual(
    warnings.map((w) => `${w.line}:${w.option}`),
    ['19:up', '20:down'],
  );
});

test('<connection> blocks: each inherits earlier globals, has its own remote and settings', () => {
  const { options: o, warnings } = parseConfigText(CONNECTION_PROFILE, { name: 'failover.ovpn', readFile });
  assert.deepEqual(warnings, []);
  assert.equal(o.connections.length, 2);
  const [udp, tcp] = o.connections;
  assert.deepEqual(
    [udp?.host, udp?.port, udp?.transport, udp?.explicitExitNotify, udp?.pos.line],
    ['udp.example.org', 1194, 'udp', 2, 12],
  );
  assert.deepEqual(
    [tcp?.host, tcp?.port, tcp?.transport, tcp?.connectTimeout, tcp?.tunMtu],
    ['tcp.example.org', 443, 'tcp', 10, 1400],
  );
  for (const c of o.connections) {
    assert.equal(c.bind, false); // nobind before the blocks
    assert.deepEqual(c.connectRetry, { initial: 3, max: 300 });
    assert.equal(c.tlsWrap?.mode, 'tls-crypt');
  }
  assert.deepEqual(o.tls.versionMin, { version: '1.2', orHighest: true });
});

test('<connection> with its own inline tls-auth; top-level remotes are ignored with a warning', () => {
  const text = `client\ndev tun\nca ca.crt\nauth-user-pass\nremote-cert-tls server\nremote ignored.example\n<connection>\nremote a.example 1194\n<tls-auth>\n${STATIC_KEY}</tls-auth>\nkey-direction 1\n</connection>\n<connection>\n</connection>\n`;
  const emptyBlockLine = text.split('\n').lastIndexOf('<connection>') + 1;
  assert.throws(
    () => parseConfigText(text, { readFile }),
    (e: unknown) =>
      e instanceof OvpnConfigError &&
      e.line === emptyBlockLine &&
      /connection: .*exactly one 'remote'/.test(e.message),
  );
  const ok = text.replace('<connection>\n</connection>\n', '');
  const { options: o, warnings } = parseConfigText(ok, { readFile });
  assert.equal(o.connections[0]?.tlsWrap?.mode === 'tls-auth' && o.connections[0].tlsWrap.direction, 1);
  assert.equal(o.tls.wrap, undefined);
  assert.deepEqual(
    warnings.map((w) => `${w.line}:${w.option}`),
    ['6:remote'],
  );
});

test('parseArgv: command-line options apply in order around --config', () => {
  const files = { ...LAB_FILES, 'lab.conf': LAB_CLIENT_CONF };
  const after = parseArgv(['--config', 'lab.conf', '--verb', '6', '--remote', 'b.example', '443', 'tcp'], {
    readFile: memReader(files),
  });
  assert.equal(after.options.verb, 6);
  assert.deepEqual(
    after.options.connections.map((c) => c.host),
    ['10.99.0.1', 'b.example'],
  );
  const before = parseArgv(['--verb', '6', '--config', 'lab.conf'], { readFile: memReader(files) });
  assert.equal(before.options.verb, 4);
  const lone = parseArgv(['lab.conf'], { readFile: memReader(files) });
  assert.equal(lone.options.verb, 4);
});

test('parseArgv: errors name the command line', () => {
  assert.throws(() => parseArgv(['--config', 'x', 'verb']), /\[CMD-LINE\]/);
  assert.throws(
    () => parseArgv(['client.ovpn', '--verb', '3']),
    /'client\.ovpn' is not an option: options start with '--'/,
  );
  assert.throws(
    () =>
      parseArgv(['--config', 'lab.conf', '--verb', '20'], {
        readFile: memReader({ ...LAB_FILES, 'lab.conf': LAB_CLIENT_CONF }),
      }),
    (e: unknown) => e instanceof OvpnConfigError && e.message.startsWith('[CMD-LINE]: verb:'),
  );
});

test('config includes nest, and a self-include stops at depth 10', () => {
  const files = {
    ...LAB_FILES,
    'main.conf': 'config common.conf\nverb 5\n',
    'common.conf': LAB_CLIENT_CONF,
    'loop.conf': 'config loop.conf\n',
  };
  assert.equal(parseArgv(['--config', 'main.conf'], { readFile: memReader(files) }).options.verb, 5);
  assert.throws(
    () => parseArgv(['--config', 'loop.conf'], { readFile: memReader(files) }),
    /loop\.conf:1: config: more than 10 nested/,
  );
  assert.throws(
    () => parseArgv(['--config', 'nope.conf'], { readFile: memReader(files) }),
    /cannot read 'nope\.conf'/,
  );
});

test('loadConfigFile reads the profile and the files it names from disk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ovt-cfg-'));
  try {
    for (const [n, t] of Object.entries(LAB_FILES)) writeFileSync(join(dir, n), t);
    const conf = LAB_CLIENT_CONF.replace(
      /^(ca|cert|key|tls-crypt) (\S+)$/gm,
      (_m, o: string, f: string) => `${o} ${join(dir, f)}`,
    );
    writeFileSync(join(dir, 'client.conf'), '\uFEFF' + conf.replace(/\n/g, '\r\n'));
    const { options: o } = loadConfigFile(join(dir, 'client.conf'));
    assert.equal(o.tls.key?.text, KEY_PEM);
    assert.equal(o.connections[0]?.tlsWrap?.key.text, STATIC_KEY);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
