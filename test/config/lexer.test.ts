import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OVPN_ERR_CONFIG, OvpnConfigError, lexConfig, tokenizeLine } from '../../src/config/index.js';
import { STATIC_KEY } from './fixtures.js';

const P = { file: 't.conf', line: 3 };
const tok = (s: string): string[] => tokenizeLine(s, P).tokens;

test('plain tokens, whitespace and comments only at token start', () => {
  assert.deepEqual(tok('  remote  host.example   1194\t udp '), ['remote', 'host.example', '1194', 'udp']);
  assert.deepEqual(tok('# comment'), []);
  assert.deepEqual(tok('; comment'), []);
  assert.deepEqual(tok('verb 3 # trailing comment'), ['verb', '3']);
  assert.deepEqual(tok('verb 3 ;trailing'), ['verb', '3']);
  assert.deepEqual(tok('name a#b c;d'), ['name', 'a#b', 'c;d']);
});

test('double quotes group and take backslash escapes; # and ; inside are literal', () => {
  assert.deepEqual(tok('x "a b"'), ['x', 'a b']);
  assert.deepEqual(tok('x "a # b ; c"'), ['x', 'a # b ; c']);
  assert.deepEqual(tok('x "a\\"b\\\\c\\ d"'), ['x', 'a"b\\c d']);
  assert.deepEqual(tok('x ""'), ['x', '']);
  // a closing quote ends the token even without a following space
  assert.deepEqual(tok('x "a"b'), ['x', 'a', 'b']);
  assert.deepEqual(tok('x "a"#c'), ['x', 'a']);
  // a quote in the middle of an unquoted token is literal
  assert.deepEqual(tok('x a"b'), ['x', 'a"b']);
});

test('single quotes group without escapes', () => {
  assert.deepEqual(tok("x 'a\\b c'"), ['x', 'a\\b c']);
  assert.deepEqual(tok('x \'say "hi"\''), ['x', 'say "hi"']);
});

test('backslash escapes outside quotes: \\\\, \\", and \\space', () => {
  assert.deepEqual(tok('x a\\ b'), ['x', 'a b']);
  assert.deepEqual(tok('x c:\\\\dir\\\\f.key'), ['x', 'c:\\dir\\f.key']);
  assert.deepEqual(tok('x \\"a'), ['x', '"a']); // \" does not open a quoted token
  assert.deepEqual(tok('x \\#a'), ['x']); // openvpn: a comment char at token start wins even escaped
});

test('bad backslash, unclosed quotes and over-long tokens are errors with the line', () => {
  const check = (s: string, re: RegExp): void =>
    assert.throws(
      () => tok(s),
      (e: unknown) =>
        e instanceof OvpnConfigError && e.code === OVPN_ERR_CONFIG && e.line === 3 && re.test(e.message),
    );
  check('ca c:\\dir\\ca.crt', /^t\.conf:3: bad backslash/);
  check('x "abc', /no closing quotation/);
  check("x 'abc", /no closing single quotation/);
  check('x abc\\', /trailing backslash/);
  check('x ' + 'a'.repeat(256), /too long \(255 bytes max\)/);
  assert.equal(tok('x ' + 'a'.repeat(255))[1]?.length, 255);
});

test('more than 16 tokens: the rest are dropped and flagged', () => {
  const line = Array.from({ length: 20 }, (_, i) => `t${i}`).join(' ');
  const r = tokenizeLine(line, P);
  assert.equal(r.tokens.length, 16);
  assert.equal(r.truncated, true);
  assert.equal(tokenizeLine('a b c # d e f', P).truncated, false);
});

test('leading -- is dropped from option names in files', () => {
  const { lines } = lexConfig('--remote a 1\n--verb 3\n', 'f');
  assert.deepEqual(
    lines.map((l) => [l.name, ...l.args]),
    [
      ['remote', 'a', '1'],
      ['verb', '3'],
    ],
  );
});

