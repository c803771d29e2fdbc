// Option handlers: certificates and keys, control-channel wrapping, TLS policy, data-channel
// ciphers, user/password authentication and compression framing.

import { OvpnConfigError } from './errors.js';
import type { SourcePos } from './errors.js';
import type { ApplyContext, OptionSpec } from './context.js';
import {
  asText,
  binaryMaterial,
  expectPem,
  readFileArg,
  resolveName,
  textMaterial,
  warn,
} from './context.js';
import type { ConfigLine } from './lexer.js';
import type { CompressionSettings, TlsVersion } from './options.js';
import { DEFAULTS } from './options.js';
import { INT_MAX, aeadName, dataCipherList, digestArg, intArg, oneOf, secondsArg } from './values.js';

type Run = OptionSpec['run'];

const CERT = /-----BEGIN CERTIFICATE-----/;
const PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;
const STATIC_KEY = /-----BEGIN OpenVPN Static key V1-----/;
const TCV2_CLIENT = /-----BEGIN OpenVPN tls-crypt-v2 client key-----/;
const TCV2_SERVER = /-----BEGIN OpenVPN tls-crypt-v2 server key-----/;
const TLS_VERSIONS = ['1.0', '1.1', '1.2', '1.3'] as const;

function pem(opt: 'ca' | 'cert' | 'extra-certs' | 'key' | 'crl-verify', marker: RegExp, what: string): Run {
  return (c, _a, l) => {
    const m = textMaterial(c, l, opt);
    expectPem(m, opt, marker, what);
    if (opt === 'ca') c.d.tls.ca = m;
    else if (opt === 'cert') c.d.tls.cert = m;
    else if (opt === 'extra-certs') c.d.tls.extraCerts = m;
    else if (opt === 'key') c.d.tls.key = m;
    else c.d.tls.crlVerify = m;
  };
}

function direction(l: ConfigLine, opt: string, s: string): 0 | 1 {
  if (s === '0') return 0;
  if (s === '1') return 1;
  throw new OvpnConfigError(
    l.pos,
    opt,
    `bad key direction '${s}': must be 0 or 1 (a client normally uses 1)`,
  );
}

function tlsAuth(c: ApplyContext, a: readonly string[], l: ConfigLine): void {
  const key = textMaterial(c, l, 'tls-auth');
  expectPem(key, 'tls-auth', STATIC_KEY, 'an OpenVPN static key (openvpn --genkey tls-auth)');
  c.conn.tlsAuth = key;
  if (l.inline === undefined && a[1] !== undefined) c.conn.keyDirection = direction(l, 'tls-auth', a[1]);
}

function tlsCrypt(c: ApplyContext, _a: readonly string[], l: ConfigLine): void {
  const key = textMaterial(c, l, 'tls-crypt');
  expectPem(key, 'tls-crypt', STATIC_KEY, 'an OpenVPN static key (openvpn --genkey secret)');
  c.conn.tlsCrypt = key;
}

function tlsCryptV2(c: ApplyContext, _a: readonly string[], l: ConfigLine): void {
  const key = textMaterial(c, l, 'tls-crypt-v2');
  if (key.text !== undefined && TCV2_SERVER.test(key.text)) {
    throw new OvpnConfigError(
      l.pos,
      'tls-crypt-v2',
      'this is the server key; a client needs its own client key (openvpn --genkey tls-crypt-v2-client)',
    );
  }
  expectPem(key, 'tls-crypt-v2', TCV2_CLIENT, 'an OpenVPN tls-crypt-v2 client key');
  c.conn.tlsCryptV2 = key;
}

function peerFingerprint(c: ApplyContext, a: readonly string[], l: ConfigLine): void {
  const source = l.inline ?? (a[0] as string);
  for (const raw of source.split('\n')) {
    const fp = raw.trim();
    if (fp === '' || fp.startsWith('#') || fp.startsWith(';')) continue;
    if (!/^([0-9a-fA-F]{2}:){31}[0-9a-fA-F]{2}$/.test(fp)) {
      throw new OvpnConfigError(
        l.pos,
        'peer-fingerprint',
        `'${fp}' is not a SHA-256 fingerprint (32 hex bytes separated by ':')`,
      );
    }
    c.d.tls.peerFingerprints.push(fp.toUpperCase());
  }
}

