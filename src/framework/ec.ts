// Execution context (§4.4): one per queue, driven by the Node event loop.
//
// 1. notify() sets hasPollWork and, if the EC is idle, schedules one run (setImmediate).
// 2. run(): queued tasks first (start / cancel / stop), then, if there is poll work, poll().
// 3. poll(): repeat passes; a zero-work pass arms notifications and runs ONE more pass
//    (arm-then-recheck), so work that arrived between the last empty pass and arming is seen;
//    a second zero-work pass sleeps. Work while armed disarms. A pending task or an exhausted
//    time slice ends the run and reschedules (yield to the event loop).
// 4. Idle = armed and nothing scheduled: no timers, no immediates, no spinning.
//
// In 'manual' scheduling nothing is scheduled; tests call runUntilIdle() to run passes
// deterministically.

import { performance } from 'node:perf_hooks';

/** What an EC drives: one packet queue's poll, arm/disarm and life-cycle tasks. */
export interface EcClient {
  /** One poll pass (§4.2); returns the work counter. */
  pollPass(): number;
  /** Going idle: enable notifications. */
  arm(): void;
  /** Work found while armed. */
  disarm(): void;
  /** Run a queued life-cycle task. */
  runTask(task: EcTask): void;
  /** A task or pass threw (auto scheduling only). */
  fault(err: unknown): void;
}

export const EcTask = { Start: 1, Cancel: 2, Stop: 3 } as const;
export type EcTask = (typeof EcTask)[keyof typeof EcTask];

export type Scheduling = 'auto' | 'manual';

export class ExecutionContext {
  private readonly client: EcClient;
  private readonly auto: boolean;
  private readonly timeSliceMs: number;
  private readonly tasks: EcTask[] = [];
  private readonly runBound: () => void;
  /** Poll registered (between Start and Stop). */
  pollRegistered = false;
  hasPollWork = false;
  armed = false;
  private scheduled = false;
  private running = false;
  readonly stats = { runs: 0, passes: 0, arms: 0, yields: 0 };

  constructor(client: EcClient, scheduling: Scheduling, timeSliceMs: number) {
    this.client = client;
    this.auto = scheduling === 'auto';
    this.timeSliceMs = timeSliceMs;
    this.runBound = () => this.runScheduled();
  }

  /** Safe from anywhere, any time; spurious calls are harmless. */
  notify(): void {
    this.hasPollWork = true;
    this.schedule();
  }

  enqueueTask(task: EcTask): void {
    this.tasks.push(task);
    this.schedule();
  }

  get idle(): boolean {
    return (
      !this.running &&
      !this.scheduled &&
      this.tasks.length === 0 &&
      !(this.hasPollWork && this.pollRegistered)
    );
  }

  private schedule(): void {
    if (!this.auto || this.scheduled || this.running) return;
    this.scheduled = true;
    setImmediate(this.runBound);
  }

  private runScheduled(): void {
    this.scheduled = false;
    try {
      this.run();
    } catch (err) {
      this.tasks.length = 0;
      this.pollRegistered = false;
      this.client.fault(err);
    }
  }

  /** One EC run. Returns the number of poll passes it made. */
  run(): number {
    this.running = true;
    this.stats.runs++;
    let passes = 0;
    try {
      while (this.tasks.length > 0) this.client.runTask(this.tasks.shift()!);
      if (this.hasPollWork && this.pollRegistered) {
        this.hasPollWork = false;
        passes = this.poll();
      }
    } finally {
      this.running = false;
    }
    if (this.tasks.length > 0 || (this.hasPollWork && this.pollRegistered)) this.schedule();
    return passes;
  }

  private poll(): number {
    const c = this.client;
    if (this.armed) {
      this.armed = false;
      c.disarm();
    }
    const start = performance.now();
    let passes = 0;
    for (;;) {
      const work = c.pollPass();
      passes++;
      if (this.tasks.length > 0) {
        this.hasPollWork = true; // tasks go first; poll again after them
        break;
      }
      if (work === 0) {
        if (this.armed) break; // armed and still nothing: sleep
        this.armed = true; // arm, then one more pass (closes the lost-notification race)
        this.stats.arms++;
        c.arm();
        continue;
      }
      if (this.armed) {
        this.armed = false;
        c.disarm();
      }
      if (performance.now() - start > this.timeSliceMs) {
        this.hasPollWork = true;
        this.stats.yields++;
        break;
      }
    }
    this.stats.passes += passes;
    return passes;
  }

  /** Manual scheduling: run until there is nothing to do (or maxRuns). Returns passes made. */
  runUntilIdle(maxRuns = 10_000): number {
    let passes = 0;
    for (let i = 0; i < maxRuns; i++) {
      if (this.tasks.length === 0 && !(this.hasPollWork && this.pollRegistered)) break;
      passes += this.run();
    }
    return passes;
  }

  /** Forget armed state (queue restart). */
  reset(): void {
    this.armed = false;
    this.hasPollWork = false;
  }
}
