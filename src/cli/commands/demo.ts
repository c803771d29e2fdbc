// `ovpn-ts demo` (what `npm start` runs): a whole static-key tunnel on one machine.
//
//   1. preflight     root, iproute2, /dev/net/tun, the native addon: say what is missing
//   2. lab           two namespaces joined by a veth (lab.ts), a fresh key in a temp dir
//   3. tunnel        one `ovpn-ts up` per namespace (real processes, via ip netns exec)
//   4. ping          IPv4 and IPv6 through the tunnel (ping, or a built-in UDP probe)
//   5. throughput    iperf3 TCP for N s (or a built-in TCP blast), live rate from the engine
//   6. summary       `ovpn-ts stats --json` of both engines; SIGTERM both and check they stop
// The lab is removed on success, on error and on Ctrl-C (lab.destroy, plus an 'exit' net).

import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ControlClient } from '../../control-api/client.js';
import { loadNative, nativeLoadError } from '../../native/index.js';
import { generateStaticKey } from '../../protocol/static-key.js';
import { EXIT_FAIL, EXIT_OK, reportError, type Io } from '../io.js';
import { flag, helpFor, parseCommand, str, type CommandSpec } from '../spec.js';
import {
  formatBytes,
  formatCount,
  formatMbps,
  ratesBetween,
  redraw,
  sampleOf,
  type Sample,
} from '../status.js';
import { parseChoice, parseIntIn } from '../values.js';
import { Lab, findCommand, run, type LabProcess, type LabSide } from '../demo/lab.js';
import type { PingResult, TransferResult } from '../demo/tools.js';
import type { StatsReport } from './stats.js';
import { UP_CIPHERS } from './up.js';

export const demoSpec: CommandSpec = {
  name: 'demo',
  synopsis: ['sudo ovpn-ts demo [--seconds N] [--cipher CIPHER] [--builtin]'],
  summary:
    'Create two network namespaces joined by a veth, run `ovpn-ts up` in each with a fresh static\n' +
    'key, ping through the tunnel (IPv4 and IPv6), measure throughput (iperf3 if installed), print\n' +
    'the engine counters, and remove everything again. Needs root.',
  options: {
    seconds: { type: 'string', value: 'N', help: 'Length of the throughput run, 1..60 (default 5).' },
    cipher: { type: 'string', value: 'CIPHER', help: `${UP_CIPHERS.join(', ')} (default AES-256-GCM).` },
    builtin: { type: 'boolean', help: 'Use the built-in ping and TCP blast even if ping/iperf3 exist.' },
  },
};

const NEED_ROOT = 'run as root (sudo npm start): the demo creates network namespaces and TUN devices';
const TUN = { a: { v4: '10.77.0.1', v6: 'fd77::1' }, b: { v4: '10.77.0.2', v6: 'fd77::2' } } as const;
/** Below the veth's 1500: outer IPv4 (20) + UDP (8) + DATA_V2 AEAD (24) must fit. */
const TUN_MTU = 1400;
const PORT = 1194;
const PERF_PORT = 5201;

interface DemoOptions {
  seconds: number;
  cipher: (typeof UP_CIPHERS)[number];
  builtin: boolean;
}

export async function runDemo(argv: readonly string[], io: Io): Promise<number> {
  let o: DemoOptions;
  try {
    const { values } = parseCommand(demoSpec, argv, 0);
    if (flag(values, 'help')) {
      io.out(helpFor(demoSpec));
      return EXIT_OK;
    }
    o = {
      seconds: parseIntIn('--seconds', str(values, 'seconds') ?? '5', 1, 60),
      cipher: parseChoice('--cipher', str(values, 'cipher') ?? 'AES-256-GCM', UP_CIPHERS),
      builtin: flag(values, 'builtin'),
    };
  } catch (e) {
    return reportError(io, e);
  }
  const missing = preflight();
  if (missing !== null) {
    io.err(`ovpn-ts demo: ${missing}\n`);
    return EXIT_FAIL;
  }
  return withLab(io, (lab) => new Demo(lab, o, io).run());
}

/** What the demo cannot do without, as one sentence; null when everything is there. */
function preflight(): string | null {
  if (process.getuid?.() !== 0) return NEED_ROOT;
  if (findCommand('ip') === null) return 'the `ip` command is missing: apt-get install iproute2';
  if (!existsSync('/dev/net/tun')) return '/dev/net/tun is missing: load the tun module (modprobe tun)';
  if (loadNative() === null)
    return `the native addon is not built (${nativeLoadError()}): run \`npm ci\` (or \`npm run install\`) first`;
  if (!existsSync(cliMain())) return `${cliMain()} is missing: run \`npm run build\` first`;
  return null;
}

