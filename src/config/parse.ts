// Entry points: a config text, a config file, or an openvpn-style argv, all applied in order into
// one Draft (so `--verb 4` after `--config x` overrides the file, and before it does not), then
// finalized into ClientOptions.
//
// 1. lex (lexer.ts) -> ConfigLine[]         argv is grouped into ConfigLines by `--` prefixes
// 2. applyLine: config/cd/setenv opt/<connection> handled here; others via handlers.ts table
// 3. finalize.ts: cross-option rules, defaults, warnings for unknown options
//
// Unknown options are warnings, never fatal (openvpn stops unless ignore-unknown-option or
// `setenv opt` says otherwise): a profile exported by a GUI or a newer server often carries
// options that do not matter to the tunnel. Options that would matter are refused instead.

import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { OvpnConfigError, makeWarning } from './errors.js';
import type { ConfigWarning, SourcePos } from './errors.js';
import type { ApplyContext, ConfigFileReader } from './context.js';
import { asText, readFileArg, resolveName, warn } from './context.js';
import { inheritConnDraft, newDraft } from './draft.js';
import type { Draft } from './draft.js';
import { finalize } from './finalize.js';
import { lookupOption } from './handlers.js';
import { lexConfig } from './lexer.js';
import type { ConfigLine } from './lexer.js';
import type { ClientOptions } from './options.js';

export type { ConfigFileReader } from './context.js';

export interface ParseOptions {
  /** Name used in messages (`client.ovpn:12: ...`). Default `[CONFIG]`. */
  readonly name?: string;
  /** Reads files the config names (ca, cert, config, ...). Without it, files stay unread paths. */
  readonly readFile?: ConfigFileReader;
}

export interface ParsedConfig {
  readonly options: ClientOptions;
  readonly warnings: readonly ConfigWarning[];
}

/** openvpn's include depth limit for `config` inside config files. */
const MAX_CONFIG_DEPTH = 10;
const CMD_LINE = '[CMD-LINE]';

/** Parses the text of a .ovpn / .conf profile. */
export function parseConfigText(text: string, opts: ParseOptions = {}): ParsedConfig {
  const name = opts.name ?? '[CONFIG]';
  const d = newDraft(name);
  const c = topContext(d, opts.readFile);
  applyText(c, text, name, 1);
  return done(d);
}

/** Reads and parses a profile from disk; files it names are read from disk too. */
export function loadConfigFile(path: string): ParsedConfig {
  return parseArgv(['--config', path], { readFile: (p) => readFileSync(p) });
}

/**
 * openvpn's command line: `['--config', 'x.ovpn', '--verb', '4']`, or a lone file name. Options
 * apply in order, so later ones override earlier ones, including those from a `--config` file.
 */
export function parseArgv(argv: readonly string[], opts: ParseOptions = {}): ParsedConfig {
  const first = argv[0];
  const d = newDraft(argv.length === 1 && first !== undefined && !first.startsWith('--') ? first : CMD_LINE);
  const c = topContext(d, opts.readFile);
  for (const line of groupArgv(argv)) applyLine(c, line, 0, false);
  if (d.topFile === CMD_LINE) {
    const cfg = argv.indexOf('--config');
    if (cfg >= 0 && argv[cfg + 1] !== undefined) d.topFile = argv[cfg + 1] as string;
  }
  return done(d);
}

function groupArgv(argv: readonly string[]): ConfigLine[] {
  const pos: SourcePos = { file: CMD_LINE, line: 0 };
  if (argv.length === 1 && !(argv[0] as string).startsWith('--'))
    return [{ name: 'config', args: [argv[0] as string], pos }];
  const lines: ConfigLine[] = [];
  for (let i = 0; i < argv.length;) {
    const tok = argv[i] as string;
    if (!tok.startsWith('--')) {
      throw new OvpnConfigError(
        pos,
        '',
        `'${tok}' is not an option: options start with '--' (e.g. --config client.ovpn)`,
      );
    }
    let j = i + 1;
    while (j < argv.length && !(argv[j] as string).startsWith('--')) j++;
    lines.push({ name: tok.slice(2), args: argv.slice(i + 1, j), pos });
    i = j;
  }
  return lines;
}

function topContext(d: Draft, reader: ConfigFileReader | undefined): ApplyContext {
  return { d, conn: d.conn, inBlock: false, reader, baseDir: undefined };
}

