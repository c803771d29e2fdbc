// Test helpers: build Tx batches with recognisable payloads and collect what a transport delivers.
import { ADDR_SIZE, formatAddr } from '../../src/transport/addr.js';
import type { RxBatch, Transport, TxBatch } from '../../src/transport/types.js';

/** Payload i: [i hi, i lo, then bytes derived from i and position], `size` bytes, laid out with `headroom` gap. */
export function makeTxBatch(count: number, size: number, headroom = 0, first = 0): TxBatch {
  const stride = size + headroom;
  const slab = new Uint8Array(stride * count);
  const offsets = new Uint32Array(count);
  const lengths = new Uint32Array(count);
  const tokens = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    const off = i * stride + headroom;
    offsets[i] = off;
    lengths[i] = size;
    tokens[i] = first + i;
    fillPayload(slab, off, size, first + i);
  }
  return { count, slab, offsets, lengths, tokens, addrs: null };
}

export function fillPayload(buf: Uint8Array, off: number, size: number, id: number): void {
  buf[off] = (id >>> 8) & 0xff;
  buf[off + 1] = id & 0xff;
  for (let k = 2; k < size; k++) buf[off + k] = fill(id, k);
}

// Depends on both id bytes, so any single flipped bit anywhere is detected.
const fill = (id: number, k: number): number => (k + (id & 0xff) + 3 * (id >>> 8)) & 0xff;

/** The id a payload carries, or -1 if the payload is damaged. */
export function payloadId(buf: Uint8Array, off: number, size: number): number {
  const id = ((buf[off] ?? 0) << 8) | (buf[off + 1] ?? 0);
  for (let k = 2; k < size; k++) if (buf[off + k] !== fill(id, k)) return -1;
  return id;
}

export interface Received {
  ids: number[];
  batches: number[];
  from: string[];
  held: number[];
}

/** Records ids from every batch; releases slots at once unless `hold` is set. */
export function collect(t: Transport, hold = false): Received {
  const r: Received = { ids: [], batches: [], from: [], held: [] };
  t.onReceive((b: RxBatch) => {
    r.batches.push(b.count);
    for (let i = 0; i < b.count; i++) {
      r.ids.push(payloadId(t.rxSlab, b.offsets[i]!, b.lengths[i]!));
      r.from.push(formatAddr(b.addrs, i * ADDR_SIZE));
      if (hold) r.held.push(b.slots[i]!);
      else t.release(b.slots[i]!);
    }
  });
  return r;
}

export interface Completed {
  tokens: number[];
  statuses: number[];
}

export function completions(t: Transport): Completed {
  const c: Completed = { tokens: [], statuses: [] };
  t.onSendComplete((tokens, count, status) => {
    for (let i = 0; i < count; i++) {
      c.tokens.push(tokens[i]!);
      c.statuses.push(status);
    }
  });
  return c;
}

/** Wait until `cond` holds, polling each macrotask; fails after `ms`. */
export async function waitFor(cond: () => boolean, ms = 2000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

export const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
