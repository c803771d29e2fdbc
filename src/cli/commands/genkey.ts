// `ovpn-ts genkey [FILE]`: a new OpenVPN static key (the same format as `openvpn --genkey secret`),
// written 0600 and never over an existing file unless --force, or printed to stdout.

import { chmodSync, writeFileSync } from 'node:fs';
import { generateStaticKey } from '../../protocol/static-key.js';
import { EXIT_FAIL, EXIT_OK, reportError, type Io } from '../io.js';
import { flag, helpFor, parseCommand, type CommandSpec } from '../spec.js';

export const genkeySpec: CommandSpec = {
  name: 'genkey',
  synopsis: ['ovpn-ts genkey [FILE] [--force]'],
  summary:
    'Write a new random 2048-bit OpenVPN static key to FILE (mode 0600), or print it when FILE is\n' +
    'absent or "-". Both ends of a tunnel need the same file (copy it over a secure channel).',
  options: {
    force: { type: 'boolean', short: 'f', help: 'Overwrite FILE if it exists.' },
  },
};

export function runGenkey(argv: readonly string[], io: Io): Promise<number> {
  try {
    const { values, positionals } = parseCommand(genkeySpec, argv, 1);
    if (flag(values, 'help')) {
      io.out(helpFor(genkeySpec));
      return Promise.resolve(EXIT_OK);
    }
    const file = positionals[0];
    const key = generateStaticKey();
    if (file === undefined || file === '-') {
      io.out(key);
      return Promise.resolve(EXIT_OK);
    }
    return Promise.resolve(writeKey(file, key, flag(values, 'force'), io));
  } catch (e) {
    return Promise.resolve(reportError(io, e));
  }
}

function writeKey(file: string, key: string, force: boolean, io: Io): number {
  try {
    writeFileSync(file, key, { mode: 0o600, flag: force ? 'w' : 'wx' });
    chmodSync(file, 0o600); // an overwritten file keeps its old mode otherwise
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const hint =
      code === 'EEXIST' ? `${file} exists; choose another name or add --force` : (e as Error).message;
    io.err(`ovpn-ts genkey: ${hint}\n`);
    return EXIT_FAIL;
  }
  io.err(`ovpn-ts genkey: wrote ${file} (mode 0600)\n`);
  return EXIT_OK;
}