function askpass(c: ApplyContext, a: readonly string[], l: ConfigLine): void {
  if (a[0] === undefined) {
    c.d.tls.askpass = { source: 'prompt' };
    return;
  }
  const path = resolveName(c, a[0]);
  const data = readFileArg(c, l.pos, 'askpass', path);
  const text = data === undefined ? undefined : (asText(data).split('\n')[0] ?? '').replace(/\r$/, '');
  c.d.tls.askpass = text === undefined ? { source: 'file', path } : { source: 'file', path, text };
}

function authUserPass(c: ApplyContext, a: readonly string[], l: ConfigLine): void {
  if (l.inline === undefined && a[0] === undefined) {
    c.d.authUserPass = { source: 'prompt' };
    return;
  }
  const path = l.inline === undefined ? resolveName(c, a[0] as string) : undefined;
  const data = path === undefined ? l.inline : readFileArg(c, l.pos, 'auth-user-pass', path);
  const source = l.inline === undefined ? 'file' : 'inline';
  if (data === undefined) {
    c.d.authUserPass = { source, path };
    return;
  }
  const [user, pass] = asText(data)
    .split('\n')
    .map((s) => s.replace(/\r$/, ''));
  if (user === undefined || user === '') {
    throw new OvpnConfigError(
      l.pos,
      'auth-user-pass',
      'no username on the first line; write the username, then the password on the next line',
    );
  }
  c.d.authUserPass =
    pass === undefined || pass === ''
      ? { source, path, username: user }
      : { source, path, username: user, password: pass };
}

function legacyCipher(c: ApplyContext, a: readonly string[], l: ConfigLine): void {
  const name = a[0] as string;
  c.d.legacyCipher = { name, pos: l.pos };
  if (aeadName(name) === undefined) {
    warn(
      c,
      l.pos,
      'cipher',
      `'${name}' is used only with servers that cannot negotiate ciphers (OpenVPN < 2.4); ovpn-ts implements only AEAD ciphers and cannot talk to such servers`,
    );
  } else {
    warn(
      c,
      l.pos,
      'cipher',
      'deprecated: cipher negotiation uses data-ciphers; prefer data-ciphers / data-ciphers-fallback',
    );
  }
}

function fallback(c: ApplyContext, a: readonly string[], l: ConfigLine): void {
  const aead = aeadName(a[0] as string);
  if (aead === undefined) {
    warn(
      c,
      l.pos,
      'data-ciphers-fallback',
      `'${a[0] as string}' is not an AEAD cipher; ovpn-ts cannot use it, so servers without cipher negotiation will fail`,
    );
  }
  c.d.dataCiphersFallback = aead;
}

function verifyX509Name(c: ApplyContext, a: readonly string[], l: ConfigLine): void {
  const name = a[0] as string;
  if (name === '') throw new OvpnConfigError(l.pos, 'verify-x509-name', 'expects a non-empty name');
  const type =
    a[1] === undefined
      ? 'subject'
      : oneOf(l.pos, 'verify-x509-name', a[1], ['subject', 'name', 'name-prefix'] as const);
  c.d.tls.verifyX509Name = { name, type };
}

function tlsVersionMin(c: ApplyContext, a: readonly string[], l: ConfigLine): void {
  const version = oneOf(l.pos, 'tls-version-min', a[0] as string, TLS_VERSIONS);
  if (a[1] !== undefined && a[1] !== 'or-highest') {
    throw new OvpnConfigError(
      l.pos,
      'tls-version-min',
      `the second argument may only be 'or-highest', got '${a[1]}'`,
    );
  }
  c.d.tls.versionMin = { version, orHighest: a[1] === 'or-highest' };
  c.d.tlsVersionMinPos = l.pos;
}

function renegSec(c: ApplyContext, a: readonly string[], l: ConfigLine): void {
  const max = secondsArg(l.pos, 'reneg-sec', a[0]);
  const min = a[1] === undefined ? undefined : secondsArg(l.pos, 'reneg-sec', a[1]);
  if (min !== undefined && min > max) {
    throw new OvpnConfigError(
      l.pos,
      'reneg-sec',
      `the minimum (${min}) is larger than the maximum (${max}): write 'reneg-sec MAX MIN'`,
    );
  }
  c.d.tls.renegSec = { max, min };
}

