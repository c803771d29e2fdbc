// Property: whatever a mutated profile contains, the parser either returns options or throws an
// OvpnConfigError; the push parser never throws at all. Seeded, bounded in count and time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OvpnConfigError, parseArgv, parseConfigText, parsePushReply } from '../../src/config/index.js';
import { OPTIONS, REFUSED } from '../../src/config/handlers.js';
import {
  CONNECTION_PROFILE,
  INLINE_PROFILE,
  LAB_CLIENT_CONF,
  LAB_FILES,
  MULTI_REMOTE_PROFILE,
  TLS_AUTH_PROFILE,
  memReader,
} from './fixtures.js';

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
}

const ALPHABET = [
  '"',
  "'",
  '\\',
  '#',
  ';',
  '<',
  '>',
  '/',
  ' ',
  '\t',
  '\r',
  '\n',
  '-',
  ':',
  '0',
  '9',
  'a',
  'Z',
  '\uFEFF',
  'é',
  '\0',
];
const NAMES = [
  ...Object.keys(OPTIONS),
  ...Object.keys(REFUSED),
  'config',
  'connection',
  'setenv opt',
  'cd',
  '<ca>',
  '</ca>',
  '<connection>',
  '</connection>',
];

function mutate(text: string, r: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  let t = text;
  const n = 1 + Math.floor(r() * 4);
  for (let k = 0; k < n; k++) {
    const i = Math.floor(r() * (t.length + 1));
    const lines = t.split('\n');
    const li = Math.floor(r() * lines.length);
    switch (Math.floor(r() * 7)) {
      case 0:
        t = t.slice(0, i) + t.slice(i + 1 + Math.floor(r() * 8));
        break;
      case 1:
        t = t.slice(0, i) + pick(ALPHABET) + t.slice(i);
        break;
      case 2:
        lines.splice(
          li,
          0,
          `${pick(NAMES)} ${pick(['', '1', 'x y', '"q"', '-1', '99999999999', 'tcp', 'AES-256-GCM:BF-CBC'])}`,
        );
        t = lines.join('\n');
        break;
      case 3:
        lines.splice(li, 1);
        t = lines.join('\n');
        break;
      case 4:
        lines.splice(li, 0, lines[Math.floor(r() * lines.length)] ?? '');
        t = lines.join('\n');
        break;
      case 5:
        t = t.slice(0, i);
        break;
      default: {
        const words = (lines[li] ?? '').split(' ');
        words[Math.floor(r() * words.length)] = pick(NAMES);
        lines[li] = words.join(' ');
        t = lines.join('\n');
      }
    }
  }
  return t;
}

const BASES = [LAB_CLIENT_CONF, INLINE_PROFILE, TLS_AUTH_PROFILE, MULTI_REMOTE_PROFILE, CONNECTION_PROFILE];
const files = { ...LAB_FILES, 'lab.conf': LAB_CLIENT_CONF };
const readFile = memReader(files);

test('mutated profiles: options or OvpnConfigError, nothing else', () => {
  const r = rng(0x5eed);
  const deadline = Date.now() + 4000;
  let parsed = 0;
  let refused = 0;
  for (let i = 0; i < 4000 && Date.now() < deadline; i++) {
    const text = mutate(BASES[i % BASES.length] as string, r);
    try {
      const { options } = parseConfigText(text, { name: 'm.ovpn', readFile });
      assert.ok(options.connections.length >= 1);
      parsed++;
    } catch (e) {
      if (!(e instanceof OvpnConfigError)) {
        assert.fail(`non-config error ${String(e)} for:\n${JSON.stringify(text)}`);
      }
      assert.match(e.message, /^m\.ovpn(:\d+)?: |^[^:]+:\d+: /);
      refused++;
    }
  }
  // Both outcomes must be exercised or the property says nothing.
  assert.ok(parsed > 50 && refused > 50, `parsed ${parsed}, refused ${refused}`);
});

test('mutated argv: options or OvpnConfigError', () => {
  const r = rng(42);
  for (let i = 0; i < 1000; i++) {
    const argv = [
      '--config',
      'lab.conf',
      ...mutate('--verb 3 --remote a 1 --proto tcp', r).split(/\s+/).filter(Boolean),
    ];
    try {
      parseArgv(argv, { readFile });
    } catch (e) {
      if (!(e instanceof OvpnConfigError))
        assert.fail(`non-config error ${String(e)} for ${JSON.stringify(argv)}`);
    }
  }
});

test('mutated PUSH_REPLY messages never throw', () => {
  const r = rng(7);
  const lab = parseConfigText(LAB_CLIENT_CONF, { readFile }).options;
  const base =
    'PUSH_REPLY,route 10.9.0.0 255.255.255.0,dhcp-option DNS 10.8.0.1,route-gateway 10.8.0.1,topology subnet,ping 10,ping-restart 60,ifconfig 10.8.0.2 255.255.255.0,peer-id 0,cipher AES-256-GCM,protocol-flags cc-exit tls-ekm dyn-tls-crypt,dns server 1 address 1.1.1.1,tun-mtu 1500';
  for (let i = 0; i < 3000; i++) {
    const msg = mutate(base, r).replace(/\n/g, ',');
    const res = parsePushReply(msg, lab);
    assert.equal(typeof res.ok, 'boolean');
  }
});
