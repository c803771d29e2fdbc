// Reliability layer of one key state (openvpn-protocol.md §B4). No timers inside: every call takes
// `now` (ms, from the injected clock) and `nextTimeout()` tells the caller when to call again.
//
// Flow
//   1. enqueue(op, payload)      assigns the next msg id; waits in the backlog while the id is
//                                outside [lowest unacked, lowest unacked + 6).
//   2. takeDue(now)              yields each message whose first send or retransmit is due
//                                (timeout tls-timeout, doubling per retransmit, or fast retransmit
//                                after ACKs for 3 higher ids). The caller piggy-backs ACKs on it.
//   3. onAcks(ids)               frees acknowledged messages and counts "higher acks".
//   4. receive(id, op, payload)  on the other side: ids in [next expected, +12) are buffered, every
//                                id at or below the window's end is (re-)ACKed, duplicates dropped.
//   5. takeInOrder()             hands buffered messages to TLS strictly in id order.
//   6. ackIds(max)               the ACK block: pending ids first, then the MRU of the last 8 sent.
import { ConfigError, ErrorCode, OvpnError } from '../../util/errors.js';
import {
  ACK_MAX,
  ACK_MRU_SIZE,
  DEFAULT_TLS_TIMEOUT_MS,
  FAST_RETRANSMIT_ACKS,
  RECV_WINDOW,
  SEND_BACKLOG_MAX,
  SEND_WINDOW,
} from './constants.js';

export interface ReliableMessage {
  readonly messageId: number;
  readonly opcode: number;
  readonly payload: Buffer;
}

interface InFlight extends ReliableMessage {
  nextTry: number; // 0 = never sent
  timeout: number;
  higherAcks: number;
  sends: number;
}

export interface ReliableSendOptions {
  /** --tls-timeout in ms (first retransmit timeout). */
  timeoutMs?: number;
  /** First msg id (0, or 1 when a stateless reset stood in for id 0). */
  firstMessageId?: number;
  window?: number;
}

export class ReliableSend {
  private readonly window: number;
  private readonly timeoutMs: number;
  private nextId: number;
  /** Sorted by messageId; every entry is inside the window. */
  private readonly inFlight: InFlight[] = [];
  private readonly backlog: ReliableMessage[] = [];
  retransmits = 0;

  constructor(opts: ReliableSendOptions = {}) {
    this.window = opts.window ?? SEND_WINDOW;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TLS_TIMEOUT_MS;
    this.nextId = opts.firstMessageId ?? 0;
    if (!(this.timeoutMs > 0)) throw new ConfigError('tls-timeout', 'tls-timeout must be > 0');
  }

  /** Queues a message; returns its msg id. Throws when the caller ignores back-pressure badly. */
  enqueue(opcode: number, payload: Buffer): number {
    if (this.backlog.length >= SEND_BACKLOG_MAX) {
      throw new OvpnError(ErrorCode.BUSY, `control send backlog over ${SEND_BACKLOG_MAX} messages`);
    }
    const messageId = this.nextId++;
    this.backlog.push({ messageId, opcode, payload });
    this.fill();
    return messageId;
  }

  /** Applies received ACK ids. Unknown ids (already acked, never sent) are ignored. */
  onAcks(ids: readonly number[]): void {
    for (const id of ids) {
      const i = this.inFlight.findIndex((e) => e.messageId === id);
      if (i < 0) continue;
      this.inFlight.splice(i, 1);
      for (const e of this.inFlight) if (e.messageId < id && e.sends > 0) e.higherAcks++;
    }
    this.fill();
  }

  /** The next message to put on the wire now, or undefined. Call repeatedly until undefined. */
  takeDue(now: number): ReliableMessage | undefined {
    for (const e of this.inFlight) {
      const due = e.sends === 0 || now >= e.nextTry || e.higherAcks >= FAST_RETRANSMIT_ACKS;
      if (!due) continue;
      if (e.sends > 0) {
        this.retransmits++;
        e.timeout *= 2;
      }
      e.sends++;
      e.higherAcks = 0;
      e.nextTry = now + e.timeout;
      return e;
    }
    return undefined;
  }

