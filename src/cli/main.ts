#!/usr/bin/env node
// Executable entry of `ovpn-ts` (package.json "bin"); everything else is in cli.ts.
import { runCli } from './cli.js';
import { processIo, reportError } from './io.js';

let code: number;
try {
  code = await runCli(process.argv.slice(2), processIo);
} catch (e) {
  code = reportError(processIo, e);
}
process.exitCode = code;
// Every command closes what it opened, so the process should end now; if a stray handle keeps
// the loop alive, do not hang (the timer itself does not keep the process alive).
setTimeout(() => process.exit(code), 2000).unref();
