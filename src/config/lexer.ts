// OpenVPN's config tokenizer, reproduced rule for rule (openvpn 2.6 `parse_line`,
// `read_config_file`, `check_inline_file`, `read_inline_file`).
//
// 1. The text is split into lines; a UTF-8 BOM at the very start is skipped. CR before LF is just
//    whitespace to the tokenizer, so CRLF files need no special casing.
// 2. Each line is tokenized by a small state machine (below). `#` or `;` start a comment only where
//    a token could start; inside a token or a quoted string they are ordinary characters.
// 3. A leading `--` on the first token is dropped (`--remote x` in a file is `remote x`).
// 4. A line whose only token is `<name>` opens an inline block: the following lines, verbatim, up
//    to the first line that (after leading whitespace) starts with `</name>`, become the option's
//    content. `<connection>` content is itself lexed into a nested list of lines.
//
// Tokenizer states (one char at a time, the end of the line acting as a final space):
//   INITIAL   whitespace skipped; `#`/`;` end the line; `"` -> DQUOTE; `'` -> SQUOTE; else UNQUOTED
//   UNQUOTED  ends at unescaped whitespace
//   DQUOTE    ends at unescaped `"` (no need for whitespace after it: `"a"b` is two tokens)
//   SQUOTE    ends at `'`; backslash has no meaning inside
// A backslash (outside SQUOTE) escapes the next char, which must be `\`, `"` or whitespace;
// anything else is an error, as in openvpn. `\"` never opens a quoted token, and `\ ` keeps a
// space inside an unquoted token.

import { OvpnConfigError } from './errors.js';
import type { SourcePos } from './errors.js';

/** openvpn's OPTION_PARM_SIZE: a token holds at most this many bytes minus one. */
export const MAX_TOKEN_BYTES = 256;
/** openvpn's MAX_PARMS: tokens beyond this count on one line are dropped (as openvpn does). */
export const MAX_TOKENS = 16;

/** One option as written: name, arguments, and inline content when it came from `<name>` lines. */
export interface ConfigLine {
  readonly name: string;
  readonly args: readonly string[];
  readonly pos: SourcePos;
  /** Content between `<name>` and `</name>` (each line ending in `\n`, CRs removed). */
  readonly inline?: string;
  /** For `<connection>`: the block's own lines, positions relative to the outer file. */
  readonly block?: readonly ConfigLine[];
}

export interface TokenizedLine {
  readonly tokens: string[];
  /** True when more than MAX_TOKENS tokens were present and the rest were dropped. */
  readonly truncated: boolean;
}

const enum State {
  Initial,
  Unquoted,
  DQuote,
  SQuote,
}

/** C isspace() plus the end-of-line NUL that openvpn's `space()` includes. */
function isSpace(c: string): boolean {
  return c === '' || c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';
}