  /** Makes every in-flight message due (the "burst" on the peer's first packet). */
  resendAllNow(): void {
    for (const e of this.inFlight) if (e.sends > 0) e.higherAcks = FAST_RETRANSMIT_ACKS;
  }

  /** Earliest retransmit deadline, or undefined when nothing waits for an ACK. */
  nextTimeout(): number | undefined {
    let t: number | undefined;
    for (const e of this.inFlight) {
      const due = e.sends === 0 ? 0 : e.nextTry;
      if (t === undefined || due < t) t = due;
    }
    return t;
  }

  /** True when every queued message has been acknowledged. */
  get idle(): boolean {
    return this.inFlight.length === 0 && this.backlog.length === 0;
  }

  isAcked(messageId: number): boolean {
    return (
      messageId < this.nextId &&
      !this.inFlight.some((e) => e.messageId === messageId) &&
      !this.backlog.some((e) => e.messageId === messageId)
    );
  }

  private fill(): void {
    const base = this.inFlight[0]?.messageId ?? this.backlog[0]?.messageId ?? this.nextId;
    while (this.backlog.length > 0 && (this.backlog[0] as ReliableMessage).messageId < base + this.window) {
      const m = this.backlog.shift() as ReliableMessage;
      this.inFlight.push({ ...m, nextTry: 0, timeout: this.timeoutMs, higherAcks: 0, sends: 0 });
    }
  }
}

export type ReceiveVerdict = 'accepted' | 'duplicate' | 'out-of-window' | 'ack-full';

export class ReliableRecv {
  private nextExpected: number;
  private readonly buffered = new Map<number, ReliableMessage>();
  private readonly pendingAcks: number[] = [];
  /** Most recently acknowledged ids, newest first (2.6 ack_mru). */
  private readonly mru: number[] = [];
  private readonly window: number;

  constructor(opts: { firstMessageId?: number; window?: number } = {}) {
    this.nextExpected = opts.firstMessageId ?? 0;
    this.window = opts.window ?? RECV_WINDOW;
  }

  /** Takes a received reliable message. Only 'accepted' hands new data to takeInOrder(). */
  receive(messageId: number, opcode: number, payload: Buffer): ReceiveVerdict {
    if (messageId >= this.nextExpected + this.window) return 'out-of-window';
    if (!this.pendingAcks.includes(messageId)) {
      if (this.pendingAcks.length >= ACK_MAX) return 'ack-full';
      this.pendingAcks.push(messageId);
    }
    if (messageId < this.nextExpected || this.buffered.has(messageId)) return 'duplicate';
    this.buffered.set(messageId, { messageId, opcode, payload: Buffer.from(payload) });
    return 'accepted';
  }

  /** The next in-order message without consuming it. */
  peekInOrder(): ReliableMessage | undefined {
    return this.buffered.get(this.nextExpected);
  }

  /** Next message in id order, if it has arrived. */
  takeInOrder(): ReliableMessage | undefined {
    const m = this.buffered.get(this.nextExpected);
    if (m === undefined) return undefined;
    this.buffered.delete(this.nextExpected);
    this.nextExpected++;
    return m;
  }

  /** True when some received id has not been acknowledged yet (a P_ACK_V1 is owed). */
  get acksPending(): boolean {
    return this.pendingAcks.length > 0;
  }

  /**
   * The ids for the next ACK block (≤ max): up to `max` pending ids move to the front of the MRU,
   * and the block is the first `max` MRU entries, so recently ACKed ids are repeated in free slots.
   */
  ackIds(max: number): number[] {
    const fresh = this.pendingAcks.splice(0, Math.min(max, this.pendingAcks.length));
    for (let i = fresh.length - 1; i >= 0; i--) {
      const id = fresh[i] as number;
      const at = this.mru.indexOf(id);
      if (at >= 0) this.mru.splice(at, 1);
      this.mru.unshift(id);
    }
    if (this.mru.length > ACK_MRU_SIZE) this.mru.length = ACK_MRU_SIZE;
    return this.mru.slice(0, max);
  }

  /** The id TLS is waiting for next (for tests and diagnostics). */
  get expected(): number {
    return this.nextExpected;
  }
}
