import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  COMMANDS,
  commandHelp,
  helpText,
  validateArgs,
  type CommandName,
  type Mode,
} from '../../src/control-api/schema.js';
import { ControlApi } from '../../src/control-api/target.js';
import { ControlApiError, ErrorCode, isOvpnError, OvpnError } from '../../src/util/errors.js';
import { FakeTarget } from './fake-target.js';

const K16 = '00112233445566778899aabbccddeeff';
const K32 = K16 + K16;
const TAIL = '0102030405060708';
const dir = (key = K32) => ({ key, nonceTail: TAIL });
const A4 = { address: '192.0.2.1', port: 1194 };
const B4 = { address: '198.51.100.7', port: 1194 };
const A6 = { address: '2001:db8::1', port: 1194 };

/** One valid argument object per command, with the mode it is valid in. */
const GOOD: Record<CommandName, [Mode, Record<string, unknown>]> = {
  newPeer: ['p2p', { local: A4, remote: B4, proto: 'udp' }],
  newKey: [
    'p2p',
    { cipher: 'AES-256-GCM', keyId: 7, slot: 'primary', encrypt: dir(), decrypt: dir(), peerId: 0xffffff },
  ],
  swapKeys: ['p2p', {}],
  setPeer: ['p2p', { keepaliveInterval: 10, keepaliveTimeout: -1, mss: 0 }],
  startVpn: ['p2p', {}],
  delPeer: ['p2p', {}],
  getStats: ['p2p', {}],
  getVersion: ['p2p', {}],
  setMode: ['p2p', { mode: 'mp' }],
  mpStartVpn: ['mp', { listen: { address: '::', port: 0 }, ipv6Only: false }],
  mpNewPeer: ['mp', { local: A4, remote: B4, vpnAddr4: '10.8.0.2', vpnAddr6: 'fd00::2', peerId: 5 }],
  mpSetPeer: ['mp', { peerId: 5, keepaliveInterval: 10, keepaliveTimeout: 60, mss: 1400 }],
  mpDelPeer: ['mp', { peerId: 5 }],
  mpSwapKeys: ['mp', { peerId: 5 }],
  mpAddIroute: ['mp', { addr: '10.9.0.0', netbits: 24, peerId: 5 }],
  mpDelIroute: ['mp', { addr: 'fd01::', netbits: 64, peerId: 5 }],
  getPeerStats: ['mp', { peerId: -1 }],
  writeControl: ['mp', { data: Buffer.from([0x38, 1, 2]).toString('base64'), remote: A4 }],
};

