import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULTS, OvpnConfigError, parseConfigText } from '../../src/config/index.js';
import type { ClientOptions, ParsedConfig } from '../../src/config/index.js';
import { LAB_FILES, memReader } from './fixtures.js';

const BASE =
  'client\ndev tun\nremote vpn.example 1194\nca ca.crt\ncert client.crt\nkey client.key\nremote-cert-tls server\n';
const BASE_LINES = BASE.split('\n').length - 1;
const parse = (extra: string, base = BASE): ParsedConfig =>
  parseConfigText(base + extra, { name: 'p.ovpn', readFile: memReader(LAB_FILES) });
const opts = (extra: string): ClientOptions => parse(extra).options;

/** Asserts an OvpnConfigError naming the option, the line of `extra`'s first line, and matching re. */
function refuses(extra: string, option: string, re: RegExp, base = BASE): void {
  assert.throws(
    () => parse(extra, base),
    (e: unknown) => {
      assert.ok(e instanceof OvpnConfigError, `expected OvpnConfigError, got ${String(e)}`);
      assert.equal(String(e.code), 'OVPN_ERR_CONFIG');
      assert.equal(e.option, option, e.message);
      assert.match(e.message, re);
      return true;
    },
    `'${extra.trim()}' should be refused`,
  );
}
const at = `p.ovpn:${BASE_LINES + 1}:`;

test('defaults are openvpn 2.6 defaults', () => {
  const o = opts('');
  const c = o.connections[0];
  assert.ok(c);
  assert.equal(c.port, 1194);
  assert.equal(c.transport, 'udp');
  assert.equal(c.family, 'any');
  assert.deepEqual(c.connectRetry, { initial: 1, max: 300 });
  assert.equal(c.connectTimeout, 120);
  assert.equal(c.explicitExitNotify, 0);
  assert.equal(c.tunMtu, 1500);
  assert.equal(c.bind, true);
  assert.equal(o.resolvRetry, 'infinite');
  assert.deepEqual(o.tls.renegSec, { max: 3600, min: undefined });
  assert.equal(o.tls.timeout, 2);
  assert.equal(o.tls.handWindow, 60);
  assert.equal(o.tls.tranWindow, 3600);
  assert.deepEqual(o.tls.versionMin, { version: '1.2', orHighest: false });
  assert.equal(o.tls.auth, 'SHA1');
  assert.equal(o.tls.maxPacketSize, 1250);
  assert.deepEqual(o.dataCiphers, ['AES-256-GCM', 'AES-128-GCM', 'CHACHA20-POLY1305']);
  assert.deepEqual(o.replayWindow, { size: 64, time: 15 });
  assert.equal(o.pingRestart, 0);
  assert.equal(o.topology, 'net30');
  assert.deepEqual(o.compression, { requested: 'none', framing: 'none', allow: 'no' });
  assert.equal(o.pull, true);
  assert.equal(o.verb, DEFAULTS.verb);
});

