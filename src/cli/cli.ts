// The `ovpn-ts` command: subcommand dispatch, --help and --version. main.ts is the executable
// wrapper; tests call runCli directly with a capturing Io.
//
//   ovpn-ts up | genkey | stats | ctl | demo ...     this directory's commands
//   ovpn-ts connect ... / ovpn-ts --config FILE ...  OpenVPN config mode (commands/connect.ts)

import { VERSION } from '../index.js';
import { EXIT_FAIL, EXIT_OK, EXIT_USAGE, type Io } from './io.js';

type Runner = (argv: readonly string[], io: Io) => Promise<number>;

interface Subcommand {
  readonly summary: string;
  readonly load: () => Promise<Runner>;
}

const SUBCOMMANDS: Readonly<Record<string, Subcommand>> = {
  up: {
    summary: 'bring up a static-key tunnel on a TUN device (foreground)',
    load: async () => (await import('./commands/up.js')).runUp,
  },
  genkey: {
    summary: 'write a new static key file',
    load: async () => (await import('./commands/genkey.js')).runGenkey,
  },
  stats: {
    summary: "print a running engine's counters",
    load: async () => (await import('./commands/stats.js')).runStats,
  },
  ctl: {
    summary: 'send any control API command to a running engine',
    load: async () => (await import('./commands/ctl.js')).runCtl,
  },
  demo: {
    summary: 'two namespaces, a tunnel between them, ping and throughput (root)',
    load: async () => (await import('./commands/demo.js')).runDemo,
  },
  connect: {
    summary: 'connect with an OpenVPN config file (same as --config FILE)',
    load: loadConnect,
  },
};

/** Helpers the demo runs inside its namespaces; not part of the documented interface. */
const HIDDEN: Readonly<Record<string, Subcommand>> = {
  _tool: { summary: 'demo traffic tools', load: async () => (await import('./demo/tools.js')).runTool },
};

export function versionText(): string {
  return `ovpn-ts ${VERSION.major}.${VERSION.minor}.${VERSION.patch}`;
}

export function mainHelp(): string {
  const rows = Object.entries(SUBCOMMANDS).map(([n, s]) => `  ${n.padEnd(9)}${s.summary}`);
  return [
    'Usage: ovpn-ts COMMAND [options]      (ovpn-ts COMMAND --help for its options)',
    '       ovpn-ts --config FILE [--option value ...]',
    '',
    'An OpenVPN-compatible data channel offload engine (ovpn-dco model) in TypeScript.',
    '',
    'Commands:',
    ...rows,
    '',
    'Options:',
    '  --config FILE  run an OpenVPN client config (like `openvpn --config FILE`)',
    '  --version      print the version',
    '  -h, --help     show this help',
    '',
  ].join('\n');
}

export async function runCli(argv: readonly string[], io: Io): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    io.out(mainHelp());
    return first === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (first === '--version' || first === '-V') {
    io.out(`${versionText()}\n`);
    return EXIT_OK;
  }
  if (first === '--config' || first.startsWith('--config=')) return (await loadConnect())(argv, io);
  const sub = Object.hasOwn(SUBCOMMANDS, first)
    ? SUBCOMMANDS[first]
    : Object.hasOwn(HIDDEN, first)
      ? HIDDEN[first]
      : undefined;
  if (sub === undefined) {
    io.err(
      `ovpn-ts: unknown command "${first}"; one of ${Object.keys(SUBCOMMANDS).join(', ')} (see ovpn-ts --help)\n`,
    );
    return EXIT_USAGE;
  }
  return (await sub.load())(rest, io);
}

/**
 * Config mode lives in commands/connect.ts, written separately; a build without it says so
 * instead of failing with a module error. Its contract: runConnect(argv) → exit code.
 */
async function loadConnect(): Promise<Runner> {
  const url = new URL('./commands/connect.js', import.meta.url).href;
  let mod: { runConnect?: unknown };
  try {
    mod = (await import(url)) as { runConnect?: unknown };
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code !== 'ERR_MODULE_NOT_FOUND') throw e;
    return notAvailable;
  }
  const run = mod.runConnect;
  if (typeof run !== 'function') return notAvailable;
  return (argv) => (run as (a: string[]) => Promise<number>)([...argv]);
}

function notAvailable(_argv: readonly string[], io: Io): Promise<number> {
  io.err('ovpn-ts: OpenVPN config mode (--config FILE / connect) is not available in this build\n');
  return Promise.resolve(EXIT_FAIL);
}
