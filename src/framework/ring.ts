// NET_RING: a power-of-two ring of element indexes shared by the framework (OS side) and a driver.
//
//        osReserved0 (OS cursor)   beginIndex          nextIndex           endIndex
//   ... --------|--------------------|-------------------|-------------------|------- ...
//     OS: free  | OS: returned,      | driver: drain     | driver: post      | OS: free
//               | not yet reclaimed  | (sent to "HW")    | (not yet sent)    |
//
// Ownership (model §1.2): the driver owns [begin, end), the OS owns [end, begin). The framework
// publishes by moving `endIndex`, the driver returns by moving `beginIndex` (forward only). The
// framework never posts into the slot before its cursor, so the driver owns at most N-1 elements
// (the one-slot gap: a range count can never equal N). Every stored index is masked to [0, N).

import { configError } from './errors.js';

export class NetRing {
  /** Power of two, > 1. Read-only. */
  readonly numberOfElements: number;
  /** numberOfElements - 1. Read-only. */
  readonly elementIndexMask: number;
  /** Exclusive end of the driver range. Written only by the framework. */
  endIndex = 0;
  /** Framework-private OS cursor (OSReserved0, §4.3): `[osReserved0, beginIndex)` = returned,
   *  not yet reclaimed. Drivers must not touch it (the verifier checks). */
  osReserved0 = 0;
  /** Start of the driver range. Written only by the driver, only forward, always masked. */
  beginIndex = 0;
  /** The driver's optional post/drain split. The framework never reads it. */
  nextIndex = 0;
  /** Free for the driver (the model's ring `Scratch` pointer, here a number). */
  ringScratch = 0;

  constructor(numberOfElements: number, what: string) {
    if (!Number.isInteger(numberOfElements) || numberOfElements < 2 || numberOfElements > 0x4000_0000) {
      throw configError(
        what,
        `ring size ${numberOfElements} out of range`,
        'use a power of two in [2, 2^30]',
      );
    }
    if ((numberOfElements & (numberOfElements - 1)) !== 0) {
      throw configError(
        what,
        `ring size ${numberOfElements} is not a power of two`,
        'round it to a power of two',
      );
    }
    this.numberOfElements = numberOfElements;
    this.elementIndexMask = numberOfElements - 1;
  }

  /** NetRingAdvanceIndex: `(i + d) & mask`, d a signed int32 (-1 = previous). */
  advanceIndex(index: number, delta: number): number {
    return (index + delta) & this.elementIndexMask;
  }

  /** NetRingIncrementIndex. */
  incrementIndex(index: number): number {
    return (index + 1) & this.elementIndexMask;
  }

  /** NetRingGetRangeCount: elements in [start, end) mod N; [k, k) = 0. */
  getRangeCount(start: number, end: number): number {
    return (end - start) & this.elementIndexMask;
  }

  /** Framework: reset every index (queue Start, §1.2). */
  resetIndices(): void {
    this.endIndex = 0;
    this.osReserved0 = 0;
    this.beginIndex = 0;
    this.nextIndex = 0;
    this.ringScratch = 0;
  }

  /** Framework: slots free to post = [end, osCursor - 1). Keeps the one-slot gap. */
  freeToPost(osCursor: number): number {
    return (osCursor - 1 - this.endIndex) & this.elementIndexMask;
  }
}

/** Functional forms with the model's names, for code that reads like the C helpers. */
export function netRingAdvanceIndex(ring: NetRing, index: number, delta: number): number {
  return (index + delta) & ring.elementIndexMask;
}
export function netRingIncrementIndex(ring: NetRing, index: number): number {
  return (index + 1) & ring.elementIndexMask;
}
export function netRingGetRangeCount(ring: NetRing, start: number, end: number): number {
  return (end - start) & ring.elementIndexMask;
}

/** True when `index` lies in [start, end) in ring order. */
export function ringRangeContains(ring: NetRing, start: number, end: number, index: number): boolean {
  return ((index - start) & ring.elementIndexMask) < ((end - start) & ring.elementIndexMask);
}