// [extra lines, check] — each supported option in a good form.
const GOOD: [string, (o: ClientOptions) => unknown][] = [
  ['tls-client\npull\n', (o) => assert.equal(o.pull, true)],
  [
    'remote b.example 443 tcp\n',
    (o) =>
      assert.deepEqual(
        o.connections.map((c) => [c.host, c.port, c.transport]),
        [
          ['vpn.example', 1194, 'udp'],
          ['b.example', 443, 'tcp'],
        ],
      ),
  ],
  [
    'remote-random\nremote-random-hostname\n',
    (o) => assert.deepEqual([o.remoteRandom, o.remoteRandomHostname], [true, true]),
  ],
  [
    'proto tcp6-client\n',
    (o) => assert.deepEqual([o.connections[0]?.transport, o.connections[0]?.family], ['tcp', 'inet6']),
  ],
  ['proto udp4\n', (o) => assert.equal(o.connections[0]?.family, 'inet')],
  ['port 443\n', (o) => assert.equal(o.connections[0]?.port, 1194)], // remote gave 1194 explicitly
  [
    'lport 5000\n',
    (o) => assert.deepEqual([o.connections[0]?.localPort, o.connections[0]?.bind], [5000, true]),
  ],
  ['nobind\n', (o) => assert.equal(o.connections[0]?.bind, false)],
  ['dev-type tun\n', (o) => assert.deepEqual(o.dev, { name: 'tun', type: 'tun' })],
  ['ca ca.crt\n', (o) => assert.equal(o.tls.ca?.text, LAB_FILES['ca.crt'])],
  ['askpass\n', (o) => assert.deepEqual(o.tls.askpass, { source: 'prompt' })],
  [
    'askpass creds.txt\n',
    (o) => assert.deepEqual(o.tls.askpass, { source: 'file', path: 'creds.txt', text: 'alice' }),
  ],
  [
    'tls-auth ta.key 1\n',
    (o) =>
      assert.deepEqual(
        [o.tls.wrap?.mode, o.tls.wrap?.mode === 'tls-auth' && o.tls.wrap.direction],
        ['tls-auth', 1],
      ),
  ],
  [
    'tls-auth ta.key\nkey-direction 0\n',
    (o) => assert.equal(o.tls.wrap?.mode === 'tls-auth' && o.tls.wrap.direction, 0),
  ],
  ['tls-crypt tc.key\n', (o) => assert.equal(o.connections[0]?.tlsWrap?.mode, 'tls-crypt')],
  ['tls-crypt-v2 tcv2-client.key\n', (o) => assert.equal(o.tls.wrap?.mode, 'tls-crypt-v2')],
  ['auth sha256\n', (o) => assert.equal(o.tls.auth, 'SHA256')],
  [
    'data-ciphers chacha20-poly1305:aes-192-gcm\n',
    (o) => assert.deepEqual(o.dataCiphers, ['CHACHA20-POLY1305', 'AES-192-GCM']),
  ],
  ['data-ciphers AES-256-GCM:?AES-999-GCM\n', (o) => assert.deepEqual(o.dataCiphers, ['AES-256-GCM'])],
  ['data-ciphers-fallback AES-128-GCM\n', (o) => assert.equal(o.dataCiphersFallback, 'AES-128-GCM')],
  ['remote-cert-tls client\n', (o) => assert.equal(o.tls.remoteCertTls, 'client')],
  // remote-cert-eku names resolve to the OID the check compares (short or OpenSSL long name).
  ['remote-cert-eku serverAuth\n', (o) => assert.equal(o.tls.remoteCertEku, '1.3.6.1.5.5.7.3.1')],
  [
    'remote-cert-eku "TLS Web Client Authentication"\n',
    (o) => assert.equal(o.tls.remoteCertEku, '1.3.6.1.5.5.7.3.2'),
  ],
  ['remote-cert-eku OCSPSigning\n', (o) => assert.equal(o.tls.remoteCertEku, '1.3.6.1.5.5.7.3.9')],
  [
    'remote-cert-eku 1.2.840.113549.1.9.1\n',
    (o) => assert.equal(o.tls.remoteCertEku, '1.2.840.113549.1.9.1'),
  ],
  // No values: only a keyUsage extension is required (OpenVPN 2.6 OPENVPN_KU_REQUIRED).
  ['remote-cert-ku\n', (o) => assert.deepEqual(o.tls.remoteCertKu, [])],
  ['remote-cert-ku a0 0x88 8008\n', (o) => assert.deepEqual(o.tls.remoteCertKu, [0xa0, 0x88, 0x8008])],
  [
    'verify-x509-name "CN=server" subject\n',
    (o) => assert.deepEqual(o.tls.verifyX509Name, { name: 'CN=server', type: 'subject' }),
  ],
  ['verify-x509-name srv name-prefix\n', (o) => assert.equal(o.tls.verifyX509Name?.type, 'name-prefix')],
  [
    'tls-version-min 1.3 or-highest\n',
    (o) => assert.deepEqual(o.tls.versionMin, { version: '1.3', orHighest: true }),
  ],
  ['tls-version-max 1.3\n', (o) => assert.equal(o.tls.versionMax, '1.3')],
  ['auth-user-pass\n', (o) => assert.deepEqual(o.authUserPass, { source: 'prompt' })],
  [
    'auth-user-pass creds.txt\n',
    (o) =>
      assert.deepEqual(o.authUserPass, {
        source: 'file',
        path: 'creds.txt',
        username: 'alice',
        password: 's3cret',
      }),
  ],
  [
    '<auth-user-pass>\nbob\n</auth-user-pass>\n',
    (o) => assert.deepEqual(o.authUserPass, { source: 'inline', path: undefined, username: 'bob' }),
  ],
  ['auth-nocache\n', (o) => assert.equal(o.authNocache, true)],
  ['reneg-sec 0\n', (o) => assert.deepEqual(o.tls.renegSec, { max: 0, min: undefined })],
  ['reneg-sec 3600 3000\n', (o) => assert.deepEqual(o.tls.renegSec, { max: 3600, min: 3000 })],
  ['keepalive 10 60\n', (o) => assert.deepEqual([o.ping, o.pingRestart], [10, 60])],
  ['ping 15\nping-restart 120\n', (o) => assert.deepEqual([o.ping, o.pingRestart], [15, 120])],
  ['connect-retry 5\n', (o) => assert.deepEqual(o.connections[0]?.connectRetry, { initial: 5, max: 300 })],
  ['connect-retry 2 30\n', (o) => assert.deepEqual(o.connections[0]?.connectRetry, { initial: 2, max: 30 })],
  ['connect-retry-max 3\n', (o) => assert.equal(o.connectRetryMax, 3)],
  ['connect-timeout 9\n', (o) => assert.equal(o.connections[0]?.connectTimeout, 9)],
  ['server-poll-timeout 4\n', (o) => assert.equal(o.connections[0]?.connectTimeout, 4)],
  ['resolv-retry 30\n', (o) => assert.equal(o.resolvRetry, 30)],
  ['resolv-retry infinite\n', (o) => assert.equal(o.resolvRetry, 'infinite')],
  ['explicit-exit-notify\n', (o) => assert.equal(o.connections[0]?.explicitExitNotify, 1)],
  ['explicit-exit-notify 3\n', (o) => assert.equal(o.connections[0]?.explicitExitNotify, 3)],
  ['persist-tun\npersist-key\n', (o) => assert.deepEqual([o.persistTun, o.persistKey], [true, true])],
  ['allow-compression asym\n', (o) => assert.equal(o.compression.allow, 'asym')],
  [
    'comp-lzo no\n',
    (o) => assert.deepEqual(o.compression, { requested: 'lzo-stub', framing: 'comp-lzo', allow: 'no' }),
  ],
  ['compress\n', (o) => assert.equal(o.compression.framing, 'compress')],
  ['compress stub-v2\n', (o) => assert.equal(o.compression.framing, 'compress-v2')],
  [
    'mssfix 1400 mtu\n',
    (o) => assert.deepEqual(o.connections[0]?.mssfix, { size: 1400, mtu: true, fixed: false }),
  ],
  ['mssfix 0\n', (o) => assert.equal(o.connections[0]?.mssfix.size, 0)],
  ['tun-mtu 1420\n', (o) => assert.equal(o.connections[0]?.tunMtu, 1420)],
  ['verb 5\nmute 20\n', (o) => assert.deepEqual([o.verb, o.mute], [5, 20])],
  ['route-nopull\n', (o) => assert.equal(o.routeNopull, true)],
  [
    'pull-filter ignore "route "\npull-filter accept route-gateway\n',
    (o) =>
      assert.deepEqual(o.pullFilters, [
        { action: 'ignore', text: 'route ' },
        { action: 'accept', text: 'route-gateway' },
      ]),
  ],
  [
    'setenv UV_TEAM blue\nsetenv IV_GUI_VER "my gui 1.0"\n',
    (o) =>
      assert.deepEqual(o.setenv, [
        { name: 'UV_TEAM', value: 'blue' },
        { name: 'IV_GUI_VER', value: 'my gui 1.0' },
      ]),
  ],
  ['script-security 2\n', (o) => assert.equal(o.scriptSecurity, 2)],
  ['float\n', (o) => assert.equal(o.connections[0]?.float, true)],
  ['replay-window 128\n', (o) => assert.deepEqual(o.replayWindow, { size: 128, time: 15 })],
  [
    'replay-window 256 30\nmute-replay-warnings\n',
    (o) => assert.deepEqual([o.replayWindow, o.muteReplayWarnings], [{ size: 256, time: 30 }, true]),
  ],
  [
    'tls-timeout 1\nhand-window 20\ntran-window 60\n',
    (o) => assert.deepEqual([o.tls.timeout, o.tls.handWindow, o.tls.tranWindow], [1, 20, 60]),
  ],
  ['max-packet-size 1400\n', (o) => assert.equal(o.tls.maxPacketSize, 1400)],
  ['max-packet-size 100\n', (o) => assert.equal(o.tls.maxPacketSize, 154)],
  [
    'ifconfig 10.200.0.2 10.200.0.1\n',
    (o) => assert.deepEqual(o.ifconfig, { local: '10.200.0.2', remoteOrNetmask: '10.200.0.1' }),
  ],
  [
    'route 10.9.0.0 255.255.255.0 vpn_gateway 5\n',
    (o) =>
      assert.deepEqual(
        o.routes.map(({ pos: _p, ...r }) => r),
        [{ network: '10.9.0.0', netmask: '255.255.255.0', gateway: 'vpn_gateway', metric: 5 }],
      ),
  ],
  ['route-ipv6 2001:db8::/32\n', (o) => assert.equal(o.routesIpv6[0]?.network, '2001:db8::/32')],
  ['topology subnet\n', (o) => assert.equal(o.topology, 'subnet')],
  [
    'dhcp-option DNS 10.8.0.1\ndhcp-option domain corp.example\n',
    (o) =>
      assert.deepEqual(o.dhcpOptions, [
        { type: 'DNS', value: '10.8.0.1' },
        { type: 'DOMAIN', value: 'corp.example' },
      ]),
  ],
  [
    'redirect-gateway def1 bypass-dhcp\n',
    (o) => assert.deepEqual(o.redirectGateway, ['def1', 'bypass-dhcp']),
  ],
  ['auth-retry interact\n', (o) => assert.equal(o.authRetry, 'interact')],
  [
    'static-challenge "Enter OTP" 1\n',
    (o) => assert.deepEqual(o.staticChallenge, { text: 'Enter OTP', echo: true }),
  ],
  ['push-peer-info\n', (o) => assert.equal(o.pushPeerInfo, true)],
  [
    'sndbuf 393216\nrcvbuf 393216\nfast-io\n',
    (o) => assert.deepEqual([o.sndbuf, o.rcvbuf, o.fastIo], [393216, 393216, true]),
  ],
  ['ns-cert-type server\n', (o) => assert.equal(o.tls.nsCertType, 'server')],
  [
    'tls-cipher TLS-ECDHE-RSA-WITH-AES-256-GCM-SHA384\ntls-groups X25519:P-256\n',
    (o) =>
      assert.deepEqual(
        [o.tls.cipherList, o.tls.groups],
        ['TLS-ECDHE-RSA-WITH-AES-256-GCM-SHA384', 'X25519:P-256'],
      ),
  ],
  ['mode p2p\ndisable-dco\n', (o) => assert.equal(o.pull, true)],
];

