// Configuration errors for the .ovpn / command-line parser.
//
// Every refusal and every malformed option becomes an `OvpnConfigError` with the stable code
// `OVPN_ERR_CONFIG`, the option name, and the source position, so a user sees
// `client.ovpn:12: tls-auth: ... ` and a program can switch on `code` / `option`.
// Warnings (unknown options, ignored options) never throw: they are collected as `ConfigWarning`.

import { OvpnError } from '../util/errors.js';
import type { ErrorCode } from '../util/errors.js';

/**
 * Stable code of every configuration error raised by src/config: the string 'OVPN_ERR_CONFIG'.
 * Typed as ErrorCode so `err.code === OVPN_ERR_CONFIG` type-checks; util/errors.ts's ErrorCode
 * does not list it yet (its owner should append `CONFIG: 'OVPN_ERR_CONFIG'`).
 */
export const OVPN_ERR_CONFIG = 'OVPN_ERR_CONFIG' as ErrorCode;

/** Where a line came from: a file name (or `[CMD-LINE]`) and a 1-based line number (0 when unknown). */
export interface SourcePos {
  readonly file: string;
  readonly line: number;
}

/** Formats a position the way openvpn does: `client.ovpn:12`. */
export function formatPos(pos: SourcePos): string {
  return pos.line > 0 ? `${pos.file}:${pos.line}` : pos.file;
}

/** A configuration the parser will not accept; `message` names the option, the line and the fix. */
export class OvpnConfigError extends OvpnError {
  /** The option at fault ('' for lexical errors that precede option names). */
  readonly option: string;
  readonly file: string;
  readonly line: number;

  constructor(pos: SourcePos, option: string, problem: string) {
    const where = formatPos(pos);
    const what = option === '' ? problem : `${option}: ${problem}`;
    super(OVPN_ERR_CONFIG, `${where}: ${what}`);
    this.name = 'OvpnConfigError';
    this.option = option;
    this.file = pos.file;
    this.line = pos.line;
  }
}

/** A non-fatal finding: an unknown, ignored or deprecated option. */
export interface ConfigWarning {
  readonly file: string;
  readonly line: number;
  readonly option: string;
  /** Full text, `client.ovpn:7: option foo-bar: unknown option, ignored`. */
  readonly message: string;
}

export function makeWarning(pos: SourcePos, option: string, text: string): ConfigWarning {
  const what = option === '' ? text : `${option}: ${text}`;
  return { file: pos.file, line: pos.line, option, message: `${formatPos(pos)}: ${what}` };
}
