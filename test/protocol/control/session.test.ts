import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { Opcode } from '../../../src/protocol/control/constants.js';
import { splitKeyBlock } from '../../../src/protocol/control/keys.js';
import { opcodeOf } from '../../../src/protocol/control/packet.js';
import { checkPeerCertificate, openvpnSubject } from '../../../src/protocol/control/tls-channel.js';
import { StaticKey } from '../../../src/protocol/control/static-key.js';
import {
  generateTlsCryptV2ClientKey,
  generateTlsCryptV2ServerKey,
} from '../../../src/protocol/control/tls-crypt-v2.js';
import {
  NoWrap,
  TlsAuthWrap,
  TlsCryptWrap,
  tlsCryptV2ClientWrap,
} from '../../../src/protocol/control/wrap.js';
import { labPki } from '../../util/lab.js';
import { Pair, clientTls, serverTls } from './harness.js';

const PUSH = [
  'route 10.9.0.0 255.255.255.0',
  'route-gateway 10.8.0.1',
  'topology subnet',
  'ping 10',
  'ping-restart 60',
  'ifconfig 10.8.0.2 255.255.255.0',
  'peer-id 0',
  'cipher AES-256-GCM',
  'protocol-flags cc-exit tls-ekm',
];

test('tls-crypt, stateless-cookie server: handshake, key-method-2, push, equal EKM and PRF keys', async () => {
  const pki = await labPki();
  const key = new StaticKey(randomBytes(256));
  const pair = new Pair({
    clientWrap: new TlsCryptWrap({ key, role: 'client' }),
    server: {
      wrap: new TlsCryptWrap({ key, role: 'server' }),
      tls: serverTls(pki),
      pushOptions: PUSH,
      statelessCookie: true,
    },
    client: { tls: clientTls(pki) },
  });
  try {
    pair.client.start();
    assert.ok(await pair.run(() => pair.clientHas('push-reply')), 'push reply must arrive');
    // Wire sizes of §B6's trace: client reset 54, server reset 66.
    assert.equal(pair.c2s[0]?.length, 54);
    assert.equal(opcodeOf(pair.c2s[0]?.[0] as number), Opcode.HARD_RESET_CLIENT_V2);
    assert.equal(pair.s2c[0]?.length, 66);
    assert.equal(
      opcodeOf(pair.c2s[1]?.[0] as number),
      Opcode.CONTROL_V1,
      'ClientHello carries the cookie ACK',
    );
    const push = pair.clientEvents.find((e) => e.type === 'push-reply');
    assert.deepEqual(push?.type === 'push-reply' && push.options, PUSH);
    assert.ok(
      pair.serverHas('key-ready') &&
        pair.clientHas('key-ready', (e) => e.type === 'key-ready' && e.keyId === 0),
    );
    const secure = pair.clientEvents.find((e) => e.type === 'tls-secure');
    assert.ok(secure?.type === 'tls-secure' && secure.peerSubject === 'CN=server');
    const ekmC = pair.client.deriveKeyBlock(0, 'ekm');
    const ekmS = pair.server.session.deriveKeyBlock(0, 'ekm');
    assert.equal(ekmC.length, 256);
    assert.deepEqual(ekmC, ekmS);
    const prfC = pair.client.deriveKeyBlock(0, 'prf');
    assert.deepEqual(prfC, pair.server.session.deriveKeyBlock(0, 'prf'));
    assert.notDeepEqual(prfC, ekmC);
    const kc = splitKeyBlock(ekmC, 'AES-256-GCM', 'client');
    const ks = splitKeyBlock(ekmS, 'AES-256-GCM', 'server');
    assert.deepEqual(kc.encrypt, ks.decrypt);
    assert.deepEqual(kc.decrypt, ks.encrypt);
    assert.equal(pair.client.drops.size, 0, `client drops: ${[...pair.client.drops]}`);
    // The server peer-info shows the client's IV_PROTO 414 (REQUEST_PUSH: pushed unprompted).
    const ready = pair.server.events.find((e) => e.type === 'key-ready');
    assert.ok(ready?.type === 'key-ready' && ready.peerInfo.includes('IV_PROTO=414'));
  } finally {
    pair.close();
  }
});

