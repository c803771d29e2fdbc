import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import {
  DEFAULT_IV_PROTO,
  buildOptionsString,
  buildPeerInfo,
  decodeKeyMethod2,
  encodeKeyMethod2,
  parsePeerInfo,
} from '../../../src/protocol/control/key-method2.js';
import {
  ControlTextSplitter,
  buildPushReplyParts,
  encodeControlMessage,
  parseControlMessage,
} from '../../../src/protocol/control/messages.js';
import { Prng } from './prng.js';

test('key-method-2: client and server forms round trip; empty strings are u16 0 without NUL', () => {
  const client = {
    preMaster: randomBytes(48),
    random1: randomBytes(32),
    random2: randomBytes(32),
    options: buildOptionsString({ role: 'client' }),
    username: 'alice',
    password: '',
    peerInfo: 'IV_VER=2.6.14\n',
  };
  const wire = encodeKeyMethod2(client);
  assert.equal(wire.readUInt32BE(0), 0);
  assert.equal(wire[4], 2);
  const d = decodeKeyMethod2(wire, true);
  assert.equal(d.status, 'ok');
  if (d.status === 'ok') {
    assert.deepEqual(d.message, client);
    assert.equal(d.consumed, wire.length);
  }
  const server = { ...client, preMaster: undefined, username: '', password: '', peerInfo: '' };
  const sw = encodeKeyMethod2(server);
  // 5 + 64 randoms + options(2+len+1) + three u16 0
  const opt = server.options.length + 1;
  assert.equal(sw.length, 5 + 64 + 2 + opt + 6);
  assert.deepEqual(sw.subarray(sw.length - 6), Buffer.alloc(6));
  const ds = decodeKeyMethod2(sw, false);
  assert.ok(
    ds.status === 'ok' && ds.message.options === server.options && ds.message.preMaster === undefined,
  );
});

test('key-method-2 reader: accepts [u16 1][NUL] empties, missing peer-info, reports incomplete', () => {
  const head = Buffer.concat([Buffer.from([0, 0, 0, 0, 2]), randomBytes(64)]);
  const str = (s: string): Buffer =>
    Buffer.concat([Buffer.from([0, s.length + 1]), Buffer.from(s), Buffer.from([0])]);
  const nulEmpty = Buffer.from([0, 1, 0]);
  const full = Buffer.concat([head, str('V4'), nulEmpty, nulEmpty, nulEmpty]);
  const d = decodeKeyMethod2(full, false);
  assert.ok(d.status === 'ok' && d.message.username === '' && d.message.peerInfo === '');
  const noPeerInfo = Buffer.concat([head, str('V4'), Buffer.from([0, 0, 0, 0])]);
  assert.equal(decodeKeyMethod2(noPeerInfo, false).status, 'ok');
  for (let cut = 0; cut < full.length - 3; cut++) {
    const r = decodeKeyMethod2(full.subarray(0, cut), false);
    assert.ok(r.status === 'incomplete' || (r.status === 'ok' && cut >= full.length - 3), `cut ${cut}`);
  }
  assert.deepEqual(decodeKeyMethod2(Buffer.from([0, 0, 0, 1, 2]), false), {
    status: 'error',
    reason: 'bad-prefix',
  });
  assert.deepEqual(decodeKeyMethod2(Buffer.from([0, 0, 0, 0, 1]), false), {
    status: 'error',
    reason: 'bad-key-method',
  });
  const huge = Buffer.concat([head, Buffer.from([0x10, 0x00])]);
  assert.deepEqual(decodeKeyMethod2(huge, false), { status: 'error', reason: 'string-too-long' });
  const r = new Prng(11);
  for (let i = 0; i < 3000; i++)
    decodeKeyMethod2(Buffer.concat([head.subarray(0, r.int(70)), r.bytes(r.int(60))]), i % 2 === 0);
});

test('options string and peer-info match what 2.6.14 sends', () => {
  assert.equal(
    buildOptionsString({ role: 'client' }),
    'V4,dev-type tun,link-mtu 1541,tun-mtu 1500,proto UDPv4,auth SHA1,keysize 128,key-method 2,tls-client',
  );
  assert.ok(
    buildOptionsString({ role: 'server', proto: 'TCPv4_SERVER' }).endsWith(
      'proto TCPv4_SERVER,auth SHA1,keysize 128,key-method 2,tls-server',
    ),
  );
  const pi = buildPeerInfo({ ciphers: ['AES-256-GCM', 'CHACHA20-POLY1305'] });
  assert.equal(
    pi,
    'IV_VER=2.6.14\nIV_PLAT=linux\nIV_TCPNL=1\nIV_MTU=1600\nIV_CIPHERS=AES-256-GCM:CHACHA20-POLY1305\nIV_PROTO=414\n' +
      'IV_LZO_STUB=1\nIV_COMP_STUB=1\nIV_COMP_STUBv2=1\n',
  );
  assert.equal(DEFAULT_IV_PROTO, 414);
  assert.equal(parsePeerInfo(buildPeerInfo({ ciphers: ['AES-256-GCM', 'AES-128-GCM'] })).get('IV_NCP'), '2');
  assert.throws(() => buildPeerInfo({ ciphers: ['AES-256-GCM'], ivProto: 8 }), /DATA_V2/);
  assert.throws(() => buildPeerInfo({ ciphers: ['AES-256-GCM'], extra: { FOO: 'x' } }), /IV_\*/);
});

