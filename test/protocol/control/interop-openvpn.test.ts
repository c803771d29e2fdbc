// Interop smoke test against a real OpenVPN 2.6 on loopback UDP (P2P tls-server, `dev null`, so
// no root or TUN is needed). Our client session runs over node:dgram; openvpn's log must show the
// peer connection, and our side must reach key-ready with the server's key-method-2.
// Skipped (with a message) without openvpn, except in CI where it fails.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  IvProto,
  DEFAULT_IV_PROTO,
  buildOptionsString,
  buildPeerInfo,
} from '../../../src/protocol/control/key-method2.js';
import { ControlSession, type ControlEvent } from '../../../src/protocol/control/session.js';
import { parseStaticKey } from '../../../src/protocol/control/static-key.js';
import { parseTlsCryptV2ClientKey } from '../../../src/protocol/control/tls-crypt-v2.js';
import { type ControlWrap, TlsCryptWrap, tlsCryptV2ClientWrap } from '../../../src/protocol/control/wrap.js';
import { labPki, type LabPki } from '../../util/lab.js';

function haveOpenvpn(t: { skip(m: string): void }): boolean {
  try {
    execFileSync('openvpn', ['--version'], { stdio: 'ignore' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      if (process.env['CI'] === 'true') assert.fail('openvpn is required in CI');
      t.skip('openvpn not installed: interop not checked');
      return false;
    }
  }
  return true;
}

async function connect(
  pki: LabPki,
  wrapArgs: string[],
  wrap: ControlWrap,
): Promise<{ events: ControlEvent[]; log: string }> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const args = [
    '--tls-server',
    '--dev',
    'null',
    '--proto',
    'udp4',
    '--local',
    '127.0.0.1',
    '--lport',
    String(port),
    '--ca',
    pki.ca.crt,
    '--cert',
    pki.server.crt,
    '--key',
    pki.server.key,
    '--dh',
    'none',
    ...wrapArgs,
    '--data-ciphers',
    'AES-256-GCM:CHACHA20-POLY1305',
    '--allow-compression',
    'no',
    '--disable-dco',
    '--verb',
    '4',
    '--hand-window',
    '10',
  ];
  const child: ChildProcess = spawn('openvpn', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const sock = dgram.createSocket('udp4');
  const events: ControlEvent[] = [];
  const session = new ControlSession({
    role: 'client',
    clock: { now: () => performance.now() },
    wrap,
    tls: {
      secure: {
        ca: readFileSync(pki.ca.crt),
        cert: readFileSync(pki.client.crt),
        key: readFileSync(pki.client.key),
      },
      verify: { remoteCertTls: 'server' },
    },
    options: buildOptionsString({ role: 'client' }),
    // P2P peers negotiate from IV_PROTO: NCP_P2P lets the server pick EKM and the cipher.
    peerInfo: buildPeerInfo({ ciphers: ['AES-256-GCM'], ivProto: DEFAULT_IV_PROTO | IvProto.NCP_P2P }),
    sink: { send: (w) => sock.send(w, port, '127.0.0.1'), event: (e) => events.push(e) },
  });
  sock.on('message', (m) => session.receive(m));
  const timer = setInterval(() => session.tick(), 100);
  try {
    await new Promise((r) => setTimeout(r, 500)); // let openvpn bind
    session.start();
    const deadline = Date.now() + 10_000;
    while (
      Date.now() < deadline &&
      !(events.some((e) => e.type === 'key-ready') && log.includes('Peer Connection Initiated'))
    ) {
      if (events.some((e) => e.type === 'failed')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    return { events, log };
  } finally {
    clearInterval(timer);
    session.close();
    sock.close();
    child.kill('SIGTERM');
  }
}

test('real openvpn 2.6 (P2P, tls-crypt, loopback) accepts our client: TLS, key-method-2, EKM negotiated', async (t) => {
  if (!haveOpenvpn(t)) return;
  const pki = await labPki();
  const key = parseStaticKey(readFileSync(pki.tlsCryptKey, 'utf8'));
  const { events, log } = await connect(
    pki,
    ['--tls-crypt', pki.tlsCryptKey],
    new TlsCryptWrap({ key, role: 'client' }),
  );
  assert.ok(log.includes('Peer Connection Initiated'), `openvpn log:\n${log.slice(-2000)}`);
  assert.match(log, /TLS_export=1, DATA_v2=1/);
  const ready = events.find((e) => e.type === 'key-ready');
  assert.ok(ready?.type === 'key-ready', JSON.stringify(events));
  assert.match(ready.peerInfo, /IV_PROTO=\d+/);
  assert.match(ready.peerOptions, /tls-server$/);
});

test('real openvpn 2.6 (P2P, tls-crypt-v2 keys from openvpn) accepts our V3 reset', async (t) => {
  if (!haveOpenvpn(t)) return;
  const pki = await labPki();
  if (pki.tlsCryptV2 === null) return t.skip('no tls-crypt-v2 keys generated');
  const cli = parseTlsCryptV2ClientKey(readFileSync(pki.tlsCryptV2.clientKey, 'utf8'));
  const { events, log } = await connect(
    pki,
    ['--tls-crypt-v2', pki.tlsCryptV2.serverKey],
    tlsCryptV2ClientWrap(cli.kc, cli.wkc),
  );
  assert.ok(log.includes('Peer Connection Initiated'), `openvpn log:\n${log.slice(-2000)}`);
  assert.ok(events.some((e) => e.type === 'key-ready'));
});
