// OpenVpnClient in memory (no root): a real Engine with a MemoryHost on each side, the mini-server
// as the OpenVPN server, an in-memory transport between them. The client drives its engine only
// through the control API; the tests check what a user would: it connects, the keys work in both
// directions, renegotiation (from either side) loses no packet, failures give clear messages.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { OpenVpnClient, type ClientEvent } from '../../src/client/client.js';
import type { NetConfigurator, TunPlan } from '../../src/client/net-config.js';
import { parseConfigText } from '../../src/config/parse.js';
import { Engine } from '../../src/engine/engine.js';
import { MemoryHost } from '../../src/os/memory-host.js';
import { StaticKey, formatStaticKey } from '../../src/protocol/control/static-key.js';
import { labPki, type LabPki } from '../util/lab.js';
import { MemoryServer } from './memory-server.js';

const PUSH = [
  'route 10.9.0.0 255.255.255.0',
  'dhcp-option DNS 10.8.0.1',
  'route-gateway 10.8.0.1',
  'topology subnet',
  'ping 10',
  'ping-restart 60',
  'ifconfig 10.8.0.2 255.255.255.0',
  'peer-id 0',
  'cipher AES-256-GCM',
  'protocol-flags cc-exit tls-ekm dyn-tls-crypt',
  'tun-mtu 1500',
];

class RecordingNet implements NetConfigurator {
  readonly applied: TunPlan[] = [];
  cleared = 0;
  async apply(plan: TunPlan): Promise<string[]> {
    this.applied.push(plan);
    return [];
  }
  async clear(): Promise<void> {
    this.cleared++;
  }
}

interface Rig {
  client: OpenVpnClient;
  server: MemoryServer;
  host: MemoryHost;
  engine: Engine;
  net: RecordingNet;
  events: ClientEvent[];
  logs: string[];
  close(): Promise<void>;
}

function profileText(pki: LabPki, extra: string[], tlsCrypt: string | undefined): string {
  return [
    'client',
    'dev tun',
    'proto udp',
    ...(extra.some((l) => l.startsWith('remote ')) ? [] : ['remote 10.255.0.2 1194']),
    `ca ${pki.ca.crt}`,
    `cert ${pki.client.crt}`,
    `key ${pki.client.key}`,
    'remote-cert-tls server',
    'data-ciphers AES-256-GCM:CHACHA20-POLY1305',
    'verb 4',
    ...(tlsCrypt !== undefined ? [`tls-crypt ${tlsCrypt}`] : []),
    ...extra,
  ].join('\n');
}

async function rig(opts: {
  push?: string[];
  cipher?: 'AES-256-GCM' | 'CHACHA20-POLY1305';
  method?: 'ekm' | 'prf';
  extra?: string[];
  serverKey?: StaticKey;
  clientKey?: StaticKey;
  noWrap?: boolean;
  replyInstead?: string;
  unreachable?: string[];
}): Promise<Rig> {
  const pki = await labPki();
  const key = opts.serverKey ?? new StaticKey(randomBytes(256));
  const keyFile = `${pki.dir}/client-test-${randomBytes(4).toString('hex')}.key`;
  const { writeFileSync } = await import('node:fs');
  writeFileSync(keyFile, formatStaticKey(opts.clientKey ?? key));
  const server = new MemoryServer({
    pki,
    ...(opts.noWrap === true ? {} : { tlsCryptKey: key }),
    pushOptions: opts.push ?? PUSH,
    cipher: opts.cipher ?? 'AES-256-GCM',
    method: opts.method ?? 'ekm',
    ...(opts.replyInstead !== undefined ? { replyInstead: opts.replyInstead } : {}),
  });
  for (const a of opts.unreachable ?? []) server.unreachable.add(a);
  await server.start();
  const host = new MemoryHost({ frameSize: 200 });
  const engine = await Engine.create({ host, transportFactory: server.factory });
  const { options } = parseConfigText(
    profileText(pki, opts.extra ?? [], opts.noWrap === true ? undefined : keyFile),
    { readFile: (p) => readFileSync(p) },
  );
  const net = new RecordingNet();
  const logs: string[] = [];
  let client: OpenVpnClient;
  try {
    client = new OpenVpnClient({
      profile: options,
      api: engine.api,
      net,
      log: (l) => logs.push(l),
      occExit: () => engine.sendExitNotify(),
    });
  } catch (e) {
    // A profile the client refuses: nothing may stay open, or the test file never exits.
    await engine.close();
    await server.close();
    throw e;
  }
  const events: ClientEvent[] = [];
  client.on((e) => events.push(e));
  return {
    client,
    server,
    host,
    engine,
    net,
    events,
    logs,
    async close() {
      await client.stop('test end');
      await engine.close();
      await server.close();
    },
  };
}