function utf8Len(c: string): number {
  const cp = c.codePointAt(0) ?? 0;
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/**
 * Tokenizes one line exactly like openvpn's parse_line. Throws OvpnConfigError (option '') for a
 * bad backslash, an unclosed quote, a dangling escape or an over-long token.
 */
export function tokenizeLine(line: string, pos: SourcePos): TokenizedLine {
  const tokens: string[] = [];
  let state = State.Initial;
  let backslash = false;
  let token = '';
  let tokenBytes = 0;
  const chars = Array.from(line);
  for (let i = 0; i <= chars.length; i++) {
    const c = i < chars.length ? (chars[i] as string) : ''; // '' plays the C string's NUL
    let out = '';
    if (!backslash && c === '\\' && state !== State.SQuote) {
      backslash = true;
      continue;
    }
    let done = false;
    if (state === State.Initial) {
      if (!isSpace(c)) {
        if (c === '#' || c === ';') break; // comment: only where a token may start
        if (!backslash && c === '"') state = State.DQuote;
        else if (!backslash && c === "'") state = State.SQuote;
        else {
          out = c;
          state = State.Unquoted;
        }
      }
    } else if (state === State.Unquoted) {
      if (!backslash && isSpace(c)) done = true;
      else out = c;
    } else if (state === State.DQuote) {
      if (!backslash && c === '"') done = true;
      else out = c;
    } else if (c === "'") done = true;
    else out = c;

    if (done) {
      tokens.push(token);
      token = '';
      tokenBytes = 0;
      state = State.Initial;
    }
    if (backslash && out !== '' && !(out === '\\' || out === '"' || isSpace(out))) {
      throw new OvpnConfigError(
        pos,
        '',
        `bad backslash ('\\') usage: a backslash may only escape \\, " or a space; write a Windows path as "c:\\\\dir\\\\file"`,
      );
    }
    backslash = false;
    if (out !== '') {
      tokenBytes += utf8Len(out);
      if (tokenBytes >= MAX_TOKEN_BYTES) {
        throw new OvpnConfigError(pos, '', `parameter is too long (${MAX_TOKEN_BYTES - 1} bytes max)`);
      }
      token += out;
    }
    if (tokens.length >= MAX_TOKENS) {
      return { tokens, truncated: hasMoreTokens(chars, i + 1) };
    }
  }
  if (state === State.DQuote) throw new OvpnConfigError(pos, '', 'no closing quotation (")');
  if (state === State.SQuote) throw new OvpnConfigError(pos, '', "no closing single quotation (')");
  if (state !== State.Initial) {
    throw new OvpnConfigError(pos, '', 'line ends inside an escape (trailing backslash)');
  }
  return { tokens, truncated: false };
}

function hasMoreTokens(chars: readonly string[], from: number): boolean {
  for (let i = from; i < chars.length; i++) {
    const c = chars[i] as string;
    if (c === '#' || c === ';') return false;
    if (!isSpace(c)) return true;
  }
  return false;
}

/** Drops openvpn's optional `--` before an option name (only when something follows it). */
export function stripDoubleDash(name: string): string {
  return name.length >= 3 && name.startsWith('--') ? name.slice(2) : name;
}

export interface LexResult {
  readonly lines: ConfigLine[];
  /** Positions of lines whose extra tokens (beyond MAX_TOKENS) were dropped. */
  readonly truncated: SourcePos[];
}

/**
 * Lexes a whole config text. `file` names it in messages; `firstLine` is the number of its first
 * line (used for the inside of `<connection>` blocks so positions stay true to the outer file).
 */
export function lexConfig(text: string, file: string, firstLine = 1): LexResult {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const raw = body.split('\n');
  const lastHasNewline = raw.length > 0 && raw[raw.length - 1] === '';
  if (lastHasNewline) raw.pop(); // a final newline ends, not adds, a line
  const lines: ConfigLine[] = [];
  const truncated: SourcePos[] = [];
  for (let i = 0; i < raw.length; i++) {
    const pos: SourcePos = { file, line: firstLine + i };
    // fgets keeps the newline, and `abc\<LF>` escapes it into the token: feed it back in.
    const nl = i < raw.length - 1 || lastHasNewline ? '\n' : '';
    const { tokens, truncated: cut } = tokenizeLine((raw[i] as string) + nl, pos);
    if (tokens.length === 0) continue;
    if (cut) truncated.push(pos);
    const name = stripDoubleDash(tokens[0] as string);
    const tag = tokens.length === 1 ? inlineTagName(name, pos) : undefined;
    if (tag === undefined) {
      lines.push({ name, args: tokens.slice(1), pos });
      continue;
    }
    const end = findCloseTag(raw, i + 1, tag, pos);
    const content = raw
      .slice(i + 1, end)
      .map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l) + '\n')
      .join('');
    if (tag === 'connection') {
      const inner = lexConfig(content, file, firstLine + i + 1);
      truncated.push(...inner.truncated);
      lines.push({ name: tag, args: [], pos, inline: content, block: inner.lines });
    } else {
      lines.push({ name: tag, args: [], pos, inline: content });
    }
    i = end;
  }
  return { lines, truncated };
}

/** `<name>` -> name; undefined when the token is not an opening tag. */
function inlineTagName(token: string, pos: SourcePos): string | undefined {
  if (token.length < 2 || !token.startsWith('<') || !token.endsWith('>')) return undefined;
  const name = token.slice(1, -1);
  if (name === '') throw new OvpnConfigError(pos, '', 'empty inline tag <>');
  if (name.startsWith('/')) {
    throw new OvpnConfigError(
      pos,
      name.slice(1),
      `closing tag ${token} without a matching <${name.slice(1)}>`,
    );
  }
  return name;
}

function findCloseTag(raw: readonly string[], from: number, tag: string, pos: SourcePos): number {
  const close = `</${tag}>`;
  for (let j = from; j < raw.length; j++) {
    if ((raw[j] as string).trimStart().startsWith(close)) return j;
  }
  throw new OvpnConfigError(
    pos,
    tag,
    `inline block <${tag}> opened here has no closing ${close} line; add ${close} after the content`,
  );
}
