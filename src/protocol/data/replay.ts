// Receive replay protection for the short packet-id form (protocol §A4, --replay-window n t).
//
// Flow (per authenticated packet, in arrival order):
//   1. check(id): id 0 → ZERO_ID; id > highest → accept; highest - id >= size or id <= time
//      floor → TOO_OLD; bit already set → REPLAY. No window change, so a forged packet that
//      fails the tag can never move the window (call update only after the AEAD tag verified).
//   2. update(id, nowMs): slide the window to id if it is newer, set its bit, record a time
//      checkpoint and advance the time floor.
//
// Window: a ring of W 32-bit words (W = power of two >= ceil(size / 32) + 1), bit (id mod W*32).
// Invariant: bits for ids above `highest` inside the current word are zero, and every word that
// can hold an id in (highest - size, highest] was zeroed when the window first entered it. The
// acceptance rule is OpenVPN's exactly: reject when highest - id >= size, so the window covers
// highest - size + 1 .. highest. A jump of more than `size` forgets everything (OpenVPN restarts
// its list there too). Ids never wrap: after 0xFFFFFFFF only a new key helps.
//
// Time rule (t > 0): OpenVPN expires, at reap time, the newest slot received more than t seconds
// ago and every older slot. That is the same as "reject id <= floor", floor = the highest id seen
// before now - t. We keep the running highest in 1-second checkpoints (at most t + 2 of them);
// reap() folds checkpoints older than now - t into the floor. The floor can lag the exact rule
// by up to REPLAY_TIME_BUCKET_MS (OpenVPN itself reaps only every 5 s): it never rejects more.

import { ConfigError } from '../../util/errors.js';
import {
  Drop,
  REPLAY_TIME_BUCKET_MS,
  REPLAY_TIME_DEFAULT_S,
  REPLAY_TIME_MAX_S,
  REPLAY_WINDOW_DEFAULT,
  REPLAY_WINDOW_MAX,
} from '../constants.js';

export interface ReplayWindowOptions {
  /** Window size n in packets, 1..65536 (default 64). */
  size?: number;
  /** Time rule t in seconds, 0..600 (default 15; 0 disables). */
  timeSeconds?: number;
}

function nextPow2(v: number): number {
  let p = 1;
  while (p < v) p *= 2;
  return p;
}

export class ReplayWindow {
  readonly size: number;
  readonly timeMs: number;

  /** Rejections by reason since construction (or reset). */
  replayCount = 0;
  tooOldCount = 0;
  zeroCount = 0;
  /** Reason of the last check(): Drop.NONE, ZERO_ID, TOO_OLD or REPLAY. */
  lastDrop: Drop = Drop.NONE;

  private readonly bits: Uint32Array;
  private readonly wordMask: number;
  private highest = 0;
  /** Time rule: every id <= floor is rejected. Only grows. */
  private floor = 0;
  // Time checkpoints (ring): cpTime[k] = time of the last update in its bucket, cpId[k] = highest then.
  private readonly cpTime: Float64Array;
  private readonly cpId: Float64Array;
  private cpHead = 0;
  private cpCount = 0;

  constructor(options: ReplayWindowOptions = {}) {
    const size = options.size ?? REPLAY_WINDOW_DEFAULT;
    const t = options.timeSeconds ?? REPLAY_TIME_DEFAULT_S;
    if (!Number.isInteger(size) || size < 1 || size > REPLAY_WINDOW_MAX) {
      throw new ConfigError(
        'replay-window',
        `replay-window size ${size} is invalid: use an integer 1..${REPLAY_WINDOW_MAX}`,
      );
    }
    if (!Number.isFinite(t) || t < 0 || t > REPLAY_TIME_MAX_S) {
      throw new ConfigError(
        'replay-window',
        `replay-window time ${t} is invalid: use 0..${REPLAY_TIME_MAX_S} seconds (0 disables)`,
      );
    }
    this.size = size;
    this.timeMs = t * 1000;
    const words = nextPow2(Math.ceil(size / 32) + 1);
    this.bits = new Uint32Array(words);
    this.wordMask = words - 1;
    const cps = t > 0 ? Math.ceil(this.timeMs / REPLAY_TIME_BUCKET_MS) + 2 : 1;
    this.cpTime = new Float64Array(cps);
    this.cpId = new Float64Array(cps);
  }

