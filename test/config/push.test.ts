import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PushReplyCollector,
  continuationOf,
  parseConfigText,
  parsePushOptions,
  parsePushReply,
  splitPushReply,
} from '../../src/config/index.js';
import type { PushLocalOptions, PushParseResult, PushedOptions } from '../../src/config/index.js';
import { LAB_CLIENT_CONF, LAB_FILES, memReader } from './fixtures.js';

/** openvpn-protocol.md §E, as observed from the §H server. */
const OBSERVED =
  'PUSH_REPLY,route 10.9.0.0 255.255.255.0,dhcp-option DNS 10.8.0.1,route-gateway 10.8.0.1,topology subnet,ping 10,ping-restart 60,ifconfig 10.8.0.2 255.255.255.0,peer-id 0,cipher AES-256-GCM,protocol-flags cc-exit tls-ekm dyn-tls-crypt,tun-mtu 1500';

const lab = parseConfigText(LAB_CLIENT_CONF, { readFile: memReader(LAB_FILES) }).options;
const local = (over: Partial<PushLocalOptions> = {}): PushLocalOptions => ({ ...lab, ...over });

function ok(r: PushParseResult): PushedOptions {
  assert.ok(r.ok, r.ok ? '' : r.reason);
  assert.deepEqual(r.errors, []);
  return r.options;
}

test('observed §E reply parses into the typed model', () => {
  const o = ok(parsePushReply(OBSERVED, lab));
  assert.deepEqual(o.routes, [
    { network: '10.9.0.0', netmask: '255.255.255.0', gateway: undefined, metric: undefined },
  ]);
  assert.deepEqual(o.dhcpOptions, [{ type: 'DNS', value: '10.8.0.1' }]);
  assert.equal(o.routeGateway, '10.8.0.1');
  assert.equal(o.topology, 'subnet');
  assert.deepEqual([o.ping, o.pingRestart, o.peerId, o.tunMtu, o.cipher], [10, 60, 0, 1500, 'AES-256-GCM']);
  assert.deepEqual(o.ifconfig, { local: '10.8.0.2', netmask: '255.255.255.0', remote: undefined });
  assert.deepEqual(o.protocolFlags, { ccExit: true, tlsEkm: true, dynTlsCrypt: true, aeadEpoch: false });
  assert.deepEqual(o.unknown, []);
});

test('ifconfig second argument is a remote under net30/p2p (topology may come later or from config)', () => {
  assert.deepEqual(ok(parsePushReply('PUSH_REPLY,ifconfig 10.8.0.6 10.8.0.5')).ifconfig, {
    local: '10.8.0.6',
    netmask: undefined,
    remote: '10.8.0.5',
  });
  assert.deepEqual(
    ok(parsePushReply('PUSH_REPLY,ifconfig 10.8.0.2 255.255.255.0,topology subnet')).ifconfig?.netmask,
    '255.255.255.0',
  );
  assert.deepEqual(
    ok(parsePushReply('PUSH_REPLY,ifconfig 10.8.0.2 255.255.255.0', local({ topology: 'subnet' }))).ifconfig
      ?.netmask,
    '255.255.255.0',
  );
});

test('the rest of the pushed vocabulary', () => {
  const msg = [
    'PUSH_REPLY',
    'ifconfig-ipv6 fd00::1000/64 fd00::1',
    'route-ipv6 2000::/3',
    'route 192.168.5.0 255.255.255.0 10.8.0.1 20',
    'redirect-gateway def1 bypass-dhcp',
    'key-derivation tls-ekm',
    'dns server 0 address 10.8.0.1 fd00::1',
    'dns server 0 resolve-domains corp.example',
    'dns server 0 dnssec optional',
    'dns search-domains corp.example lab.example',
    'auth-token SESS_ID_AT_abc==',
    'auth-token-user YWxpY2U=',
    'explicit-exit-notify 2',
    'comp-lzo no',
    'block-ipv6',
    'setenv UV_X y',
    'echo hello world',
    'inactive 3600 1000000',
    'push-continuation 1',
  ].join(',');
  const o = ok(parsePushReply(msg, lab));
  assert.deepEqual(o.ifconfigIpv6, { local: 'fd00::1000', bits: 64, remote: 'fd00::1' });
  assert.deepEqual(o.routesIpv6, [{ network: '2000::/3', gateway: undefined, metric: undefined }]);
  assert.deepEqual(o.routes[0], {
    network: '192.168.5.0',
    netmask: '255.255.255.0',
    gateway: '10.8.0.1',
    metric: 20,
  });
  assert.deepEqual(o.redirectGateway, ['def1', 'bypass-dhcp']);
  assert.equal(o.keyDerivation, 'tls-ekm');
  assert.deepEqual(o.dns, {
    servers: [
      {
        priority: 0,
        addresses: ['10.8.0.1', 'fd00::1'],
        resolveDomains: ['corp.example'],
        settings: { dnssec: 'optional' },
      },
    ],
    searchDomains: ['corp.example', 'lab.example'],
  });
  assert.deepEqual([o.authToken, o.authTokenUser, o.explicitExitNotify], ['SESS_ID_AT_abc==', 'YWxpY2U=', 2]);
  assert.equal(o.compression, 'comp-lzo');
  assert.equal(o.blockIpv6, true);
  assert.deepEqual(o.setenv, [{ name: 'UV_X', value: 'y' }]);
  assert.deepEqual(o.echo, ['hello world']);
  assert.deepEqual(o.inactive, { seconds: 3600, bytes: 1000000 });
});

