// Test material for the config parser: PEM-shaped blobs (markers right, bodies filler) and
// realistic client profiles of the kinds users export from servers and VPN providers.

const hexLines = (seed: number): string =>
  Array.from({ length: 16 }, (_, i) =>
    Array.from({ length: 16 }, (_, j) =>
      ((seed * 31 + i * 16 + j) & 0xff).toString(16).padStart(2, '0'),
    ).join(''),
  ).join('\n');

export const CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIBdzCCAR2gAwIBAgIUTestCA\n-----END CERTIFICATE-----\n';
export const CERT_PEM =
  '-----BEGIN CERTIFICATE-----\nMIIBeDCCAR6gAwIBAgIUClient\n-----END CERTIFICATE-----\n';
export const KEY_PEM =
  '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49\n-----END PRIVATE KEY-----\n';
/** As `openvpn --genkey` writes it: `#` comment lines before the marker. */
export const STATIC_KEY =
  '#\n# 2048 bit OpenVPN static key\n#\n-----BEGIN OpenVPN Static key V1-----\n' +
  hexLines(7) +
  '\n-----END OpenVPN Static key V1-----\n';
export const TCV2_CLIENT =
  '-----BEGIN OpenVPN tls-crypt-v2 client key-----\nAAAA\n-----END OpenVPN tls-crypt-v2 client key-----\n';
export const TCV2_SERVER =
  '-----BEGIN OpenVPN tls-crypt-v2 server key-----\nAAAA\n-----END OpenVPN tls-crypt-v2 server key-----\n';

/** A reader over an in-memory file map; unknown paths fail like fs does. */
export function memReader(files: Record<string, string>): (p: string) => string {
  return (p) => {
    const f = files[p];
    if (f === undefined) throw new Error(`ENOENT: no such file or directory, open '${p}'`);
    return f;
  };
}

export const LAB_FILES: Record<string, string> = {
  'ca.crt': CA_PEM,
  'client.crt': CERT_PEM,
  'client.key': KEY_PEM,
  'tc.key': STATIC_KEY,
  'ta.key': STATIC_KEY,
  'tcv2-client.key': TCV2_CLIENT,
  'tcv2-server.key': TCV2_SERVER,
  'creds.txt': 'alice\ns3cret\n',
};

/** openvpn-protocol.md §H client.conf, verbatim. */
export const LAB_CLIENT_CONF = `client
dev tun-ovpnc
dev-type tun
proto udp4
remote 10.99.0.1 1194
nobind
remote-cert-tls server
ca ca.crt
cert client.crt
key client.key
tls-version-min 1.2
data-ciphers AES-256-GCM:CHACHA20-POLY1305
tls-crypt tc.key
allow-compression no
disable-dco
reneg-sec 0
explicit-exit-notify 1
verb 4
`;

/** What a typical access-server / pivpn export looks like: everything inline, CRLF line ends. */
export const INLINE_PROFILE = [
  '# Exported profile for alice',
  'client',
  'dev tun',
  'proto udp',
  'remote vpn.example.com 1194',
  'resolv-retry infinite',
  'nobind',
  'persist-key',
  'persist-tun',
  'remote-cert-tls server',
  'verify-x509-name "vpn.example.com" name',
  'auth SHA256',
  'data-ciphers AES-256-GCM:AES-128-GCM',
  'tls-version-min 1.2',
  'ignore-unknown-option block-outside-dns',
  'block-outside-dns',
  'setenv opt tls-cipher "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256"',
  'verb 3',
  '<ca>',
  CA_PEM.trimEnd(),
  '</ca>',
  '<cert>',
  CERT_PEM.trimEnd(),
  '</cert>',
  '<key>',
  KEY_PEM.trimEnd(),
  '</key>',
  '<tls-crypt>',
  STATIC_KEY.trimEnd(),
  '</tls-crypt>',
  '',
].join('\r\n');

/** Classic easy-rsa style: tls-auth file + key-direction, comp-lzo, SHA256, user/group. */
export const TLS_AUTH_PROFILE = `;  client side of the office VPN
client
dev tun
proto udp
remote office.example.net 1194
resolv-retry infinite
nobind
user nobody
group nogroup
persist-key
persist-tun
ca ca.crt
cert client.crt
key client.key
remote-cert-tls server
tls-auth ta.key
key-direction 1
auth SHA256
cipher AES-256-CBC
verb 3
mute 20
`;

/** A provider profile: several TCP remotes, remote-random, username/password, no client cert. */
export const MULTI_REMOTE_PROFILE = `client
dev tun
proto tcp
remote nl1.provider.example 443
remote nl2.provider.example 443
remote 198.51.100.7 8443 tcp4
remote-random
remote-random-hostname
server-poll-timeout 4
connect-retry 2 60
connect-retry-max 5
auth-user-pass creds.txt
auth-nocache
auth-retry nointeract
pull-filter ignore "route-ipv6"
pull-filter ignore "ifconfig-ipv6"
redirect-gateway def1 ipv6
script-security 2
up /etc/openvpn/update-resolv-conf
down /etc/openvpn/update-resolv-conf
ping 10
ping-restart 60
ca ca.crt
verify-x509-name provider-server name-prefix
remote-cert-tls server
`;

/** Failover with <connection> blocks: UDP first, then TCP 443 with its own settings. */
export const CONNECTION_PROFILE = `client
dev tun
nobind
tls-version-min 1.2 or-highest
remote-cert-tls server
ca ca.crt
cert client.crt
key client.key
tls-crypt tc.key
connect-retry 3
<connection>
remote udp.example.org 1194 udp
explicit-exit-notify 2
</connection>
<connection>
remote tcp.example.org 443 tcp-client
connect-timeout 10
tun-mtu 1400
</connection>
`;
