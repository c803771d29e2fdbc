// remote-cert-eku and remote-cert-ku on real certificates made by the openssl CLI, and the DER
// walker that reads keyUsage from cert.raw: its values agree with `openssl x509 -ext keyUsage`,
// and truncated or garbled bytes give a failure reason, never an exception.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { checkPeerCertificate } from '../../../src/protocol/control/tls-channel.js';
import { certKeyUsage } from '../../../src/protocol/control/x509-ku.js';
import { Rand, testSeed } from '../../util/rand.js';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

// name -> extension file lines (besides basicConstraints)
const LEAVES = {
  /** (a) EKU serverAuth, KU digitalSignature+keyEncipherment = 0xa0. */
  a: ['extendedKeyUsage=serverAuth', 'keyUsage=digitalSignature,keyEncipherment'],
  /** (b) EKU clientAuth only, KU keyAgreement = 0x08 (critical). */
  b: ['extendedKeyUsage=clientAuth', 'keyUsage=critical,keyAgreement'],
  /** (c) neither EKU nor KU. */
  c: [],
  /** decipherOnly is in the bit string's second byte: 0x8008. */
  d: ['keyUsage=keyAgreement,decipherOnly'],
  /** Every bit: 0x80ff. */
  e: [
    'keyUsage=digitalSignature,nonRepudiation,keyEncipherment,dataEncipherment,keyAgreement,keyCertSign,cRLSign,encipherOnly,decipherOnly',
  ],
} as const;
type Leaf = keyof typeof LEAVES | 'ca';

let dir = '';
const certs = new Map<Leaf, X509Certificate>();