test('unknown pushed options are kept with a warning; bad values are errors, not exceptions', () => {
  const r = parsePushReply(
    'PUSH_REPLY,route-metric 5,future-option a b,peer-id x,ifconfig 10.0.0.1,tun-mtu 99999',
  );
  assert.ok(r.ok);
  assert.deepEqual(r.options.unknown, ['route-metric 5', 'future-option a b']);
  assert.equal(r.warnings.length, 2);
  assert.equal(r.errors.length, 3);
  assert.equal(r.options.peerId, undefined);
});

test('pull-filter: first match wins; ignore drops, reject refuses the whole reply', () => {
  const filters = [
    { action: 'accept' as const, text: 'route 10.9.' },
    { action: 'ignore' as const, text: 'route ' },
    { action: 'reject' as const, text: 'redirect-gateway' },
  ];
  const o = ok(
    parsePushReply(
      'PUSH_REPLY,route 10.9.0.0 255.255.255.0,route 10.10.0.0 255.255.0.0',
      local({ pullFilters: filters }),
    ),
  );
  assert.deepEqual(
    o.routes.map((r) => r.network),
    ['10.9.0.0'],
  );
  assert.deepEqual(o.filtered, ['route 10.10.0.0 255.255.0.0']);
  const r = parsePushReply(
    'PUSH_REPLY,route 10.9.0.0 255.255.255.0,redirect-gateway def1',
    local({ pullFilters: filters }),
  );
  assert.equal(r.ok, false);
  assert.match(r.ok ? '' : r.reason, /rejected by pull-filter reject "redirect-gateway"/);
});

test('route-nopull drops routes, redirect-gateway and DNS options but keeps the rest', () => {
  const o = ok(
    parsePushReply(OBSERVED + ',redirect-gateway def1,dns search-domains x', local({ routeNopull: true })),
  );
  assert.deepEqual(o.routes, []);
  assert.deepEqual(o.dhcpOptions, []);
  assert.equal(o.redirectGateway, undefined);
  assert.equal(o.routeGateway, '10.8.0.1');
  assert.equal(o.ifconfig?.local, '10.8.0.2');
  assert.equal(o.filtered.length, 4);
});

test('a pushed cipher outside local data-ciphers, or a non-AEAD, refuses the reply', () => {
  const r = parsePushReply('PUSH_REPLY,cipher AES-128-GCM', lab);
  assert.equal(r.ok, false);
  const bf = parsePushReply('PUSH_REPLY,cipher BF-CBC', lab);
  assert.ok(bf.ok);
  assert.equal(bf.options.cipher, undefined);
  assert.match(bf.errors[0] ?? '', /AEAD/);
});

test('empty PUSH_REPLY is legal; other messages are not push replies', () => {
  assert.deepEqual(splitPushReply('PUSH_REPLY'), []);
  assert.equal(parsePushReply('PUSH_REPLY\0').ok, true);
  assert.equal(parsePushReply('AUTH_FAILED').ok, false);
});

test('continuation: parts merge in order, markers removed', () => {
  const p1 = 'PUSH_REPLY,route 10.1.0.0 255.255.0.0,push-continuation 2';
  const p2 =
    'PUSH_REPLY,route 10.2.0.0 255.255.0.0,ifconfig 10.8.0.2 255.255.255.0,topology subnet,push-continuation 1';
  assert.equal(continuationOf(splitPushReply(p1) ?? []), 2);
  const c = new PushReplyCollector();
  assert.deepEqual(c.add(p1), { state: 'pending' });
  const done = c.add(p2);
  assert.equal(done.state, 'complete');
  const items = done.state === 'complete' ? done.items : [];
  assert.ok(!items.some((i) => i.includes('push-continuation')));
  const o = ok(parsePushOptions(items, lab));
  assert.deepEqual(
    o.routes.map((r) => r.network),
    ['10.1.0.0', '10.2.0.0'],
  );
  assert.deepEqual(ok(parsePushReply([p1, p2], lab)).routes.length, 2);
});

test('collector bounds a server that never finishes', () => {
  const c = new PushReplyCollector();
  let last: ReturnType<PushReplyCollector['add']> = { state: 'pending' };
  for (let i = 0; i < 100 && last.state === 'pending'; i++)
    last = c.add('PUSH_REPLY,echo x,push-continuation 2');
  assert.equal(last.state, 'error');
});

test('quoted pushed arguments use the config tokenizer', () => {
  const o = ok(parsePushReply('PUSH_REPLY,setenv UV_MSG "hello there",echo "a b"'));
  assert.deepEqual(o.setenv, [{ name: 'UV_MSG', value: 'hello there' }]);
  const r = parsePushReply('PUSH_REPLY,echo "unterminated');
  assert.ok(r.ok);
  assert.match(r.errors[0] ?? '', /no closing quotation/);
});
