// CLI test helpers: a capturing Io (what a user would see on stdout/stderr), a temp dir, and how
// to start the real `ovpn-ts` executable from either the sources (tsx) or dist/.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Io } from '../../src/cli/io.js';

export interface Captured {
  readonly io: Io;
  readonly out: () => string;
  readonly err: () => string;
}

export function capture(isTTY = false): Captured {
  let out = '';
  let err = '';
  return {
    io: { out: (t) => void (out += t), err: (t) => void (err += t), isTTY, columns: 100 },
    out: () => out,
    err: () => err,
  };
}

export function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'ovpn-ts-cli-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** argv prefix that runs the CLI: [node, main.js] from dist, [node, --import, tsx, main.ts] from src. */
export function cliArgv(): string[] {
  const js = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
  if (existsSync(js)) return [process.execPath, js];
  return [process.execPath, '--import', 'tsx', js.replace(/\.js$/, '.ts')];
}
