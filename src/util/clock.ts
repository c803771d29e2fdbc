// Injectable time source (style practice 2: the core is tested with an injected clock).
//
// `now()` is monotonic milliseconds (not wall-clock): keepalive, replay-window floors and timeouts
// need intervals, and a monotonic source cannot jump when the system time is set.
// `ManualClock` only moves when a test calls `advance()`, firing due timers in deadline order.

/** Opaque timer handle returned by a Clock. */
export interface ClockTimer {
  readonly id: number;
}

export interface Clock {
  /** Monotonic time in milliseconds. */
  now(): number;
  /** Run `cb` once after `ms`. Real timers are unref'd: a pending timer never keeps the process alive. */
  setTimeout(cb: () => void, ms: number): ClockTimer;
  /** Run `cb` every `ms` (ms >= 1) until cleared. */
  setInterval(cb: () => void, ms: number): ClockTimer;
  /** Cancel a timeout or interval; unknown or already-fired handles are ignored. */
  clear(timer: ClockTimer): void;
}

/** Node timers and `performance.now()`. */
export class RealClock implements Clock {
  private readonly handles = new Map<number, NodeJS.Timeout>();
  private nextId = 1;

  now(): number {
    return performance.now();
  }

  setTimeout(cb: () => void, ms: number): ClockTimer {
    const id = this.nextId++;
    const h = setTimeout(() => {
      this.handles.delete(id);
      cb();
    }, ms);
    h.unref();
    this.handles.set(id, h);
    return { id };
  }

  setInterval(cb: () => void, ms: number): ClockTimer {
    const id = this.nextId++;
    const h = setInterval(cb, Math.max(1, ms));
    h.unref();
    this.handles.set(id, h);
    return { id };
  }

  clear(timer: ClockTimer): void {
    const h = this.handles.get(timer.id);
    if (h === undefined) return;
    clearTimeout(h);
    this.handles.delete(timer.id);
  }
}

interface ManualTimer {
  id: number;
  due: number;
  period: number; // 0 = one-shot
  cb: () => void;
}

/** Deterministic clock for tests: time stands still until `advance()`. */
export class ManualClock implements Clock {
  private t: number;
  private readonly timers = new Map<number, ManualTimer>();
  private nextId = 1;

  constructor(startMs = 0) {
    this.t = startMs;
  }

  now(): number {
    return this.t;
  }

  setTimeout(cb: () => void, ms: number): ClockTimer {
    return this.add(cb, Math.max(0, ms), 0);
  }

  setInterval(cb: () => void, ms: number): ClockTimer {
    const period = Math.max(1, ms);
    return this.add(cb, period, period);
  }

  clear(timer: ClockTimer): void {
    this.timers.delete(timer.id);
  }

  /** Number of timers still scheduled (leak checks in tests). */
  get pending(): number {
    return this.timers.size;
  }

  /**
   * Move time forward by `ms`, firing every timer that falls due, earliest first (ties in creation
   * order). Each callback sees `now()` equal to its own deadline. Bounded: at most 1e6 firings.
   */
  advance(ms: number): void {
    const end = this.t + Math.max(0, ms);
    for (let fired = 0; fired < 1_000_000; fired++) {
      const next = this.earliestDue(end);
      if (next === undefined) break;
      this.t = next.due;
      if (next.period > 0) next.due += next.period;
      else this.timers.delete(next.id);
      next.cb();
    }
    this.t = end;
  }

  private add(cb: () => void, delay: number, period: number): ClockTimer {
    const id = this.nextId++;
    this.timers.set(id, { id, due: this.t + delay, period, cb });
    return { id };
  }

  private earliestDue(limit: number): ManualTimer | undefined {
    let best: ManualTimer | undefined;
    for (const tm of this.timers.values()) {
      if (tm.due <= limit && (best === undefined || tm.due < best.due)) best = tm;
    }
    return best;
  }
}
