// Where a running `ovpn-ts up` puts its control socket, so `ovpn-ts stats --dev NAME` finds it.
//
//   root:      /run/ovpn-ts/<dev>.sock
//   non-root:  $XDG_RUNTIME_DIR/ovpn-ts/<dev>.sock (falls back to /run when XDG_RUNTIME_DIR is unset)
//
// The directory is created 0700 by `up`; the socket itself is 0600 (control-api/server.ts).
// /run is shared by network namespaces, so two `up`s with the same --dev in different namespaces
// need explicit --control-socket paths.

import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

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

/** Create the socket's directory (0700 when we create it). */
export function ensureSocketDir(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
}
