// Root-only integration test helper: two network namespaces joined by a veth pair, and processes
// started inside them that are always cleaned up.
//
//   ns ovt-<prefix>-<hex>-a                    ns ovt-<prefix>-<hex>-b
//   ┌───────────────────────────┐              ┌───────────────────────────┐
//   │ veth-a 10.99.X.1/24       │◄── veth ────►│ veth-b 10.99.X.2/24       │
//   │        fd00:99:X::1/64    │              │        fd00:99:X::2/64    │
//   └───────────────────────────┘              └───────────────────────────┘
//
// Ownership and invariants:
// - Every namespace this module creates is recorded in `owned`; nothing else is ever deleted.
// - Every process started through spawnIn() is recorded with its namespace. It runs in its own
//   process group (detached), so kill() and destroy() signal that group by the leader's PID, which
//   also reaches helpers it forked (a shell's children). Processes that setsid()/daemonize escape it:
//   do not use `openvpn --daemon` here, run it in the foreground.
// - A PID is only signalled while its 'exit' event has not fired, so a reused PID is never hit.
// - The veth pair is created directly inside the namespaces, so no name touches the root namespace
//   and parallel topologies cannot clash. Deleting a namespace removes its end of the pair.
// - A synchronous safety net on process 'exit' (and SIGINT/SIGTERM/SIGHUP) kills leftover process
//   groups and deletes leftover namespaces if a test threw before calling destroy().
// - Every wait is bounded by a timeout.
import { spawn, spawnSync, execFile } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, existsSync } from 'node:fs';
import { randomBytes, randomInt } from 'node:crypto';
import { delimiter, join } from 'node:path';

/** Error with a stable `code`, thrown for misuse or a failed setup step. */
export class NetnsError extends Error {
  constructor(
    readonly code: 'BAD_PREFIX' | 'UNKNOWN_NAMESPACE' | 'SETUP_FAILED' | 'TIMEOUT' | 'EXITED',
    message: string,
  ) {
    super(message);
    this.name = 'NetnsError';
  }
}

// ---------------------------------------------------------------------------------------------
// Environment checks

/** True when running as uid 0 (needed for namespaces, TUN and raw sockets). */
export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** True if an executable named `name` is on PATH (sbin directories included). Spawns nothing. */
export function haveCommand(name: string): boolean {
  const dirs = (process.env['PATH'] ?? '').split(delimiter).concat(['/usr/sbin', '/sbin']);
  for (const dir of dirs) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, name), fsConstants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/** Debian package that provides a command, for the install hint in skip messages. */
const PACKAGE_OF: Readonly<Record<string, string>> = {
  openvpn: 'openvpn',
  tcpdump: 'tcpdump',
  iperf3: 'iperf3',
  'wireguard-go': 'wireguard-go',
  ip: 'iproute2',
  ping: 'iputils-ping',
  python3: 'python3',
  openssl: 'openssl',
};

/** A requirement: 'root', 'tun' (/dev/net/tun present) or the name of a command on PATH. */
export type Need = 'root' | 'tun' | (string & {});

/**
 * Returns a skip reason for node:test's `{ skip }` option, or false when every need is met:
 * `test('x', { skip: skipUnless('root', 'openvpn') }, ...)`. Messages look like
 * "needs root" or "needs openvpn (apt-get install openvpn)".
 */
export function skipUnless(...needs: Need[]): string | false {
  const missing: string[] = [];
  for (const need of needs) {
    if (need === 'root') {
      if (!isRoot()) missing.push('needs root');
    } else if (need === 'tun') {
      if (!existsSync('/dev/net/tun')) missing.push('needs /dev/net/tun');
    } else if (!haveCommand(need)) {
      missing.push(`needs ${need} (apt-get install ${PACKAGE_OF[need] ?? need})`);
    }
  }
  return missing.length === 0 ? false : missing.join(', ');
}

// ---------------------------------------------------------------------------------------------
// Process registry and the exit safety net

interface Tracked {
  readonly child: ChildProcess;
  readonly ns: string;
  exited: boolean;
}

const owned = new Set<string>();
const tracked = new Set<Tracked>();
const procs = new Map<Tracked, NsProcessImpl>();
let safetyNetInstalled = false;