/** [command, mode, args, field that must be named, fragment of the fix]. */
const BAD: [CommandName, Mode, Record<string, unknown>, string, RegExp][] = [
  ['newPeer', 'p2p', { remote: B4 }, 'newPeer.proto', /udp or tcp/],
  ['newPeer', 'p2p', { proto: 'udp' }, 'newPeer.remote', /required unless a transport/],
  ['newPeer', 'p2p', { remote: B4, proto: 'sctp' }, 'newPeer.proto', /one of udp, tcp, got "sctp"/],
  [
    'newPeer',
    'p2p',
    { remote: { address: 'vpn.example', port: 1 }, proto: 'udp' },
    'newPeer.remote.address',
    /IPv4 or IPv6/,
  ],
  [
    'newPeer',
    'p2p',
    { remote: { address: '192.0.2.1', port: 70000 }, proto: 'udp' },
    'newPeer.remote.port',
    /0\.\.65535, got 70000/,
  ],
  ['newPeer', 'p2p', { local: A6, remote: B4, proto: 'udp' }, 'newPeer.local', /family differs/],
  ['newPeer', 'p2p', { remote: B4, proto: 'udp', transport: {} }, 'newPeer.transport', /Transport object/],
  [
    'newPeer',
    'p2p',
    { remote: B4, proto: 'udp', prot: 'x' },
    'newPeer.prot',
    /unknown field; expected one of local, remote, proto, transport/,
  ],
  ['newKey', 'p2p', { ...GOOD.newKey[1], keyId: 9 }, 'newKey.keyId', /expected an integer 0\.\.7, got 9/],
  ['newKey', 'p2p', { ...GOOD.newKey[1], keyId: 1.5 }, 'newKey.keyId', /integer 0\.\.7/],
  [
    'newKey',
    'p2p',
    { ...GOOD.newKey[1], cipher: 'AES-256-CBC' },
    'newKey.cipher',
    /one of NONE, AES-128-GCM/,
  ],
  ['newKey', 'p2p', { ...GOOD.newKey[1], slot: 'third' }, 'newKey.slot', /primary, secondary/],
  [
    'newKey',
    'p2p',
    { ...GOOD.newKey[1], encrypt: dir(K16) },
    'newKey.encrypt.key',
    /expected 32 bytes for AES-256-GCM, got 16/,
  ],
  [
    'newKey',
    'p2p',
    { ...GOOD.newKey[1], cipher: 'AES-192-GCM', encrypt: dir(K16 + K16.slice(0, 16)), decrypt: dir(K16) },
    'newKey.decrypt.key',
    /24 bytes for AES-192-GCM/,
  ],
  [
    'newKey',
    'p2p',
    { ...GOOD.newKey[1], decrypt: { key: 'xyz', nonceTail: TAIL } },
    'newKey.decrypt.key',
    /as hex text/,
  ],
  [
    'newKey',
    'p2p',
    { ...GOOD.newKey[1], encrypt: { key: K32, nonceTail: '0102' } },
    'newKey.encrypt.nonceTail',
    /exactly 8 bytes, got 2 bytes/,
  ],
  ['newKey', 'p2p', { ...GOOD.newKey[1], encrypt: { key: K32 } }, 'newKey.encrypt.nonceTail', /required/],
  ['newKey', 'p2p', { ...GOOD.newKey[1], peerId: 0x1000000 }, 'newKey.peerId', /0\.\.16777215/],
  ['newKey', 'mp', { ...GOOD.newKey[1], peerId: undefined }, 'newKey.peerId', /required in mp mode/],
  ['swapKeys', 'p2p', { now: true }, 'swapKeys.now', /takes no arguments/],
  [
    'setPeer',
    'p2p',
    { keepaliveInterval: -2, keepaliveTimeout: 1, mss: 0 },
    'setPeer.keepaliveInterval',
    /-1\.\.86400, got -2/,
  ],
  [
    'setPeer',
    'p2p',
    { keepaliveInterval: 1, keepaliveTimeout: '60', mss: 0 },
    'setPeer.keepaliveTimeout',
    /got "60"/,
  ],
  ['setPeer', 'p2p', { keepaliveInterval: 1, keepaliveTimeout: 1 }, 'setPeer.mss', /required/],
  ['startVpn', 'p2p', { x: 1 }, 'startVpn.x', /unknown field/],
  ['delPeer', 'p2p', { peerId: 1 }, 'delPeer.peerId', /unknown field/],
  ['getStats', 'p2p', { all: true }, 'getStats.all', /unknown field/],
  ['getVersion', 'p2p', { v: 1 }, 'getVersion.v', /unknown field/],
  ['setMode', 'p2p', { mode: 'server' }, 'setMode.mode', /one of p2p, mp/],
  ['mpStartVpn', 'mp', { listen: { address: '::' } }, 'mpStartVpn.listen.port', /0\.\.65535, got nothing/],
  ['mpStartVpn', 'mp', { listen: A6, ipv6Only: 'yes' }, 'mpStartVpn.ipv6Only', /true or false/],
  ['mpNewPeer', 'mp', { ...GOOD.mpNewPeer[1], vpnAddr4: 'fd00::2' }, 'mpNewPeer.vpnAddr4', /an IPv4 address/],
  [
    'mpNewPeer',
    'mp',
    { ...GOOD.mpNewPeer[1], vpnAddr6: '10.0.0.1' },
    'mpNewPeer.vpnAddr6',
    /an IPv6 address/,
  ],
  ['mpNewPeer', 'mp', { ...GOOD.mpNewPeer[1], peerId: 0xffffff }, 'mpNewPeer.peerId', /0\.\.16777214/],
  ['mpNewPeer', 'mp', { ...GOOD.mpNewPeer[1], remote: undefined }, 'mpNewPeer.remote', /required/],
  ['mpSetPeer', 'mp', { ...GOOD.mpSetPeer[1], mss: 70000 }, 'mpSetPeer.mss', /-1\.\.65535/],
  ['mpDelPeer', 'mp', {}, 'mpDelPeer.peerId', /required; an integer/],
  ['mpSwapKeys', 'mp', { peerId: -1 }, 'mpSwapKeys.peerId', /0\.\.16777214, got -1/],
  [
    'mpAddIroute',
    'mp',
    { addr: '10.9.0.0', netbits: 33, peerId: 5 },
    'mpAddIroute.netbits',
    /0\.\.32 for an IPv4/,
  ],
  ['mpAddIroute', 'mp', { addr: '10.9.0.0/24', netbits: 24, peerId: 5 }, 'mpAddIroute.addr', /IPv4 or IPv6/],
  ['mpDelIroute', 'mp', { addr: 'fd01::', netbits: 129, peerId: 5 }, 'mpDelIroute.netbits', /0\.\.128/],
  ['getPeerStats', 'mp', { peerId: -2 }, 'getPeerStats.peerId', /-1\.\.16777214/],
  ['writeControl', 'mp', { data: '' }, 'writeControl.data', /1\.\.1500 bytes, got 0 bytes/],
  [
    'writeControl',
    'mp',
    { data: Buffer.alloc(1501).toString('base64'), remote: A4 },
    'writeControl.data',
    /got 1501 bytes/,
  ],
  ['writeControl', 'mp', { data: 'AQI=' }, 'writeControl.remote', /required in mp mode/],
  ['writeControl', 'p2p', { data: 'AQI=', remote: A4 }, 'writeControl.remote', /not allowed in p2p mode/],
  ['writeControl', 'p2p', { data: 'not base64!' }, 'writeControl.data', /as base64 text/],
];

