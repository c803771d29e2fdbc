// Longest-prefix match for IPv4 and IPv6 routes (iroutes → peer id).
//
// A binary trie stored in typed arrays: node k has children child0[k] / child1[k] (0 = none; the
// root is node 0 and is never a child) and value[k] (-1 = no prefix ends here). Lookup walks at
// most 32 / 128 bits, remembers the last value seen and allocates nothing. Insert may grow the
// node arrays (control path); delete prunes nodes left without children or value back to a free
// list, so churn does not grow memory.
//
//   insert 10.0.0.0/8 → 5, 10.1.0.0/16 → 7:    root -0-...-(bit 8)● 5 -...-(bit 16)● 7
//   lookup 10.1.2.3 → 7, 10.2.0.1 → 5, 11.0.0.1 → -1

const NONE = -1;
const INITIAL_NODES = 64;

class BinaryTrie {
  protected child0: Int32Array;
  protected child1: Int32Array;
  protected value: Int32Array;
  private used = 1; // node 0 = root
  private freeHead = 0; // 0 = empty free list (linked through child0)
  private prefixes = 0;
  /** Key bytes of the prefix being inserted/deleted (16 covers IPv6). */
  protected readonly key = new Uint8Array(16);
  private readonly path: Int32Array;

  constructor(private readonly maxBits: number) {
    this.child0 = new Int32Array(INITIAL_NODES);
    this.child1 = new Int32Array(INITIAL_NODES);
    this.value = new Int32Array(INITIAL_NODES).fill(NONE);
    this.path = new Int32Array(maxBits + 1);
  }

  /** Number of prefixes stored. */
  get size(): number {
    return this.prefixes;
  }

  /** Remove every prefix (keeps the allocated arrays). */
  clear(): void {
    this.child0.fill(0);
    this.child1.fill(0);
    this.value.fill(NONE);
    this.used = 1;
    this.freeHead = 0;
    this.prefixes = 0;
  }

  protected bit(i: number): number {
    return ((this.key[i >>> 3] ?? 0) >>> (7 - (i & 7))) & 1;
  }

  protected checkArgs(prefixLen: number, value?: number): void {
    if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > this.maxBits) {
      throw new RangeError(`prefix length ${prefixLen} must be an integer 0..${this.maxBits}`);
    }
    if (value !== undefined && (!Number.isInteger(value) || value < 0 || value > 0x7fffffff)) {
      throw new RangeError(`prefix value ${value} must be an integer 0..0x7fffffff`);
    }
  }

  /** Store value for the first prefixLen bits of `key`; returns the previous value or -1. */
  protected insertKey(prefixLen: number, value: number): number {
    let n = 0;
    for (let i = 0; i < prefixLen; i++) {
      const arr = this.bit(i) === 0 ? this.child0 : this.child1;
      let c = arr[n] ?? 0;
      if (c === 0) {
        c = this.allocNode();
        (this.bit(i) === 0 ? this.child0 : this.child1)[n] = c; // arrays may have grown
      }
      n = c;
    }
    const prev = this.value[n] ?? NONE;
    if (prev === NONE) this.prefixes++;
    this.value[n] = value;
    return prev;
  }

  /** Remove the prefix; returns its value or -1 if absent. */
  protected deleteKey(prefixLen: number): number {
    let n = 0;
    this.path[0] = 0;
    for (let i = 0; i < prefixLen; i++) {
      n = (this.bit(i) === 0 ? this.child0 : this.child1)[n] ?? 0;
      if (n === 0) return NONE;
      this.path[i + 1] = n;
    }
    const prev = this.value[n] ?? NONE;
    if (prev === NONE) return NONE;
    this.value[n] = NONE;
    this.prefixes--;
    this.prune(prefixLen);
    return prev;
  }

  private prune(depth: number): void {
    for (let d = depth; d > 0; d--) {
      const n = this.path[d] ?? 0;
      if (this.child0[n] !== 0 || this.child1[n] !== 0 || this.value[n] !== NONE) return;
      const parent = this.path[d - 1] ?? 0;
      if (this.bit(d - 1) === 0) this.child0[parent] = 0;
      else this.child1[parent] = 0;
      this.child0[n] = this.freeHead;
      this.freeHead = n;
    }
  }

  private allocNode(): number {
    let n = this.freeHead;
    if (n !== 0) {
      this.freeHead = this.child0[n] ?? 0;
    } else {
      if (this.used === this.child0.length) this.grow();
      n = this.used++;
    }
    this.child0[n] = 0;
    this.child1[n] = 0;
    this.value[n] = NONE;
    return n;
  }

  private grow(): void {
    const cap = this.child0.length * 2;
    const c0 = new Int32Array(cap);
    const c1 = new Int32Array(cap);
    const v = new Int32Array(cap).fill(NONE);
    c0.set(this.child0);
    c1.set(this.child1);
    v.set(this.value);
    this.child0 = c0;
    this.child1 = c1;
    this.value = v;
  }
}