async function until(cond: () => boolean, what: string | (() => string), r: Rig, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) {
      const w = typeof what === 'string' ? what : what();
      assert.fail(`timed out waiting for ${w}\n${r.logs.slice(-25).join('\n')}`);
    }
    await new Promise((res) => setTimeout(res, 10));
  }
}

/** Sends `n` frames each way in chunks of `chunk`, waiting for delivery of each chunk. */
async function exchange(r: Rig, n: number, chunk = 50, between?: (i: number) => void): Promise<void> {
  for (let sent = 0, i = 0; sent < n; i++) {
    const k = Math.min(chunk, n - sent);
    const c0 = r.server.host.stats.rxPackets;
    const s0 = r.host.stats.rxPackets;
    r.host.generate(k);
    r.server.host.generate(k);
    sent += k;
    between?.(i);
    await until(
      () => r.server.host.stats.rxPackets >= c0 + k && r.host.stats.rxPackets >= s0 + k,
      () =>
        `chunk ${i} delivered (server got ${r.server.host.stats.rxPackets - c0}/${k}, client got ${r.host.stats.rxPackets - s0}/${k}); ` +
        `drops client ${JSON.stringify(r.engine.drops())} server ${JSON.stringify(r.server.engine.drops())} ` +
        `stats client ${JSON.stringify(r.host.stats)} server ${JSON.stringify(r.server.host.stats)}`,
      r,
      3000,
    );
  }
}

test('connects to the mini-server (tls-crypt, EKM, AES-256-GCM): keys installed, TUN planned, data both ways', async () => {
  const r = await rig({});
  try {
    r.client.start();
    await until(() => r.client.state === 'connected', 'connected', r);
    const states = r.events.flatMap((e) => (e.type === 'state' ? [e.state] : []));
    assert.deepEqual(states, ['connecting', 'tls', 'auth', 'push', 'connected']);
    const info = r.events.find((e) => e.type === 'connected');
    assert.ok(info?.type === 'connected');
    assert.equal(info.info.cipher, 'AES-256-GCM');
    assert.equal(info.info.keyDerivation, 'ekm');
    assert.equal(info.info.peerId, 0);
    assert.equal(info.info.ping, 10);
    assert.equal(info.info.pingRestart, 60);
    const plan = r.net.applied[0];
    assert.ok(plan !== undefined);
    assert.deepEqual(plan.ipv4, { local: '10.8.0.2', prefixLen: 24, peer: undefined });
    assert.deepEqual(plan.routes4, [{ network: '10.9.0.0', prefixLen: 24, metric: undefined }]);
    assert.deepEqual(plan.dns, ['dhcp-option DNS 10.8.0.1']);
    await exchange(r, 300);
    assert.equal(r.server.host.stats.rxBadSeq, 0);
    assert.equal(r.host.stats.rxBadSeq, 0);
    assert.equal(r.server.host.stats.rxCorrupt + r.host.stats.rxCorrupt, 0);
    assert.ok(!r.logs.some((l) => /[0-9a-f]{64}/i.test(l)), 'no key material in the log');
  } finally {
    await r.close();
  }
});

test('legacy PRF key derivation with CHACHA20-POLY1305 (no key-derivation pushed)', async () => {
  const push = PUSH.filter((o) => !o.startsWith('protocol-flags') && !o.startsWith('cipher')).concat(
    'cipher CHACHA20-POLY1305',
  );
  const r = await rig({ push, cipher: 'CHACHA20-POLY1305', method: 'prf', noWrap: true });
  try {
    r.client.start();
    await until(() => r.client.state === 'connected', 'connected', r);
    const info = r.events.find((e) => e.type === 'connected');
    assert.ok(info?.type === 'connected' && info.info.keyDerivation === 'prf');
    await exchange(r, 100);
    assert.equal(r.server.host.stats.rxBadSeq + r.host.stats.rxBadSeq, 0);
  } finally {
    await r.close();
  }
});

test('renegotiation started by the client, then by the server: new key via secondary + swap, zero loss', async () => {
  const r = await rig({});
  try {
    r.client.start();
    await until(() => r.client.state === 'connected', 'connected', r);
    await exchange(r, 100);
    // Traffic keeps flowing while the key changes: every chunk must arrive complete and in order.
    let renegs = 0;
    await exchange(r, 1500, 30, (i) => {
      if (i === 5) {
        r.client.renegotiate();
        renegs++;
      }
    });
    await until(() => r.events.some((e) => e.type === 'key-installed' && e.keyId === 1), 'key 1', r);
    await exchange(r, 600, 30, (i) => {
      if (i === 3) r.server.mini?.session.renegotiate();
    });
    await until(() => r.events.some((e) => e.type === 'key-installed' && e.keyId === 2), 'key 2', r);
    await exchange(r, 600, 30);
    assert.equal(renegs, 1);
    assert.deepEqual(
      r.server.installs.map(([k]) => k),
      [0, 1, 2],
    );
    assert.equal(r.host.stats.rxBadSeq, 0, 'client lost or reordered packets');
    assert.equal(r.server.host.stats.rxBadSeq, 0, 'server lost or reordered packets');
    assert.equal(r.host.stats.rxPackets, 100 + 1500 + 600 + 600);
    assert.equal(r.server.host.stats.rxPackets, 100 + 1500 + 600 + 600);
    assert.equal(r.client.state, 'connected');
  } finally {
    await r.close();
  }
});

