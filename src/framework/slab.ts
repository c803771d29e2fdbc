// Slab registry: every byte a fragment can point at lives in a Uint8Array registered here.
// The virtual-address extension stores (slabId, byte address) per fragment instead of a pointer,
// so a fragment's memory is reached with two array loads and no allocation.
//
// Ownership: the registry never copies or frees a slab; whoever registered it keeps it alive for
// the adapter's life (framework Tx/Rx slabs, a driver's Rx pool, a socket's receive slab).

import { configError } from './errors.js';

/** Slab ids are stored in a Uint16Array, so at most 65535 slabs (id 0 is never used). */
export const MAX_SLABS = 0xffff;

export class SlabRegistry {
  /** Index = slab id. Slot 0 holds an empty slab so a zeroed VA extension reads as "no memory". */
  readonly slabs: Uint8Array[] = [new Uint8Array(0)];
  /** The same memory as Node Buffers (views made once at registration): Buffer.copy() moves
   *  bytes between slabs without creating a view per packet, and sockets/crypto take Buffers. */
  readonly buffers: Buffer[] = [Buffer.alloc(0)];
  /** DataViews over each slab, for copy() (Buffer.copy and TypedArray.set make a view per call). */
  readonly views: DataView[] = [new DataView(new ArrayBuffer(0))];

  register(slab: Uint8Array): number {
    if (this.slabs.length >= MAX_SLABS) {
      throw configError(
        'registerSlab',
        `more than ${MAX_SLABS - 1} slabs`,
        'reuse slabs instead of registering per buffer',
      );
    }
    this.slabs.push(slab);
    this.buffers.push(Buffer.from(slab.buffer, slab.byteOffset, slab.byteLength));
    this.views.push(new DataView(slab.buffer, slab.byteOffset, slab.byteLength));
    return this.slabs.length - 1;
  }

  get(slabId: number): Uint8Array {
    const s = this.slabs[slabId];
    if (s === undefined)
      throw configError('slabId', `unknown slab id ${slabId}`, 'use an id returned by registerSlab');
    return s;
  }

  /**
   * Copy len bytes between registered slabs without allocating (4 bytes per step through
   * DataViews). Overlapping ranges in the same slab use copyWithin.
   */
  copy(dstId: number, dstOff: number, srcId: number, srcOff: number, len: number): void {
    if (dstId === srcId) {
      this.slabs[dstId]!.copyWithin(dstOff, srcOff, srcOff + len);
      return;
    }
    const d = this.views[dstId]!;
    const s = this.views[srcId]!;
    let k = 0;
    for (; k + 4 <= len; k += 4) d.setUint32(dstOff + k, s.getUint32(srcOff + k, true), true);
    for (; k < len; k++) d.setUint8(dstOff + k, s.getUint8(srcOff + k));
  }
}
