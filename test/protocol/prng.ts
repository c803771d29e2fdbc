// Small seeded PRNG (mulberry32) for the protocol and net property tests. Deterministic: a failing
// case is reproduced from the seed printed in the assertion message.

export class Prng {
  private s: number;

  constructor(readonly seed: number) {
    this.s = seed >>> 0;
  }

  /** Uniform u32. */
  u32(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.u32() / 0x100000000) * n);
  }

  /** Uniform integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.u32() / 0x100000000 < p;
  }

  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }

  /** Flip, overwrite, truncate or extend a copy of `src` a few times. */
  mutate(src: Uint8Array): Uint8Array {
    let b = Uint8Array.from(src);
    const edits = 1 + this.int(4);
    for (let e = 0; e < edits; e++) {
      const what = this.int(4);
      if (what === 0 && b.length > 0) {
        const at = this.int(b.length);
        b[at] = (b[at] ?? 0) ^ (1 << this.int(8));
      } else if (what === 1 && b.length > 0) b[this.int(b.length)] = this.u32() & 0xff;
      else if (what === 2) b = b.slice(0, this.int(b.length + 1));
      else {
        const ext = new Uint8Array(b.length + 1 + this.int(8));
        ext.set(b);
        ext.set(this.bytes(ext.length - b.length), b.length);
        b = ext;
      }
    }
    return b;
  }
}