function maxPacketSize(c: ApplyContext, a: readonly string[], l: ConfigLine): void {
  const [lo, hi] = DEFAULTS.maxPacketSizeRange;
  const n = intArg(l.pos, 'max-packet-size', a[0], 1, INT_MAX, 'a size');
  const v = Math.min(hi, Math.max(lo, n));
  if (v !== n)
    warn(c, l.pos, 'max-packet-size', `${n} is outside ${lo}..${hi}; using ${v} (as openvpn does)`);
  c.d.tls.maxPacketSize = v;
}

function compLzo(c: ApplyContext, a: readonly string[], l: ConfigLine): void {
  const v = a[0] === undefined ? 'yes' : oneOf(l.pos, 'comp-lzo', a[0], ['yes', 'no', 'adaptive'] as const);
  c.d.compress = { requested: v === 'no' ? 'lzo-stub' : 'lzo', pos: l.pos };
}

function compress(c: ApplyContext, a: readonly string[], l: ConfigLine): void {
  const alg =
    a[0] === undefined
      ? 'stub'
      : oneOf(l.pos, 'compress', a[0], ['stub', 'stub-v2', 'lzo', 'lz4', 'lz4-v2', 'migrate'] as const);
  if (alg === 'migrate')
    throw new OvpnConfigError(
      l.pos,
      'compress',
      "'migrate' is a server setting; remove it from a client profile",
    );
  const requested: CompressionSettings['requested'] = alg === 'lzo' ? 'lzo' : alg;
  c.d.compress = { requested, pos: l.pos };
}

/**
 * Extended key usages `remote-cert-eku` takes by name: OpenSSL's short name and long name (OpenVPN
 * compares the long name and the dotted OID; the short name is accepted here as well).
 */
const EKU_NAMES: readonly (readonly [short: string, long: string, oid: string])[] = [
  ['serverAuth', 'TLS Web Server Authentication', '1.3.6.1.5.5.7.3.1'],
  ['clientAuth', 'TLS Web Client Authentication', '1.3.6.1.5.5.7.3.2'],
  ['codeSigning', 'Code Signing', '1.3.6.1.5.5.7.3.3'],
  ['emailProtection', 'E-mail Protection', '1.3.6.1.5.5.7.3.4'],
  ['ipsecEndSystem', 'IPSec End System', '1.3.6.1.5.5.7.3.5'],
  ['ipsecTunnel', 'IPSec Tunnel', '1.3.6.1.5.5.7.3.6'],
  ['ipsecUser', 'IPSec User', '1.3.6.1.5.5.7.3.7'],
  ['timeStamping', 'Time Stamping', '1.3.6.1.5.5.7.3.8'],
  ['OCSPSigning', 'OCSP Signing', '1.3.6.1.5.5.7.3.9'],
  ['ipsecIKE', 'ipsec Internet Key Exchange', '1.3.6.1.5.5.7.3.17'],
  ['anyExtendedKeyUsage', 'Any Extended Key Usage', '2.5.29.37.0'],
];

/** `remote-cert-eku OID|NAME` -> the dotted OID the peer certificate must carry. */
function ekuArg(pos: SourcePos, s: string): string {
  if (/^[0-9.]+$/.test(s)) {
    const arcs = s.split('.');
    const ok =
      arcs.length >= 2 &&
      arcs.every((a) => /^(0|[1-9][0-9]*)$/.test(a)) &&
      Number(arcs[0]) <= 2 &&
      (Number(arcs[0]) === 2 || Number(arcs[1]) < 40);
    if (ok) return s;
    throw new OvpnConfigError(
      pos,
      'remote-cert-eku',
      `bad OID '${s}': write it in dotted form without leading zeros, e.g. 1.3.6.1.5.5.7.3.1 (serverAuth)`,
    );
  }
  const hit = EKU_NAMES.find(([short, long]) => s === short || s === long);
  if (hit !== undefined) return hit[2];
  const near = EKU_NAMES.find(
    ([short, long]) => s.toLowerCase() === short.toLowerCase() || s.toLowerCase() === long.toLowerCase(),
  );
  const hint =
    near === undefined
      ? ''
      : ` (did you mean '${s.toLowerCase() === near[0].toLowerCase() ? near[0] : near[1]}'?)`;
  throw new OvpnConfigError(
    pos,
    'remote-cert-eku',
    `unknown extended key usage '${s}'${hint}: use a dotted OID such as 1.3.6.1.5.5.7.3.1, or one of ` +
      `${EKU_NAMES.map(([short]) => short).join(', ')} (or its OpenSSL long name, e.g. 'TLS Web Server Authentication')`,
  );
}

