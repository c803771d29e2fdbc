// The demo's throwaway lab: two network namespaces joined by a veth pair, processes started in
// them, and a temp directory, all removed by destroy() (also from a signal or an 'exit' handler).
//
//   ns <base>-a                                   ns <base>-b
//   ┌───────────────────────────┐                 ┌───────────────────────────┐
//   │ veth-a 10.200.0.1/24      │◄──── veth ─────►│ veth-b 10.200.0.2/24      │
//   │        fd20::1/64         │                 │        fd20::2/64         │
//   └───────────────────────────┘                 └───────────────────────────┘
//
// Ownership: only namespaces this Lab created are deleted, only processes it spawned are
// signalled, by process group of their own PID (spawned detached), and only while they have not
// exited (so a reused PID is never hit). Every wait is bounded.

import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants as fsConstants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** Full path of an executable on PATH or in the sbin directories (sudo may trim PATH), or null. */
export function findCommand(name: string): string | null {
  const dirs = (process.env['PATH'] ?? '')
    .split(delimiter)
    .concat(['/usr/sbin', '/sbin', '/usr/bin', '/bin']);
  for (const dir of dirs) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, name), fsConstants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return null;
}

const IP = findCommand('ip') ?? 'ip';

export interface LabSide {
  readonly ns: string;
  readonly ifname: string;
  readonly ipv4: string;
  readonly ipv6: string;
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A process running in a namespace, with its output captured (bounded). */
export class LabProcess {
  private out = '';
  private err = '';
  private exitCode: number | null = null;
  private done = false;
  private readonly listeners = new Set<() => void>();
  readonly exited: Promise<number | null>;

  constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    private readonly onLine?: (line: string) => void,
  ) {
    let partial = '';
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      this.out = cap(this.out + s);
      if (this.onLine) {
        const lines = (partial + s).split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) this.onLine(l);
      }
      this.notify();
    });
    child.stderr?.setEncoding('utf8').on('data', (s: string) => {
      this.err = cap(this.err + s);
      this.notify();
    });
    child.on('error', () => undefined); // a failed spawn also ends in 'exit'/'close'
    this.exited = new Promise((resolve) =>
      child.on('close', (code) => {
        this.done = true;
        this.exitCode = code;
        resolve(code);
        this.notify();
      }),
    );
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }
  get running(): boolean {
    return !this.done;
  }
  get code(): number | null {
    return this.exitCode;
  }
  stdout(): string {
    return this.out;
  }
  output(): string {
    return `${this.out}${this.err}`;
  }

  /** First match of `re` in stdout+stderr; rejects if the process exits first or after timeoutMs. */
  waitFor(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const m = this.output().match(re);
        if (m !== null) finish(() => resolve(m));
        else if (this.done)
          finish(() => reject(new Error(`${this.name} exited (${this.exitCode}): ${tail(this.output())}`)));
      };
      const timer = setTimeout(
        () =>
          finish(() =>
            reject(new Error(`${this.name}: no ${re} within ${timeoutMs} ms: ${tail(this.output())}`)),
          ),
        timeoutMs,
      );
      const finish = (f: () => void): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
        f();
      };
      this.listeners.add(check);
      check();
    });
  }

  /** Resolves with the exit code, or null after timeoutMs (process still running). */
  async waitExit(timeoutMs: number): Promise<number | null | 'timeout'> {
    let timer: NodeJS.Timeout | undefined;
    const t = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
    try {
      return await Promise.race([this.exited, t]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Signal the process group (it was spawned detached, so its PID is the group id). */
  signal(sig: NodeJS.Signals): void {
    if (this.done || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, sig);
    } catch {
      try {
        process.kill(this.child.pid, sig);
      } catch {
        // already gone
      }
    }
  }

  /** SIGTERM, then SIGKILL after graceMs. */
  async stop(graceMs: number): Promise<void> {
    if (this.done) return;
    this.signal('SIGTERM');
    if ((await this.waitExit(graceMs)) !== 'timeout') return;
    this.signal('SIGKILL');
    await this.waitExit(2000);
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }
}

const CAPTURE_MAX = 256 * 1024;
function cap(s: string): string {
  return s.length > CAPTURE_MAX ? s.slice(s.length - CAPTURE_MAX) : s;
}
function tail(s: string): string {
  const t = s.trim().slice(-600);
  return t === '' ? 'no output' : t;
}

export class Lab {
  readonly a: LabSide;
  readonly b: LabSide;
  readonly dir: string;
  private readonly namespaces: string[] = [];
  private readonly procs: LabProcess[] = [];
  private destroyed: Promise<void> | null = null;
  private readonly exitNet = (): void => this.destroySync();

  private constructor(base: string) {
    this.a = { ns: `${base}-a`, ifname: 'veth-a', ipv4: '10.200.0.1', ipv6: 'fd20::1' };
    this.b = { ns: `${base}-b`, ifname: 'veth-b', ipv4: '10.200.0.2', ipv6: 'fd20::2' };
    this.dir = mkdtempSync(join(tmpdir(), 'ovpn-ts-demo-'));
    process.on('exit', this.exitNet);
  }

  /** Create the namespaces and the veth; on failure everything created so far is removed. */
  static async create(prefix: string): Promise<Lab> {
    const lab = new Lab(`${prefix}-${randomBytes(3).toString('hex')}`);
    try {
      for (const s of [lab.a, lab.b]) {
        await lab.ip(['netns', 'add', s.ns]);
        lab.namespaces.push(s.ns);
      }
      const { a, b } = lab;
      await lab.ip([
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
        await lab.ip(['-n', s.ns, 'link', 'set', 'lo', 'up']);
        await lab.ip(['-n', s.ns, 'addr', 'add', `${s.ipv4}/24`, 'dev', s.ifname]);
        await lab.ip(['-n', s.ns, 'addr', 'add', `${s.ipv6}/64`, 'dev', s.ifname, 'nodad']);
        await lab.ip(['-n', s.ns, 'link', 'set', s.ifname, 'up']);
      }
      return lab;
    } catch (e) {
      await lab.destroy();
      throw e;
    }
  }

  private async ip(args: string[]): Promise<void> {
    const r = await run(IP, args, 5000);
    if (r.code !== 0) throw new Error(`ip ${args.join(' ')} failed: ${r.stderr.trim() || `exit ${r.code}`}`);
  }

  /** Run a short command in a namespace and collect its output. */
  exec(side: LabSide, cmd: string, args: readonly string[], timeoutMs: number): Promise<RunResult> {
    return run(IP, ['netns', 'exec', side.ns, cmd, ...args], timeoutMs);
  }

  /** Start a long-running command in a namespace (own process group, stopped by destroy()). */
  spawn(
    name: string,
    side: LabSide,
    cmd: string,
    args: readonly string[],
    onLine?: (l: string) => void,
  ): LabProcess {
    const child = spawn(IP, ['netns', 'exec', side.ns, cmd, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const p = new LabProcess(name, child, onLine);
    this.procs.push(p);
    return p;
  }

  /** Stop every process, delete the namespaces and the temp dir. Idempotent. */
  destroy(): Promise<void> {
    this.destroyed ??= this.doDestroy();
    return this.destroyed;
  }

  private async doDestroy(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.stop(3000)));
    for (const ns of this.namespaces.splice(0)) await run(IP, ['netns', 'del', ns], 5000);
    rmSync(this.dir, { recursive: true, force: true });
    process.off('exit', this.exitNet);
  }

  /** Last resort from an 'exit' handler (no event loop): kill, delete, remove synchronously. */
  destroySync(): void {
    for (const p of this.procs) p.signal('SIGKILL');
    for (const ns of this.namespaces.splice(0))
      spawnSync(IP, ['netns', 'del', ns], { stdio: 'ignore', timeout: 5000 });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** execFile bounded by a timeout; never throws, the result says what happened. */
export function run(cmd: string, args: readonly string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 8 << 20 },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: unknown }) | null;
        const code = e === null ? 0 : typeof e.code === 'number' ? e.code : null;
        resolve({ code, stdout, stderr: e !== null && stderr === '' ? e.message : stderr });
      },
    );
  });
}