test('tls-auth SHA256 over a lossy link (25% loss, seeded): completes with retransmits', async () => {
  const pki = await labPki();
  const key = new StaticKey(randomBytes(256));
  const pair = new Pair({
    clientWrap: new TlsAuthWrap({ key, direction: 1, digest: 'SHA256' }),
    server: {
      wrap: new TlsAuthWrap({ key, direction: 0, digest: 'SHA256' }),
      tls: serverTls(pki),
      pushOptions: PUSH,
    },
    client: { tls: clientTls(pki) },
    loss: 0.25,
    seed: 42,
  });
  try {
    pair.client.start();
    assert.ok(await pair.run(() => pair.clientHas('push-reply')), 'push reply despite loss');
    assert.ok(pair.client.retransmits + pair.server.session.retransmits > 0);
    assert.deepEqual(pair.client.deriveKeyBlock(0, 'ekm'), pair.server.session.deriveKeyBlock(0, 'ekm'));
  } finally {
    pair.close();
  }
});

test('tls-crypt-v2 with early negotiation: V3 reset, server asks for WKc, first control is WKC_V1', async () => {
  const pki = await labPki();
  const srvKey = generateTlsCryptV2ServerKey();
  const cliKey = generateTlsCryptV2ClientKey(srvKey, Math.floor(Date.now() / 1000));
  const pair = new Pair({
    clientWrap: tlsCryptV2ClientWrap(cliKey.kc, cliKey.wkc),
    server: { tlsCryptV2Server: srvKey, tls: serverTls(pki), pushOptions: PUSH, statelessCookie: true },
    client: { tls: clientTls(pki) },
  });
  try {
    pair.client.start();
    assert.ok(await pair.run(() => pair.clientHas('push-reply')));
    assert.equal(opcodeOf(pair.c2s[0]?.[0] as number), Opcode.HARD_RESET_CLIENT_V3);
    assert.equal(pair.c2s[0]?.readUInt32BE(9), 0x0f000001);
    assert.equal(opcodeOf(pair.c2s[1]?.[0] as number), Opcode.CONTROL_WKC_V1);
    assert.ok(
      pair.c2s.slice(2).every((w) => opcodeOf(w[0] as number) !== Opcode.CONTROL_WKC_V1),
      'WKc sent once',
    );
    assert.deepEqual(pair.client.deriveKeyBlock(0, 'ekm'), pair.server.session.deriveKeyBlock(0, 'ekm'));
  } finally {
    pair.close();
  }
});

test('renegotiation from both sides: key_id 1..7 then wraps to 1, new EKM keys equal on both ends', async () => {
  const pki = await labPki();
  const pair = new Pair({
    clientWrap: new NoWrap(),
    server: { wrap: new NoWrap(), tls: serverTls(pki), pushOptions: PUSH },
    client: { tls: clientTls(pki) },
  });
  try {
    pair.client.start();
    assert.ok(await pair.run(() => pair.clientHas('push-reply')));
    const seen = [pair.client.deriveKeyBlock(0, 'ekm').toString('hex')];
    const expected = [1, 2, 3, 4, 5, 6, 7, 1];
    for (let i = 0; i < expected.length; i++) {
      const kid = expected[i] as number;
      const n = pair.clientEvents.filter((e) => e.type === 'key-ready').length;
      (i % 2 === 0 ? pair.client : pair.server.session).renegotiate();
      const ok = await pair.run(
        () =>
          pair.clientEvents.filter((e) => e.type === 'key-ready').length === n + 1 &&
          pair.server.events.filter((e) => e.type === 'key-ready').length === n + 1,
      );
      assert.ok(ok, `renegotiation ${i} to key_id ${kid}`);
      assert.equal(pair.client.keyId, kid);
      assert.equal(pair.server.session.keyId, kid);
      const c = pair.client.deriveKeyBlock(kid, 'ekm');
      assert.deepEqual(c, pair.server.session.deriveKeyBlock(kid, 'ekm'));
      assert.ok(!seen.includes(c.toString('hex')), 'fresh TLS session, fresh keys');
      seen.push(c.toString('hex'));
    }
    const renegs = pair.clientEvents.filter((e) => e.type === 'renegotiation');
    assert.deepEqual(
      renegs.map((e) => e.type === 'renegotiation' && e.initiator),
      ['local', 'peer', 'local', 'peer', 'local', 'peer', 'local', 'peer'],
    );
    assert.equal(
      pair.clientEvents.filter((e) => e.type === 'push-reply').length,
      1,
      'no push on renegotiation',
    );
  } finally {
    pair.close();
  }
});

