// Where a running `ovpn-ts up` puts its control socket, so `ovpn-ts stats --dev NAME` finds it.
//
//   root:      /run/ovpn-ts/<dev>.sock
//   non-root:  $XDG_RUNTIME_DIR/ovpn-ts/<dev>.sock (falls back to /run when XDG_RUNTIME_DIR is unset)
//
// The directory is created 0700 by `up`; the socket itself is 0600 (control-api/server.ts).
// /run is shared by network namespaces, so two `up`s with the same --dev in different namespaces
// need explicit --control-socket paths.
//
// The directory is made one component at a time, not with mkdirSync({recursive: true}): under
// /proc (e.g. --control-socket /proc/x/y.sock) Node's recursive mkdir retries ENOENT forever
// inside one synchronous call, at 100% CPU and deaf to signals. Each failure here is a
// ConfigError naming --control-socket and the path.

import { mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '../util/errors.js';

export function defaultSocketDir(
  env: NodeJS.ProcessEnv = process.env,
  uid = process.getuid?.() ?? 0,
): string {
  const xdg = env['XDG_RUNTIME_DIR'];
  if (uid !== 0 && xdg !== undefined && xdg !== '') return join(xdg, 'ovpn-ts');
  return '/run/ovpn-ts';
}

export function defaultSocketPath(dev: string, env?: NodeJS.ProcessEnv, uid?: number): string {
  return join(defaultSocketDir(env, uid), `${dev}.sock`);
}

/** Create the socket's directory (0700 for each component we create). */
export function ensureSocketDir(path: string): void {
  const missing: string[] = [];
  // Bounded by the number of path components: dirname('/') === '/'.
  for (let d = dirname(resolve(path)); ; d = dirname(d)) {
    const kind = dirKind(d);
    if (kind === 'dir') break;
    if (kind === 'other') throw socketDirError(path, `${d} exists and is not a directory`);
    missing.unshift(d);
    if (d === dirname(d)) break;
  }
  for (const d of missing) {
    try {
      mkdirSync(d, { mode: 0o700 });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && dirKind(d) === 'dir') continue;
      throw socketDirError(path, `cannot create directory ${d} (${code ?? (e as Error).message})`);
    }
  }
}

function dirKind(d: string): 'dir' | 'other' | 'missing' {
  try {
    return statSync(d).isDirectory() ? 'dir' : 'other';
  } catch {
    return 'missing';
  }
}

function socketDirError(path: string, why: string): ConfigError {
  return new ConfigError(
    '--control-socket',
    `--control-socket ${path}: ${why}; choose a path in a writable directory, e.g. /run/ovpn-ts/<dev>.sock`,
  );
}