function signalGroup(t: Tracked, signal: NodeJS.Signals): void {
  const pid = t.child.pid;
  if (t.exited || pid === undefined) return;
  try {
    process.kill(-pid, signal); // the group whose leader we spawned
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** Synchronous last-resort cleanup: no event loop is available in an 'exit' handler. */
function cleanupSync(): void {
  for (const t of tracked) signalGroup(t, 'SIGKILL');
  tracked.clear();
  for (const ns of owned) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore', timeout: 5000 });
  owned.clear();
}

function installSafetyNet(): void {
  if (safetyNetInstalled) return;
  safetyNetInstalled = true;
  process.on('exit', cleanupSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    // once(): after cleanup the default action (terminate) applies again when we re-raise.
    process.once(sig, () => {
      cleanupSync();
      process.kill(process.pid, sig);
    });
  }
}

function assertOwned(ns: string): void {
  if (!owned.has(ns)) {
    throw new NetnsError(
      'UNKNOWN_NAMESPACE',
      `namespace "${ns}" was not created by createTopology() in this process; use topology.a.ns or .b.ns`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Short commands

export interface ExecResult {
  /** Exit code, or null if killed by a signal (including on timeout). */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

function execBounded(cmd: string, args: readonly string[], timeoutMs: number): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 << 20, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: unknown; killed?: boolean; signal?: unknown }) | null;
        const code = e === null ? 0 : typeof e.code === 'number' ? e.code : null;
        const timedOut = e !== null && e.killed === true && e.signal === 'SIGKILL';
        resolve({ code, stdout, stderr: e !== null && stderr === '' ? e.message : stderr, timedOut });
      },
    );
  });
}

/** Runs a short command inside an owned namespace; never throws on failure, returns the result. */
export function execIn(
  ns: string,
  cmd: string,
  args: readonly string[],
  timeoutMs = 10_000,
): Promise<ExecResult> {
  assertOwned(ns);
  return execBounded('ip', ['netns', 'exec', ns, cmd, ...args], timeoutMs);
}