test('every command accepts its documented arguments', () => {
  for (const [cmd, [mode, args]] of Object.entries(GOOD) as [
    CommandName,
    [Mode, Record<string, unknown>],
  ][]) {
    assert.doesNotThrow(() => validateArgs(cmd, args, mode), cmd);
  }
  assert.deepEqual(Object.keys(GOOD).sort(), Object.keys(COMMANDS).sort(), 'the table covers every command');
});

test('validation converts hex/base64 to bytes and keeps Uint8Array input', () => {
  const a = validateArgs('newKey', GOOD.newKey[1], 'p2p');
  assert.deepEqual(a.encrypt.nonceTail, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
  assert.equal(a.encrypt.key.length, 32);
  const raw = new Uint8Array(16).fill(7);
  const b = validateArgs(
    'newKey',
    { ...GOOD.newKey[1], cipher: 'AES-128-GCM', encrypt: { key: raw, nonceTail: TAIL }, decrypt: dir(K16) },
    'p2p',
  );
  assert.deepEqual(b.encrypt.key, raw);
  raw.fill(0);
  assert.equal(b.encrypt.key[0], 7, 'validated key is a private copy');
  const w = validateArgs('writeControl', { data: 'OAEC' }, 'p2p');
  assert.deepEqual(w.data, new Uint8Array([0x38, 1, 2]));
});

test('each bad field is rejected with OVPN_ERR_INVALID_FIELD naming the field and the fix', () => {
  for (const [cmd, mode, args, field, fix] of BAD) {
    assert.throws(
      () => validateArgs(cmd, args, mode),
      (e: unknown) => {
        assert.ok(e instanceof ControlApiError && e instanceof OvpnError, `${cmd}: typed error`);
        assert.equal(e.code, ErrorCode.INVALID_FIELD);
        assert.equal(e.field, field, `${cmd}: field`);
        assert.ok(e.message.startsWith(`${field}: `), `message names ${field}: ${e.message}`);
        assert.match(e.message, fix);
        return true;
      },
    );
  }
  const covered = new Set(BAD.map((b) => b[0]));
  assert.deepEqual(
    [...covered].sort(),
    Object.keys(COMMANDS).sort(),
    'every command has a bad-argument case',
  );
});

test('a library caller can pass a Transport instead of addresses', () => {
  const fakeTransport = { send: () => 0, onReceive: () => undefined };
  assert.doesNotThrow(() => validateArgs('newPeer', { transport: fakeTransport }, 'p2p'));
  assert.throws(
    () => validateArgs('newPeer', { transport: fakeTransport, proto: 'udp' }, 'p2p'),
    /newPeer\.proto: not allowed together with transport/,
  );
});

test('help text derives from the schema', () => {
  const h = commandHelp('newKey');
  assert.match(h, /^newKey \(any mode\): Install a data-channel key/);
  assert.match(h, /keyId: an integer 0\.\.7\. Key id/);
  assert.match(h, /\n {4}nonceTail: exactly 8 bytes as hex text/);
  assert.match(commandHelp('mpNewPeer'), /mp mode only/);
  assert.match(commandHelp('swapKeys'), /\(no arguments\)/);
  for (const cmd of Object.keys(COMMANDS)) assert.match(helpText(), new RegExp(`^${cmd} \\(`, 'm'));
});

test('mode rules: P2P commands fail in MP and the reverse; setMode only once', async () => {
  const api = new ControlApi(new FakeTarget());
  await assert.rejects(api.execute('mpNewPeer', GOOD.mpNewPeer[1]), {
    code: 'OVPN_ERR_BAD_MODE',
    message:
      /mpNewPeer: only valid in mp mode, but the device is in p2p mode; call setMode \{"mode":"mp"\} first/,
  });
  await api.execute('setMode', { mode: 'mp' });
  assert.equal(api.mode, 'mp');
  await assert.rejects(api.execute('setMode', { mode: 'p2p' }), { code: 'OVPN_ERR_ALREADY_INITIALIZED' });
  for (const cmd of ['newPeer', 'swapKeys', 'setPeer', 'startVpn'] as const) {
    await assert.rejects(api.execute(cmd, GOOD[cmd][1]), (e: unknown) => {
      assert.ok(isOvpnError(e));
      assert.equal(e.code, 'OVPN_ERR_BAD_MODE');
      assert.match(e.message, new RegExp(`use the mp${cmd[0]!.toUpperCase()}${cmd.slice(1)} command`));
      return true;
    });
  }
  assert.deepEqual(await api.execute('mpStartVpn', GOOD.mpStartVpn[1]), { address: '::', port: 40000 });
  await assert.rejects(api.execute('mpSetPeer', GOOD.mpSetPeer[1]), {
    code: 'OVPN_ERR_NO_PEER',
    message: /no peer with id 5/,
  });
  await api.execute('mpNewPeer', GOOD.mpNewPeer[1]);
  await api.execute('mpSetPeer', GOOD.mpSetPeer[1]);
  await api.execute('getStats', {});

  const p2p = new ControlApi(new FakeTarget());
  await assert.rejects(p2p.execute('startVpn', {}), { code: 'OVPN_ERR_NO_PEER' });
  await p2p.execute('newPeer', GOOD.newPeer[1]);
  await assert.rejects(
    p2p.execute('setMode', { mode: 'mp' }),
    { code: 'OVPN_ERR_ALREADY_INITIALIZED' },
    'mode locked by newPeer',
  );
  await assert.rejects(p2p.execute('frobnicate', {}), {
    code: 'OVPN_ERR_UNKNOWN_COMMAND',
    message: /unknown command "frobnicate"/,
  });
});

test('engine exceptions that are not OvpnErrors become OVPN_ERR_INTERNAL with the command named', async () => {
  const t = new FakeTarget();
  t.getStats = () => Promise.reject(new Error('boom'));
  await assert.rejects(new ControlApi(t).execute('getStats', {}), {
    code: 'OVPN_ERR_INTERNAL',
    message: 'getStats: engine error: boom',
  });
});

test('isOvpnError uses the Symbol.for brand, so it works across package copies', () => {
  const foreign = { [Symbol.for('ovpn-ts.error')]: true, code: 'OVPN_ERR_BAD_MODE' };
  assert.ok(isOvpnError(foreign));
  assert.ok(!isOvpnError(new Error('x')));
  assert.ok(!isOvpnError(null));
});
