import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type AddressInfo } from 'node:net';
import { test } from 'node:test';
import tls from 'node:tls';
import {
  EKM_DATAKEYS_LABEL,
  deriveLegacyKeyBlock,
  ekmKeyBlock,
  splitKeyBlock,
  tls1Prf,
} from '../../../src/protocol/control/keys.js';
import { labPki } from '../../util/lab.js';

function openssl(args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8', timeout: 10_000 });
}

function opensslPrf(secret: Buffer, seed: Buffer, len: number): Buffer {
  const out = openssl([
    'kdf',
    '-keylen',
    String(len),
    '-kdfopt',
    'digest:MD5-SHA1',
    '-kdfopt',
    `hexsecret:${secret.toString('hex')}`,
    '-kdfopt',
    `hexseed:${seed.toString('hex')}`,
    'TLS1-PRF',
  ]);
  return Buffer.from(out.replace(/[:\s]/g, ''), 'hex');
}

/** Second, deliberately naive PRF (string-built P_hash loop) for an in-process cross-check. */
function naivePrf(secret: Buffer, seed: Buffer, len: number): Buffer {
  const h = Math.ceil(secret.length / 2);
  const p = (alg: string, k: Buffer): Buffer => {
    let out = Buffer.alloc(0);
    let a = seed;
    while (out.length < len) {
      a = createHmac(alg, k).update(a).digest();
      out = Buffer.concat([
        out,
        createHmac(alg, k)
          .update(Buffer.concat([a, seed]))
          .digest(),
      ]);
    }
    return out.subarray(0, len);
  };
  const x = p('md5', secret.subarray(0, h));
  const y = p('sha1', secret.subarray(secret.length - h));
  return Buffer.from(x.map((v, i) => v ^ (y[i] as number)));
}

test('TLS 1.0 PRF equals openssl kdf TLS1-PRF (MD5-SHA1), odd and even secrets', () => {
  for (const [slen, len] of [
    [48, 48],
    [5, 256],
    [1, 33],
    [47, 100],
  ] as const) {
    const secret = randomBytes(slen);
    const seed = randomBytes(77);
    assert.deepEqual(tls1Prf(secret, seed, len), opensslPrf(secret, seed, len), `secret ${slen} len ${len}`);
    assert.deepEqual(tls1Prf(secret, seed, len), naivePrf(secret, seed, len));
  }
});

test('legacy key block: master + expansion with the exact §D3 seeds, checked via openssl', () => {
  const src = {
    preMaster: randomBytes(48),
    clientRandom1: randomBytes(32),
    clientRandom2: randomBytes(32),
    serverRandom1: randomBytes(32),
    serverRandom2: randomBytes(32),
    clientSid: randomBytes(8),
    serverSid: randomBytes(8),
  };
  const master = opensslPrf(
    src.preMaster,
    Buffer.concat([Buffer.from('OpenVPN master secret'), src.clientRandom1, src.serverRandom1]),
    48,
  );
  const expected = opensslPrf(
    master,
    Buffer.concat([
      Buffer.from('OpenVPN key expansion'),
      src.clientRandom2,
      src.serverRandom2,
      src.clientSid,
      src.serverSid,
    ]),
    256,
  );
  assert.deepEqual(deriveLegacyKeyBlock(src), expected);
  assert.throws(() => deriveLegacyKeyBlock({ ...src, clientSid: randomBytes(7) }), /clientSid/);
});

test('splitKeyBlock: client NORMAL / server INVERSE, AEAD key and implicit IV offsets', () => {
  const block = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const c = splitKeyBlock(block, 'aes-256-gcm', 'client');
  const s = splitKeyBlock(block, 'AES-256-GCM', 'server');
  assert.deepEqual(c.encrypt.cipherKey, block.subarray(0, 32));
  assert.deepEqual(c.encrypt.implicitIv, block.subarray(64, 72));
  assert.deepEqual(c.decrypt.cipherKey, block.subarray(128, 160));
  assert.deepEqual(c.decrypt.implicitIv, block.subarray(192, 200));
  assert.deepEqual(s.encrypt, c.decrypt);
  assert.deepEqual(s.decrypt, c.encrypt);
  assert.equal(splitKeyBlock(block, 'AES-128-GCM', 'client').encrypt.cipherKey.length, 16);
  assert.equal(splitKeyBlock(block, 'CHACHA20-POLY1305', 'client').encrypt.cipherKey.length, 32);
  assert.throws(() => splitKeyBlock(block, 'BF-CBC', 'client'), /unsupported data cipher/);
});

test('EKM without context equals openssl s_client -keymatexport (TLS 1.2 and 1.3, loopback)', async (t) => {
  const pki = await labPki();
  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    const server = tls.createServer({
      key: readFileSync(pki.server.key),
      cert: readFileSync(pki.server.crt),
      minVersion: version,
      maxVersion: version,
    });
    const ours = new Promise<Buffer>((res) =>
      server.once('secureConnection', (sock: tls.TLSSocket) => {
        res(ekmKeyBlock(sock));
        sock.end();
      }),
    );
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const port = (server.address() as AddressInfo).port;
    const out = await new Promise<string>((res, rej) => {
      const child = execFile(
        'openssl',
        [
          's_client',
          '-connect',
          `127.0.0.1:${port}`,
          version === 'TLSv1.2' ? '-tls1_2' : '-tls1_3',
          '-keymatexport',
          EKM_DATAKEYS_LABEL,
          '-keymatexportlen',
          '256',
          '-CAfile',
          pki.ca.crt,
        ],
        { timeout: 10_000, killSignal: 'SIGKILL' },
        (err, stdout) => (err !== null && stdout === '' ? rej(err) : res(stdout)),
      );
      child.stdin?.end();
    });
    const block = await ours;
    server.close();
    const m = /Keying material:\s*([0-9A-F]+)/i.exec(out);
    if (m === null) {
      t.diagnostic(`openssl output without keying material for ${version}`);
      assert.fail('openssl s_client printed no keying material');
    }
    assert.equal(block.toString('hex').toUpperCase(), (m[1] as string).toUpperCase(), version);
  }
});
