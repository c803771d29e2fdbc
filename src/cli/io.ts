// Where commands write. Commands take an Io instead of touching process.stdout so tests can run
// them in-process and read what a user would see.

import { isOvpnError } from '../util/errors.js';
import { ConfigError } from '../util/errors.js';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** stdout is a terminal: live status lines may be redrawn in place. */
  readonly isTTY: boolean;
  /** Terminal width (80 when unknown). */
  readonly columns: number;
}

export const processIo: Io = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  get isTTY() {
    return process.stdout.isTTY === true;
  },
  get columns() {
    return process.stdout.columns || 80; // 0 under a pseudo-terminal without a size
  },
};

/** Exit codes: 0 success, 1 runtime failure, 2 usage error (bad option or argument). */
export const EXIT_OK = 0;
export const EXIT_FAIL = 1;
export const EXIT_USAGE = 2;

/** Report `e` on stderr and pick the exit code: usage errors → 2, everything else → 1. */
export function reportError(io: Io, e: unknown): number {
  if (e instanceof ConfigError) {
    io.err(`ovpn-ts: ${e.message}\n`);
    return EXIT_USAGE;
  }
  if (isOvpnError(e)) {
    io.err(`ovpn-ts: ${e.message} (${e.code})\n`);
    return EXIT_FAIL;
  }
  io.err(`ovpn-ts: ${e instanceof Error ? e.message : String(e)}\n`);
  return EXIT_FAIL;
}

/** A runtime failure with a message meant for the user (no stack trace). */
export class CliFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliFailure';
  }
}