test('CRLF line endings and a UTF-8 BOM', () => {
  const { lines } = lexConfig('\uFEFFclient\r\nverb "4"\r\n\r\nremote x 1\r\n', 'crlf.ovpn');
  assert.deepEqual(
    lines.map((l) => [l.name, ...l.args, l.pos.line]),
    [
      ['client', 1],
      ['verb', '4', 2],
      ['remote', 'x', '1', 4],
    ],
  );
});

test('inline blocks keep content verbatim, including # lines, and keep line numbers', () => {
  const text = `client\n<tls-auth>\n${STATIC_KEY}</tls-auth>\nkey-direction 1\n`;
  const { lines } = lexConfig(text, 'p.ovpn');
  assert.equal(lines[1]?.name, 'tls-auth');
  assert.equal(lines[1]?.inline, STATIC_KEY);
  assert.equal(lines[1]?.pos.line, 2);
  const kd = lines[2];
  assert.equal(kd?.name, 'key-direction');
  assert.equal(kd?.pos.line, 3 + STATIC_KEY.split('\n').length); // tag line + content lines + close line
});

test('inline close tag may be indented and CRs are removed from content', () => {
  const { lines } = lexConfig('<ca>\r\nAAA\r\nBBB\r\n   </ca> trailing\r\nverb 1\r\n', 'f');
  assert.equal(lines[0]?.inline, 'AAA\nBBB\n');
  assert.equal(lines[1]?.name, 'verb');
});

test('missing close tag names the opening line; stray close tag is an error', () => {
  assert.throws(
    () => lexConfig('client\n<ca>\nAAA\n</cert>\n', 'x.ovpn'),
    (e: unknown) =>
      e instanceof OvpnConfigError && e.option === 'ca' && /^x\.ovpn:2: ca: .*<\/ca>/.test(e.message),
  );
  assert.throws(() => lexConfig('</ca>\n', 'x.ovpn'), /x\.ovpn:1: ca: closing tag <\/ca> without/);
});

test('<connection> content is lexed into nested lines with file positions', () => {
  const text =
    'client\n<connection>\nremote a 1 udp\n<tls-crypt>\nKEY\n</tls-crypt>\n</connection>\nverb 1\n';
  const { lines } = lexConfig(text, 'c.ovpn');
  const conn = lines[1];
  assert.equal(conn?.name, 'connection');
  assert.deepEqual(
    conn?.block?.map((l) => [l.name, l.pos.line]),
    [
      ['remote', 3],
      ['tls-crypt', 4],
    ],
  );
  assert.equal(conn?.block?.[1]?.inline, 'KEY\n');
  assert.equal(lines[2]?.pos.line, 8);
});

// Differential check against the real openvpn tokenizer, through verify-x509-name, which
// openvpn 2.6 prints back at verb 4. Skipped when openvpn is not installed.
const hasOpenvpn = spawnSync('openvpn', ['--version']).status !== null;

test(
  'tokenizer agrees with openvpn 2.6 on tricky lines',
  { skip: !hasOpenvpn && 'openvpn binary not installed' },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'ovt-cfg-'));
    try {
      const cases = ['"a\\"b\\\\c\\ d"', 'a\\ b', "'a\\b c'", 'a#b # c', 'a"b', '"x;y"'];
      for (const arg of cases) {
        const conf = join(dir, 't.conf');
        writeFileSync(
          conf,
          `client\ndev null\nremote 127.0.0.1 1\nca /dev/null\nauth-user-pass /dev/null\nverb 4\nverify-x509-name ${arg} name\n`,
        );
        const r = spawnSync('openvpn', ['--config', conf], { encoding: 'utf8', timeout: 5000 });
        const m = /verify_x509_name = '(.*)'/.exec(r.stdout);
        const ours = tok(`verify-x509-name ${arg} name`)[1];
        assert.equal(m?.[1], ours, `openvpn and ovpn-ts disagree on ${arg}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
