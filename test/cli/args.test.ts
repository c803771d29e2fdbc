// Argument handling without root: every bad `up` option is named with a fix, --help of every
// subcommand lists its options, genkey output is a valid static key, and main dispatch.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { runCli } from '../../src/cli/cli.js';
import { parseUpArgs, upSpec } from '../../src/cli/commands/up.js';
import { genkeySpec } from '../../src/cli/commands/genkey.js';
import { statsSpec } from '../../src/cli/commands/stats.js';
import { ctlSpec } from '../../src/cli/commands/ctl.js';
import { demoSpec } from '../../src/cli/commands/demo.js';
import { capEffHasNetAdmin } from '../../src/cli/privilege.js';
import { COMMANDS } from '../../src/control-api/schema.js';
import { generateStaticKey, parseStaticKey } from '../../src/protocol/static-key.js';
import { ConfigError } from '../../src/util/errors.js';
import { capture, cliArgv, tempDir } from './helpers.js';

function goodUp(key: string): string[] {
  return [
    ...['--key', key, '--cipher', 'AES-256-GCM', '--direction', '0'],
    ...[
      '--local',
      '10.0.0.1:1194',
      '--remote',
      '10.0.0.2:1194',
      '--dev',
      'ovt0',
      '--ifconfig',
      '10.77.0.1/24',
    ],
  ];
}

/** goodUp with `name` replaced by `value` (undefined: removed), or with extra args appended. */
function withOpt(key: string, name: string, value: string | undefined): string[] {
  const argv = goodUp(key);
  const k = argv.indexOf(name);
  if (k >= 0) argv.splice(k, 2);
  return value === undefined ? argv : [...argv, name, value];
}

function upError(argv: string[]): ConfigError {
  try {
    parseUpArgs(argv);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e;
  }
  assert.fail(`no error for ${argv.join(' ')}`);
}

test('up: valid options parse into the tunnel configuration', (t) => {
  const key = join(tempDir(t), 'k');
  writeFileSync(key, generateStaticKey());
  const o = parseUpArgs([
    ...goodUp(key),
    ...['--ifconfig-ipv6', 'fd77::1/64', '--route', '10.9.0.0/16', '--route', 'fd09::/48', '--mtu', '1400'],
    ...['--keepalive', '5,30', '--peer-id', '7', '--proto', 'udp', '--control-socket', '/tmp/x.sock', '-q'],
    ...['--tun-offload', 'off'],
  ]);
  assert.notEqual(o, 'help');
  if (o === 'help') return;
  assert.equal(o.cipher, 'AES-256-GCM');
  assert.equal(o.direction, 0);
  assert.deepEqual(o.local, { address: '10.0.0.1', port: 1194 });
  assert.deepEqual(o.remote, { address: '10.0.0.2', port: 1194 });
  assert.deepEqual(o.ifconfig6, { address: 'fd77::1', prefix: 64, family: 6 });
  assert.deepEqual(
    o.routes.map((r) => `${r.address}/${r.prefix}`),
    ['10.9.0.0/16', 'fd09::/48'],
  );
  assert.equal(o.mtu, 1400);
  assert.deepEqual(o.keepalive, { interval: 5, timeout: 30 });
  assert.equal(o.peerId, 7);
  assert.equal(o.controlSocket, '/tmp/x.sock');
  assert.equal(o.quiet, true);
  assert.equal(o.tunOffload, false);
  parseStaticKey(o.keyText);
});

test('up: defaults (proto udp, mtu 1500, keepalive 10,60, socket under /run/ovpn-ts)', (t) => {
  const key = join(tempDir(t), 'k');
  writeFileSync(key, generateStaticKey());
  const o = parseUpArgs(goodUp(key));
  if (o === 'help') return assert.fail('help');
  assert.equal(o.proto, 'udp');
  assert.equal(o.mtu, 1500);
  assert.deepEqual(o.keepalive, { interval: 10, timeout: 60 });
  assert.equal(o.peerId, 0);
  if (process.getuid?.() === 0) assert.equal(o.controlSocket, '/run/ovpn-ts/ovt0.sock');
  const tcp = parseUpArgs([...withOpt(key, '--local', undefined), '--proto', 'tcp-client']);
  if (tcp === 'help') return assert.fail('help');
  assert.equal(tcp.local, undefined, 'tcp-client needs no --local');
});

