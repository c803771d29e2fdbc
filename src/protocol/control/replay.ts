// Long-form replay window for tls-auth / tls-crypt control packets (openvpn-protocol.md §A4, §B2).
//
// Order is (time << 32 | id). A packet with a newer time restarts the window at its id; an older
// time is rejected. Within one time value: ids above the highest seen are accepted, ids more than
// `size - 1` below it are rejected, and ids inside the window are accepted once (bitmap).
// `test` and `add` are separate so the caller can authenticate between them; `check` does both.
import { REPLAY_WINDOW } from './constants.js';

export class LongReplayWindow {
  private time = -1;
  private highest = 0;
  /** bit i set = id (highest - i) seen; i < size. */
  private bits = 0n;
  private readonly mask: bigint;

  constructor(private readonly size = REPLAY_WINDOW) {
    this.mask = (1n << BigInt(size)) - 1n;
  }

  /** True when (id, time) would be accepted. Id 0 is never valid. */
  test(id: number, time: number): boolean {
    if (id === 0) return false;
    if (time > this.time) return true;
    if (time < this.time) return false;
    if (id > this.highest) return true;
    const d = this.highest - id;
    if (d >= this.size) return false;
    return ((this.bits >> BigInt(d)) & 1n) === 0n;
  }

  /** Records (id, time); call only after `test` passed and the packet authenticated. */
  add(id: number, time: number): void {
    if (time > this.time) {
      this.time = time;
      this.highest = id;
      this.bits = 1n;
      return;
    }
    if (id > this.highest) {
      const shift = id - this.highest;
      this.bits = shift >= this.size ? 1n : ((this.bits << BigInt(shift)) | 1n) & this.mask;
      this.highest = id;
      return;
    }
    this.bits |= 1n << BigInt(this.highest - id);
  }

  check(id: number, time: number): boolean {
    if (!this.test(id, time)) return false;
    this.add(id, time);
    return true;
  }
}

/**
 * Long-form sender counter: id incremented before each send, time fixed at the first send.
 * `start` lets tls-crypt-v2 clients begin at EARLY_NEG_START so the first id is 0x0F000001.
 */
export class LongPacketIdSender {
  private id: number;
  private time = 0;

  constructor(start = 0) {
    this.id = start;
  }

  /** Next (id, time) pair; `nowSec` is unix time in seconds. */
  next(nowSec: number): { id: number; time: number } {
    if (this.time === 0) this.time = nowSec >>> 0;
    if (this.id >= 0xffffffff) {
      // 2^32 control packets: restart the sequence under a newer time so the peer accepts it.
      this.id = 0;
      this.time = Math.max(this.time + 1, nowSec) >>> 0;
    }
    this.id += 1;
    return { id: this.id, time: this.time };
  }
}