/** Create the lab, run `body`, and always remove the lab (also on SIGINT/SIGTERM). */
async function withLab(io: Io, body: (lab: Lab) => Promise<void>): Promise<number> {
  let lab: Lab;
  try {
    lab = await Lab.create('ovt-demo');
  } catch (e) {
    io.err(`ovpn-ts demo: could not create the namespaces: ${(e as Error).message}\n`);
    return EXIT_FAIL;
  }
  const onSignal = (sig: NodeJS.Signals): void => {
    io.out(`\n${sig}: cleaning up...\n`);
    void lab.destroy().finally(() => {
      io.out(cleanedUp(lab));
      process.exit(130);
    });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await body(lab);
    return EXIT_OK;
  } catch (e) {
    io.err(`\novpn-ts demo failed: ${(e as Error).message}\n`);
    return EXIT_FAIL;
  } finally {
    await lab.destroy();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    io.out(cleanedUp(lab));
  }
}

function cleanedUp(lab: Lab): string {
  return `cleaned up: processes stopped, namespaces ${lab.a.ns} and ${lab.b.ns} deleted, ${lab.dir} removed\n`;
}

/** The compiled (or, under tsx, source) entry of this CLI, to start `ovpn-ts` subprocesses. */
function cliMain(): string {
  const js = fileURLToPath(new URL('../main.js', import.meta.url));
  const ts = js.replace(/\.js$/, '.ts');
  return existsSync(js) || !existsSync(ts) ? js : ts;
}

/** node + its loader flags (tsx in development) + main: how to run `ovpn-ts` as a child. */
function cliCommand(): string[] {
  const loaderFlags = process.execArgv.filter(
    (a, i, all) => !a.startsWith('--test') && !all[i - 1]?.startsWith('--test'),
  );
  return [process.execPath, ...loaderFlags, cliMain()];
}

class Demo {
  private readonly key: string;
  private readonly sock: { a: string; b: string };
  private step = 0;

  constructor(
    private readonly lab: Lab,
    private readonly o: DemoOptions,
    private readonly io: Io,
  ) {
    this.key = `${lab.dir}/static.key`;
    this.sock = { a: `${lab.dir}/a.sock`, b: `${lab.dir}/b.sock` };
  }

  private say(text: string): void {
    this.io.out(`${text}\n`);
  }

  private header(title: string): void {
    this.say(`\n[${++this.step}/5] ${title}`);
  }

  async run(): Promise<void> {
    const { a, b } = this.lab;
    this.say('ovpn-ts demo: a static-key OpenVPN data channel between two network namespaces\n');
    this.say(`  ns ${a.ns}${' '.repeat(Math.max(2, 36 - a.ns.length))}ns ${b.ns}`);
    this.say(`  ovt0 ${TUN.a.v4} ${TUN.a.v6}  <== ${this.o.cipher} ==>  ovt0 ${TUN.b.v4} ${TUN.b.v6}`);
    this.say(`  veth ${a.ipv4}:${PORT}  <---- udp ---->  veth ${b.ipv4}:${PORT}`);
    this.header('tunnel: a fresh static key, one `ovpn-ts up` per namespace');
    writeFileSync(this.key, generateStaticKey(), { mode: 0o600 });
    const [pa, pb] = [this.up('a', a, b, 0), this.up('b', b, a, 1)];
    await Promise.all([pa.waitFor(/READY/, 20_000), pb.waitFor(/READY/, 20_000)]);
    this.say(`  both READY (pids ${pa.pid} and ${pb.pid}); control sockets in ${this.lab.dir}`);
    this.header('ping through the tunnel');
    await this.ping(4);
    await this.ping(6);
    this.header(`throughput for ${this.o.seconds} s, a -> b`);
    await this.throughput();
    this.header('engine counters (ovpn-ts stats --json)');
    await this.summary();
    this.header('stop: SIGTERM to both engines');
    await this.stop(pa, this.sock.a);
    await this.stop(pb, this.sock.b);
  }