/** Every bit a keyUsage value can have (digitalSignature 0x80 ... encipherOnly 0x01, decipherOnly 0x8000). */
const KU_BITS = 0x80ff;

/** One `remote-cert-ku` value: hex (optional 0x, as OpenVPN's sscanf %x), bits of X509_get_key_usage. */
function kuArg(pos: SourcePos, s: string): number {
  const m = /^(?:0x)?([0-9a-f]{1,4})$/i.exec(s);
  if (m === null) {
    throw new OvpnConfigError(
      pos,
      'remote-cert-ku',
      `bad key usage '${s}': expects hex values such as a0 (digitalSignature+keyEncipherment) or 88 (digitalSignature+keyAgreement)`,
    );
  }
  const v = parseInt(m[1] as string, 16);
  if (v === 0) {
    throw new OvpnConfigError(
      pos,
      'remote-cert-ku',
      `key usage '${s}' names no bit: give the bits the server certificate must have, e.g. a0, or no value to only require a key usage extension`,
    );
  }
  if ((v & ~KU_BITS) !== 0) {
    throw new OvpnConfigError(
      pos,
      'remote-cert-ku',
      `key usage '${s}' sets bits that are not key usages (0x${(v & ~KU_BITS).toString(16)}): use bits of 80ff (80 digitalSignature ... 01 encipherOnly, 8000 decipherOnly)`,
    );
  }
  return v;
}

const str =
  (set: (c: ApplyContext, s: string) => void): Run =>
  (c, a) =>
    set(c, a[0] as string);