  /** Highest id accepted so far (0 before the first packet). */
  get highestId(): number {
    return this.highest;
  }

  /** Ids at or below this are expired by the time rule (0: none). */
  get timeFloor(): number {
    return this.floor;
  }

  /** Would `id` be accepted? Counts the reason when not; does not change the window. */
  check(id: number): boolean {
    id = id >>> 0;
    if (id === 0) return this.reject(Drop.ZERO_ID);
    if (id > this.highest) return this.accept();
    if (this.highest - id >= this.size || id <= this.floor) return this.reject(Drop.TOO_OLD);
    if ((this.bits[(id >>> 5) & this.wordMask] ?? 0) & (1 << (id & 31))) return this.reject(Drop.REPLAY);
    return this.accept();
  }

  /** Record an authenticated id (call after check(id) returned true). */
  update(id: number, nowMs: number): void {
    id = id >>> 0;
    if (id === 0) return;
    if (id > this.highest) this.slide(id);
    else if (this.highest - id >= this.size) return;
    const w = (id >>> 5) & this.wordMask;
    this.bits[w] = (this.bits[w] ?? 0) | (1 << (id & 31));
    if (this.timeMs > 0) {
      this.reap(nowMs);
      this.checkpoint(nowMs);
    }
  }

  /** check + update in one call, for the usual receive loop. */
  checkAndUpdate(id: number, nowMs: number): boolean {
    if (!this.check(id)) return false;
    this.update(id, nowMs);
    return true;
  }

  /** Apply the time rule as of nowMs (the engine calls this once per batch; update also does). */
  reap(nowMs: number): void {
    if (this.timeMs <= 0) return;
    const limit = nowMs - this.timeMs;
    const cap = this.cpTime.length;
    while (this.cpCount > 0 && (this.cpTime[this.cpHead] ?? 0) < limit) {
      this.raiseFloor(this.cpId[this.cpHead] ?? 0);
      this.cpHead = (this.cpHead + 1) % cap;
      this.cpCount--;
    }
  }

  /** Forget everything (a new key gets a fresh window). Counters are kept. */
  reset(): void {
    this.bits.fill(0);
    this.highest = 0;
    this.floor = 0;
    this.cpHead = 0;
    this.cpCount = 0;
  }

  private accept(): boolean {
    this.lastDrop = Drop.NONE;
    return true;
  }

  private reject(reason: Drop): boolean {
    this.lastDrop = reason;
    if (reason === Drop.REPLAY) this.replayCount++;
    else if (reason === Drop.TOO_OLD) this.tooOldCount++;
    else this.zeroCount++;
    return false;
  }

  /** Move highest up to id, zeroing the words the window enters (all of them on a big jump). */
  private slide(id: number): void {
    const from = this.highest >>> 5;
    const steps = Math.min((id >>> 5) - from, this.wordMask + 1);
    for (let k = 1; k <= steps; k++) this.bits[(from + k) & this.wordMask] = 0;
    this.highest = id;
  }

  private raiseFloor(id: number): void {
    if (id > this.floor) this.floor = id;
  }

  private checkpoint(nowMs: number): void {
    const cap = this.cpTime.length;
    if (this.cpCount > 0) {
      const last = (this.cpHead + this.cpCount - 1) % cap;
      if (
        Math.floor((this.cpTime[last] ?? 0) / REPLAY_TIME_BUCKET_MS) ===
        Math.floor(nowMs / REPLAY_TIME_BUCKET_MS)
      ) {
        this.cpTime[last] = nowMs;
        this.cpId[last] = this.highest;
        return;
      }
    }
    if (this.cpCount === cap) {
      // Only reachable if the clock went backwards; fold the oldest in (stricter, never laxer).
      this.raiseFloor(this.cpId[this.cpHead] ?? 0);
      this.cpHead = (this.cpHead + 1) % cap;
      this.cpCount--;
    }
    const k = (this.cpHead + this.cpCount) % cap;
    this.cpTime[k] = nowMs;
    this.cpId[k] = this.highest;
    this.cpCount++;
  }
}