  private up(name: 'a' | 'b', self: LabSide, peer: LabSide, direction: 0 | 1): LabProcess {
    const t = TUN[name];
    const args = [
      ...cliCommand().slice(1),
      'up',
      ...['--key', this.key, '--cipher', this.o.cipher, '--direction', String(direction)],
      ...['--local', `${self.ipv4}:${PORT}`, '--remote', `${peer.ipv4}:${PORT}`],
      ...[
        '--dev',
        'ovt0',
        '--ifconfig',
        `${t.v4}/24`,
        '--ifconfig-ipv6',
        `${t.v6}/64`,
        '--mtu',
        String(TUN_MTU),
      ],
      ...['--keepalive', '2,10', '--control-socket', this.sock[name], '--quiet'],
    ];
    return this.lab.spawn(`ovpn-ts up (${name})`, self, process.execPath, args, (line) => {
      if (line.trim() !== '' && !line.includes('READY')) this.say(`  ${name}| ${line}`);
    });
  }

  private async ping(family: 4 | 6): Promise<void> {
    const { a } = this.lab;
    const to = family === 4 ? TUN.b.v4 : TUN.b.v6;
    const from = family === 4 ? TUN.a.v4 : TUN.a.v6;
    const ping = this.o.builtin ? null : findCommand('ping');
    let r: PingResult;
    if (ping !== null) {
      const out = await this.lab.exec(a, ping, [`-${family}`, '-c', '3', '-i', '0.2', '-W', '2', to], 15_000);
      r = parsePing(out.stdout);
    } else {
      const at = family === 4 ? `${to}:7` : `[${to}]:7`;
      const echo = this.tool('echo', this.lab.b, ['--listen', at, '--timeout', '30']);
      await echo.waitFor(/LISTENING/, 10_000);
      const out = await this.lab.exec(
        a,
        process.execPath,
        [...cliCommand().slice(1), '_tool', 'ping', '--to', at],
        15_000,
      );
      r = JSON.parse(out.stdout.trim() || '{"sent":3,"received":0,"rttAvgMs":0}') as PingResult;
      await echo.stop(1000);
    }
    const how = ping !== null ? 'ping' : 'built-in UDP probe';
    this.say(
      `  IPv${family} ${from} -> ${to}: ${r.received}/${r.sent} replies, avg rtt ${r.rttAvgMs.toFixed(2)} ms (${how})`,
    );
    if (r.received === 0) throw new Error(`no IPv${family} reply through the tunnel`);
  }

  private tool(name: string, side: LabSide, args: string[]): LabProcess {
    return this.lab.spawn(`_tool ${name}`, side, process.execPath, [
      ...cliCommand().slice(1),
      '_tool',
      name,
      ...args,
    ]);
  }

  private async throughput(): Promise<void> {
    const iperf = this.o.builtin ? null : findCommand('iperf3');
    const { a, b } = this.lab;
    const secs = String(this.o.seconds);
    let server: LabProcess;
    let client: LabProcess;
    if (iperf !== null) {
      server = this.lab.spawn('iperf3 -s', b, iperf, [
        '-s',
        '-1',
        '--forceflush',
        '-B',
        TUN.b.v4,
        '-p',
        String(PERF_PORT),
      ]);
      await server.waitFor(/listening/i, 10_000);
      client = this.lab.spawn('iperf3 -c', a, iperf, [
        '-c',
        TUN.b.v4,
        '-p',
        String(PERF_PORT),
        '-t',
        secs,
        '-J',
      ]);
    } else {
      server = this.tool('sink', b, [
        '--listen',
        `${TUN.b.v4}:${PERF_PORT}`,
        '--timeout',
        String(this.o.seconds + 30),
      ]);
      await server.waitFor(/LISTENING/, 10_000);
      client = this.tool('blast', a, ['--to', `${TUN.b.v4}:${PERF_PORT}`, '--seconds', secs]);
    }
    const why = this.o.builtin ? '--builtin' : 'iperf3 not installed';
    this.say(`  ${iperf !== null ? 'iperf3, one TCP stream' : `built-in TCP blast (${why})`}`);
    await this.progress(client);
    const code = await client.waitExit(this.o.seconds * 1000 + 20_000);
    if (code !== 0)
      throw new Error(`${client.name} failed (${String(code)}): ${client.output().slice(-400)}`);
    if (iperf !== null) this.say(`  iperf3: ${iperfSummary(client.stdout())}`);
    else {
      await server.waitExit(10_000);
      const r = JSON.parse(
        server
          .stdout()
          .split('\n')
          .find((l) => l.startsWith('{')) ?? '{}',
      ) as Partial<TransferResult>;
      const mbps = r.bytes && r.ms ? (r.bytes * 8) / r.ms / 1000 : 0;
      this.say(
        `  received ${formatBytes(r.bytes ?? 0)} in ${((r.ms ?? 0) / 1000).toFixed(1)} s: ${formatMbps(mbps)}`,
      );
    }
  }

