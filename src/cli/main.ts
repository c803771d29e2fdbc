#!/usr/bin/env node
// Executable entry of `ovpn-ts` (package.json "bin"); everything else is in cli.ts.
//
// Node 20 starts its inspector (a debugger port on 127.0.0.1:9229) on SIGUSR1 unless a listener
// is installed; in a process that runs as root that would let any local user run code as root.
// The listener goes in first, before the rest of the program is imported (static imports are
// hoisted, so the CLI is loaded with a dynamic import after it). Signal listeners do not keep
// the event loop alive.
process.on('SIGUSR1', () => {
  process.stderr.write('ovpn-ts: SIGUSR1 received; ignored (no debugger is ever started)\n');
});

const { runCli } = await import('./cli.js');
const { processIo, reportError } = await import('./io.js');

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
