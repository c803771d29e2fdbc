// Transmit packet-id counter, one per key and direction (protocol §A4, short form).
//
//   ids: 1, 2, ..., 0xFFFFFFFF, then 0 forever ("exhausted": the packet must be dropped).
//   needsRenewal turns true once an id >= 0xFF000000 was handed out (PACKET_ID_WRAP_TRIGGER);
//   the engine reads it after a batch and starts a key renegotiation.
//
// A fresh key gets a fresh counter; ids are never reused under one key (nonce uniqueness).

import { PACKET_ID_MAX, PACKET_ID_WRAP_TRIGGER } from '../constants.js';

export class PacketIdTx {
  /** Last id handed out (0: none yet). */
  private last: number;

  /**
   * @param firstId the id the first next() returns (default 1). Anything other than 1 is for tests
   *   that start near the wrap point.
   */
  constructor(firstId = 1) {
    if (!Number.isInteger(firstId) || firstId < 1 || firstId > PACKET_ID_MAX) {
      throw new RangeError(`PacketIdTx: firstId ${firstId} must be an integer 1..0xFFFFFFFF`);
    }
    this.last = firstId - 1;
  }

  /** The next id, or 0 when the counter is exhausted (never past 0xFFFFFFFF). */
  next(): number {
    if (this.last >= PACKET_ID_MAX) return 0;
    return ++this.last;
  }

  /** Last id handed out (0 before the first next()). */
  get lastId(): number {
    return this.last;
  }

  /** True once ids reached the wrap trigger: renegotiate the key soon. */
  get needsRenewal(): boolean {
    return this.last >= PACKET_ID_WRAP_TRIGGER;
  }

  /** True when next() returns 0: nothing more can be sent with this key. */
  get exhausted(): boolean {
    return this.last >= PACKET_ID_MAX;
  }
}