  /** A progress bar with the live Tx rate of engine a, read from its control socket. */
  private async progress(client: LabProcess): Promise<void> {
    const c = await ControlClient.connect(this.sock.a);
    const start = Date.now();
    const total = this.o.seconds * 1000;
    let prev: Sample = sampleOf(await c.call('getStats', {}), Date.now());
    try {
      while (client.running && Date.now() - start < total) {
        await new Promise((r) => setTimeout(r, this.io.isTTY ? 250 : 1000));
        const cur = sampleOf(await c.call('getStats', {}), Date.now());
        const line = progressLine(Math.min(Date.now() - start, total), total, cur, prev);
        this.io.out(this.io.isTTY ? redraw(`  ${line}`, this.io.columns) : `  ${line}\n`);
        prev = cur;
      }
      if (this.io.isTTY) this.io.out('\n');
    } finally {
      await c.close();
    }
  }

  private async summary(): Promise<void> {
    for (const name of ['a', 'b'] as const) {
      const out = await run(
        process.execPath,
        [...cliCommand().slice(1), 'stats', '--json', '--control-socket', this.sock[name]],
        10_000,
      );
      if (out.code !== 0) throw new Error(`ovpn-ts stats (${name}) failed: ${out.stderr.trim()}`);
      const r = JSON.parse(out.stdout) as StatsReport;
      const s = r.stats;
      this.say(
        `  ${name}: rx ${formatCount(s.receivedDataPackets)} pkt ${formatBytes(s.tunBytesSent)}, ` +
          `tx ${formatCount(s.sentDataPackets)} pkt ${formatBytes(s.tunBytesReceived)}, ` +
          `transport ${formatBytes(s.transportBytesReceived)} in / ${formatBytes(s.transportBytesSent)} out, ` +
          `drops ${r.drops.total} (in ${r.drops.in}, out ${r.drops.out})`,
      );
    }
  }

  private async stop(p: LabProcess, sock: string): Promise<void> {
    p.signal('SIGTERM');
    const code = await p.waitExit(8000);
    const clean = code === 0 && /stopped/.test(p.stdout()) && !existsSync(sock);
    this.say(`  ${p.name}: exit ${String(code)}${clean ? ', TUN closed and control socket removed' : ''}`);
    if (!clean) throw new Error(`${p.name} did not stop cleanly: ${p.output().slice(-400)}`);
  }
}

function progressLine(elapsedMs: number, totalMs: number, cur: Sample, prev: Sample): string {
  const width = 24;
  const done = Math.round((elapsedMs / totalMs) * width);
  const r = ratesBetween(prev, cur);
  return (
    `[${'#'.repeat(done)}${'.'.repeat(width - done)}] ${(elapsedMs / 1000).toFixed(1)}/${(totalMs / 1000).toFixed(1)} s` +
    `  tx ${formatMbps(r.txMbps)} ${formatCount(r.txPps)} pkt/s  drops ${cur.drops}`
  );
}

/** "3 packets transmitted, 3 received" and "rtt min/avg/max/mdev = a/b/c/d ms". */
export function parsePing(out: string): PingResult {
  const m = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(out);
  const rtt = /= [\d.]+\/([\d.]+)\//.exec(out);
  return { sent: Number(m?.[1] ?? 0), received: Number(m?.[2] ?? 0), rttAvgMs: Number(rtt?.[1] ?? 0) };
}

interface IperfJson {
  end?: {
    sum_sent?: { bits_per_second?: number; bytes?: number; retransmits?: number };
    sum_received?: { bits_per_second?: number; bytes?: number };
  };
  error?: string;
}

export function iperfSummary(json: string): string {
  let j: IperfJson;
  try {
    j = JSON.parse(json) as IperfJson;
  } catch {
    return 'no JSON result from iperf3';
  }
  if (j.error) return `error: ${j.error}`;
  const sent = j.end?.sum_sent;
  const recv = j.end?.sum_received;
  return (
    `sent ${formatMbps((sent?.bits_per_second ?? 0) / 1e6)} (${formatBytes(sent?.bytes ?? 0)}, ` +
    `${sent?.retransmits ?? 0} retransmits), received ${formatMbps((recv?.bits_per_second ?? 0) / 1e6)}`
  );
}