/** IPv4 longest-prefix match; addresses as u32 (10.1.2.3 = 0x0a010203). */
export class PrefixTrie4 extends BinaryTrie {
  constructor() {
    super(32);
  }

  private setKey(addr: number): void {
    this.key[0] = addr >>> 24;
    this.key[1] = (addr >>> 16) & 0xff;
    this.key[2] = (addr >>> 8) & 0xff;
    this.key[3] = addr & 0xff;
  }

  /** Map addr/prefixLen to value (>= 0); host bits are ignored. Returns the previous value or -1. */
  insert(addr: number, prefixLen: number, value: number): number {
    this.checkArgs(prefixLen, value);
    this.setKey(addr >>> 0);
    return this.insertKey(prefixLen, value);
  }

  /** Remove addr/prefixLen; returns its value or -1 if it was not present. */
  delete(addr: number, prefixLen: number): number {
    this.checkArgs(prefixLen);
    this.setKey(addr >>> 0);
    return this.deleteKey(prefixLen);
  }

  /** Value of the longest prefix containing addr, or -1. */
  lookup(addr: number): number {
    let n = 0;
    let best = this.value[0] ?? NONE;
    for (let i = 31; i >= 0; i--) {
      n = ((addr >>> i) & 1) === 0 ? (this.child0[n] ?? 0) : (this.child1[n] ?? 0);
      if (n === 0) break;
      const v = this.value[n] ?? NONE;
      if (v !== NONE) best = v;
    }
    return best;
  }
}

/** IPv6 longest-prefix match; addresses are 16 bytes read straight from a buffer (e.g. a packet). */
export class PrefixTrie6 extends BinaryTrie {
  constructor() {
    super(128);
  }

  private setKey(addr: Uint8Array, off: number): void {
    if (off < 0 || off + 16 > addr.length) throw new RangeError('IPv6 address needs 16 bytes at the offset');
    for (let k = 0; k < 16; k++) this.key[k] = addr[off + k] ?? 0;
  }

  insert(addr: Uint8Array, off: number, prefixLen: number, value: number): number {
    this.checkArgs(prefixLen, value);
    this.setKey(addr, off);
    return this.insertKey(prefixLen, value);
  }

  delete(addr: Uint8Array, off: number, prefixLen: number): number {
    this.checkArgs(prefixLen);
    this.setKey(addr, off);
    return this.deleteKey(prefixLen);
  }

  /** Value of the longest prefix containing the address at buf[off..off+16), or -1. */
  lookup(buf: Uint8Array, off: number): number {
    let n = 0;
    let best = this.value[0] ?? NONE;
    for (let i = 0; i < 128; i++) {
      const bit = ((buf[off + (i >>> 3)] ?? 0) >>> (7 - (i & 7))) & 1;
      n = bit === 0 ? (this.child0[n] ?? 0) : (this.child1[n] ?? 0);
      if (n === 0) break;
      const v = this.value[n] ?? NONE;
      if (v !== NONE) best = v;
    }
    return best;
  }
}
