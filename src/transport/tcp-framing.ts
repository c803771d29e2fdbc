// OpenVPN over TCP: every packet (control or data) is preceded by its length.
//
//   +--------+--------+--------------------------+--------+--------+------
//   | len hi | len lo |  packet (len bytes)      | len hi | len lo | ...
//   +--------+--------+--------------------------+--------+--------+------
//
// The stream arrives in arbitrary chunks: a header may be split across two chunks, a packet across
// many, and one chunk may hold several packets. The reassembler copies each packet's bytes straight
// into its receive slot (no intermediate buffer), so a partial packet lives in the slot it will be
// delivered in.
//
// States:  HEADER (0-1 header bytes seen) → NEED_SLOT (length known) → BODY (slot held) → HEADER
// When no slot is free in NEED_SLOT, feed() stops and returns where it stopped; the caller pauses
// the socket and feeds the rest of the chunk again after a release (nothing is dropped: it's TCP).

import type { RxSlotPool } from './slots.js';

/** feed() result for a length of 0 or above the maximum; the stream cannot be resynchronised. */
export const FEED_BAD_LENGTH = -1;

const HEADER = 0;
const NEED_SLOT = 1;
const BODY = 2;

const copyBytes = Buffer.prototype.copy as (
  this: Uint8Array,
  target: Uint8Array,
  targetStart: number,
  sourceStart: number,
  sourceEnd: number,
) => number;

export class FrameReassembler {
  private state = HEADER;
  private hdrBytes = 0;
  private want = 0;
  private have = 0;
  private slot = -1;
  /** The offending length after FEED_BAD_LENGTH (for the error message). */
  badLength = 0;

  constructor(
    private readonly pool: RxSlotPool,
    /** Largest acceptable packet; at most the slot size. */
    readonly maxFrame: number,
    /** A complete packet is in `slot` (now owned by the callee), `len` bytes at its start. */
    private readonly onFrame: (slot: number, len: number) => void,
  ) {}

  /**
   * Consume `chunk[start..]`. Returns chunk.length when everything was consumed, a smaller index
   * when it stalled for lack of a free slot (feed again from there later), or FEED_BAD_LENGTH.
   */
  feed(chunk: Uint8Array, start: number): number {
    let p = start;
    const end = chunk.length;
    while (p < end) {
      if (this.state === HEADER) {
        this.want = (this.want << 8) | chunk[p++]!;
        if (++this.hdrBytes < 2) continue;
        if (this.want === 0 || this.want > this.maxFrame) {
          this.badLength = this.want;
          return FEED_BAD_LENGTH;
        }
        this.state = NEED_SLOT;
      }
      if (this.state === NEED_SLOT) {
        this.slot = this.pool.alloc();
        if (this.slot < 0) return p;
        this.state = BODY;
        this.have = 0;
      }
      const n = Math.min(this.want - this.have, end - p);
      copyBytes.call(chunk, this.pool.slab, this.pool.offsetOf(this.slot) + this.have, p, p + n);
      this.have += n;
      p += n;
      if (this.have === this.want) this.emit();
    }
    // A stall can also happen exactly at the end of a chunk: try for the slot now so the caller
    // does not need a special case; failing here is harmless (the next chunk retries).
    if (this.state === NEED_SLOT) {
      this.slot = this.pool.alloc();
      if (this.slot >= 0) {
        this.state = BODY;
        this.have = 0;
      }
    }
    return p;
  }

  /** True when waiting for a slot (the caller should keep the socket paused). */
  get stalled(): boolean {
    return this.state === NEED_SLOT;
  }

  /** Forget any partial packet and give its slot back (connection closed). */
  reset(): void {
    if (this.state === BODY && this.slot >= 0) this.pool.release(this.slot);
    this.state = HEADER;
    this.hdrBytes = 0;
    this.want = 0;
    this.slot = -1;
  }

  private emit(): void {
    const slot = this.slot;
    const len = this.want;
    this.state = HEADER;
    this.hdrBytes = 0;
    this.want = 0;
    this.slot = -1;
    this.onFrame(slot, len);
  }
}
