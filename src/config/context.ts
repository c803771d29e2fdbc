// What an option handler sees: the draft, the connection entry it writes to, and helpers to turn
// a file name or inline block into Material through the injectable reader.

import { resolve as resolvePath } from 'node:path';
import { OvpnConfigError, makeWarning } from './errors.js';
import type { SourcePos } from './errors.js';
import type { ConnDraft, Draft } from './draft.js';
import type { ConfigLine } from './lexer.js';
import type { Material } from './options.js';

/** Reads a file the config names. Return text or bytes; throw (any error) when it cannot be read. */
export type ConfigFileReader = (path: string) => string | Uint8Array;

export interface ApplyContext {
  readonly d: Draft;
  /** `d.conn` at top level; the block's own entry inside `<connection>`. */
  readonly conn: ConnDraft;
  readonly inBlock: boolean;
  readonly reader: ConfigFileReader | undefined;
  /** Directory relative file names are resolved against (`cd`), or undefined (as written). */
  baseDir: string | undefined;
}

export interface OptionSpec {
  /** Argument count range when not given inline. */
  readonly min: number;
  readonly max: number;
  /** Shown in arity errors: `remote HOST [PORT] [PROTO]`. */
  readonly usage: string;
  /** May be written as an inline `<name>` block. */
  readonly inline?: boolean;
  /** Allowed inside `<connection>`. */
  readonly conn?: boolean;
  readonly run: (c: ApplyContext, a: readonly string[], l: ConfigLine) => void;
}

export function warn(c: ApplyContext, pos: SourcePos, opt: string, text: string): void {
  c.d.warnings.push(makeWarning(pos, opt, text));
}

export function resolveName(c: ApplyContext, name: string): string {
  return c.baseDir === undefined ? name : resolvePath(c.baseDir, name);
}

/** Reads a named file through the reader; undefined when there is no reader. */
export function readFileArg(
  c: ApplyContext,
  pos: SourcePos,
  opt: string,
  path: string,
): Uint8Array | string | undefined {
  if (c.reader === undefined) return undefined;
  try {
    return c.reader(path);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new OvpnConfigError(
      pos,
      opt,
      `cannot read '${path}' (${why}); check the path or inline the file as <${opt}>`,
    );
  }
}

const utf8 = new TextDecoder('utf-8');

export function asText(data: Uint8Array | string): string {
  const s = typeof data === 'string' ? data : utf8.decode(data);
  return s.startsWith('\uFEFF') ? s.slice(1) : s;
}

/** Material for a text-format option: `opt FILE` or `<opt>...</opt>`. */
export function textMaterial(c: ApplyContext, l: ConfigLine, opt: string): Material {
  if (l.inline !== undefined) return { origin: 'inline', text: l.inline, pos: l.pos };
  const path = resolveName(c, l.args[0] as string);
  const data = readFileArg(c, l.pos, opt, path);
  return data === undefined
    ? { origin: 'file', path, pos: l.pos }
    : { origin: 'file', path, text: asText(data), pos: l.pos };
}

/** Material for pkcs12: binary file, or base64 inline block (decoded). */
export function binaryMaterial(c: ApplyContext, l: ConfigLine, opt: string): Material {
  if (l.inline !== undefined) {
    const b64 = l.inline.replace(/\s+/g, '');
    if (b64 === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) {
      throw new OvpnConfigError(
        l.pos,
        opt,
        `inline <${opt}> must be base64 (e.g. output of 'base64 bundle.p12')`,
      );
    }
    return { origin: 'inline', bytes: new Uint8Array(Buffer.from(b64, 'base64')), pos: l.pos };
  }
  const path = resolveName(c, l.args[0] as string);
  const data = readFileArg(c, l.pos, opt, path);
  if (data === undefined) return { origin: 'file', path, pos: l.pos };
  const bytes = typeof data === 'string' ? new Uint8Array(Buffer.from(data, 'latin1')) : data;
  return { origin: 'file', path, bytes, pos: l.pos };
}

/** Rejects material whose known text lacks the expected PEM marker. */
export function expectPem(m: Material, opt: string, marker: RegExp, what: string): void {
  if (m.text === undefined || marker.test(m.text)) return;
  const where = m.origin === 'inline' ? `inline <${opt}>` : `'${m.path ?? ''}'`;
  throw new OvpnConfigError(m.pos, opt, `${where} does not contain ${what}`);
}