test('up: each bad option is named, with the fix in the message', (t) => {
  const dir = tempDir(t);
  const key = join(dir, 'k');
  writeFileSync(key, generateStaticKey());
  const garbage = join(dir, 'garbage');
  writeFileSync(garbage, 'not a key\n');
  const cases: [string[], string, RegExp][] = [
    [withOpt(key, '--key', undefined), '--key', /required.*--key static\.key/],
    [withOpt(key, '--key', join(dir, 'missing')), '--key', /cannot read.*ENOENT.*genkey/],
    [withOpt(key, '--key', garbage), '--key', /BEGIN OpenVPN Static key/],
    [withOpt(key, '--cipher', undefined), '--cipher', /required/],
    [withOpt(key, '--cipher', 'BF-CBC'), '--cipher', /AES-256-GCM, AES-128-GCM, CHACHA20-POLY1305/],
    [withOpt(key, '--direction', '2'), '--direction', /not one of 0, 1/],
    [withOpt(key, '--local', '10.0.0.1'), '--local', /has no port; use ADDR:PORT/],
    [withOpt(key, '--local', undefined), '--local', /required/],
    [withOpt(key, '--remote', 'vpn.example.com:1194'), '--remote', /not an IP address/],
    [withOpt(key, '--remote', '10.0.0.2:0'), '--remote', /port 0 is out of range; use 1\.\.65535/],
    [withOpt(key, '--remote', '10.0.0.2:70000'), '--remote', /out of range/],
    [withOpt(key, '--remote', '[fd00::2]:1194'), '--local', /different address families/],
    [withOpt(key, '--proto', 'sctp'), '--proto', /udp, tcp-client, tcp-server/],
    [[...goodUp(key), '--proto', 'tcp-server'], '--remote', /not used with --proto tcp-server/],
    [withOpt(key, '--dev', 'a/b'), '--dev', /not a valid interface name/],
    [withOpt(key, '--dev', 'x'.repeat(16)), '--dev', /1-15/],
    [withOpt(key, '--ifconfig', '10.77.0.1'), '--ifconfig', /no prefix length; use ADDR\/LEN/],
    [withOpt(key, '--ifconfig', 'fd77::1/64'), '--ifconfig', /not an IPv4 address/],
    [withOpt(key, '--ifconfig', '10.77.0.1/33'), '--ifconfig', /0\.\.32/],
    [withOpt(key, '--ifconfig-ipv6', '10.0.0.1/24'), '--ifconfig-ipv6', /not an IPv6 address/],
    [withOpt(key, '--route', '10.0.0.0/40'), '--route', /0\.\.32/],
    [withOpt(key, '--mtu', '100'), '--mtu', /576\.\.2000/],
    [[...withOpt(key, '--mtu', '1200'), '--ifconfig-ipv6', 'fd77::1/64'], '--mtu', /1280/],
    [withOpt(key, '--tun-offload', 'maybe'), '--tun-offload', /on|off/],
    [withOpt(key, '--keepalive', '10'), '--keepalive', /INTERVAL,TIMEOUT/],
    [withOpt(key, '--keepalive', '10,15'), '--keepalive', /at least twice/],
    [withOpt(key, '--peer-id', '16777215'), '--peer-id', /0\.\.16777214/],
    [[...goodUp(key), '--bogus', '1'], '--bogus', /unknown option --bogus; see ovpn-ts up --help/],
    [[...goodUp(key), '--key'], '--key', /needs a value/],
    [[...goodUp(key), 'stray'], 'stray', /unexpected argument "stray"/],
  ];
  for (const [argv, option, re] of cases) {
    const e = upError(argv);
    assert.equal(e.option, option, `${argv.slice(-2).join(' ')}: option`);
    assert.equal(e.code, 'OVPN_ERR_INVALID_OPTION');
    assert.match(e.message, re, `${argv.slice(-2).join(' ')}`);
    assert.ok(e.message.includes(option), `message names ${option}: ${e.message}`);
  }
});

test('up: a bad option exits 2 with the message on stderr, before anything needs root', async () => {
  const c = capture();
  assert.equal(await runCli(['up', '--cipher', 'AES-256-GCM'], c.io), 2);
  assert.match(c.err(), /--key is required/);
  assert.equal(c.out(), '');
});

test('up: CAP_NET_ADMIN detection from CapEff', () => {
  assert.equal(capEffHasNetAdmin('000001fffeffffff'), true);
  assert.equal(capEffHasNetAdmin('0000000000001000'), true); // bit 12 only
  assert.equal(capEffHasNetAdmin('0000000000000000'), false);
  assert.equal(capEffHasNetAdmin('0000000000000fff'), false);
  assert.equal(capEffHasNetAdmin('zz'), false);
});

test('up: without root or CAP_NET_ADMIN the message says TUN needs it', { skip: skipNobody() }, (t) => {
  const dir = tempDir(t);
  chmodSync(dir, 0o755); // nobody must be able to read the key to get past option validation
  const key = join(dir, 'k');
  writeFileSync(key, generateStaticKey(), { mode: 0o644 });
  const [node, ...args] = cliArgv();
  const r = spawnSync(node!, [...args, 'up', ...goodUp(key), '--control-socket', join(dir, 's.sock')], {
    uid: 65534,
    gid: 65534,
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...process.env, HOME: dir },
  });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /TUN device needs root or CAP_NET_ADMIN: run it with sudo/);
});