async function mustRun(args: readonly string[], timeoutMs = 5000): Promise<void> {
  const r = await execBounded('ip', args, timeoutMs);
  if (r.code !== 0) {
    throw new NetnsError('SETUP_FAILED', `ip ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Long-running processes

export interface SpawnOptions {
  /** Working directory of the process. */
  readonly cwd?: string;
  /** Extra environment variables (merged over process.env). */
  readonly env?: Readonly<Record<string, string>>;
  /** Bytes of stdout/stderr kept per stream (oldest dropped first); default 1 MiB. */
  readonly maxCapture?: number;
}

export interface NsProcess {
  readonly pid: number;
  readonly ns: string;
  /** Everything captured so far (bounded by maxCapture). */
  stdout(): string;
  stderr(): string;
  /** True once the process has exited and been reaped. */
  readonly exited: boolean;
  readonly exitCode: number | null;
  /**
   * Resolves with the first match of `re` over stdout+stderr (already captured text included).
   * Rejects with NetnsError TIMEOUT after timeoutMs, or EXITED if the process ends first.
   */
  waitForOutput(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** Resolves when the process has exited; rejects with TIMEOUT after timeoutMs. */
  waitForExit(timeoutMs: number): Promise<number | null>;
  /** SIGTERM to the process group, then SIGKILL after graceMs; resolves once it has exited. */
  kill(graceMs?: number): Promise<void>;
}

class NsProcessImpl implements NsProcess {
  private out = '';
  private err = '';
  private code: number | null = null;
  private readonly exitPromise: Promise<void>;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly t: Tracked,
    readonly pid: number,
    private readonly maxCapture: number,
  ) {
    t.child.stdout?.setEncoding('utf8').on('data', (s: string) => this.append('out', s));
    t.child.stderr?.setEncoding('utf8').on('data', (s: string) => this.append('err', s));
    this.exitPromise = new Promise((resolve) => {
      t.child.on('exit', (code) => {
        t.exited = true;
        this.code = code;
        tracked.delete(t);
        procs.delete(t);
        resolve();
        this.notify();
      });
    });
  }

  get ns(): string {
    return this.t.ns;
  }
  get exited(): boolean {
    return this.t.exited;
  }
  get exitCode(): number | null {
    return this.code;
  }
  stdout(): string {
    return this.out;
  }
  stderr(): string {
    return this.err;
  }

  private append(which: 'out' | 'err', s: string): void {
    const cur = (which === 'out' ? this.out : this.err) + s;
    const capped = cur.length > this.maxCapture ? cur.slice(cur.length - this.maxCapture) : cur;
    if (which === 'out') this.out = capped;
    else this.err = capped;
    this.notify();
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  waitForOutput(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const m = (this.out + '\n' + this.err).match(re);
        if (m !== null) return done(() => resolve(m));
        if (this.t.exited) {
          done(() =>
            reject(
              new NetnsError(
                'EXITED',
                `process ${this.pid} exited (${this.code}) before ${re}; ${this.tail()}`,
              ),
            ),
          );
        }
      };
      const timer = setTimeout(
        () =>
          done(() =>
            reject(
              new NetnsError('TIMEOUT', `no ${re} within ${timeoutMs} ms from ${this.pid}; ${this.tail()}`),
            ),
          ),
        timeoutMs,
      );
      const done = (f: () => void): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
        f();
      };
      this.listeners.add(check);
      check();
    });
  }

  private tail(): string {
    const s = (this.out + this.err).slice(-800);
    return s === '' ? 'no output' : `last output:\n${s}`;
  }

  async waitForExit(timeoutMs: number): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new NetnsError('TIMEOUT', `process ${this.pid} still running after ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([this.exitPromise, timeout]);
    } finally {
      clearTimeout(timer);
    }
    return this.code;
  }

  async kill(graceMs = 2000): Promise<void> {
    if (this.t.exited) return;
    signalGroup(this.t, 'SIGTERM');
    if (await this.exitsWithin(graceMs)) return;
    signalGroup(this.t, 'SIGKILL');
    if (!(await this.exitsWithin(2000))) {
      throw new NetnsError('TIMEOUT', `process ${this.pid} survived SIGKILL for 2 s`);
    }
  }

  private async exitsWithin(ms: number): Promise<boolean> {
    try {
      await this.waitForExit(ms);
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * Starts `cmd args` inside an owned namespace (`ip netns exec`, which execs in place, so the PID is
 * the command's own). Output is captured; the process is killed by its topology's destroy().
 */
export function spawnIn(
  ns: string,
  cmd: string,
  args: readonly string[],
  opts: SpawnOptions = {},
): NsProcess {
  assertOwned(ns);
  const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], {
    cwd: opts.cwd,
    env: opts.env === undefined ? process.env : { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // own process group, so the whole group can be signalled by PID
  });
  if (child.pid === undefined) {
    throw new NetnsError('SETUP_FAILED', `could not spawn ip netns exec ${ns} ${cmd}`);
  }
  const t: Tracked = { child, ns, exited: false };
  tracked.add(t);
  child.on('error', () => undefined); // spawn errors surface as 'exit'; never crash the test run
  const proc = new NsProcessImpl(t, child.pid, opts.maxCapture ?? 1 << 20);
  procs.set(t, proc);
  return proc;
}

// ---------------------------------------------------------------------------------------------
// Topology

export interface Side {
  /** Namespace name, e.g. "ovt-vec-3fa9c1-a". */
  readonly ns: string;
  /** veth interface name inside that namespace ("veth-a" / "veth-b"). */
  readonly ifname: string;
  readonly ipv4: string;
  readonly ipv6: string;
}

export interface Topology {
  readonly a: Side;
  readonly b: Side;
  /** The X in 10.99.X.0/24 and fd00:99:X::/64. */
  readonly subnet: number;
  readonly prefixLen4: 24;
  readonly prefixLen6: 64;
  /** Kills every process spawned in a or b, then deletes both namespaces. Idempotent. */
  destroy(): Promise<void>;
}

export interface TopologyOptions {
  /** Short tag naming the test in namespace names: 1-12 of [a-z0-9]. */
  readonly prefix: string;
}

/** Creates two fresh namespaces joined by a veth pair with IPv4 and IPv6 addresses, links up. */
export async function createTopology(options: TopologyOptions): Promise<Topology> {
  if (!/^[a-z0-9]{1,12}$/.test(options.prefix)) {
    throw new NetnsError('BAD_PREFIX', `prefix "${options.prefix}" must be 1-12 characters of [a-z0-9]`);
  }
  installSafetyNet();
  const subnet = randomInt(1, 255);
  const base = await addNamespacePair(options.prefix);
  const a: Side = {
    ns: `${base}-a`,
    ifname: 'veth-a',
    ipv4: `10.99.${subnet}.1`,
    ipv6: `fd00:99:${subnet}::1`,
  };
  const b: Side = {
    ns: `${base}-b`,
    ifname: 'veth-b',
    ipv4: `10.99.${subnet}.2`,
    ipv6: `fd00:99:${subnet}::2`,
  };
  let destroyed: Promise<void> | undefined;
  const destroy = (): Promise<void> => (destroyed ??= destroyNamespaces([a.ns, b.ns]));
  try {
    await configure(a, b);
  } catch (e) {
    await destroy();
    throw e;
  }
  return { a, b, subnet, prefixLen4: 24, prefixLen6: 64, destroy };
}

/** Adds `<base>-a` and `<base>-b` with a fresh random base; retries on a (very unlikely) name clash. */
async function addNamespacePair(prefix: string): Promise<string> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const base = `ovt-${prefix}-${randomBytes(3).toString('hex')}`;
    const ra = await execBounded('ip', ['netns', 'add', `${base}-a`], 5000);
    if (ra.code !== 0) continue;
    owned.add(`${base}-a`);
    const rb = await execBounded('ip', ['netns', 'add', `${base}-b`], 5000);
    if (rb.code === 0) {
      owned.add(`${base}-b`);
      return base;
    }
    await destroyNamespaces([`${base}-a`]);
  }
  throw new NetnsError('SETUP_FAILED', 'ip netns add failed 3 times (are you root? is iproute2 installed?)');
}

async function configure(a: Side, b: Side): Promise<void> {
  await mustRun([
    'link',
    'add',
    a.ifname,
    'netns',
    a.ns,
    'type',
    'veth',
    'peer',
    'name',
    b.ifname,
    'netns',
    b.ns,
  ]);
  for (const s of [a, b]) {
    await mustRun(['-n', s.ns, 'link', 'set', 'lo', 'up']);
    await mustRun(['-n', s.ns, 'addr', 'add', `${s.ipv4}/24`, 'dev', s.ifname]);
    // nodad: the address is usable at once instead of "tentative" for ~1-2 s of DAD.
    await mustRun(['-n', s.ns, 'addr', 'add', `${s.ipv6}/64`, 'dev', s.ifname, 'nodad']);
    await mustRun(['-n', s.ns, 'link', 'set', s.ifname, 'up']);
  }
  for (const s of [a, b]) await waitLowerUp(s, 3000);
}

/** Polls until the veth reports carrier (LOWER_UP); both ends must be up for that. */
async function waitLowerUp(s: Side, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await execBounded('ip', ['-n', s.ns, 'link', 'show', s.ifname], 2000);
    if (r.code === 0 && r.stdout.includes('LOWER_UP')) return;
    await new Promise((res) => setTimeout(res, 20));
  }
  throw new NetnsError('TIMEOUT', `${s.ifname} in ${s.ns} has no carrier after ${timeoutMs} ms`);
}

async function destroyNamespaces(names: readonly string[]): Promise<void> {
  const mine = [...tracked].filter((t) => names.includes(t.ns));
  await Promise.all(
    mine.map((t) =>
      procs
        .get(t)
        ?.kill()
        .catch(() => signalGroup(t, 'SIGKILL')),
    ),
  );
  const failures: string[] = [];
  for (const ns of names) {
    if (!owned.has(ns)) continue;
    const r = await execBounded('ip', ['netns', 'del', ns], 5000);
    if (r.code === 0 || !existsSync(`/run/netns/${ns}`)) owned.delete(ns);
    else failures.push(`${ns}: ${r.stderr.trim()}`);
  }
  if (failures.length > 0)
    throw new NetnsError('SETUP_FAILED', `ip netns del failed: ${failures.join('; ')}`);
}