function openssl(...args: string[]): string {
  return execFileSync('openssl', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function cert(name: Leaf): X509Certificate {
  const c = certs.get(name);
  assert.ok(c !== undefined, `certificate ${name} was generated`);
  return c;
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ovpn-ts-cert-checks-'));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-subj',
    '/CN=Check CA',
    '-days',
    '2',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  let serial = 1;
  for (const [name, lines] of Object.entries(LEAVES)) {
    writeFileSync(join(dir, `${name}.ext`), ['basicConstraints=CA:FALSE', ...lines, ''].join('\n'));
    openssl(
      'req',
      '-new',
      ...ec,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=server-${name}`,
    );
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-set_serial',
      String(++serial),
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.crt`,
    );
  }
  for (const name of ['ca', ...Object.keys(LEAVES)] as Leaf[]) {
    certs.set(name, new X509Certificate(readFileSync(join(dir, `${name}.crt`))));
  }
});

after(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

test('remote-cert-eku: by dotted OID (names are resolved to OIDs by the config parser)', () => {
  assert.equal(checkPeerCertificate(cert('a'), { remoteCertEku: SERVER_AUTH }), undefined);
  assert.equal(checkPeerCertificate(cert('b'), { remoteCertEku: CLIENT_AUTH }), undefined);
  assert.equal(
    checkPeerCertificate(cert('b'), { remoteCertEku: SERVER_AUTH }),
    `remote-cert-eku ${SERVER_AUTH}: peer certificate lacks it (has ${CLIENT_AUTH})`,
  );
  assert.equal(
    checkPeerCertificate(cert('a'), { remoteCertEku: CLIENT_AUTH }),
    `remote-cert-eku ${CLIENT_AUTH}: peer certificate lacks it (has ${SERVER_AUTH})`,
  );
  // No EKU extension at all (node's keyUsage is undefined then).
  assert.equal(cert('c').keyUsage, undefined);
  assert.equal(
    checkPeerCertificate(cert('c'), { remoteCertEku: SERVER_AUTH }),
    `remote-cert-eku ${SERVER_AUTH}: peer certificate lacks it (has none)`,
  );
  // An arbitrary OID nobody has.
  assert.match(
    checkPeerCertificate(cert('a'), { remoteCertEku: '1.2.3.4' }) ?? '',
    /^remote-cert-eku 1\.2\.3\.4:/,
  );
});

test('remote-cert-ku: values, no values, no extension (OpenVPN 2.6 x509_verify_cert_ku)', () => {
  const ok = (name: Leaf, ku: number[]): void =>
    assert.equal(
      checkPeerCertificate(cert(name), { remoteCertKu: ku }),
      undefined,
      `${name} ${ku.join(' ')}`,
    );
  ok('a', [0xa0]);
  ok('a', [0x80]); // a subset of the certificate's bits is enough (OpenVPN >= 2.4: (ku & v) == v)
  ok('a', [0x08, 0xa0]); // one of the values
  ok('a', []); // no values: only the extension is required
  ok('b', [0x08]);
  ok('b', []);
  ok('d', [0x8008]);
  ok('d', [0x08]);
  ok('e', [0x80ff]);
  assert.equal(
    checkPeerCertificate(cert('b'), { remoteCertKu: [0xa0] }),
    'remote-cert-ku a0: peer certificate key usage is 0x08 (keyAgreement)',
  );
  assert.equal(
    checkPeerCertificate(cert('a'), { remoteCertKu: [0x88, 0x08] }),
    'remote-cert-ku 88 08: peer certificate key usage is 0xa0 (digitalSignature,keyEncipherment)',
  );
  assert.equal(
    checkPeerCertificate(cert('b'), { remoteCertKu: [0x8008] }),
    'remote-cert-ku 8008: peer certificate key usage is 0x08 (keyAgreement)',
  );
  assert.equal(
    checkPeerCertificate(cert('c'), { remoteCertKu: [] }),
    'remote-cert-ku: peer certificate has no key usage extension',
  );
  assert.equal(
    checkPeerCertificate(cert('c'), { remoteCertKu: [0xa0] }),
    'remote-cert-ku a0: peer certificate has no key usage extension',
  );
});

test('the checks combine: remote-cert-tls, remote-cert-eku and remote-cert-ku all apply', () => {
  assert.equal(
    checkPeerCertificate(cert('a'), {
      remoteCertTls: 'server',
      remoteCertEku: SERVER_AUTH,
      remoteCertKu: [0xa0],
    }),
    undefined,
  );
  assert.match(
    checkPeerCertificate(cert('a'), { remoteCertTls: 'server', remoteCertKu: [0x08] }) ?? '',
    /^remote-cert-ku 08:/,
  );
  assert.match(
    checkPeerCertificate(cert('a'), { remoteCertEku: CLIENT_AUTH, remoteCertKu: [0xa0] }) ?? '',
    /^remote-cert-eku /,
  );
});

/** keyUsage as `openssl x509 -noout -ext keyUsage` prints it, as the X509_get_key_usage number. */
function opensslKeyUsage(name: Leaf): { value: number; critical: boolean } | undefined {
  const out = openssl('x509', '-noout', '-ext', 'keyUsage', '-in', `${name}.crt`);
  const m = /X509v3 Key Usage:( critical)?\s*\n\s*(.+)/.exec(out);
  if (m === null) return undefined;
  const bits: Record<string, number> = {
    'Digital Signature': 0x80,
    'Non Repudiation': 0x40,
    'Key Encipherment': 0x20,
    'Data Encipherment': 0x10,
    'Key Agreement': 0x08,
    'Certificate Sign': 0x04,
    'CRL Sign': 0x02,
    'Encipher Only': 0x01,
    'Decipher Only': 0x8000,
  };
  let value = 0;
  for (const n of (m[2] as string).split(',').map((s) => s.trim())) {
    const b = bits[n];
    assert.ok(b !== undefined, `unknown openssl key usage name '${n}'`);
    value |= b;
  }
  return { value, critical: m[1] !== undefined };
}

test('keyUsage read from cert.raw agrees with openssl x509 -ext keyUsage for every certificate', () => {
  const want: Record<Leaf, number | undefined> = {
    ca: 0x06,
    a: 0xa0,
    b: 0x08,
    c: undefined,
    d: 0x8008,
    e: 0x80ff,
  };
  for (const name of Object.keys(want) as Leaf[]) {
    const got = certKeyUsage(cert(name).raw);
    const ref = opensslKeyUsage(name);
    assert.equal(ref?.value, want[name], `openssl's view of ${name}`);
    if (ref === undefined) {
      assert.deepEqual(got, { ok: true, present: false }, name);
    } else {
      assert.deepEqual(got, { ok: true, present: true, value: ref.value, critical: ref.critical }, name);
    }
  }
});

// Hand-made DER around an extensions list: the walker only needs Certificate > tbsCertificate >
// [3] > extensions, so these pin its handling of the keyUsage encoding itself.
function der(tag: number, ...parts: Uint8Array[]): Buffer {
  const body = Buffer.concat(parts);
  const n = body.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...len]), body]);
}
const KU_OID = Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x0f]);
const kuExt = (bitString: number[], critical?: boolean): Buffer =>
  der(
    0x30,
    KU_OID,
    ...(critical === undefined ? [] : [Buffer.from([0x01, 0x01, critical ? 0xff : 0x00])]),
    der(0x04, Buffer.from([0x03, bitString.length, ...bitString])),
  );
const fakeCert = (...exts: Buffer[]): Buffer =>
  der(0x30, der(0x30, Buffer.from([0x02, 0x01, 0x01]), der(0xa3, der(0x30, ...exts))));

