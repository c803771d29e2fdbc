// Which running engine a client command talks to: --control-socket PATH, or --dev NAME (the
// default path `up` uses for that device), or, with neither, the only socket in the default
// directory.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ControlClient } from '../control-api/client.js';
import { ConfigError } from '../util/errors.js';
import { CliFailure } from './io.js';
import { defaultSocketDir, defaultSocketPath } from './paths.js';
import { str, type OptionSpec, type OptionValues } from './spec.js';
import { parseIfName } from './values.js';

export const TARGET_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  'control-socket': { type: 'string', value: 'PATH', help: 'Control socket of the engine.' },
  dev: {
    type: 'string',
    value: 'NAME',
    help: 'The device given to `ovpn-ts up --dev` (default socket path).',
  },
};

export function socketPathFrom(values: OptionValues): string {
  const path = str(values, 'control-socket');
  const dev = str(values, 'dev');
  if (path !== undefined && dev !== undefined) {
    throw new ConfigError('--dev', '--dev and --control-socket both given; use one of them');
  }
  if (path !== undefined) return path;
  if (dev !== undefined) return defaultSocketPath(parseIfName('--dev', dev));
  const dir = defaultSocketDir();
  let found: string[] = [];
  try {
    found = readdirSync(dir).filter((f) => f.endsWith('.sock'));
  } catch {
    // no directory: nothing is running under the default paths
  }
  if (found.length === 1) return join(dir, found[0]!);
  const which =
    found.length === 0 ? `no engine socket in ${dir}` : `several engines in ${dir} (${found.join(', ')})`;
  throw new ConfigError('--dev', `${which}; say which with --dev NAME or --control-socket PATH`);
}

export async function connectTo(path: string): Promise<ControlClient> {
  try {
    return await ControlClient.connect(path);
  } catch (e) {
    throw new CliFailure(
      `cannot reach the engine at ${path} (${(e as Error).message.replace(/^control socket [^:]+: /, '')}); is \`ovpn-ts up\` running, and are you allowed to open the socket (root)?`,
    );
  }
}