test('control message parsing: every §E message to a typed value', () => {
  assert.deepEqual(parseControlMessage('PUSH_REQUEST'), { type: 'push-request' });
  assert.deepEqual(parseControlMessage('PUSH_REPLY'), { type: 'push-reply', options: [], continuation: 0 });
  assert.deepEqual(
    parseControlMessage('PUSH_REPLY,route 10.9.0.0 255.255.255.0,peer-id 0,push-continuation 2'),
    {
      type: 'push-reply',
      options: ['route 10.9.0.0 255.255.255.0', 'peer-id 0'],
      continuation: 2,
    },
  );
  assert.deepEqual(parseControlMessage('AUTH_FAILED'), {
    type: 'auth-failed',
    reason: '',
    kind: 'plain',
    backoffSec: undefined,
    advance: undefined,
    message: '',
  });
  const temp = parseControlMessage('AUTH_FAILED,TEMP[backoff 42,advance no]:server busy');
  assert.deepEqual(temp, {
    type: 'auth-failed',
    reason: 'TEMP[backoff 42,advance no]:server busy',
    kind: 'temp',
    backoffSec: 42,
    advance: 'no',
    message: 'server busy',
  });
  const t2 = parseControlMessage('AUTH_FAILED,TEMP:try later');
  assert.ok(
    t2.type === 'auth-failed' &&
      t2.kind === 'temp' &&
      t2.message === 'try later' &&
      t2.backoffSec === undefined,
  );
  const s = parseControlMessage('AUTH_FAILED,SESSION:token expired');
  assert.ok(s.type === 'auth-failed' && s.kind === 'session' && s.message === 'token expired');
  const c = parseControlMessage(
    'AUTH_FAILED,CRV1:R,E:Om01u7Fh4LrGBS7uh0SWmzwabUiGiW6l:Y3Ix:Please enter token',
  );
  assert.ok(c.type === 'auth-failed' && c.kind === 'crv1' && c.message.startsWith('R,E:'));
  assert.deepEqual(parseControlMessage('AUTH_PENDING,timeout 30'), {
    type: 'auth-pending',
    timeoutSec: 30,
    keywords: ['timeout 30'],
  });
  assert.deepEqual(parseControlMessage('AUTH_PENDING'), {
    type: 'auth-pending',
    timeoutSec: undefined,
    keywords: [],
  });
  assert.deepEqual(parseControlMessage('INFO_PRE,OPEN_URL:https://x'), {
    type: 'info-pre',
    text: 'OPEN_URL:https://x',
  });
  assert.deepEqual(parseControlMessage('INFO,hello'), { type: 'info', text: 'hello' });
  assert.deepEqual(parseControlMessage('RESTART,[PN]bye'), {
    type: 'restart',
    keepPassword: true,
    nextRemote: true,
    message: 'bye',
  });
  assert.deepEqual(parseControlMessage('RESTART'), {
    type: 'restart',
    keepPassword: false,
    nextRemote: false,
    message: '',
  });
  assert.deepEqual(parseControlMessage('HALT,admin'), { type: 'halt', message: 'admin' });
  assert.deepEqual(parseControlMessage('EXIT'), { type: 'exit' });
  assert.deepEqual(parseControlMessage('PUSH_REPLYX'), { type: 'unknown', text: 'PUSH_REPLYX' });
});

test('hostile control text never throws', () => {
  const r = new Prng(3);
  const prefixes = [
    'PUSH_REPLY,',
    'AUTH_FAILED,TEMP[',
    'AUTH_FAILED,',
    'RESTART,[',
    'AUTH_PENDING,',
    'INFO',
    '',
  ];
  for (let i = 0; i < 5000; i++) {
    const junk = Array.from({ length: r.int(40) }, () => String.fromCharCode(0x20 + r.int(95))).join('');
    parseControlMessage(r.pick(prefixes) + junk);
  }
});

test('splitter: NUL framing across chunks, CR/LF stripped, non-printable rejected', () => {
  const s = new ControlTextSplitter();
  assert.deepEqual(s.push(Buffer.from('PUSH_REP')), []);
  assert.deepEqual(s.push(Buffer.from('LY,a\r\n\0INFO,x\0bad\x01\0')), ['PUSH_REPLY,a', 'INFO,x']);
  assert.equal(s.rejected, 1);
  assert.deepEqual(s.push(Buffer.from('\0\0HALT\0')), ['HALT']);
  assert.deepEqual(encodeControlMessage('PUSH_REQUEST'), Buffer.from('PUSH_REQUEST\0'));
  assert.throws(() => encodeControlMessage('a\nb'), /printable/);
  assert.throws(() => encodeControlMessage('é'), /printable/);
});

test('PUSH_REPLY parts: ≤1024 bytes each, continuation 2…1, reassembles to the same options', () => {
  const opts = Array.from({ length: 120 }, (_, i) => `route 10.${i}.0.0 255.255.0.0`);
  const parts = buildPushReplyParts(opts);
  assert.ok(parts.length > 1);
  const collected: string[] = [];
  parts.forEach((p, i) => {
    assert.ok(p.length <= 1024);
    const m = parseControlMessage(p);
    assert.ok(m.type === 'push-reply');
    assert.equal(m.continuation, i === parts.length - 1 ? 1 : 2);
    collected.push(...m.options);
  });
  assert.deepEqual(collected, opts);
  assert.deepEqual(buildPushReplyParts(['ping 10']), ['PUSH_REPLY,ping 10']);
  assert.throws(() => buildPushReplyParts(['a,b']), /commas/);
});