test('DER walker: bit string edge cases and malformed encodings give exact results', () => {
  assert.deepEqual(certKeyUsage(fakeCert(kuExt([0x05, 0xa0]))), {
    ok: true,
    present: true,
    value: 0xa0,
    critical: false,
  });
  // Unused bits are masked as OpenSSL does: 0xa1 with 5 unused bits reads as 0xa0.
  assert.deepEqual(certKeyUsage(fakeCert(kuExt([0x05, 0xa1], true))), {
    ok: true,
    present: true,
    value: 0xa0,
    critical: true,
  });
  assert.deepEqual(certKeyUsage(fakeCert(kuExt([0x07, 0x08, 0x80]))), {
    ok: true,
    present: true,
    value: 0x8008,
    critical: false,
  });
  assert.deepEqual(certKeyUsage(fakeCert(kuExt([0x00]))), {
    ok: true,
    present: true,
    value: 0,
    critical: false,
  });
  assert.deepEqual(certKeyUsage(fakeCert()), { ok: true, present: false });
  const bad: [Buffer, RegExp][] = [
    [fakeCert(kuExt([0x05, 0xa0]), kuExt([0x07, 0x80])), /keyUsage extension appears twice/],
    [fakeCert(kuExt([0x08, 0xa0])), /bad unused-bits count 8/],
    [fakeCert(kuExt([0x03])), /bad unused-bits count 3/],
    [fakeCert(kuExt([])), /empty BIT STRING/],
    [Buffer.concat([fakeCert(kuExt([0x05, 0xa0])), Buffer.from([0])]), /1 trailing bytes/],
    [Buffer.from([0x30, 0x80, 0x00, 0x00]), /indefinite length/],
    [Buffer.from([0x30, 0x85, 1, 2, 3, 4, 5]), /too large/],
    [Buffer.from([0x31, 0x00]), /Certificate: expected tag 0x30, got 0x31/],
    [Buffer.alloc(0), /Certificate: truncated at byte 0/],
  ];
  for (const [bytes, re] of bad) {
    const r = certKeyUsage(bytes);
    assert.ok(!r.ok, `${bytes.toString('hex')} should fail`);
    assert.match(r.reason, /^malformed certificate: /);
    assert.match(r.reason, re, bytes.toString('hex'));
  }
  // Through checkPeerCertificate: a clear reason naming the option, no exception.
  const garbled = { raw: Buffer.from([0x30, 0x05, 0x30]), keyUsage: undefined } as unknown as X509Certificate;
  assert.equal(
    checkPeerCertificate(garbled, { remoteCertKu: [0xa0] }),
    "remote-cert-ku a0: cannot read the peer certificate's key usage: malformed certificate: Certificate: length 5 at byte 0 runs past its container (1 bytes left)",
  );
});

test('DER walker property: every truncation fails, random byte flips never throw', () => {
  const rand = new Rand(testSeed(0x6b75));
  for (const name of ['a', 'b', 'c', 'e'] as const) {
    const raw = cert(name).raw;
    for (let len = 0; len < raw.length; len++) {
      const r = certKeyUsage(raw.subarray(0, len));
      assert.ok(!r.ok, `${name} truncated to ${len} bytes must fail`);
      assert.match(r.reason, /^malformed certificate: /);
    }
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.from(raw);
      const flips = rand.range(1, 4);
      for (let k = 0; k < flips; k++) {
        const at = rand.int(b.length);
        b.writeUInt8(b.readUInt8(at) ^ (1 << rand.int(8)), at);
      }
      const r = certKeyUsage(b); // must not throw
      if (!r.ok) assert.match(r.reason, /^malformed certificate: /);
      else if (r.present) assert.ok(Number.isInteger(r.value) && r.value >= 0 && r.value <= 0xffff);
      // Whatever node still parses goes through the full check without an exception either.
      let parsed: X509Certificate | undefined;
      try {
        parsed = new X509Certificate(b);
      } catch {
        parsed = undefined;
      }
      if (parsed !== undefined) {
        const why = checkPeerCertificate(parsed, { remoteCertEku: SERVER_AUTH, remoteCertKu: [0xa0] });
        assert.ok(why === undefined || typeof why === 'string');
      }
    }
  }
  // Random garbage of random lengths.
  for (let i = 0; i < 2000; i++) {
    const b = Buffer.alloc(rand.int(64));
    for (let k = 0; k < b.length; k++) b[k] = rand.int(256);
    if (rand.bool(0.5) && b.length > 0) b[0] = 0x30;
    const r = certKeyUsage(b);
    assert.ok(r.ok || /^malformed certificate: /.test(r.reason));
  }
});