for (const [extra, check] of GOOD) {
  test(`accepts: ${extra.trim().replace(/\n/g, ' / ')}`, () => {
    check(opts(extra));
  });
}

// [extra, option named in the error, message pattern]
const BAD: [string, string, RegExp][] = [
  ['remote\n', 'remote', /missing parameter\(s\): expected 'remote HOST \[PORT\] \[PROTO\]'/],
  ['remote a 99999\n', 'remote', /port number must be between 1 and 65535/],
  ['remote a 1194 sctp\n', 'remote', /unknown protocol 'sctp'/],
  ['proto tcp-server\n', 'proto', /server protocol/],
  ['port x\n', 'port', /expects a port number/],
  ['dev tap\n', 'dev', /only tun/],
  ['dev-type tap\n', 'dev-type', /^p\.ovpn:\d+: dev-type: dev-type tap: ovpn-ts supports only tun/],
  ['tls-auth ta.key 2\n', 'tls-auth', /must be 0 or 1/],
  ['key-direction bidirectional\n', 'key-direction', /must be 0 or 1/],
  ['tls-auth missing.key 1\n', 'tls-auth', /cannot read 'missing\.key' \(ENOENT/],
  ['tls-auth ca.crt 1\n', 'tls-auth', /does not contain an OpenVPN static key/],
  ['tls-crypt tc.key extra\n', 'tls-crypt', /too many parameters/],
  ['tls-crypt-v2 tcv2-server.key\n', 'tls-crypt-v2', /server key/],
  ['auth WHIRLPOOL\n', 'auth', /unsupported digest/],
  ['data-ciphers AES-256-GCM:BF-CBC\n', 'data-ciphers', /'BF-CBC' is not supported: .*AEAD/],
  ['data-ciphers AES-256-CBC\n', 'data-ciphers', /AES-256-CBC/],
  ['remote-cert-tls peer\n', 'remote-cert-tls', /server\|client/],
  ['remote-cert-ku zz\n', 'remote-cert-ku', /bad key usage 'zz': expects hex values such as a0/],
  ['remote-cert-ku a0 0\n', 'remote-cert-ku', /key usage '0' names no bit/],
  ['remote-cert-ku 1a0\n', 'remote-cert-ku', /sets bits that are not key usages \(0x100\)/],
  [
    'remote-cert-eku webServer\n',
    'remote-cert-eku',
    /unknown extended key usage 'webServer': use a dotted OID such as 1\.3\.6\.1\.5\.5\.7\.3\.1, or one of serverAuth, clientAuth/,
  ],
  ['remote-cert-eku serverauth\n', 'remote-cert-eku', /did you mean 'serverAuth'\?/],
  ['remote-cert-eku 1.3.06.1\n', 'remote-cert-eku', /bad OID '1\.3\.06\.1': write it in dotted form/],
  ['remote-cert-eku serverAuth clientAuth\n', 'remote-cert-eku', /too many parameters/],
  ['verify-x509-name a b\n', 'verify-x509-name', /subject\|name\|name-prefix/],
  ['verify-x509-name "" name\n', 'verify-x509-name', /non-empty/],
  ['tls-version-min 1.4\n', 'tls-version-min', /1\.0\|1\.1\|1\.2\|1\.3/],
  ['tls-version-min 1.2 or-lowest\n', 'tls-version-min', /or-highest/],
  ['tls-version-min 1.3\ntls-version-max 1.2\n', 'tls-version-min', /above tls-version-max/],
  ['reneg-sec -5\n', 'reneg-sec', /seconds/],
  ['reneg-sec 100 200\n', 'reneg-sec', /minimum/],
  ['keepalive 10 15\n', 'keepalive', /at least twice/],
  ['keepalive 10\n', 'keepalive', /missing parameter/],
  ['ping abc\n', 'ping', /seconds/],
  ['connect-retry 1 2 3\n', 'connect-retry', /too many/],
  ['resolv-retry forever\n', 'resolv-retry', /seconds/],
  ['explicit-exit-notify x\n', 'explicit-exit-notify', /number/],
  ['allow-compression maybe\n', 'allow-compression', /no\|asym\|yes/],
  ['comp-lzo fast\n', 'comp-lzo', /yes\|no\|adaptive/],
  ['compress lz4\nallow-compression yes\n', 'compress', /real compression is not supported/],
  ['comp-lzo\nallow-compression no\n', 'compress', /not allowed with 'allow-compression no'/],
  ['mssfix 1400 auto\n', 'mssfix', /mtu\|fixed/],
  ['tun-mtu 10\n', 'tun-mtu', /MTU must be between/],
  ['verb 12\n', 'verb', /between 0 and 11/],
  ['pull-filter drop route\n', 'pull-filter', /accept\|ignore\|reject/],
  ['script-security 4\n', 'script-security', /between 0 and 3/],
  ['up /etc/openvpn/up.sh\n', 'up', /script-security 2/],
  ['replay-window 70000\n', 'replay-window', /between 0 and 65536/],
  ['replay-window 64 601\n', 'replay-window', /between 0 and 600/],
  ['ifconfig 10.0.0.1\n', 'ifconfig', /missing parameter/],
  ['ifconfig 10.0.0.1 nope\n', 'ifconfig', /remote address or netmask/],
  ['route 10.0.0.0 255.255.0\n', 'route', /netmask/],
  ['route-ipv6 10.0.0.0/8\n', 'route-ipv6', /IPv6/],
  ['topology star\n', 'topology', /net30\|p2p\|subnet/],
  ['redirect-gateway def2\n', 'redirect-gateway', /def1/],
  ['auth-retry always\n', 'auth-retry', /none\|nointeract\|interact/],
  ['static-challenge "OTP" yes\n', 'static-challenge', /0\|1/],
  ['<auth-user-pass>\n\n</auth-user-pass>\n', 'auth-user-pass', /no username/],
  ['secret static.key\n', 'secret', /static-key mode is not supported/],
  ['tls-server\n', 'tls-server', /TLS client/],
  ['auth none\ntls-auth ta.key 1\n', 'auth', /'auth none' leaves tls-auth without an HMAC/],
  ['tls-auth ta.key 1\ntls-crypt tc.key\n', 'tls-auth/tls-crypt', /mutually exclusive/],
  ['fragment 1300\n', 'fragment', /fragmentation is not supported/],
  ['socks-proxy 127.0.0.1 1080\n', 'socks-proxy', /proxies/],
  ['http-proxy proxy.example 3128\n', 'http-proxy', /proxies/],
  ['pkcs11-providers /usr/lib/p11.so\n', 'pkcs11-providers', /PKCS#11/],
  ['management 127.0.0.1 7505\n', 'management', /management interface/],
  ['plugin /usr/lib/openvpn/plugin.so\n', 'plugin', /plugins/],
  ['server 10.8.0.0 255.255.255.0\n', 'server', /server option/],
  ['mode server\n', 'mode', /server setting/],
  ['tls-verify /bin/check\n', 'tls-verify', /does not run scripts/],
  [
    'verb 3\n<connection>\nremote a 1\n</connection>\n<connection>\nverb 4\n</connection>\n',
    'verb',
    /inside <connection>/,
  ],
  ['<verb>\n3\n</verb>\n', 'verb', /inline <verb> block/],
];

for (const [extra, option, re] of BAD) {
  test(`refuses: ${extra.trim().replace(/\n/g, ' / ')}`, () => refuses(extra, option, re));
}

test('errors carry file and line of the offending option', () => {
  refuses('verb 3\nverb 99\n', 'verb', new RegExp(`^p\\.ovpn:${BASE_LINES + 2}: verb: `));
  refuses('fragment 1300\n', 'fragment', new RegExp(`^${at} fragment: `));
});

test('missing essentials are refused with the fix', () => {
  refuses('', 'client', /add 'client'/, 'dev tun\nremote a 1\nca ca.crt\nauth-user-pass\n');
  refuses('', 'pull', /use 'client'/, 'pull\ndev tun\nremote a 1\nca ca.crt\nauth-user-pass\n');
  refuses('', 'dev', /add 'dev tun'/, 'client\nremote a 1\nca ca.crt\nauth-user-pass\n');
  refuses('', 'dev', /add 'dev-type tun'/, 'client\ndev vpn0\nremote a 1\nca ca.crt\nauth-user-pass\n');
  refuses('', 'remote', /add 'remote HOST/, 'client\ndev tun\nca ca.crt\nauth-user-pass\n');
  refuses('', 'ca', /no CA/, 'client\ndev tun\nremote a 1\nauth-user-pass\n');
  refuses('', 'auth-user-pass', /no client authentication/, 'client\ndev tun\nremote a 1\nca ca.crt\n');
  refuses('', 'key', /together/, 'client\ndev tun\nremote a 1\nca ca.crt\ncert client.crt\n');
});

test('dev name with dev-type tun is accepted', () => {
  const r = parse(
    '',
    'client\ndev vpn0\ndev-type tun\nremote a 1\nca ca.crt\nauth-user-pass\nremote-cert-tls server\n',
  );
  assert.deepEqual(r.options.dev, { name: 'vpn0', type: 'tun' });
});

test('unknown options warn with file:line and are never fatal; ignore-unknown-option silences them', () => {
  const r = parse('frobnicate 1\nignore-unknown-option wintun-option\nwintun-option x\nalso-unknown\n');
  assert.deepEqual(
    r.warnings.map((w) => w.message),
    [
      `p.ovpn:${BASE_LINES + 1}: frobnicate: unknown option, ignored (openvpn would stop here)`,
      `p.ovpn:${BASE_LINES + 4}: also-unknown: unknown option, ignored (openvpn would stop here)`,
    ],
  );
});

test('setenv opt makes an unsupported or invalid option a warning', () => {
  const r = parse(
    'setenv opt block-unknown-thing\nsetenv opt fragment 1300\nsetenv opt verb 99\nsetenv opt verb 6\n',
  );
  assert.equal(r.options.verb, 6);
  const texts = r.warnings.map((w) => w.message).join('\n');
  assert.match(
    texts,
    /block-unknown-thing: not supported by ovpn-ts; skipped \(marked optional by setenv opt\)/,
  );
  assert.match(texts, /fragment: skipped \(marked optional by setenv opt\): .*fragmentation/);
  assert.match(texts, /verb: skipped .*between 0 and 11/);
});

test('warn-only options: cipher (legacy), block-outside-dns, user/group, ns-cert-type, up with script-security 2', () => {
  const r = parse(
    'cipher AES-256-CBC\nblock-outside-dns\nuser nobody\ngroup nogroup\nscript-security 2\nup /x.sh\n',
  );
  const byOpt = new Set(r.warnings.map((w) => w.option));
  for (const o of ['cipher', 'block-outside-dns', 'user', 'group', 'up'])
    assert.ok(byOpt.has(o), `no warning for ${o}`);
  assert.equal(r.options.legacyCipher, 'AES-256-CBC');
});

test('missing server verification earns a warning', () => {
  const r = parse('', 'client\ndev tun\nremote a 1\nca ca.crt\nauth-user-pass\n');
  assert.ok(
    r.warnings.some((w) => w.option === 'remote-cert-tls' && /no server certificate check/.test(w.message)),
  );
});

test('comp-lzo without allow-compression: framing kept, receive-only compression warned', () => {
  const r = parse('comp-lzo\n');
  assert.deepEqual(r.options.compression, { requested: 'lzo', framing: 'comp-lzo', allow: 'asym' });
  assert.ok(r.warnings.some((w) => /drops compressed packets/.test(w.message)));
});

test('later lines override earlier ones; lists accumulate', () => {
  const o = opts('verb 2\nverb 7\nroute 10.1.0.0 255.255.0.0\nroute 10.2.0.0 255.255.0.0\n');
  assert.equal(o.verb, 7);
  assert.equal(o.routes.length, 2);
});

test('without a reader, named files stay unread paths', () => {
  const r = parseConfigText(BASE + 'tls-crypt tc.key\n', { name: 'x' });
  assert.deepEqual(r.options.tls.ca, { origin: 'file', path: 'ca.crt', pos: { file: 'x', line: 4 } });
  assert.equal(r.options.tls.wrap?.key.text, undefined);
});

test('cd resolves later relative file names', () => {
  const files = { '/etc/ovpn/ca.crt': LAB_FILES['ca.crt'] as string, '/etc/ovpn/creds': 'u\np\n' };
  const r = parseConfigText(
    'cd /etc/ovpn\nclient\ndev tun\nremote a 1\nca ca.crt\nauth-user-pass creds\nremote-cert-tls server\n',
    { readFile: memReader(files) },
  );
  assert.equal(r.options.tls.ca?.path, '/etc/ovpn/ca.crt');
  assert.equal(r.options.authUserPass?.source === 'file' && r.options.authUserPass.username, 'u');
});

test('pkcs12: inline base64 decoded, replaces cert/key and ca', () => {
  const o = parseConfigText(
    'client\ndev tun\nremote a 1\n<pkcs12>\nAAECAwQF\nBgc=\n</pkcs12>\nremote-cert-tls server\n',
  ).options;
  assert.deepEqual([...(o.tls.pkcs12?.bytes ?? [])], [0, 1, 2, 3, 4, 5, 6, 7]);
  refuses('<pkcs12>\n!!notbase64\n</pkcs12>\n', 'pkcs12', /base64/);
  refuses('<pkcs12>\nAAEC\n</pkcs12>\n', 'cert', /pkcs12/);
});

test('peer-fingerprint can stand in for ca', () => {
  const fp = Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(2, '0')).join(':');
  const o = parseConfigText(
    `client\ndev tun\nremote a 1\nauth-user-pass\n<peer-fingerprint>\n# server\n${fp}\n</peer-fingerprint>\n`,
  ).options;
  assert.deepEqual(o.tls.peerFingerprints, [fp.toUpperCase()]);
  refuses('peer-fingerprint AB:CD\n', 'peer-fingerprint', /SHA-256/);
});