test('wrong tls-crypt key: no valid reply within hand-window, message names the tls-crypt key', async () => {
  const r = await rig({
    serverKey: new StaticKey(randomBytes(256)),
    clientKey: new StaticKey(randomBytes(256)),
    extra: ['hand-window 1', 'connect-retry-max 1'],
  });
  try {
    r.client.start();
    const code = await r.client.done;
    assert.equal(code, 1);
    const err = r.events.find((e) => e.type === 'error');
    assert.ok(err?.type === 'error');
    assert.match(
      err.message,
      /no valid reply from the server within hand-window \(1 s\): check tls-crypt key/,
    );
  } finally {
    await r.close();
  }
});

test('pushed cipher outside data-ciphers is refused with a clear message and the client exits', async () => {
  const r = await rig({ extra: ['data-ciphers CHACHA20-POLY1305'] });
  try {
    r.client.start();
    assert.equal(await r.client.done, 1);
    const err = r.events.find((e) => e.type === 'error' && e.fatal);
    assert.ok(err?.type === 'error');
    assert.match(err.message, /cipher AES-256-GCM, which is not in data-ciphers/);
  } finally {
    await r.close();
  }
});

test('AUTH_FAILED exits with a clear message (auth-retry none)', async () => {
  const r = await rig({ replyInstead: 'AUTH_FAILED,bad password' });
  try {
    r.client.start();
    assert.equal(await r.client.done, 1);
    const err = r.events.find((e) => e.type === 'error' && e.fatal);
    assert.ok(err?.type === 'error' && err.code === 'OVPN_CLIENT_AUTH_FAILED', JSON.stringify(err));
    assert.match(err.message, /AUTH_FAILED: bad password: the server refused our credentials/);
  } finally {
    await r.close();
  }
});

test('remote-cert-eku / remote-cert-ku are enforced: a server certificate without them is refused', async () => {
  // The lab server certificate: EKU serverAuth, keyUsage digitalSignature,keyAgreement (0x88).
  for (const [extra, why] of [
    [
      'remote-cert-eku clientAuth',
      /server certificate rejected: remote-cert-eku 1\.3\.6\.1\.5\.5\.7\.3\.2: peer certificate lacks it \(has 1\.3\.6\.1\.5\.5\.7\.3\.1\)/,
    ],
    [
      'remote-cert-ku a0',
      /server certificate rejected: remote-cert-ku a0: peer certificate key usage is 0x88 \(digitalSignature,keyAgreement\)/,
    ],
  ] as const) {
    const r = await rig({ extra: [extra, 'connect-retry-max 1'] });
    try {
      let code: number | undefined;
      void r.client.done.then((c) => (code = c));
      r.client.start();
      // Without the check the client would connect and `done` never settle: stop at either.
      await until(
        () => code !== undefined || r.client.state === 'connected',
        `${extra}: the client gives up`,
        r,
      );
      assert.notEqual(r.client.state, 'connected', `${extra}: connected despite the check`);
      assert.equal(code, 1, extra);
      const err = r.events.find((e) => e.type === 'error' && e.fatal);
      assert.ok(err?.type === 'error', `${extra}: ${JSON.stringify(r.events)}`);
      assert.match(err.message, why);
    } finally {
      await r.close();
    }
  }
  const r = await rig({ extra: ['remote-cert-eku serverAuth', 'remote-cert-ku 88'] });
  try {
    r.client.start();
    await until(() => r.client.state === 'connected', 'connected with remote-cert-eku serverAuth', r);
    assert.ok(!r.logs.some((l) => /not checked by ovpn-ts/.test(l)));
  } finally {
    await r.close();
  }
});

test('RESTART from the server: the client reconnects by itself and data flows again', async () => {
  const r = await rig({});
  try {
    r.client.start();
    await until(() => r.client.state === 'connected', 'connected', r);
    r.server.mini?.session.sendControlMessage('RESTART,server restarting');
    await until(
      () => r.events.some((e) => e.type === 'state' && e.state === 'reconnecting'),
      'reconnecting',
      r,
    );
    await until(() => r.client.state === 'connected' && r.server.connections === 2, 'reconnected', r);
    assert.ok(r.net.cleared >= 1, 'TUN settings cleared before reconnecting');
    await exchange(r, 100);
    assert.equal(r.server.host.stats.rxBadSeq, 0);
  } finally {
    await r.close();
  }
});

