// One table per subcommand drives both util.parseArgs and the --help text, so the help can never
// list an option the parser does not accept (or miss one it does).
//
// Errors: every usage problem is a ConfigError (code OVPN_ERR_INVALID_OPTION) whose `option` is
// the flag as typed (`--remote`) and whose message says what to do instead.

import { parseArgs } from 'node:util';
import { ConfigError } from '../util/errors.js';

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  /** Value placeholder in the help (`ADDR:PORT`); strings only. */
  readonly value?: string;
  readonly multiple?: boolean;
  readonly short?: string;
  readonly help: string;
}

export interface CommandSpec {
  readonly name: string;
  /** `ovpn-ts up --key FILE ...` lines. */
  readonly synopsis: readonly string[];
  readonly summary: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Free text appended after the options (examples, notes). */
  readonly notes?: string;
}

export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface Parsed {
  readonly values: OptionValues;
  readonly positionals: string[];
}

/** Parse `argv` against `spec` (plus --help); unknown options and missing values are ConfigErrors. */
export function parseCommand(spec: CommandSpec, argv: readonly string[], maxPositionals: number): Parsed {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const [name, o] of Object.entries(spec.options)) {
    options[name] = {
      type: o.type,
      ...(o.multiple ? { multiple: true } : {}),
      ...(o.short ? { short: o.short } : {}),
    };
  }
  let parsed: { values: OptionValues; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (e) {
    throw translateParseError(spec, e);
  }
  if (parsed.values['help'] !== true && parsed.positionals.length > maxPositionals) {
    const extra = parsed.positionals[maxPositionals] ?? '';
    throw new ConfigError(
      extra,
      `ovpn-ts ${spec.name}: unexpected argument "${extra}"; options start with --, see ovpn-ts ${spec.name} --help`,
    );
  }
  return parsed;
}

function translateParseError(spec: CommandSpec, e: unknown): ConfigError {
  const err = e as { code?: unknown; message?: unknown };
  const message = typeof err.message === 'string' ? err.message : String(e);
  const flag = /'(-{1,2}[^' ]+)/.exec(message)?.[1] ?? '';
  const see = `see ovpn-ts ${spec.name} --help`;
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new ConfigError(flag, `ovpn-ts ${spec.name}: unknown option ${flag}; ${see}`);
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const o = spec.options[flag.replace(/^-+/, '')];
      const what =
        o?.type === 'boolean' ? 'takes no value' : `needs a value (${flag} ${o?.value ?? 'VALUE'})`;
      return new ConfigError(flag, `${flag} ${what}; ${see}`);
    }
    default:
      return new ConfigError(flag, `ovpn-ts ${spec.name}: ${message}; ${see}`);
  }
}

/** The --help text of a subcommand. */
export function helpFor(spec: CommandSpec): string {
  const rows = Object.entries(spec.options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : ''}--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
    return [flag + (o.multiple ? ' ...' : ''), o.help] as const;
  });
  rows.push(['-h, --help', 'Show this help.']);
  const width = Math.min(30, Math.max(...rows.map(([f]) => f.length)) + 2);
  const lines = [
    'Usage:',
    ...spec.synopsis.map((s) => `  ${s}`),
    '',
    spec.summary,
    '',
    'Options:',
    ...rows.map(([f, h]) =>
      f.length + 2 > width ? `  ${f}\n  ${' '.repeat(width)}${h}` : `  ${f.padEnd(width)}${h}`,
    ),
  ];
  if (spec.notes) lines.push('', spec.notes.trimEnd());
  return lines.join('\n') + '\n';
}

/** The single string value of option `name` (undefined when absent). */
export function str(values: OptionValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** Every value of a `multiple` string option. */
export function strs(values: OptionValues, name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export function flag(values: OptionValues, name: string): boolean {
  return values[name] === true;
}