test('certificate checks: wrong CA, remote-cert-tls, verify-x509-name, TLS version bounds', async (t) => {
  const pki = await labPki();
  const { readFileSync } = await import('node:fs');
  const cases: {
    name: string;
    client?: Parameters<typeof clientTls>[1];
    server?: Parameters<typeof serverTls>[1];
  }[] = [
    {
      name: 'server cert from another CA',
      server: {
        secure: {
          ca: readFileSync(pki.ca.crt),
          cert: readFileSync(pki.otherServer.crt),
          key: readFileSync(pki.otherServer.key),
        },
      },
    },
    {
      name: 'remote-cert-tls server vs a clientAuth certificate',
      server: {
        secure: {
          ca: readFileSync(pki.ca.crt),
          cert: readFileSync(pki.client.crt),
          key: readFileSync(pki.client.key),
        },
      },
    },
    {
      name: 'verify-x509-name name',
      client: { verify: { verifyX509Name: { name: 'other', type: 'name' } } },
    },
    {
      name: 'verify-x509-name subject',
      client: { verify: { verifyX509Name: { name: 'CN=serv', type: 'subject' } } },
    },
    {
      name: 'tls-version-min 1.3 vs server max 1.2',
      client: { minVersion: 'TLSv1.3' },
      server: { maxVersion: 'TLSv1.2' },
    },
  ];
  for (const c of cases) {
    const pair = new Pair({
      clientWrap: new NoWrap(),
      server: { wrap: new NoWrap(), tls: serverTls(pki, c.server), pushOptions: PUSH },
      client: { tls: clientTls(pki, c.client) },
    });
    try {
      pair.client.start();
      assert.ok(await pair.run(() => pair.clientHas('failed')), `${c.name}: client must fail`);
      assert.ok(!pair.clientHas('key-ready'), c.name);
      const f = pair.clientEvents.find((e) => e.type === 'failed');
      t.diagnostic(`${c.name}: ${f?.type === 'failed' ? `${f.code} ${f.reason}` : ''}`);
    } finally {
      pair.close();
    }
  }
  // Positive controls: name-prefix and exact subject accepted.
  for (const verify of [
    { verifyX509Name: { name: 'serv', type: 'name-prefix' as const }, remoteCertTls: 'server' as const },
    { verifyX509Name: { name: 'CN=server', type: 'subject' as const } },
  ]) {
    const pair = new Pair({
      clientWrap: new NoWrap(),
      server: { wrap: new NoWrap(), tls: serverTls(pki), pushOptions: PUSH },
      client: { tls: clientTls(pki, { verify, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' }) },
    });
    try {
      pair.client.start();
      assert.ok(await pair.run(() => pair.clientHas('push-reply')));
      const s = pair.clientEvents.find((e) => e.type === 'tls-secure');
      assert.ok(s?.type === 'tls-secure' && s.protocol === 'TLSv1.2');
      assert.deepEqual(pair.client.deriveKeyBlock(0, 'ekm'), pair.server.session.deriveKeyBlock(0, 'ekm'));
    } finally {
      pair.close();
    }
  }
});

test('remote-cert-tls and verify-x509-name rules on real certificates', async () => {
  const pki = await labPki();
  const { readFileSync } = await import('node:fs');
  const { X509Certificate } = await import('node:crypto');
  const server = new X509Certificate(readFileSync(pki.server.crt));
  const client = new X509Certificate(readFileSync(pki.client.crt));
  assert.equal(checkPeerCertificate(server, { remoteCertTls: 'server' }), undefined);
  assert.match(
    checkPeerCertificate(client, { remoteCertTls: 'server' }) ?? '',
    /lacks EKU 1.3.6.1.5.5.7.3.1/,
  );
  assert.equal(checkPeerCertificate(client, { remoteCertTls: 'client' }), undefined);
  assert.match(checkPeerCertificate(server, { remoteCertTls: 'client' }) ?? '', /lacks EKU/);
  assert.equal(openvpnSubject(server), 'CN=server');
  assert.equal(checkPeerCertificate(server, { verifyX509Name: { name: 'server', type: 'name' } }), undefined);
  assert.ok(checkPeerCertificate(server, { verifyX509Name: { name: 'serve', type: 'name' } }));
  assert.equal(
    checkPeerCertificate(server, { verifyX509Name: { name: 'ser', type: 'name-prefix' } }),
    undefined,
  );
  assert.ok(checkPeerCertificate(server, { verifyX509Name: { name: 'cli', type: 'name-prefix' } }));
});

test('PUSH_REQUEST repeats every 5 s until answered; AUTH_FAILED,TEMP stops it and is typed', async () => {
  const pki = await labPki();
  const silent = new Pair({
    clientWrap: new NoWrap(),
    server: { wrap: new NoWrap(), tls: serverTls(pki), pushOptions: PUSH, silent: true },
    client: { tls: clientTls(pki) },
  });
  try {
    silent.client.start();
    assert.ok(await silent.run(() => silent.server.pushRequests >= 4, 3000, 30_000));
    const t0 = silent.clock.now();
    assert.ok(await silent.run(() => silent.server.pushRequests >= 5, 3000, 30_000));
    assert.ok(silent.clock.now() - t0 <= 5000);
  } finally {
    silent.close();
  }
  const failing = new Pair({
    clientWrap: new NoWrap(),
    server: {
      wrap: new NoWrap(),
      tls: serverTls(pki),
      pushOptions: PUSH,
      replyInstead: 'AUTH_FAILED,TEMP[backoff 30,advance remote]:maintenance',
    },
    client: { tls: clientTls(pki) },
  });
  try {
    failing.client.start();
    assert.ok(await failing.run(() => failing.clientHas('message')));
    const m = failing.clientEvents.find((e) => e.type === 'message');
    assert.ok(m?.type === 'message' && m.message.type === 'auth-failed');
    assert.equal(m.message.kind, 'temp');
    assert.equal(m.message.backoffSec, 30);
    assert.equal(m.message.advance, 'remote');
    const before = failing.server.pushRequests;
    await failing.run(() => false, 200, 20_000);
    assert.equal(failing.server.pushRequests, before, 'no PUSH_REQUEST after AUTH_FAILED');
  } finally {
    failing.close();
  }
});

test('long PUSH_REPLY in continuation parts arrives as one option list', async () => {
  const pki = await labPki();
  const many = Array.from({ length: 150 }, (_, i) => `route 10.${i}.0.0 255.255.0.0`);
  const pair = new Pair({
    clientWrap: new NoWrap(),
    server: { wrap: new NoWrap(), tls: serverTls(pki), pushOptions: many },
    client: { tls: clientTls(pki) },
  });
  try {
    pair.client.start();
    assert.ok(await pair.run(() => pair.clientHas('push-reply')));
    const push = pair.clientEvents.find((e) => e.type === 'push-reply');
    assert.deepEqual(push?.type === 'push-reply' && push.options, many);
  } finally {
    pair.close();
  }
});

test('no server: reset retransmitted with doubling timeouts, then hand-window failure', async () => {
  const pki = await labPki();
  const pair = new Pair({
    clientWrap: new NoWrap(),
    server: { wrap: new NoWrap(), tls: serverTls(pki), pushOptions: PUSH },
    client: { tls: clientTls(pki) },
    loss: 1,
  });
  try {
    const sentAt: number[] = [];
    const send = pair.c2s.push.bind(pair.c2s);
    pair.c2s.push = (...w: Buffer[]) => {
      sentAt.push(pair.clock.now());
      return send(...w);
    };
    const t0 = pair.clock.now();
    pair.client.start();
    assert.ok(await pair.run(() => pair.clientHas('failed'), 3000, 120_000));
    const gaps = sentAt.slice(1).map((t, i) => t - (sentAt[i] as number));
    assert.deepEqual(gaps.slice(0, 4), [2000, 4000, 8000, 16000]);
    const f = pair.clientEvents.find((e) => e.type === 'failed');
    assert.ok(f?.type === 'failed' && f.code === 'HAND_WINDOW');
    assert.equal(pair.clock.now() - t0, 60_000);
  } finally {
    pair.close();
  }
});

test('hostile packets into a live session never throw and are counted as drops', async () => {
  const pki = await labPki();
  const key = new StaticKey(randomBytes(256));
  const pair = new Pair({
    clientWrap: new TlsCryptWrap({ key, role: 'client' }),
    server: { wrap: new TlsCryptWrap({ key, role: 'server' }), tls: serverTls(pki), pushOptions: PUSH },
    client: { tls: clientTls(pki) },
  });
  try {
    pair.client.start();
    assert.ok(await pair.run(() => pair.clientHas('push-reply')));
    await pair.run(() => false, 50, 0); // deliver what is still in flight, so every s2c packet was seen
    for (let i = 0; i < 2000; i++) {
      pair.client.receive(randomBytes(i % 120));
      const replay = pair.s2c[i % pair.s2c.length] as Buffer;
      pair.client.receive(replay);
    }
    const total = [...pair.client.drops.values()].reduce((a, b) => a + b, 0);
    assert.equal(total, 4000);
    assert.equal(pair.client.drops.get('internal'), undefined);
    assert.deepEqual(pair.client.deriveKeyBlock(0, 'ekm'), pair.server.session.deriveKeyBlock(0, 'ekm'));
  } finally {
    pair.close();
  }
});