test('an unreachable first remote: server-poll-timeout, then the next remote connects', async () => {
  const r = await rig({
    unreachable: ['10.255.0.9'],
    extra: ['remote 10.255.0.9 1194', 'remote 10.255.0.2 1194', 'server-poll-timeout 1', 'connect-retry 1'],
  });
  try {
    r.client.start();
    await until(() => r.client.state === 'connected', 'connected to the second remote', r, 10_000);
    assert.deepEqual(r.server.requests.slice(0, 2), ['10.255.0.9', '10.255.0.2']);
    const err = r.events.find((e) => e.type === 'error');
    assert.ok(err?.type === 'error');
    assert.match(err.message, /no valid reply from the server within server-poll-timeout \(1 s\)/);
    await exchange(r, 50);
  } finally {
    await r.close();
  }
});

test('auth-token: the pushed token replaces the password for renegotiations', async () => {
  const r = await rig({
    push: [...PUSH, 'auth-token SESS-1234'],
    extra: ['<auth-user-pass>', 'alice', 's3cret', '</auth-user-pass>'],
  });
  try {
    r.client.start();
    await until(() => r.client.state === 'connected', 'connected', r);
    r.client.renegotiate();
    await until(() => r.events.some((e) => e.type === 'key-installed' && e.keyId === 1), 'key 1', r);
    const seen = (r.server.mini?.events ?? []).flatMap((e) =>
      e.type === 'key-ready' && e.credentials
        ? [[e.keyId, e.credentials.username, e.credentials.password]]
        : [],
    );
    assert.deepEqual(seen, [
      [0, 'alice', 's3cret'],
      [1, 'alice', 'SESS-1234'],
    ]);
    assert.ok(!r.logs.some((l) => l.includes('SESS-1234') || l.includes('s3cret')), 'no secret in the log');
  } finally {
    await r.close();
  }
});

test('encrypted private key with askpass: connects; a wrong passphrase fails with a clear message', async () => {
  const pki = await labPki();
  const { execFileSync } = await import('node:child_process');
  const { writeFileSync } = await import('node:fs');
  const tag = randomBytes(4).toString('hex');
  const encKey = `${pki.dir}/client-enc-${tag}.key`;
  execFileSync('openssl', [
    'pkey',
    '-in',
    pki.client.key,
    '-aes256',
    '-passout',
    'pass:hunter2',
    '-out',
    encKey,
  ]);
  for (const [pass, ok] of [
    ['hunter2', true],
    ['wrong', false],
  ] as const) {
    const passFile = `${pki.dir}/askpass-${tag}-${pass}`;
    writeFileSync(passFile, `${pass}\n`);
    if (!ok) {
      // Checked when the profile is loaded: a clear error at once, not a stalled handshake.
      await assert.rejects(rig({ extra: [`key ${encKey}`, `askpass ${passFile}`] }), (e: Error) => {
        assert.match(e.message, /wrong passphrase \(check the askpass file\)/);
        return true;
      });
      continue;
    }
    const r = await rig({ extra: [`key ${encKey}`, `askpass ${passFile}`] });
    try {
      r.client.start();
      await until(() => r.client.state === 'connected', 'connected with the encrypted key', r);
    } finally {
      await r.close();
    }
  }
});

test('reneg-bytes and reneg-pkts: the client renegotiates once the current key has carried that much', async () => {
  for (const [option, logged] of [
    ['reneg-bytes 30000', /reneg-bytes 30000 reached \(\d+ bytes\): renegotiating/],
    ['reneg-pkts 200', /reneg-pkts 200 reached \(\d+ packets\): renegotiating/],
  ] as const) {
    const r = await rig({ extra: [option] });
    try {
      r.client.start();
      await until(() => r.client.state === 'connected', 'connected', r);
      await exchange(r, 20); // far below either limit
      await new Promise((res) => setTimeout(res, 500)); // a few ticks: the baseline is taken
      assert.ok(!r.events.some((e) => e.type === 'key-installed' && e.keyId === 1), `${option}: not yet`);
      await exchange(r, 300, 30); // 600 packets of ~200 bytes under key 0
      await until(
        () => r.events.some((e) => e.type === 'key-installed' && e.keyId === 1),
        `${option}: key 1`,
        r,
      );
      assert.ok(
        r.logs.some((l) => logged.test(l)),
        `${option}: the log says why`,
      );
      await exchange(r, 100, 30);
      assert.equal(
        r.host.stats.rxBadSeq + r.server.host.stats.rxBadSeq,
        0,
        'no packet lost across the change',
      );
    } finally {
      await r.close();
    }
  }
});