export const TLS_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  ca: { min: 1, max: 1, usage: 'ca FILE (or <ca>)', inline: true, run: pem('ca', CERT, 'a PEM certificate') },
  cert: {
    min: 1,
    max: 1,
    usage: 'cert FILE (or <cert>)',
    inline: true,
    run: pem('cert', CERT, 'a PEM certificate'),
  },
  'extra-certs': {
    min: 1,
    max: 1,
    usage: 'extra-certs FILE (or <extra-certs>)',
    inline: true,
    run: pem('extra-certs', CERT, 'a PEM certificate'),
  },
  key: {
    min: 1,
    max: 1,
    usage: 'key FILE (or <key>)',
    inline: true,
    run: pem('key', PRIVATE_KEY, 'a PEM private key'),
  },
  'crl-verify': {
    min: 1,
    max: 2,
    usage: 'crl-verify FILE (or <crl-verify>)',
    inline: true,
    run: (c, a, l) => {
      if (a[1] === 'dir')
        throw new OvpnConfigError(l.pos, 'crl-verify', "the 'dir' form is not supported; give a CRL file");
      pem('crl-verify', /-----BEGIN X509 CRL-----/, 'a PEM CRL')(c, a, l);
    },
  },
  pkcs12: {
    min: 1,
    max: 1,
    usage: 'pkcs12 FILE (or <pkcs12> base64)',
    inline: true,
    run: (c, _a, l) => (c.d.tls.pkcs12 = binaryMaterial(c, l, 'pkcs12')),
  },
  'peer-fingerprint': {
    min: 1,
    max: 1,
    usage: 'peer-fingerprint AB:CD:... (or <peer-fingerprint>)',
    inline: true,
    run: peerFingerprint,
  },
  askpass: { min: 0, max: 1, usage: 'askpass [FILE]', run: askpass },
  'tls-auth': {
    min: 1,
    max: 2,
    usage: 'tls-auth FILE [0|1] (or <tls-auth>)',
    inline: true,
    conn: true,
    run: tlsAuth,
  },
  'tls-crypt': {
    min: 1,
    max: 1,
    usage: 'tls-crypt FILE (or <tls-crypt>)',
    inline: true,
    conn: true,
    run: tlsCrypt,
  },
  'tls-crypt-v2': {
    min: 1,
    max: 2,
    usage: 'tls-crypt-v2 FILE (or <tls-crypt-v2>)',
    inline: true,
    conn: true,
    run: tlsCryptV2,
  },
  'key-direction': {
    min: 1,
    max: 1,
    usage: 'key-direction 0|1',
    conn: true,
    run: (c, a, l) => (c.conn.keyDirection = direction(l, 'key-direction', a[0] as string)),
  },
  auth: {
    min: 1,
    max: 1,
    usage: 'auth DIGEST',
    run: (c, a, l) => (c.d.tls.auth = digestArg(l.pos, 'auth', a[0] as string)),
  },
  'data-ciphers': {
    min: 1,
    max: 1,
    usage: 'data-ciphers CIPHER[:CIPHER...]',
    run: (c, a, l) => (c.d.dataCiphers = dataCipherList(l.pos, 'data-ciphers', a[0] as string)),
  },
  'ncp-ciphers': {
    min: 1,
    max: 1,
    usage: 'ncp-ciphers CIPHER[:CIPHER...]',
    run: (c, a, l) => {
      warn(c, l.pos, 'ncp-ciphers', "deprecated name; use 'data-ciphers'");
      c.d.dataCiphers = dataCipherList(l.pos, 'ncp-ciphers', a[0] as string);
    },
  },
  'data-ciphers-fallback': { min: 1, max: 1, usage: 'data-ciphers-fallback CIPHER', run: fallback },
  cipher: { min: 1, max: 1, usage: 'cipher NAME', run: legacyCipher },
  'remote-cert-tls': {
    min: 1,
    max: 1,
    usage: 'remote-cert-tls server|client',
    run: (c, a, l) =>
      (c.d.tls.remoteCertTls = oneOf(
        l.pos,
        'remote-cert-tls',
        a[0] as string,
        ['server', 'client'] as const,
      )),
  },
  'ns-cert-type': {
    min: 1,
    max: 1,
    usage: 'ns-cert-type server|client',
    run: (c, a, l) => {
      c.d.tls.nsCertType = oneOf(l.pos, 'ns-cert-type', a[0] as string, ['server', 'client'] as const);
      warn(
        c,
        l.pos,
        'ns-cert-type',
        "deprecated (Netscape certificate type); prefer 'remote-cert-tls server'",
      );
    },
  },
  'remote-cert-eku': {
    min: 1,
    max: 1,
    usage: 'remote-cert-eku OID|NAME',
    run: (c, a, l) => (c.d.tls.remoteCertEku = ekuArg(l.pos, a[0] as string)),
  },
  'remote-cert-ku': {
    // OpenVPN reads up to 15 values (MAX_PARMS - 1).
    min: 0,
    max: 15,
    usage: 'remote-cert-ku [HEX...]',
    run: (c, a, l) => (c.d.tls.remoteCertKu = a.map((s) => kuArg(l.pos, s))),
  },
  'verify-x509-name': {
    min: 1,
    max: 2,
    usage: 'verify-x509-name NAME [subject|name|name-prefix]',
    run: verifyX509Name,
  },
  'tls-version-min': {
    min: 1,
    max: 2,
    usage: 'tls-version-min 1.0|1.1|1.2|1.3 [or-highest]',
    run: tlsVersionMin,
  },
  'tls-version-max': {
    min: 1,
    max: 1,
    usage: 'tls-version-max 1.0|1.1|1.2|1.3',
    run: (c, a, l) =>
      (c.d.tls.versionMax = oneOf<TlsVersion>(l.pos, 'tls-version-max', a[0] as string, TLS_VERSIONS)),
  },
  'tls-cipher': { min: 1, max: 1, usage: 'tls-cipher LIST', run: str((c, s) => (c.d.tls.cipherList = s)) },
  'tls-ciphersuites': {
    min: 1,
    max: 1,
    usage: 'tls-ciphersuites LIST',
    run: str((c, s) => (c.d.tls.ciphersuites = s)),
  },
  'tls-groups': { min: 1, max: 1, usage: 'tls-groups LIST', run: str((c, s) => (c.d.tls.groups = s)) },
  'tls-cert-profile': {
    min: 1,
    max: 1,
    usage: 'tls-cert-profile legacy|preferred|suiteb|insecure',
    run: (c, a, l) =>
      (c.d.tls.certProfile = oneOf(
        l.pos,
        'tls-cert-profile',
        a[0] as string,
        ['insecure', 'legacy', 'preferred', 'suiteb'] as const,
      )),
  },
  'tls-timeout': {
    min: 1,
    max: 1,
    usage: 'tls-timeout SECONDS',
    run: (c, a, l) => (c.d.tls.timeout = intArg(l.pos, 'tls-timeout', a[0], 1, INT_MAX, 'seconds')),
  },
  'hand-window': {
    min: 1,
    max: 1,
    usage: 'hand-window SECONDS',
    run: (c, a, l) => (c.d.tls.handWindow = intArg(l.pos, 'hand-window', a[0], 1, INT_MAX, 'seconds')),
  },
  'tran-window': {
    min: 1,
    max: 1,
    usage: 'tran-window SECONDS',
    run: (c, a, l) => (c.d.tls.tranWindow = intArg(l.pos, 'tran-window', a[0], 1, INT_MAX, 'seconds')),
  },
  'reneg-sec': { min: 1, max: 2, usage: 'reneg-sec MAX [MIN]', run: renegSec },
  'reneg-bytes': {
    min: 1,
    max: 1,
    usage: 'reneg-bytes N',
    run: (c, a, l) =>
      (c.d.tls.renegBytes = intArg(l.pos, 'reneg-bytes', a[0], 0, Number.MAX_SAFE_INTEGER, 'a byte count')),
  },
  'reneg-pkts': {
    min: 1,
    max: 1,
    usage: 'reneg-pkts N',
    run: (c, a, l) =>
      (c.d.tls.renegPkts = intArg(l.pos, 'reneg-pkts', a[0], 0, Number.MAX_SAFE_INTEGER, 'a packet count')),
  },
  'max-packet-size': { min: 1, max: 1, usage: 'max-packet-size BYTES', run: maxPacketSize },
  'auth-user-pass': {
    min: 0,
    max: 1,
    usage: 'auth-user-pass [FILE] (or <auth-user-pass>)',
    inline: true,
    run: authUserPass,
  },
  'auth-nocache': { min: 0, max: 0, usage: 'auth-nocache', run: (c) => (c.d.authNocache = true) },
  'auth-retry': {
    min: 1,
    max: 1,
    usage: 'auth-retry none|nointeract|interact',
    run: (c, a, l) =>
      (c.d.authRetry = oneOf(
        l.pos,
        'auth-retry',
        a[0] as string,
        ['none', 'nointeract', 'interact'] as const,
      )),
  },
  'static-challenge': {
    min: 2,
    max: 2,
    usage: 'static-challenge "TEXT" 0|1',
    run: (c, a, l) => {
      const echo = oneOf(l.pos, 'static-challenge', a[1] as string, ['0', '1'] as const);
      c.d.staticChallenge = { text: a[0] as string, echo: echo === '1' };
    },
  },
  'allow-compression': {
    min: 1,
    max: 1,
    usage: 'allow-compression no|asym|yes',
    run: (c, a, l) =>
      (c.d.allowCompression = {
        value: oneOf(l.pos, 'allow-compression', a[0] as string, ['no', 'asym', 'yes'] as const),
        pos: l.pos,
      }),
  },
  'comp-lzo': { min: 0, max: 1, usage: 'comp-lzo [yes|no|adaptive]', run: compLzo },
  compress: { min: 0, max: 1, usage: 'compress [stub|stub-v2|lzo|lz4|lz4-v2]', run: compress },
  dh: { min: 1, max: 1, usage: 'dh FILE|none', inline: true, run: () => undefined },
};