function skipNobody(): string | false {
  if (process.getuid?.() !== 0) return 'needs root (to run the check as user nobody)';
  const main = cliArgv().at(-1)!;
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'test', '-r', main]);
  return r.status === 0 ? false : `user nobody cannot read ${main}`;
}

test('genkey: stdout is a static key that parses; two keys differ', async () => {
  const a = capture();
  const b = capture();
  assert.equal(await runCli(['genkey'], a.io), 0);
  assert.equal(await runCli(['genkey', '-'], b.io), 0);
  assert.equal(parseStaticKey(a.out()).length, 256);
  assert.notDeepEqual(parseStaticKey(a.out()), parseStaticKey(b.out()));
});

test('genkey FILE: mode 0600, parses, refuses to overwrite without --force', async (t) => {
  const file = join(tempDir(t), 'static.key');
  const c = capture();
  assert.equal(await runCli(['genkey', file], c.io), 0);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const first = readFileSync(file, 'utf8');
  assert.equal(parseStaticKey(first).length, 256);
  const again = capture();
  assert.equal(await runCli(['genkey', file], again.io), 1);
  assert.match(again.err(), /exists; choose another name or add --force/);
  assert.equal(readFileSync(file, 'utf8'), first);
  assert.equal(await runCli(['genkey', file, '--force'], capture().io), 0);
  assert.notEqual(readFileSync(file, 'utf8'), first);
  assert.equal(statSync(file).mode & 0o777, 0o600);
});

test('--help of every subcommand exits 0 and lists each of its options', async () => {
  for (const spec of [upSpec, genkeySpec, statsSpec, ctlSpec, demoSpec]) {
    const c = capture();
    assert.equal(await runCli([spec.name, '--help'], c.io), 0, spec.name);
    for (const name of Object.keys(spec.options))
      assert.ok(c.out().includes(`--${name}`), `${spec.name}: --${name}`);
    assert.ok(c.out().includes(`ovpn-ts ${spec.name}`), spec.name);
    assert.equal(c.err(), '');
  }
});

test('ctl --help lists every control API command; ctl CMD --help shows its fields', async () => {
  const c = capture();
  assert.equal(await runCli(['ctl', '--help'], c.io), 0);
  for (const cmd of Object.keys(COMMANDS)) assert.ok(c.out().includes(cmd), cmd);
  const one = capture();
  assert.equal(await runCli(['ctl', 'newKey', '--help'], one.io), 0);
  assert.match(one.out(), /^newKey \(any mode\)/);
  assert.match(one.out(), /nonceTail/);
});

test('main: --version, --help, unknown command, no command', async () => {
  const v = capture();
  assert.equal(await runCli(['--version'], v.io), 0);
  assert.match(v.out(), /^ovpn-ts \d+\.\d+\.\d+\n$/);
  const h = capture();
  assert.equal(await runCli(['--help'], h.io), 0);
  for (const sub of ['up', 'genkey', 'stats', 'ctl', 'demo', 'connect', '--config'])
    assert.ok(h.out().includes(sub), sub);
  assert.ok(!h.out().includes('_tool'), 'internal tools are not advertised');
  const u = capture();
  assert.equal(await runCli(['frobnicate'], u.io), 2);
  assert.match(u.err(), /unknown command "frobnicate"/);
  assert.equal(await runCli(['toString'], capture().io), 2, 'prototype names are not commands');
  assert.equal(await runCli([], capture().io), 2);
});

test('main: --config and connect reach commands/connect.js (or say the build lacks it)', async (t) => {
  const dir = tempDir(t);
  const present = ['js', 'ts'].some((ext) =>
    existsSync(fileURLToPath(new URL(`../../src/cli/commands/connect.${ext}`, import.meta.url))),
  );
  for (const argv of [
    ['--config', join(dir, 'none.ovpn')],
    ['connect', '--config', join(dir, 'none.ovpn')],
  ]) {
    const c = capture();
    const code = await runCli(argv, c.io);
    assert.notEqual(code, 0, 'a missing config file cannot succeed');
    if (present) assert.doesNotMatch(c.err(), /not available in this build/);
    else assert.match(c.err(), /config mode \(--config FILE \/ connect\) is not available in this build/);
  }
});

test('the executable runs: shebang, --version, exit code', () => {
  const [node, ...args] = cliArgv();
  const main = args.at(-1)!;
  assert.match(readFileSync(main, 'utf8'), /^#!\/usr\/bin\/env node\n/);
  const r = spawnSync(node!, [...args, '--version'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^ovpn-ts \d+\.\d+\.\d+/);
  const bad = spawnSync(node!, [...args, 'up', '--mtu', '9'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--key is required/);
});
