// Runs `ovpn-ts --config ...` (runConnect) in this process: the netns tests start it inside the
// client namespace with `node --import tsx test/client/run-connect.ts --config FILE ...`, so the
// TUN device lives there.
import { runConnect } from '../../src/cli/commands/connect.js';

const code = await runConnect(process.argv.slice(2));
process.exitCode = code;
// Everything is closed by now; never hang on a stray handle.
setTimeout(() => process.exit(code), 2000).unref();