function done(d: Draft): ParsedConfig {
  const options = finalize(d);
  return { options, warnings: d.warnings };
}

function applyText(c: ApplyContext, text: string, name: string, depth: number): void {
  const { lines, truncated } = lexConfig(text, name);
  for (const pos of truncated)
    warn(c, pos, '', 'more than 16 parameters on one line; the rest were dropped (as openvpn does)');
  for (const l of lines) applyLine(c, l, depth, false);
}

/** Applies one option. `optional` (from `setenv opt`) turns every failure into a warning. */
function applyLine(c: ApplyContext, l: ConfigLine, depth: number, optional: boolean): void {
  if (l.name === 'setenv' && l.args[0] === 'opt' && !c.inBlock) {
    applyOptional(c, l, depth);
    return;
  }
  if (l.name === 'config') return include(c, l, depth);
  if (l.name === 'cd') {
    arity(l, 1, 1, 'cd DIR');
    c.baseDir = resolvePath(c.baseDir ?? '.', l.args[0] as string);
    return;
  }
  if (l.name === 'connection') return connectionBlock(c, l, depth);
  const disp = lookupOption(l.name);
  if (disp.kind === 'refused') throw new OvpnConfigError(l.pos, l.name, disp.fix);
  if (disp.kind === 'unknown') {
    c.d.unknown.push({ name: l.name, pos: l.pos, optional });
    return;
  }
  if (disp.kind === 'ignored') return warn(c, l.pos, l.name, disp.why);
  if (disp.kind === 'silent') return;
  const spec = disp.spec;
  if (c.inBlock && spec.conn !== true) {
    throw new OvpnConfigError(l.pos, l.name, 'cannot be used inside <connection>: move it outside the block');
  }
  if (l.inline !== undefined) {
    if (spec.inline !== true)
      throw new OvpnConfigError(
        l.pos,
        l.name,
        `cannot be given as an inline <${l.name}> block: write '${spec.usage}'`,
      );
  } else {
    arity(l, spec.min, spec.max, spec.usage);
  }
  spec.run(c, l.args, l);
}

function arity(l: ConfigLine, min: number, max: number, usage: string): void {
  const n = l.args.length;
  if (n < min || n > max) {
    const got = n < min ? 'missing parameter(s)' : 'too many parameters';
    throw new OvpnConfigError(l.pos, l.name, `${got}: expected '${usage}'`);
  }
}

function applyOptional(c: ApplyContext, l: ConfigLine, depth: number): void {
  const name = l.args[1];
  if (name === undefined) return; // openvpn: `setenv opt` alone does nothing useful
  const inner: ConfigLine = { name, args: l.args.slice(2), pos: l.pos };
  try {
    applyLine(c, inner, depth, true);
  } catch (err) {
    if (!(err instanceof OvpnConfigError)) throw err;
    c.d.warnings.push(makeWarning(l.pos, name, `skipped (marked optional by setenv opt): ${err.message}`));
  }
}

function include(c: ApplyContext, l: ConfigLine, depth: number): void {
  arity(l, 1, 1, 'config FILE');
  if (depth >= MAX_CONFIG_DEPTH) {
    throw new OvpnConfigError(
      l.pos,
      'config',
      `more than ${MAX_CONFIG_DEPTH} nested config files: does a file include itself?`,
    );
  }
  const path = resolveName(c, l.args[0] as string);
  if (c.reader === undefined)
    throw new OvpnConfigError(l.pos, 'config', `cannot include '${path}': no file reader was given`);
  const data = readFileArg(c, l.pos, 'config', path) as string | Uint8Array;
  applyText(c, asText(data), l.args[0] as string, depth + 1);
}

function connectionBlock(c: ApplyContext, l: ConfigLine, depth: number): void {
  if (l.block === undefined)
    throw new OvpnConfigError(l.pos, 'connection', 'must be an inline block: <connection> ... </connection>');
  if (c.inBlock) throw new OvpnConfigError(l.pos, 'connection', '<connection> blocks cannot be nested');
  const conn = inheritConnDraft(c.d.conn, l.pos);
  const inner: ApplyContext = { d: c.d, conn, inBlock: true, reader: c.reader, baseDir: c.baseDir };
  for (const line of l.block) applyLine(inner, line, depth, false);
  c.d.blocks.push(conn);
}
