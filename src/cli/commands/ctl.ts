// `ovpn-ts ctl CMD [JSON-ARGS]`: any control API command against a running engine. The command
// list, the argument help and the validation all come from control-api/schema.ts.

import {
  COMMANDS,
  commandHelp,
  helpText,
  isCommandName,
  type CommandArgs,
  type CommandName,
} from '../../control-api/schema.js';
import { ConfigError } from '../../util/errors.js';
import { EXIT_OK, reportError, type Io } from '../io.js';
import { flag, helpFor, parseCommand, type CommandSpec } from '../spec.js';
import { TARGET_OPTIONS, connectTo, socketPathFrom } from '../target.js';

export const ctlSpec: CommandSpec = {
  name: 'ctl',
  synopsis: ['ovpn-ts ctl CMD [JSON-ARGS] [--control-socket PATH | --dev NAME]', 'ovpn-ts ctl CMD --help'],
  summary:
    'Send one control API command (the ovpn-dco IOCTL set) to a running engine and print the result\n' +
    'as JSON. JSON-ARGS is one JSON object; keys are hex, control packets base64. Example:\n' +
    '  ovpn-ts ctl getPeerStats \'{"peerId":-1}\' --dev ovpn0',
  options: TARGET_OPTIONS,
  notes: `Commands:\n\n${indent(helpText())}`,
};

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => (l === '' ? l : `  ${l}`))
    .join('\n');
}

export async function runCtl(argv: readonly string[], io: Io): Promise<number> {
  try {
    const { values, positionals } = parseCommand(ctlSpec, argv, 2);
    const [cmd, json] = positionals;
    if (flag(values, 'help')) {
      io.out(cmd !== undefined && isCommandName(cmd) ? `${commandHelp(cmd)}\n` : helpFor(ctlSpec));
      return EXIT_OK;
    }
    const name = commandOf(cmd);
    const args = parseJsonArgs(name, json);
    const client = await connectTo(socketPathFrom(values));
    try {
      const result: unknown = await client.call(name, args);
      io.out(`${JSON.stringify(result ?? { ok: true }, null, 2)}\n`);
    } finally {
      await client.close();
    }
    return EXIT_OK;
  } catch (e) {
    return reportError(io, e);
  }
}

function commandOf(cmd: string | undefined): CommandName {
  const list = Object.keys(COMMANDS).join(', ');
  if (cmd === undefined) throw new ConfigError('CMD', `ovpn-ts ctl: give a command: ${list}`);
  if (!isCommandName(cmd)) {
    throw new ConfigError(
      'CMD',
      `ovpn-ts ctl: unknown command "${cmd}"; one of ${list} (see ovpn-ts ctl --help)`,
    );
  }
  return cmd;
}

/** The arguments object; ControlClient.call validates the fields against the schema. */
function parseJsonArgs(cmd: CommandName, json: string | undefined): CommandArgs<CommandName> {
  if (json === undefined) return {} as CommandArgs<CommandName>;
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    throw new ConfigError(
      'JSON-ARGS',
      `ovpn-ts ctl ${cmd}: JSON-ARGS is not valid JSON (${(e as Error).message}); e.g. '{"peerId":-1}'`,
    );
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(
      'JSON-ARGS',
      `ovpn-ts ctl ${cmd}: JSON-ARGS must be a JSON object, e.g. '{"peerId":-1}'`,
    );
  }
  return raw as CommandArgs<CommandName>;
}
